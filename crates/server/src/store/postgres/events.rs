//! The change log on PostgreSQL: `emit` takes the organisation's next sequence number inside the
//! caller's transaction (gap-free: a rollback returns it; ordered: the counter row stays locked
//! until commit) and notifies the other instances, delivered at commit.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::sync::{Event, Snapshot};
use inbox_core::Id;
use sqlx::PgConnection;

use super::rows::{self, SUMMARY_SELECT};
use super::PgStore;
use crate::store::rows::{decode_event, ms};
pub(crate) use crate::store::scripts::{emit, emit_conversation};
use crate::store::{Actor, CatalogStore, LogBounds, StoreError, StoreResult, SyncStore};

async fn bounds(c: &mut PgConnection, org: Id) -> StoreResult<LogBounds> {
    let (floor, head): (i64, i64) =
        sqlx::query_as("SELECT event_floor, event_seq FROM organisations WHERE id = $1")
            .bind(org)
            .fetch_optional(c)
            .await?
            .ok_or(StoreError::NotFound)?;
    Ok(LogBounds { floor, head })
}

#[async_trait]
impl SyncStore for PgStore {
    async fn events_after(&self, org: Id, after: i64, limit: usize) -> StoreResult<Vec<Event>> {
        let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT seq, type, data, at FROM events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(org)
        .bind(after)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|(seq, t, d, at)| decode_event(*seq, t, d, *at))
            .collect()
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
        let head = bounds(&mut tx, org).await?.head;
        let sql =
            format!("{SUMMARY_SELECT} WHERE c.org_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3");
        let mut conversations = rows::all(
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(org)
                .bind(after.unwrap_or(0))
                .bind(limit as i64 + 1)
                .fetch_all(&mut *tx)
                .await?,
            rows::summary,
        )?;
        let next_after = if conversations.len() > limit {
            conversations.truncate(limit);
            conversations.last().map(|c| c.id)
        } else {
            None
        };
        let mut items = Vec::new();
        let mut customers = Vec::new();
        for conv in &conversations {
            items.extend(
                super::thread::page(&mut tx, org, conv.id, None)
                    .await?
                    .items,
            );
            if let Some(cid) = conv.customer_id {
                customers.push(rows::load_customer(&mut *tx, org, cid).await?);
            }
        }
        tx.commit().await?;
        let mut snap = Snapshot {
            seq: head,
            conversations,
            next_after,
            items,
            customers,
            quick_messages: vec![],
            templates: vec![],
            staff: vec![],
        };
        if after.is_none() {
            snap.quick_messages = self.quick_messages(actor).await?;
            snap.templates = self.templates(actor).await?;
            snap.staff = crate::store::AccountStore::staff(self, actor).await?;
        }
        Ok(snap)
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.begin_any().await?;
        // By seq, not by time: everything up to the newest event older than the cut goes, so
        // what stays is a contiguous tail even when `at` is not monotonic (a clock stepped
        // back). Deleting by `at` alone could punch a hole in the middle.
        let n = sqlx::query(
            "DELETE FROM events e USING
                (SELECT org_id, max(seq) AS upto FROM events WHERE at < $1 GROUP BY org_id) cut
             WHERE e.org_id = cut.org_id AND e.seq <= cut.upto",
        )
        .bind(ms(before))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Whatever is no longer in the log can no longer be replayed from.
        sqlx::query(
            "UPDATE organisations SET event_floor = greatest(event_floor,
                coalesce((SELECT min(seq) - 1 FROM events WHERE events.org_id = organisations.id), event_seq))",
        )
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        Ok(n)
    }

    fn changes(&self) -> tokio::sync::broadcast::Receiver<Id> {
        self.changes.subscribe()
    }
}
