//! The change log on PostgreSQL: `emit` takes the organisation's next sequence number inside the
//! caller's transaction (gap-free: a rollback returns it; ordered: the counter row stays locked
//! until commit) and notifies the other instances, delivered at commit.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::sync::{Event, Snapshot};
use inbox_core::Id;
use sqlx::PgConnection;

use super::PgStore;
use crate::store::scripts;
use crate::store::{Actor, CatalogStore, LogBounds, StoreResult, SyncStore};

async fn bounds(c: &mut PgConnection, org: Id) -> StoreResult<LogBounds> {
    scripts::events::bounds(c, org).await
}

#[async_trait]
impl SyncStore for PgStore {
    async fn events_after(&self, org: Id, after: i64, limit: usize) -> StoreResult<Vec<Event>> {
        scripts::events::after(&mut *self.conn().await?, org, after, limit).await
    }

    async fn log_bounds(&self, org: Id) -> StoreResult<LogBounds> {
        bounds(&mut *self.conn().await?, org).await
    }

    async fn snapshot(
        &self,
        actor: &Actor,
        after: Option<Id>,
        limit: usize,
    ) -> StoreResult<Snapshot> {
        let org = actor.org_id;
        // One repeatable-read transaction: the page and the head it is consistent with.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let mut snap = scripts::events::snapshot_page(&mut *tx, org, after, limit).await?;
        tx.commit().await?;
        if after.is_none() {
            snap.quick_messages = self.quick_messages(actor).await?;
            snap.templates = self.templates(actor).await?;
            snap.staff = crate::store::AccountStore::staff(self, actor).await?;
        }
        Ok(snap)
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.begin_any().await?;
        let n = scripts::events::prune(&mut tx, before).await?;
        self.commit(tx).await?;
        Ok(n)
    }

    fn changes(&self) -> tokio::sync::broadcast::Receiver<Id> {
        self.changes.subscribe()
    }
}
