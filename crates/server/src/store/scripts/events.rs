//! Reading and pruning the change log (issue 4). Appending is `scripts::emit`.

use chrono::{DateTime, Utc};
use inbox_core::sync::{Event, Snapshot};
use inbox_core::Id;

use crate::store::backend::script;
use crate::store::db::{args, Db};
use crate::store::rows::{self, decode_event, ms, SUMMARY_SELECT};
use crate::store::Store;
use crate::store::{Actor, LogBounds, StoreResult};

/// The oldest sequence number a client may resume after, and the newest.
pub(crate) async fn bounds(db: &mut impl Db, org: Id) -> StoreResult<LogBounds> {
    db.one(
        "SELECT event_floor, event_seq FROM organisations WHERE id = $1",
        args![org],
        |r| {
            Ok(LogBounds {
                floor: r.int(0)?,
                head: r.int(1)?,
            })
        },
    )
    .await
}

/// Up to `limit` events after `after`, in order.
pub(crate) async fn after(
    db: &mut impl Db,
    org: Id,
    after: i64,
    limit: usize,
) -> StoreResult<Vec<Event>> {
    let rows = db
        .all(
            "SELECT seq, type, data, at FROM events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            args![org, after, limit as i64],
            |r| Ok((r.int(0)?, r.text(1)?, r.text(2)?, r.int(3)?)),
        )
        .await?;
    rows.iter()
        .map(|(seq, t, d, at)| decode_event(*seq, t, d, *at))
        .collect()
}

/// One page of a first sync: conversations by id after `after`, each with its newest thread
/// page and its customer, and the log's head they are consistent with. The caller runs it in
/// one read transaction that sees a single state of the database.
pub(crate) async fn snapshot_page(
    db: &mut impl Db,
    org: Id,
    after: Option<Id>,
    limit: usize,
) -> StoreResult<Snapshot> {
    let head = bounds(db, org).await?.head;
    let sql = format!("{SUMMARY_SELECT} WHERE c.org_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3");
    let mut conversations = db
        .all(
            &sql,
            args![org, after.unwrap_or(0), limit as i64 + 1],
            |r| rows::summary(r),
        )
        .await?;
    let next_after = if conversations.len() > limit {
        conversations.truncate(limit);
        conversations.last().map(|c| c.id)
    } else {
        None
    };
    let mut items = Vec::new();
    let mut customers = Vec::new();
    for conv in &conversations {
        items.extend(super::thread::page(db, org, conv.id, None).await?.items);
        if let Some(customer) = conv.customer_id {
            customers.push(super::load::customer(db, org, customer).await?);
        }
    }
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
}

/// Drops events older than `before`; how many went.
pub(crate) async fn prune(db: &mut impl Db, before: DateTime<Utc>) -> StoreResult<u64> {
    // By seq, not by time: everything up to the newest event older than the cut goes, so what
    // stays is a contiguous tail even when `at` is not monotonic (a clock stepped back).
    // Deleting by `at` alone could punch a hole in the middle.
    let n = db
        .exec(
            "WITH cut AS (SELECT org_id, max(seq) AS upto FROM events WHERE at < $1 GROUP BY org_id)
             DELETE FROM events WHERE EXISTS
                (SELECT 1 FROM cut WHERE cut.org_id = events.org_id AND events.seq <= cut.upto)",
            args![ms(before)],
        )
        .await?;
    // Whatever is no longer in the log can no longer be replayed from.
    db.exec(
        "UPDATE organisations SET event_floor = greatest(event_floor,
            coalesce((SELECT min(seq) - 1 FROM events WHERE events.org_id = organisations.id), event_seq))",
        &[],
    )
    .await?;
    Ok(n)
}

/// The change log clients sync from (issue 4).
impl Store {
    /// Events with `seq > after`, oldest first, at most `limit`.
    pub async fn events_after(&self, org: Id, after: i64, limit: usize) -> StoreResult<Vec<Event>> {
        self.read(script!(|c| super::events::after(c, org, after, limit)))
            .await
    }

    pub async fn log_bounds(&self, org: Id) -> StoreResult<LogBounds> {
        self.read(script!(|c| bounds(c, org))).await
    }

    /// A page of the organisation's conversations for a client rebuilding its cache.
    pub async fn snapshot(
        &self,
        actor: &Actor,
        after: Option<Id>,
        limit: usize,
    ) -> StoreResult<Snapshot> {
        let org = actor.org_id;
        // One snapshot of the database: the page and the head it is consistent with.
        let mut snap = self
            .read_snapshot(None, script!(|c| snapshot_page(c, org, after, limit)))
            .await?;
        if after.is_none() {
            snap.quick_messages = self.quick_messages(actor).await?;
            snap.templates = self.templates(actor).await?;
            snap.staff = self.staff(actor).await?;
        }
        Ok(snap)
    }

    /// Drops, per organisation, every event up to the newest one older than `before` (by seq,
    /// so the log stays a contiguous tail) and raises the floor; returns how many.
    pub async fn prune_events(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.write(None, script!(|tx| prune(tx, before))).await
    }

    /// Announces the organisations whose log grew, after each commit.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<Id> {
        self.subscribe_changes()
    }
}
