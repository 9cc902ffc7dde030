//! The desktop app end to end (issue 6): the real app under Xvfb, driven over WebDriver, against
//! a real server fed through real provider webhooks and the provider simulator. Run with
//! `cargo xtask e2e`, which provides the display, the session bus, the Secret Service and a
//! notification server. Screenshots land in `target/screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod actions;
mod inbox;
mod installed;
mod list;
mod media;
mod security;
mod thread;
mod updates;
