//! Native notifications observed for real (DSK-4): `dbus-monitor` on the session bus records
//! every `org.freedesktop.Notifications.Notify` call the app makes.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct NotificationWatch {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl NotificationWatch {
    pub async fn start() -> NotificationWatch {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("notify.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new("dbus-monitor")
            .args([
                "--session",
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor (package dbus) in a D-Bus session: run with `cargo xtask e2e`");
        // Let the monitor register its match rule before anything is sent.
        tokio::time::sleep(Duration::from_millis(300)).await;
        NotificationWatch {
            child,
            log,
            _dir: dir,
        }
    }

    /// Everything recorded so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The number of Notify calls whose arguments mention `text`.
    pub fn notifications_mentioning(&self, text: &str) -> usize {
        self.log()
            .split("method call")
            .filter(|call| call.contains("member=Notify") && call.contains(text))
            .count()
    }
}

impl Drop for NotificationWatch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
