//! The search box's text (LST-2): shared with the desktop cache, so it lives in `inbox_core`.

pub use inbox_core::search::*;
