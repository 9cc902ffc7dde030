//! The main window as the OS sees it: brought forward on a view (a notification click), and the
//! unread count in its title and, where the platform has one, its taskbar / dock badge.

use inbox_core::desktop::{event, OpenView};
use tauri::{AppHandle, Emitter, Manager};

use crate::shell::Shell;

pub const MAIN: &str = "main";
const TITLE: &str = "Garage Inbox";

/// Focuses the window and asks the UI to show `/messages?{query}`. The view is also kept until
/// the UI takes it, in case the UI is not listening yet (the app is still starting).
pub fn open_view(app: &AppHandle, query: &str) {
    bring_forward(app);
    let view = OpenView {
        query: query.to_string(),
    };
    app.state::<Shell>().set_pending_open(view.query.clone());
    if let Err(e) = app.emit(event::OPEN, view) {
        tracing::warn!(error = %e, "could not pass the view to the UI");
    }
}

/// Saves the window's size and position half a second after it stops moving or resizing, so the
/// next start opens where it was even if the app is ended without closing its window (the
/// plugin itself saves on a normal close).
///
/// The save runs on the main thread. From another thread it deadlocks: it holds the plugin's
/// state lock while asking the main thread for the window's geometry, and the main thread may be
/// in the plugin's own resize handler, waiting for that lock (seen as a frozen app after a burst
/// of resizes: every async task stopped behind the two blocked runtime threads).
pub fn remember_soon(app: &AppHandle) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use tauri_plugin_window_state::{AppHandleExt, StateFlags};
    static GENERATION: AtomicU64 = AtomicU64::new(0);
    let mine = GENERATION.fetch_add(1, Ordering::SeqCst) + 1;
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        if GENERATION.load(Ordering::SeqCst) != mine {
            return;
        }
        let handle = app.clone();
        let saved = app.run_on_main_thread(move || {
            if let Err(e) = handle.save_window_state(StateFlags::all()) {
                tracing::warn!(error = %e, "could not save the window's state");
            }
        });
        if let Err(e) = saved {
            tracing::warn!(error = %e, "could not save the window's state");
        }
    });
}

/// Shows, restores and focuses the main window.
pub fn bring_forward(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// "Garage Inbox — 3 unread" and the badge: the dock (macOS) or launcher (Linux, where the
/// desktop supports it) count, the taskbar overlay on Windows.
pub fn show_unread(app: &AppHandle, unread: u64) {
    let Some(w) = app.get_webview_window(MAIN) else {
        return;
    };
    let title = title(unread);
    let _ = w.set_title(&title);
    // Windows has no badge count for desktop apps: the count is an overlay on the taskbar button.
    #[cfg(windows)]
    crate::badge::show(&w, unread);
    #[cfg(not(windows))]
    {
        let badge = (unread > 0).then(|| i64::try_from(unread).unwrap_or(i64::MAX));
        let _ = w.set_badge_count(badge);
    }
}

fn title(unread: u64) -> String {
    match unread {
        0 => TITLE.to_string(),
        n => format!("{TITLE} — {n} unread"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_carries_the_unread_count() {
        assert_eq!(title(0), "Garage Inbox");
        assert_eq!(title(3), "Garage Inbox — 3 unread");
    }
}
