//! Deep links and the single instance (LST-7, THR-3): `garage-inbox://messages?range=…&filter=…
//! &conversation=…` opens the app at that view. A link given to a second launch (the OS starts
//! the app again with the link as its argument) is passed to the running app, which comes to the
//! front; the second launch exits. "Copy link" puts the link of the current view on the clipboard.

use inbox_core::desktop::{CommandError, OpenView};
use tauri::{AppHandle, Runtime};
use tauri_plugin_clipboard_manager::ClipboardExt;

use crate::window;

/// The first deep link among a launch's arguments (the executable path comes first).
pub fn view_in_args<S: AsRef<str>>(args: &[S]) -> Option<OpenView> {
    args.iter().find_map(|a| OpenView::from_link(a.as_ref()))
}

/// A second launch handed over its arguments: come forward, and open its link if it had one.
pub fn second_launch(app: &AppHandle, args: &[String]) {
    match view_in_args(args) {
        Some(view) => window::open_view(app, &view.query),
        None => window::bring_forward(app),
    }
}

/// The single-instance plugin. On Linux the instance is a D-Bus name: it is scoped to the data
/// directory when `GARAGE_INBOX_DATA_DIR` names one, so separate profiles (the tests', a second
/// garage's) run side by side while each profile stays single.
pub fn single_instance<R: Runtime>(
    data_dir_override: Option<&std::path::Path>,
    identifier: &str,
    on_second: impl Fn(&tauri::AppHandle<R>, Vec<String>) + Send + Sync + 'static,
) -> tauri::plugin::TauriPlugin<R> {
    let builder = tauri_plugin_single_instance::Builder::new()
        .callback(move |app, args, _cwd| on_second(app, args));
    let builder = match data_dir_override {
        Some(dir) => builder.dbus_id(format!("{identifier}.p{:016x}", profile_hash(dir))),
        None => builder,
    };
    builder.build()
}

/// Whether starting failed because the single-instance plugin found a previous instance that
/// went away while this launch was handing over to it: the app was opened again while its last
/// window was still closing. (Linux: the D-Bus call to the old instance got no reply.)
pub fn previous_instance_was_exiting(error: &str) -> bool {
    error.contains("single-instance")
        && error.contains("forward")
        && (error.contains("NoReply") || error.contains("ServiceUnknown"))
}

/// How many times a launch waits for a closing instance before it gives up (half a second
/// apart).
const RELAUNCH_TRIES: u32 = 10;
const RELAUNCH_ENV: &str = "GARAGE_INBOX_RELAUNCH";

/// This launch is up: the relaunch count it may have carried is not passed on to programs it
/// starts (the updater's restart would otherwise begin with fewer tries).
pub fn started() {
    std::env::remove_var(RELAUNCH_ENV);
}

