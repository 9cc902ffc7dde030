//! The send queue (`outbound_queue`), shared by every instance: each claim leases one message
//! and bumps its fencing token (`claim`); results are recorded only under the latest claim.
//! `sending_at` is written before the provider is called, so a claim that runs out mid-send
//! makes the message `unknown` instead of sending it again. Kept across restarts, emptied when
//! a provider accepts a message, refuses it for good, or may have taken it.
//!
//! Recording a provider id makes the statuses that arrived before it due (`early_statuses`):
//! `accepted` and `link_provider_id` apply them (`providers::apply_early_statuses`).

use chrono::{DateTime, Utc};
use inbox_core::providers::Provider;
use inbox_core::{DeliveryStatus, Id, Message};

use super::{load, messages};
use crate::store::backend::script;
use crate::store::db::{args, Arg, Db, Dialect, Row, WriteTx};
use crate::store::rows::{from_ms, ms};
use crate::store::Store;
use crate::store::{
    Actor, Awaiting, AwaitingAt, OutboundJob, QuietPage, StoreError, StoreResult, UnlinkedReply,
    LOST_WHILE_SENDING,
};

/// The number a reply goes to: the customer's primary number, else the caller's.
async fn to_number(db: &mut impl Db, conversation: Id) -> StoreResult<Option<String>> {
    db.one(
        "SELECT coalesce(
             (SELECT p.e164 FROM customer_phones p WHERE p.customer_id = c.customer_id ORDER BY p.position, p.e164 COLLATE \"C\" LIMIT 1),
             CASE WHEN NOT c.withheld THEN c.caller_number END)
         FROM conversations c WHERE c.id = $1",
        args![conversation],
        |r| r.opt_text(0),
    )
    .await
}

