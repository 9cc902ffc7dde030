//! Intents for the inbound messages stored before the server classified them (issue 16,
//! AIA-1): after an upgrade, a background task at start classifies them a page at a time, on
//! the blocking pool, and stores each page in one write. New messages are classified as they
//! arrive, so the task finds nothing to do on every later start.

use std::sync::Arc;

use crate::store::rules::inbound_intent;
use crate::store::{Store, StoreResult};

/// Messages per read and write: small enough that a page never holds the writer for long.
pub const PAGE: u32 = 500;

/// Classifies every inbound message without an intent; returns how many it classified.
pub async fn run(store: Arc<Store>) -> StoreResult<u64> {
    let (mut after, mut done) = (0, 0u64);
    loop {
        let page = store.unclassified(after, PAGE).await?;
        let Some(&(last, _)) = page.last() else {
            return Ok(done);
        };
        after = last;
        let intents = tokio::task::spawn_blocking(move || {
            page.into_iter()
                .map(|(id, body)| {
                    let (label, confidence) = inbound_intent(&body);
                    (id, label, confidence)
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| crate::store::StoreError::Internal(e.into()))?;
        done += intents.len() as u64;
        store.set_intents(intents).await?;
    }
}
