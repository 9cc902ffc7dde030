//! Native notifications (DSK-4) for what the engine's policy selected, through notify-rust.
//! Clicking one brings the window forward on that thread.

use inbox_core::desktop::Notification;
use inbox_core::Id;
use tauri::AppHandle;

const APP_NAME: &str = "Garage Inbox";

/// The notification's title, text and what a click opens.
fn parts(n: &Notification) -> (String, String, Option<Id>) {
    match n {
        Notification::Message {
            conversation_id,
            title,
            body,
        }
        | Notification::MissedCall {
            conversation_id,
            title,
            body,
        } => (title.clone(), body.clone(), Some(*conversation_id)),
        Notification::Summary {
            conversations,
            body,
            ..
        } => (
            APP_NAME.to_string(),
            body.clone(),
            match conversations.as_slice() {
                [one] => Some(*one),
                _ => None,
            },
        ),
    }
}

/// The body as the platform's notification centre reads it: freedesktop servers (Linux, the
/// BSDs) take markup in the body, so customer text is escaped there; the summary is plain text.
fn native_body(body: &str) -> String {
    if cfg!(all(unix, not(target_os = "macos"))) {
        inbox_client::notify::markup_escaped(body)
    } else {
        body.to_string()
    }
}

/// Shows the notification without blocking the caller.
pub fn raise(app: &AppHandle, n: &Notification) {
    let (title, body, target) = parts(n);
    let body = native_body(&body);
    let mut native = notify_rust::Notification::new();
    native
        .appname(APP_NAME)
        .summary(&title)
        .body(&body)
        .action("default", "Open");
    // Sent under the app's registered ID, so the toast shows its name (crate::app_id).
    #[cfg(windows)]
    native.app_id(crate::app_id::AUMID);
    let app = app.clone();
    // Each notification waits for its click on its own thread: showing and waiting block.
    std::thread::spawn(move || match native.show() {
        Ok(handle) => on_click(handle, || {
            crate::window::open_view(&app, &view_query(target));
        }),
        Err(e) => tracing::warn!(error = %e, "the notification could not be shown"),
    });
}

/// Waits for the notification to be clicked or closed, and runs `open` on a click.
#[cfg(not(windows))]
fn on_click(handle: notify_rust::NotificationHandle, open: impl FnOnce()) {
    handle.wait_for_action(|action| {
        if action == "default" {
            open();
        }
    });
}

/// On Windows a click on the toast's body answers `Default`, which `wait_for_action` reports
/// as "__closed"; only the full response tells it from a dismissal.
#[cfg(windows)]
fn on_click(handle: notify_rust::NotificationHandle, open: impl FnOnce()) {
    let waited = handle.wait_for_response(|response: &notify_rust::NotificationResponse| {
        if opens(response) {
            open();
        }
    });
    if let Err(e) = waited {
        tracing::debug!(error = %e, "no answer from the notification");
    }
}

/// Whether a response is a click that opens the thread: the body, or the "Open" button.
#[cfg_attr(not(windows), allow(dead_code))]
fn opens(response: &notify_rust::NotificationResponse) -> bool {
    use notify_rust::NotificationResponse as R;
    match response {
        R::Default => true,
        R::Action(action) => action == "default",
        R::Reply(_) | R::Closed(_) => false,
    }
}

/// The `/messages` query a click opens.
fn view_query(target: Option<Id>) -> String {
    match target {
        Some(id) => format!("conversation={id}"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsk4_a_click_opens_the_notified_thread_or_the_inbox() {
        let m = Notification::Message {
            conversation_id: 12,
            title: "Sarah Jones".into(),
            body: "Is the car ready?".into(),
        };
        let (title, body, target) = parts(&m);
        assert_eq!(
            (title.as_str(), body.as_str()),
            ("Sarah Jones", "Is the car ready?")
        );
        assert_eq!(view_query(target), "conversation=12");
        let s = Notification::Summary {
            count: 5,
            conversations: vec![1, 2],
            body: "5 new messages in 2 conversations".into(),
        };
        let (title, _, target) = parts(&s);
        assert_eq!(title, APP_NAME);
        assert_eq!(view_query(target), "");
    }

    #[test]
    fn dsk4_the_body_or_the_open_button_opens_a_dismissal_does_not() {
        use notify_rust::{CloseReason, NotificationResponse as R};
        assert!(opens(&R::Default));
        assert!(opens(&R::Action("default".into())));
        assert!(!opens(&R::Action("other".into())));
        assert!(!opens(&R::Closed(CloseReason::Dismissed)));
    }
}
