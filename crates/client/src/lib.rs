//! `inbox-client`: the Garage Inbox desktop engine. A SQLite cache of the organisation's
//! conversations (`cache`), the sync loop that keeps it current over the server's WebSocket
//! (`sync`), the outbox that never loses or doubles a reply (`outbox`), the REST client (`api`),
//! the connection states (`connection`) and the notification policy (`notify`). No Tauri: the
//! desktop shell adapts this crate through `Engine`.

pub mod actions;
pub mod api;
pub mod cache;
pub mod connection;
pub mod engine;
pub mod notify;
mod outbox;
mod sync;

pub use engine::{Engine, EngineConfig, EngineError, Preferences, ThreadView, Update};