/// Sets a message's status with its activity and events.
async fn set_status(
    db: &mut impl WriteTx,
    org: Id,
    id: Id,
    status: DeliveryStatus,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<Message> {
    let m = load::message(db, org, id).await?;
    messages::set_status(db, org, &m, status, error, now).await?;
    messages::decided(db, org, id, m.conversation_id, now).await
}

/// Takes the write lock of the message's organisation, and returns it.
async fn lock_for(db: &mut impl WriteTx, message: Id) -> StoreResult<Id> {
    let org = db
        .one(
            "SELECT org_id FROM messages WHERE id = $1",
            args![message],
            |r| r.int(0),
        )
        .await?;
    db.lock(org).await?;
    Ok(org)
}

/// The message's status and provider id, for deciding what a result may still change.
async fn state_of(db: &mut impl Db, id: Id) -> StoreResult<(DeliveryStatus, Option<String>)> {
    db.one(
        "SELECT status, provider_id FROM messages WHERE id = $1",
        args![id],
        |r| {
            let status = DeliveryStatus::parse(&r.text(0)?).unwrap_or(DeliveryStatus::Pending);
            Ok((status, r.opt_text(1)?))
        },
    )
    .await
}

/// Removes the queue row of this claim; false when the claim is no longer the latest (its lease
/// ran out and another claimer took over, or the row is gone).
async fn leave(db: &mut impl Db, id: Id, claim: i64) -> StoreResult<bool> {
    let gone = db
        .exec(
            "DELETE FROM outbound_queue WHERE message_id = $1 AND claim = $2",
            args![id, claim],
        )
        .await?;
    Ok(gone == 1)
}

/// Takes a message off the queue, whatever its claim.
async fn dequeue(db: &mut impl Db, id: Id) -> StoreResult<()> {
    db.exec(
        "DELETE FROM outbound_queue WHERE message_id = $1",
        args![id],
    )
    .await?;
    Ok(())
}

/// A result under a lost claim still settles a message that became `unknown` meanwhile
/// (stranded), unless the provider's id for it is known already.
fn may_settle(ours: bool, (was, known): &(DeliveryStatus, Option<String>)) -> bool {
    ours || (*was == DeliveryStatus::Unknown && known.is_none())
}

/// Claims up to `limit` due messages, oldest first, each leased until `lease_until` under a new
/// claim. A message decided elsewhere meanwhile (e.g. already accepted) leaves the queue
/// instead: nothing to send.
pub(crate) async fn claim(
    db: &mut impl WriteTx,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: usize,
) -> StoreResult<Vec<OutboundJob>> {
    strand(db, now).await?;
    let claimed = lease(db, now, lease_until, limit).await?;
    let mut jobs = Vec::with_capacity(claimed.len());
    for (id, org_id, attempts, claim, last_error) in claimed {
        let message = load::message(db, org_id, id).await?;
        if message.status != DeliveryStatus::Pending {
            dequeue(db, id).await?;
            continue;
        }
        let to_number = to_number(db, message.conversation_id).await?;
        jobs.push(OutboundJob {
            org_id,
            message,
            attempts: u32::try_from(attempts.saturating_sub(1)).unwrap_or(u32::MAX),
            to_number,
            claim,
            last_error,
        });
    }
    jobs.sort_by_key(|j| j.message.id);
    Ok(jobs)
}

/// A claim that ran out while its provider call was under way: the provider may have the
/// message, so it is never handed out again. Organisation locks first (in id order), as every
/// other writer takes them.
async fn strand(db: &mut impl WriteTx, now: DateTime<Utc>) -> StoreResult<()> {
    let stranded = db
        .all(
            "SELECT message_id, org_id FROM outbound_queue WHERE next_attempt_at <= $1 AND sending_at IS NOT NULL
             ORDER BY org_id, message_id",
            args![ms(now)],
            |r| Ok((r.int(0)?, r.int(1)?)),
        )
        .await?;
    for (id, org) in stranded {
        db.lock(org).await?;
        // Asked again under the lock: the scan took none, and another instance may have
        // settled or claimed it since.
        let gone = db
            .exec(
                "DELETE FROM outbound_queue WHERE message_id = $1 AND next_attempt_at <= $2 AND sending_at IS NOT NULL",
                args![id, ms(now)],
            )
            .await?;
        // Unless a callback carrying our reference has told us the provider has it.
        if gone == 1 && state_of(db, id).await? == (DeliveryStatus::Pending, None) {
            let lost = Some(LOST_WHILE_SENDING);
            set_status(db, org, id, DeliveryStatus::Unknown, lost, now).await?;
        }
    }
    Ok(())
}

/// A leased queue row: message, organisation, attempts (this one counted), claim, last error.
type Leased = (Id, Id, i64, i64, Option<String>);

/// Leases the due rows, oldest first, and bumps their attempts and claim.
async fn lease(
    db: &mut impl Db,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: usize,
) -> StoreResult<Vec<Leased>> {
    let lock = match db.dialect() {
        // Instances share the queue: rows another is claiming are skipped, not waited for.
        Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        // SQLite's one writer claims alone.
        Dialect::Sqlite => "",
    };
    let sql = format!(
        "UPDATE outbound_queue SET next_attempt_at = $2, attempts = attempts + 1, claim = claim + 1
         WHERE message_id IN (SELECT message_id FROM outbound_queue WHERE next_attempt_at <= $1
                              ORDER BY next_attempt_at, message_id LIMIT $3 {lock})
         RETURNING message_id, org_id, attempts, claim, last_error"
    );
    db.all(&sql, args![ms(now), ms(lease_until), limit as i64], |r| {
        Ok((r.int(0)?, r.int(1)?, r.int(2)?, r.int(3)?, r.opt_text(4)?))
    })
    .await
}

/// Records that the provider is about to be called under this claim; false when the claim is
/// no longer the latest: then nothing may be sent.
pub(crate) async fn sending(
    db: &mut impl Db,
    id: Id,
    claim: i64,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let marked = db
        .exec(
            "UPDATE outbound_queue SET sending_at = $3 WHERE message_id = $1 AND claim = $2",
            args![id, claim, ms(now)],
        )
        .await?;
    Ok(marked == 1)
}

/// The provider accepted it: record its id and the status it accepted with, leave the queue.
/// The organisation when the provider id was recorded: its early statuses are then due.
pub(crate) async fn accepted(
    db: &mut impl WriteTx,
    id: Id,
    claim: i64,
    provider: Provider,
    provider_id: &str,
    status: DeliveryStatus,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let org = lock_for(db, id).await?;
    let ours = leave(db, id, claim).await?;
    let state = state_of(db, id).await?;
    if !may_settle(ours, &state) {
        return Ok(());
    }
    db.exec(
        "UPDATE messages SET provider = $2, provider_id = $3 WHERE id = $1",
        args![id, provider.as_str(), provider_id],
    )
    .await?;
    if state.0 == DeliveryStatus::Unknown || status != DeliveryStatus::Pending {
        // An unknown message is settled: the provider has it.
        set_status(db, org, id, status, None, now).await?;
    }
    super::providers::apply_early_statuses(db, org, id, provider, provider_id).await
}

pub(crate) async fn retry_later(
    db: &mut impl Db,
    id: Id,
    claim: i64,
    next_at: DateTime<Utc>,
    error: &str,
) -> StoreResult<()> {
    db.exec(
        "UPDATE outbound_queue SET next_attempt_at = $3, last_error = $4, sending_at = NULL
         WHERE message_id = $1 AND claim = $2",
        args![id, claim, ms(next_at), error],
    )
    .await?;
    Ok(())
}

/// Claimed but not tried: back in the queue, due at `due_at`, and the claim's attempt not
/// counted. Ignored under a lost claim.
pub(crate) async fn release(
    db: &mut impl Db,
    id: Id,
    claim: i64,
    due_at: DateTime<Utc>,
) -> StoreResult<()> {
    db.exec(
        "UPDATE outbound_queue SET next_attempt_at = $3, attempts = greatest(attempts - 1, 0), sending_at = NULL
         WHERE message_id = $1 AND claim = $2",
        args![id, claim, ms(due_at)],
    )
    .await?;
    Ok(())
}

pub(crate) async fn failed(
    db: &mut impl WriteTx,
    id: Id,
    claim: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let org = lock_for(db, id).await?;
    let ours = leave(db, id, claim).await?;
    let state = state_of(db, id).await?;
    if may_settle(ours, &state) {
        set_status(db, org, id, DeliveryStatus::Failed, Some(reason), now).await?;
    }
    Ok(())
}

pub(crate) async fn unknown(
    db: &mut impl WriteTx,
    id: Id,
    claim: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let org = lock_for(db, id).await?;
    if leave(db, id, claim).await? && state_of(db, id).await?.0 == DeliveryStatus::Pending {
        set_status(db, org, id, DeliveryStatus::Unknown, Some(reason), now).await?;
    }
    Ok(())
}

/// A [`QuietPage`] of `select`, whose own condition takes `$1`.
async fn quiet_page<T: Send>(
    db: &mut impl Db,
    select: &str,
    first: Arg<'_>,
    page: QuietPage,
    map: impl FnMut(&Row) -> StoreResult<T> + Send,
) -> StoreResult<Vec<T>> {
    let after = page
        .after
        .map_or((i64::MIN, 0), |a| (a.updated_at_ms, a.message_id));
    let sql = format!(
        "{select} AND updated_at < $2 AND created_at > $3 AND (updated_at > $5 OR (updated_at = $5 AND id > $6))
         ORDER BY updated_at, id LIMIT $4"
    );
    let (quiet, sent) = (ms(page.quiet_since), ms(page.sent_after));
    let limit = page.limit as i64;
    let args = [
        first,
        quiet.into(),
        sent.into(),
        limit.into(),
        after.0.into(),
        after.1.into(),
    ];
    db.all(&sql, &args, map).await
}

/// Replies `provider` took that are still `pending`: their status callbacks may have been lost,
/// so the provider is asked (issue 13).
pub(crate) async fn awaiting(
    db: &mut impl Db,
    provider: Provider,
    page: QuietPage,
) -> StoreResult<Vec<Awaiting>> {
    let select = "SELECT org_id, id, provider_id, updated_at FROM messages
         WHERE status = 'pending' AND direction = 'outbound' AND provider = $1 AND provider_id IS NOT NULL";
    quiet_page(db, select, provider.as_str().into(), page, |r| {
        Ok(Awaiting {
            org_id: r.int(0)?,
            provider_id: r.text(2)?,
            at: AwaitingAt {
                updated_at_ms: r.int(3)?,
                message_id: r.int(1)?,
            },
        })
    })
    .await
}

/// Replies on `channel` left `unknown` without a provider id (the provider's answer never
/// came), each with the number it went to: the provider is asked what it sent there (issue 13).
pub(crate) async fn unknown_unlinked(
    db: &mut impl Db,
    channel: &str,
    page: QuietPage,
) -> StoreResult<Vec<UnlinkedReply>> {
    let select = "SELECT org_id, id, body, created_at, updated_at, conversation_id FROM messages
         WHERE status = 'unknown' AND direction = 'outbound' AND provider_id IS NULL AND channel = $1";
    let rows = quiet_page(db, select, channel.into(), page, |r| {
        let at = AwaitingAt {
            updated_at_ms: r.int(4)?,
            message_id: r.int(1)?,
        };
        Ok((r.int(0)?, r.text(2)?, r.int(3)?, at, r.int(5)?))
    })
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (org_id, body, created, at, conversation) in rows {
        out.push(UnlinkedReply {
            org_id,
            body,
            to: to_number(db, conversation).await?,
            created_at: from_ms(created),
            at,
        });
    }
    Ok(out)
}

/// Which of `provider_ids` messages of the organisation already carry (each once).
pub(crate) async fn known_provider_ids(
    db: &mut impl Db,
    org: Id,
    provider: Provider,
    provider_ids: &[String],
) -> StoreResult<Vec<String>> {
    if provider_ids.is_empty() {
        return Ok(Vec::new());
    }
    // One statement for the whole list: `$3, $4, …`.
    let list: Vec<String> = (3..provider_ids.len() + 3)
        .map(|n| format!("${n}"))
        .collect();
    let sql = format!(
        "SELECT provider_id FROM messages WHERE org_id = $1 AND provider = $2 AND provider_id IN ({})",
        list.join(", ")
    );
    let mut params: Vec<Arg> = vec![org.into(), provider.as_str().into()];
    params.extend(provider_ids.iter().map(Arg::from));
    db.all(&sql, &params, |r| r.text(0)).await
}

pub(crate) async fn not_taken(
    db: &mut impl WriteTx,
    org: Id,
    id: Id,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let lock = match db.dialect() {
        Dialect::Postgres => "FOR UPDATE",
        // SQLite's one writer holds the whole database.
        Dialect::Sqlite => "",
    };
    let sql = format!(
        "SELECT id FROM messages
         WHERE id = $1 AND org_id = $2 AND direction = 'outbound' AND status = 'unknown' AND provider_id IS NULL {lock}"
    );
    let unlinked = db.any(&sql, args![id, org]).await?;
    if unlinked {
        set_status(db, org, id, DeliveryStatus::Failed, Some(reason), now).await?;
    }
    Ok(unlinked)
}

/// A provider callback that carries our reference to a message without a provider id, `unknown`
/// or still `pending`: records the provider's id. True when it linked: its early statuses are
/// then due.
pub(crate) async fn link_provider_id(
    db: &mut impl WriteTx,
    org: Id,
    id: Id,
    provider: Provider,
    provider_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let linked = db
        .exec(
            "UPDATE messages SET provider = $3, provider_id = $4
             WHERE id = $1 AND org_id = $2 AND direction = 'outbound' AND status IN ('unknown', 'pending') AND provider_id IS NULL",
            args![id, org, provider.as_str(), provider_id],
        )
        .await?
        == 1;
    if linked {
        // The provider has it: never to be sent again (a send it answered with an error, or one
        // still "sending" under a dead server's lease), and pending until its callbacks say
        // more.
        dequeue(db, id).await?;
        set_status(db, org, id, DeliveryStatus::Pending, None, now).await?;
        super::providers::apply_early_statuses(db, org, id, provider, provider_id).await?;
    }
    Ok(linked)
}

/// CMP-4: a failed message goes back to the queue as pending, its attempts counted afresh.
pub(crate) async fn retry(
    db: &mut impl WriteTx,
    org: Id,
    id: Id,
    now: DateTime<Utc>,
) -> StoreResult<Message> {
    let m = load::message(db, org, id).await?;
    if m.status != DeliveryStatus::Failed {
        return Err(StoreError::Conflict(format!(
            "only a failed message can be retried; this one is {}",
            m.status
        )));
    }
    db.exec(
        "INSERT INTO outbound_queue (message_id, org_id, enqueued_at, next_attempt_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (message_id) DO UPDATE SET next_attempt_at = excluded.next_attempt_at, attempts = 0, last_error = NULL",
        args![id, org, ms(now)],
    )
    .await?;
    // The provider id of the failed attempt stays with the log, not with the retry.
    db.exec(
        "UPDATE messages SET provider_id = NULL WHERE id = $1",
        args![id],
    )
    .await?;
    set_status(db, org, id, DeliveryStatus::Pending, None, now).await
}

/// The send queue the dispatcher drains (issue 5). Survives restarts; each message is claimed by
/// one sender at a time.
impl Store {
    /// Claims up to `limit` queued replies due at `now`, oldest first, each leased until
    /// `lease_until` under a new fencing token ([`OutboundJob::claim`]). A due reply whose
    /// previous claim ran out while its provider call was under way (`outbound_sending` was
    /// recorded) is not handed out again: it becomes `unknown` ([`LOST_WHILE_SENDING`]).
    pub async fn claim_outbound(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<OutboundJob>> {
        self.write(None, script!(|tx| claim(tx, now, lease_until, limit)))
            .await
    }

    /// Records, durably, that the provider is about to be called under this claim. False when
    /// the claim is no longer the latest: then nothing may be sent.
    pub async fn outbound_sending(
        &self,
        message_id: Id,
        claim: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.write_one(script!(|c| sending(c, message_id, claim, now)))
            .await
    }

    /// The provider accepted it: record its id, leave the queue. Under a lost claim this only
    /// settles a message that became `unknown` meanwhile.
    pub async fn outbound_accepted(
        &self,
        message_id: Id,
        claim: i64,
        provider: Provider,
        provider_id: &str,
        status: DeliveryStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let provider_id = provider_id.to_owned();
        self.write(
            None,
            script!(|tx| accepted(tx, message_id, claim, provider, &provider_id, status, now)),
        )
        .await
    }

    /// A failure the provider answered (so it did not take the message): try again at
    /// `next_at`. Ignored under a lost claim.
    pub async fn outbound_retry_later(
        &self,
        message_id: Id,
        claim: i64,
        next_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let error = error.to_owned();
        self.write_one(script!(|c| retry_later(
            c, message_id, claim, next_at, &error
        )))
        .await
    }

    /// Claimed but not tried (the dispatcher met it twice in one pass): back in the queue, due
    /// at `due_at`, and the claim's attempt not counted. Ignored under a lost claim.
    pub async fn outbound_release(
        &self,
        message_id: Id,
        claim: i64,
        due_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write_one(script!(|c| release(c, message_id, claim, due_at)))
            .await
    }

    /// A permanent failure: the message is `failed` with the reason (CMP-4).
    pub async fn outbound_failed(
        &self,
        message_id: Id,
        claim: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let reason = reason.to_owned();
        self.write(
            None,
            script!(|tx| failed(tx, message_id, claim, &reason, now)),
        )
        .await
    }

    /// The provider may have accepted it (its answer was lost): the message becomes `unknown`
    /// with the reason and leaves the queue; it is never sent again by itself.
    pub async fn outbound_unknown(
        &self,
        message_id: Id,
        claim: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let reason = reason.to_owned();
        self.write(
            None,
            script!(|tx| unknown(tx, message_id, claim, &reason, now)),
        )
        .await
    }

    /// Replies `provider` took (it gave its id) that are still `pending`, a [`QuietPage`] of
    /// them: their status callbacks may have been lost (the server was down), so the provider
    /// is asked (issue 13).
    pub async fn awaiting_status(
        &self,
        provider: Provider,
        page: QuietPage,
    ) -> StoreResult<Vec<Awaiting>> {
        self.read(script!(|c| awaiting(c, provider, page))).await
    }

    /// Replies on `channel` left `unknown` without a provider id (the provider's answer never
    /// came), a [`QuietPage`] of them: the provider is asked what it sent to their number
    /// (issue 13).
    pub async fn unknown_unlinked(
        &self,
        channel: &str,
        page: QuietPage,
    ) -> StoreResult<Vec<UnlinkedReply>> {
        let channel = channel.to_owned();
        self.read(script!(|c| unknown_unlinked(c, &channel, page)))
            .await
    }

    /// Which of `provider_ids` messages of the organisation already carry.
    pub async fn known_provider_ids(
        &self,
        org_id: Id,
        provider: Provider,
        provider_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        let ids = provider_ids.to_vec();
        self.read(script!(|c| known_provider_ids(c, org_id, provider, &ids)))
            .await
    }

    /// An `unknown` reply the provider has no record of: it was never sent, so it becomes
    /// `failed` with `reason` (staff may send it again). False when it was no longer `unknown`
    /// without a provider id.
    pub async fn unknown_not_taken(
        &self,
        org_id: Id,
        message_id: Id,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let reason = reason.to_owned();
        self.write(
            Some(org_id),
            script!(|tx| not_taken(tx, org_id, message_id, &reason, now)),
        )
        .await
    }

    /// A provider callback that carries our reference to a message without a provider id,
    /// `unknown` or still `pending` (its send under way, or stranded under a dead server's
    /// lease): record the provider's id, take the message off the send queue for good (the
    /// provider has it), the message is `pending` until its callbacks say more, and the
    /// statuses that waited for this id apply. True when it linked.
    pub async fn link_provider_id(
        &self,
        org_id: Id,
        message_id: Id,
        provider: Provider,
        provider_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let provider_id = provider_id.to_owned();
        self.write(
            Some(org_id),
            script!(|tx| link_provider_id(tx, org_id, message_id, provider, &provider_id, now)),
        )
        .await
    }

    /// CMP-4: a failed message goes back to the queue as pending.
    pub async fn retry_message(
        &self,
        actor: &Actor,
        message_id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let org = actor.org_id;
        self.write(Some(org), script!(|tx| retry(tx, org, message_id, now)))
            .await
    }
}
