//! What every handler shares.

use std::sync::Arc;

use crate::clock::Clock;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Clock,
    /// How long a sign-in lasts.
    pub session_ttl: chrono::Duration,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>) -> AppState {
        AppState {
            store,
            clock: Clock::system(),
            session_ttl: chrono::Duration::days(30),
        }
    }
}
