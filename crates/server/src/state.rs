//! What every handler shares.

use std::sync::Arc;

use crate::clock::Clock;
use crate::providers::ProviderConfig;
use crate::store::Store;
use crate::sync::hub::Hub;
use crate::sync::SyncConfig;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Clock,
    /// How long a sign-in lasts.
    pub session_ttl: chrono::Duration,
    /// A session unused for this long ends (`INBOX_SESSION_IDLE_HOURS`).
    pub session_idle: chrono::Duration,
    /// How long a portal token works after it is issued (`INBOX_PORTAL_TOKEN_DAYS`).
    pub portal_token_ttl: chrono::Duration,
    pub hub: Arc<Hub>,
    pub sync: SyncConfig,
    pub providers: ProviderConfig,
    /// Provider accounts cached for webhook bursts.
    pub accounts: Arc<crate::webhooks::AccountCache>,
}

impl AppState {
    /// Must run inside a tokio runtime: it starts the sync hub's task.
    pub fn new(store: Arc<dyn Store>) -> AppState {
        AppState {
            hub: Hub::start(Arc::clone(&store)),
            store,
            clock: Clock::system(),
            session_ttl: chrono::Duration::days(30),
            session_idle: chrono::Duration::hours(crate::auth::session::DEFAULT_IDLE_HOURS),
            portal_token_ttl: chrono::Duration::days(crate::webhooks::portal::DEFAULT_TOKEN_DAYS),
            sync: SyncConfig::default(),
            providers: ProviderConfig::new("http://127.0.0.1:8787"),
            accounts: Arc::default(),
        }
    }
}
