//! The end-to-end harness: a real `inbox-server` and `inbox-sim` as processes (`stack`), the
//! real desktop app driven over WebDriver through tauri-driver and WebKitWebDriver (`app`), and
//! the D-Bus session's notification traffic (`bus`). `cargo xtask e2e` provides the display
//! (Xvfb), the session bus, an unlocked Secret Service and a notification server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod app;
pub mod bins;
pub mod bus;
pub mod stack;

pub use app::App;
pub use bus::NotificationWatch;
pub use stack::Stack;

use std::time::{Duration, Instant};

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
