//! The end-to-end harness: a real `inbox-server` and `inbox-sim` as processes (`stack`), the
//! real desktop app driven over WebDriver through tauri-driver and WebKitWebDriver (`app`), the
//! D-Bus session's notification traffic (`bus`), a TLS proxy with its own CA (`tls`), and a
//! session bus whose keychain does not answer (`keyring`).
//! `cargo xtask e2e` provides the display (Xvfb), the session bus, an unlocked Secret Service and
//! a notification server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod app;
pub mod bins;
pub mod bus;
pub mod keyring;
pub mod stack;
pub mod tls;

pub use app::{app_processes, App};
pub use bus::NotificationWatch;
pub use keyring::LockedKeyring;
pub use stack::Stack;
pub use tls::TlsProxy;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long a test waits for the UI to reach a state before it fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// Polls `check` until it returns `Some`, or fails after `timeout` with `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Launches the app on a fresh profile named `test` and signs `email` in.
pub async fn signed_in(stack: &Stack, test: &str, email: &str) -> App {
    let app = App::launch(&stack.data_dir(test), test).await;
    app.sign_in(&stack.url, email).await;
    app.wait_text("h1", "reads Messages", |t| t == "Messages")
        .await;
    app
}

/// The server's counts for a range, as the badges must show them (LST-4).
pub async fn server_counts(stack: &Stack, token: &str, range: &str) -> Value {
    stack
        .get(token, &format!("/conversations?range={range}"))
        .await["counts"]
        .clone()
}

pub async fn badges(app: &App) -> Value {
    json!({
        "all": app.count_badge("all").await,
        "unread": app.count_badge("unread").await,
        "unassigned": app.count_badge("unassigned").await,
        "mine": app.count_badge("mine").await,
    })
}

/// Waits until the badges show `expected` (the first sync may still be landing).
pub async fn wait_badges(app: &App, expected: &Value) {
    let mut last = Value::Null;
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        last = badges(app).await;
        if &last == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("badges {last} never matched the server's {expected}");
}
