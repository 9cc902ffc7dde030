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
    pub hub: Arc<Hub>,
    pub sync: SyncConfig,
    pub providers: ProviderConfig,
    /// Provider accounts cached for webhook bursts.
    pub accounts: Arc<crate::webhooks::AccountCache>,
    /// Where webhooks the database could not take wait for replay (None: answer 5xx instead).
    pub spool: Option<Arc<crate::webhooks::spool::Spool>>,
}

impl AppState {
    /// Must run inside a tokio runtime: it starts the sync hub's task.
    pub fn new(store: Arc<dyn Store>) -> AppState {
        AppState {
            hub: Hub::start(Arc::clone(&store)),
            store,
            clock: Clock::system(),
            session_ttl: chrono::Duration::days(30),
            sync: SyncConfig::default(),
            providers: ProviderConfig::new("http://127.0.0.1:8787"),
            accounts: Arc::default(),
            spool: None,
        }
    }
}
