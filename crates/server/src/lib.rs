//! `inbox-server`: the Garage Inbox backend. The HTTP API (`http`), sign-in (`auth`), storage
//! behind traits (`store`), and demo data (`seed`). The binary in `main.rs` is a thin CLI.

pub mod admin;
pub mod auth;
pub mod clock;
pub mod config;
pub mod cursor;
pub mod dispatch;
pub mod error;
pub mod http;
pub mod intent_backfill;
pub mod language_model;
pub mod limit;
pub mod media;
pub mod providers;
pub mod releases;
pub mod secrets;
pub mod seed;
pub mod serve;
pub mod state;
pub mod status_lookup;
pub mod store;
pub mod sync;
pub mod webhooks;

pub use http::app;
pub use state::AppState;
