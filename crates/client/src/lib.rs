//! `inbox-client`: the Garage Inbox desktop engine. A SQLite cache of the organisation's
//! conversations (`cache`), the sync loop that keeps it current over the server's WebSocket
//! (`sync`), the outbox that never loses or doubles a reply (`outbox`), the REST client (`api`)
//! and the TLS both use (`transport`), the connection states (`connection`), the notification
//! policy (`notify`), which recordings may load (`media`), and what the desktop keeps between launches (`session`, with the keychain
//! behind `keystore`). No Tauri: the desktop shell adapts this crate through `Engine`.

pub mod actions;
pub mod api;
pub mod cache;
pub mod connection;
pub mod engine;
pub mod files;
pub mod keystore;
pub mod media;
pub mod notify;
mod outbox;
pub mod session;
mod sync;
pub mod transport;

pub use engine::{Engine, EngineConfig, EngineError, Preferences, ThreadView, Update};
pub use transport::{server_address, ServerAddressError, Transport, TransportError, EXTRA_CA_ENV};
