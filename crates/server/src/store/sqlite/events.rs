//! The change log (issue 4): `emit` appends an event with the organisation's next sequence
//! number inside the caller's transaction; after commit the store announces the organisation on
//! its `changes` channel so the fan-out reads the new events from the log.

use std::cell::RefCell;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::sync::{Change, Event, Snapshot};
use inbox_core::Id;
use rusqlite::{params, Connection};

use super::db::Lite;
use super::rows::{self, SUMMARY_SELECT};
use super::{ms, SqliteStore};
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

/// Appends a change to the organisation's log (`scripts::emit`).
pub(crate) fn emit(
    tx: &Connection,
    org: Id,
    at: DateTime<Utc>,
    change: &Change,
) -> StoreResult<i64> {
    now(scripts::emit(&mut Lite::new(tx), org, at, change))
}

/// Notes that the organisation's log grew in the transaction running on this thread.
pub(crate) fn touch(org: Id) {
    TOUCHED.with(|t| t.borrow_mut().push(org));
}

/// Emits a conversation's current row.
pub(crate) fn emit_conversation(
    tx: &Connection,
    org: Id,
    id: Id,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    now(scripts::emit_conversation(&mut Lite::new(tx), org, id, at))
}

fn bounds(conn: &Connection, org: Id) -> StoreResult<LogBounds> {
    super::found(
        conn.prepare_cached("SELECT event_floor, event_seq FROM organisations WHERE id = ?1")?
            .query_row([org], |r| {
                Ok(LogBounds {
                    floor: r.get(0)?,
                    head: r.get(1)?,
                })
            }),
    )
}

#[async_trait]
impl SyncStore for SqliteStore {
    async fn events_after(&self, org: Id, after: i64, limit: usize) -> StoreResult<Vec<Event>> {
        self.read(move |c| {
            let rows = c
                .prepare_cached("SELECT seq, type, data, at FROM events WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")?
                .query_map(params![org, after, limit as i64], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.iter().map(|(seq, t, d, at)| crate::store::rows::decode_event(*seq, t, d, *at)).collect()
        })
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
                let c = &*tx;
                let head = bounds(c, org)?.head;
                let sql = format!(
                    "{SUMMARY_SELECT} WHERE c.org_id = ?1 AND c.id > ?2 ORDER BY c.id LIMIT ?3"
                );
                let mut conversations = c
                    .prepare_cached(&sql)?
                    .query_map(
                        params![org, after.unwrap_or(0), limit as i64 + 1],
                        rows::summary,
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let next_after = if conversations.len() > limit {
                    conversations.truncate(limit);
                    conversations.last().map(|c| c.id)
                } else {
                    None
                };
                let mut items = Vec::new();
                let mut customers = Vec::new();
                for conv in &conversations {
                    items.extend(super::thread::page(c, org, conv.id, None)?.items);
                    if let Some(cid) = conv.customer_id {
                        customers.push(rows::load_customer(c, org, cid)?);
                    }
                }
                drop(tx);
                Ok(Snapshot {
                    seq: head,
                    conversations,
                    next_after,
                    items,
                    customers,
                    quick_messages: vec![],
                    templates: vec![],
                    staff: vec![],
                })
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
        self.write(move |tx| {
            // By seq, not by time: everything up to the newest event older than the cut goes,
            // so what stays is a contiguous tail even when `at` is not monotonic (a clock
            // stepped back). Deleting by `at` alone could punch a hole in the middle.
            let n = tx
                .prepare_cached(
                    "WITH cut AS (SELECT org_id, max(seq) AS upto FROM events WHERE at < ?1 GROUP BY org_id)
                     DELETE FROM events WHERE EXISTS
                        (SELECT 1 FROM cut WHERE cut.org_id = events.org_id AND events.seq <= cut.upto)",
                )?
                .execute([ms(before)])?;
            // Whatever is no longer in the log can no longer be replayed from.
            tx.execute(
                "UPDATE organisations SET event_floor = max(event_floor,
                    coalesce((SELECT min(seq) - 1 FROM events WHERE events.org_id = organisations.id), event_seq))",
                [],
            )?;
            Ok(n as u64)
        })
        .await
    }

    fn changes(&self) -> tokio::sync::broadcast::Receiver<Id> {
        self.changes.subscribe()
    }
}
