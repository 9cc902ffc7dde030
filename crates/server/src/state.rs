//! What every handler shares.

use std::sync::Arc;

use crate::auth::throttle::LoginThrottle;
use crate::clock::Clock;
use crate::limit::{ConnectionSlots, RateLimiter};
use crate::providers::ProviderConfig;
use crate::store::Store;
use crate::sync::hub::Hub;
use crate::sync::SyncConfig;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
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
    /// Issue 13: sign-in back-off and bounded password hashing.
    pub login: Arc<LoginThrottle>,
    /// Issue 13: portal posts per customer.
    pub portal_posts: Arc<RateLimiter>,
    /// Issue 13: open sync sockets per user.
    pub sockets: Arc<ConnectionSlots>,
    /// How long the database may spend on one conversation-list page.
    pub list_budget: std::time::Duration,
    /// Where webhooks the database could not take wait for replay (None: answer 5xx instead).
    pub spool: Option<Arc<crate::webhooks::spool::Spool>>,
    /// DSK-1: the desktop updates on offer (`INBOX_RELEASES_DIR`); None: nothing is offered.
    pub releases: Option<Arc<crate::releases::Releases>>,
    /// Issue 17: where messages' files are stored (`INBOX_MEDIA_DIR` or `INBOX_MEDIA_S3_BUCKET`);
    /// None: none are served.
    pub blobs: Option<Arc<crate::media::Blobs>>,
}

/// Portal posts: a burst of 10, then one every 6 seconds (10 a minute).
pub const PORTAL_POST_BURST: u32 = 10;
pub const PORTAL_POST_EVERY: std::time::Duration = std::time::Duration::from_secs(6);
/// Sync sockets one user may hold open at once (several desktops and a reconnecting one).
pub const DEFAULT_SOCKETS_PER_USER: usize = 8;

impl AppState {
    /// Must run inside a tokio runtime: it starts the sync hub's task.
    pub fn new(store: Arc<Store>) -> AppState {
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
            login: Arc::default(),
            portal_posts: Arc::new(RateLimiter::new(PORTAL_POST_BURST, PORTAL_POST_EVERY)),
            sockets: Arc::new(ConnectionSlots::new(DEFAULT_SOCKETS_PER_USER)),
            list_budget: crate::store::LIST_BUDGET,
            spool: None,
            releases: None,
            blobs: None,
        }
    }
}
