//! The change log (issue 4): `emit` appends an event with the organisation's next sequence
//! number inside the caller's transaction; after commit the store announces the organisation on
//! its `changes` channel so the fan-out reads the new events from the log.

use std::cell::RefCell;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::sync::{Event, Snapshot};
use inbox_core::Id;
use rusqlite::Connection;

use super::db::Lite;
use super::SqliteStore;
use crate::store::db::now;
use crate::store::scripts;
use crate::store::{Actor, CatalogStore, LogBounds, StoreResult, SyncStore};

thread_local! {
    /// Organisations whose log grew in the transaction running on this blocking thread.
    static TOUCHED: RefCell<Vec<Id>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn take_touched() -> Vec<Id> {
    TOUCHED.with(|t| {
        let mut v = std::mem::take(&mut *t.borrow_mut());
        v.sort_unstable();
        v.dedup();
        v
    })
}

/// Notes that the organisation's log grew in the transaction running on this thread.
pub(crate) fn touch(org: Id) {
    TOUCHED.with(|t| t.borrow_mut().push(org));
}

fn bounds(conn: &Connection, org: Id) -> StoreResult<LogBounds> {
    now(scripts::events::bounds(&mut Lite::new(conn), org))
}

#[async_trait]
impl SyncStore for SqliteStore {
    async fn events_after(&self, org: Id, after: i64, limit: usize) -> StoreResult<Vec<Event>> {
        self.read(move |c| now(scripts::events::after(&mut Lite::new(c), org, after, limit)))
            .await
    }

    async fn log_bounds(&self, org: Id) -> StoreResult<LogBounds> {
        self.read(move |c| bounds(c, org)).await
    }

    async fn snapshot(
        &self,
        actor: &Actor,
        after: Option<Id>,
        limit: usize,
    ) -> StoreResult<Snapshot> {
        let org = actor.org_id;
        let first_page = after.is_none();
        let mut snap = self
            .read(move |c| {
                // One read transaction: the page and the head it is consistent with.
                let tx = c.unchecked_transaction()?;
                let page = now(scripts::events::snapshot_page(
                    &mut Lite::new(&tx),
                    org,
                    after,
                    limit,
                ));
                drop(tx);
                page
            })
            .await?;
        if first_page {
            snap.quick_messages = self.quick_messages(actor).await?;
            snap.templates = self.templates(actor).await?;
            snap.staff = crate::store::AccountStore::staff(self, actor).await?;
        }
        Ok(snap)
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.write(move |tx| now(scripts::events::prune(&mut Lite::new(tx), before)))
            .await
    }

    fn changes(&self) -> tokio::sync::broadcast::Receiver<Id> {
        self.changes.subscribe()
    }
}
