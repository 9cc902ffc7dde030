//! Routing is written once for both databases: `store::scripts::routing`.

pub(crate) use crate::store::scripts::routing::*;
