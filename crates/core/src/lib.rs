//! Garage Inbox domain core: the types every part of the product shares (wire protocol included)
//! and the pure rules that must agree everywhere (date ranges, the WhatsApp window, previews,
//! phone numbers, routing hints). No I/O; builds for native and wasm32.

pub mod analytics;
pub mod api;
pub mod caller_id;
pub mod capability;
pub mod classify;
pub mod compose;
pub mod desktop;
pub mod intent;
pub mod limits;
pub mod media;
pub mod model;
pub mod phone;
pub mod preview;
pub mod providers;
pub mod range;
pub mod roles;
pub mod routing;
pub mod search;
pub mod sync;
pub mod template;
pub mod updates;
pub mod whatsapp;

pub use capability::{Capability, CapabilitySet};
pub use model::*;
