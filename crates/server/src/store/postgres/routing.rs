//! Routing is written once for both databases: `store::scripts::routing`.
