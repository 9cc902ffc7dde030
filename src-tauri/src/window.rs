//! The main window as the OS sees it: shown once its page has loaded, brought forward on a view
//! (a notification click), and the unread count in its title and, where the platform has one,
//! its taskbar / dock badge.

use std::time::Duration;

use inbox_core::desktop::{event, OpenView};
use tauri::webview::{PageLoadEvent, PageLoadPayload};
use tauri::{AppHandle, Emitter, Manager, Runtime, Webview};
use tauri_plugin_window_state::StateFlags;

use crate::shell::Shell;

pub const MAIN: &str = "main";
const TITLE: &str = "Garage Inbox";

/// Shown at the latest this long after the app started, loaded or not.
const SHOWN_BY: Duration = Duration::from_secs(3);

/// What the window remembers between starts: its size, position and state, but not whether it
/// is visible, which [`show_when_loaded`] decides.
pub fn remembered() -> StateFlags {
    StateFlags::all() & !StateFlags::VISIBLE
}

/// The window starts hidden (tauri.conf.json) and is shown once its page has loaded (issue 14,
/// cold start). Shown at once, WebKitGTK draws it before its web process is ready and, without
/// accelerated compositing, blocks the main thread for up to half a second waiting for that
/// process's first backing store, which holds back the page's load behind it. Focused as it
/// appears, as a window shown at creation would be.
pub fn show_when_loaded<R: Runtime>(webview: &Webview<R>, payload: &PageLoadPayload<'_>) {
    if payload.event() == PageLoadEvent::Finished && webview.label() == MAIN {
        let window = webview.window();
        if let Err(e) = window.show() {
            tracing::warn!(error = %e, "could not show the window");
        }
        let _ = window.set_focus();
    }
}

/// Shows the window [`SHOWN_BY`] after the start even if its page never finished loading, so a
/// page that cannot load still leaves a window to look at and close.
pub fn show_at_the_latest(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(SHOWN_BY).await;
        if let Some(w) = app.get_webview_window(MAIN) {
            if !w.is_visible().unwrap_or(true) {
                tracing::warn!("the page had not loaded after {SHOWN_BY:?}: showing the window");
                let _ = w.show();
            }
        }
    });
}

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
    use tauri_plugin_window_state::AppHandleExt;
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
            if let Err(e) = handle.save_window_state(remembered()) {
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
