//! A D-Bus session of its own whose Secret Service cannot be used: the bus starts gnome-keyring on
//! demand in an empty home, with no keyring unlocked, so storing a secret waits on a prompt that
//! nobody answers (as on a desk whose keyring password no longer matches the login password).

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct LockedKeyring {
    /// `DBUS_SESSION_BUS_ADDRESS` for the app.
    pub address: String,
    /// The bus daemon, leader of a process group that holds what it started.
    daemon: Child,
    _dir: tempfile::TempDir,
}

impl LockedKeyring {
    pub async fn start() -> LockedKeyring {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        let runtime = home.join("run");
        std::fs::create_dir_all(&runtime).unwrap();
        std::fs::set_permissions(
            &runtime,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let socket = home.join("bus");
        let address = format!("unix:path={}", socket.display());
        let daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile"])
            .arg(format!("--address={address}"))
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("dbus-daemon (apt-get install dbus)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "the private bus did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        LockedKeyring {
            address,
            daemon,
            _dir: dir,
        }
    }
}

impl Drop for LockedKeyring {
    fn drop(&mut self) {
        // The daemon and everything the bus started for it (gnome-keyring, a prompter).
        let group = format!("-{}", self.daemon.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}
