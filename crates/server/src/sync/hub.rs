//! Fan-out: one broadcast channel per organisation with listeners. The store announces which
//! organisation's log grew; the hub reads the new events once, serialises each once, and
//! broadcasts them. The log stays the source of truth: a receiver that lags or sees a gap
//! re-reads from the log instead of anything being dropped or buffered without bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use inbox_core::Id;
use tokio::sync::broadcast;

use super::REPLAY_BATCH;
use crate::store::Store;

/// One event, serialised once for every connection (whole, or as its stub when too large).
#[derive(Debug)]
pub struct Frame {
    pub seq: i64,
    pub json: String,
}

struct Feed {
    tx: broadcast::Sender<Arc<Frame>>,
    /// Newest sequence number broadcast.
    last: i64,
}

pub struct Hub {
    store: Arc<Store>,
    feeds: Mutex<HashMap<Id, Feed>>,
}

/// Frames a receiver may fall behind by before it re-reads from the log.
const CHANNEL_CAPACITY: usize = 1024;

impl Hub {
    /// Starts the hub's task, which follows the store's change announcements.
    pub fn start(store: Arc<Store>) -> Arc<Hub> {
        let hub = Arc::new(Hub {
            store: Arc::clone(&store),
            feeds: Mutex::new(HashMap::new()),
        });
        let mut changes = store.changes();
        let weak = Arc::downgrade(&hub);
        tokio::spawn(async move {
            loop {
                let orgs = match changes.recv().await {
                    Ok(org) => vec![org],
                    // Announcements were missed: look at every organisation with listeners.
                    Err(broadcast::error::RecvError::Lagged(_)) => match weak.upgrade() {
                        Some(hub) => hub.org_ids(),
                        None => return,
                    },
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let Some(hub) = weak.upgrade() else { return };
                for org in orgs {
                    if let Err(e) = hub.publish(org).await {
                        tracing::warn!(org, error = %e, "sync fan-out could not read the log; listeners will catch up from it");
                    }
                }
            }
        });
        hub
    }

    fn org_ids(&self) -> Vec<Id> {
        self.feeds
            .lock()
            .map(|f| f.keys().copied().collect())
            .unwrap_or_default()
    }

    /// A receiver of the organisation's live frames, and the newest seq broadcast so far.
    pub async fn subscribe(&self, org: Id) -> anyhow::Result<broadcast::Receiver<Arc<Frame>>> {
        let head = self.store.log_bounds(org).await?.head;
        let mut feeds = self
            .feeds
            .lock()
            .map_err(|_| anyhow::anyhow!("hub lock poisoned"))?;
        let feed = feeds.entry(org).or_insert_with(|| Feed {
            tx: broadcast::channel(CHANNEL_CAPACITY).0,
            last: head,
        });
        Ok(feed.tx.subscribe())
    }

    /// Reads what the organisation's log gained since the last broadcast and sends it.
    async fn publish(&self, org: Id) -> anyhow::Result<()> {
        loop {
            let last = {
                let mut feeds = self
                    .feeds
                    .lock()
                    .map_err(|_| anyhow::anyhow!("hub lock poisoned"))?;
                match feeds.get(&org) {
                    None => return Ok(()),
                    Some(feed) if feed.tx.receiver_count() == 0 => {
                        feeds.remove(&org);
                        return Ok(());
                    }
                    Some(feed) => feed.last,
                }
            };
            let events = self.store.events_after(org, last, REPLAY_BATCH).await?;
            if events.is_empty() {
                return Ok(());
            }
            let frames: Vec<Arc<Frame>> = events
                .iter()
                .map(|e| {
                    Ok(Arc::new(Frame {
                        seq: e.seq,
                        json: e.frame_json()?,
                    }))
                })
                .collect::<anyhow::Result<_>>()?;
            let mut feeds = self
                .feeds
                .lock()
                .map_err(|_| anyhow::anyhow!("hub lock poisoned"))?;
            let Some(feed) = feeds.get_mut(&org) else {
                return Ok(());
            };
            for frame in frames {
                if frame.seq > feed.last {
                    feed.last = frame.seq;
                    // No receivers left is fine: the next subscriber starts from the log.
                    let _ = feed.tx.send(frame);
                }
            }
        }
    }
}