/// Starts this launch again, with the same arguments, once the closing instance has had half a
/// second more; gives up after [`RELAUNCH_TRIES`] with the original error.
pub fn relaunch_when_free(error: &str) -> std::process::ExitCode {
    let tries: u32 = std::env::var(RELAUNCH_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if tries >= RELAUNCH_TRIES {
        eprintln!("garage-inbox: {error}");
        return std::process::ExitCode::FAILURE;
    }
    tracing::info!(
        attempt = tries + 1,
        "the previous window is still closing; starting again shortly"
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("garage-inbox: {error} (and could not start again: {e})");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut again = std::process::Command::new(exe);
    again
        .args(std::env::args_os().skip(1))
        .env(RELAUNCH_ENV, (tries + 1).to_string());
    // Unix: this process becomes the new launch (same process id, which a launcher or test
    // driver keeps watching). Elsewhere: the new launch runs to its end and we pass its result on.
    #[cfg(unix)]
    let e = {
        use std::os::unix::process::CommandExt;
        again.exec()
    };
    #[cfg(not(unix))]
    let e = match again.status() {
        Ok(status) if status.success() => return std::process::ExitCode::SUCCESS,
        Ok(_) => return std::process::ExitCode::FAILURE,
        Err(e) => e,
    };
    eprintln!("garage-inbox: {error} (and could not start again: {e})");
    std::process::ExitCode::FAILURE
}

/// A stable FNV-1a hash of the profile directory (D-Bus names allow [A-Za-z0-9_] elements).
fn profile_hash(dir: &std::path::Path) -> u64 {
    dir.to_string_lossy()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// Links the OS delivers to the running app (macOS Apple events; Linux and Windows after the
/// scheme is registered), and on Linux and Windows the scheme's registration for this user.
pub fn listen_for_links(app: &AppHandle) {
    use tauri_plugin_deep_link::DeepLinkExt;
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        let urls: Vec<String> = event.urls().iter().map(|u| u.to_string()).collect();
        if let Some(view) = view_in_args(&urls) {
            window::open_view(&handle, &view.query);
        }
    });
    #[cfg(any(target_os = "linux", windows))]
    if registers_scheme_itself(std::env::current_exe().ok().as_deref()) {
        // Off the main thread, which serves the page while it loads: on Linux this writes a
        // desktop entry and runs xdg-mime and update-desktop-database (issue 14, cold start).
        let app = app.clone();
        std::thread::spawn(move || {
            if let Err(e) = app.deep_link().register_all() {
                tracing::info!(error = %e, "the garage-inbox:// scheme is not registered with the desktop");
            }
        });
    }
}

/// Whether the app registers `garage-inbox://` for this user at start. A copy installed by a
/// Linux package (under `/usr` or `/opt`) does not: its package registered the scheme for every
/// user, and a per-user entry would shadow that one and point at wherever this copy runs from.
/// Every other copy (a Windows install, a build being tried) registers itself.
#[cfg_attr(not(any(target_os = "linux", windows)), allow(dead_code))]
fn registers_scheme_itself(exe: Option<&std::path::Path>) -> bool {
    let packaged = cfg!(target_os = "linux")
        && exe.is_some_and(|p| p.starts_with("/usr/") || p.starts_with("/opt/"));
    !packaged
}

/// "Copy link": the view's deep link, on the clipboard.
pub fn copy(app: &AppHandle, view: &OpenView) -> Result<String, CommandError> {
    let link = view.link();
    app.clipboard()
        .write_text(link.clone())
        .map_err(|e| CommandError::new(format!("Could not copy the link: {e}")))?;
    Ok(link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lst7_a_launch_opens_the_first_link_among_its_arguments() {
        let args = [
            "/usr/bin/garage-inbox",
            "--flag",
            "garage-inbox://messages?filter=unread&conversation=12",
        ];
        assert_eq!(
            view_in_args(&args).map(|v| v.query),
            Some("filter=unread&conversation=12".to_string())
        );
        assert_eq!(view_in_args(&["/usr/bin/garage-inbox"]), None);
    }

    #[test]
    fn dsk1_a_packaged_linux_copy_leaves_the_scheme_to_its_package() {
        use std::path::Path;
        let packaged = registers_scheme_itself(Some(Path::new("/usr/bin/garage-inbox")));
        assert_eq!(packaged, !cfg!(target_os = "linux"));
        assert!(registers_scheme_itself(Some(Path::new(
            "/home/desk/garage-inbox/target/debug/garage-inbox"
        ))));
        assert!(registers_scheme_itself(None));
    }

    #[test]
    fn a_launch_that_met_a_closing_instance_starts_again() {
        let closing = "failed to initialize plugin `single-instance`: failed to forward arguments to the running instance: org.freedesktop.DBus.Error.NoReply: Message recipient disconnected from message bus without replying";
        assert!(previous_instance_was_exiting(closing));
        assert!(!previous_instance_was_exiting(
            "failed to initialize plugin `deep-link`: NoReply"
        ));
        assert!(!previous_instance_was_exiting(
            "failed to initialize plugin `single-instance`: permission denied"
        ));
    }

    #[test]
    fn profiles_get_their_own_instance_name() {
        let a = profile_hash(std::path::Path::new("/tmp/a"));
        assert_eq!(a, profile_hash(std::path::Path::new("/tmp/a")));
        assert_ne!(a, profile_hash(std::path::Path::new("/tmp/b")));
    }
}
