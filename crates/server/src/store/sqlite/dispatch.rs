//! The send queue (`outbound_queue`): each claim leases one message and bumps its fencing token
//! (`claim`); results are recorded only under the latest claim. `sending_at` is written before
//! the provider is called, so a claim that runs out mid-send makes the message `unknown`
//! instead of sending it again. Kept across restarts, emptied when a provider accepts a message,
//! refuses it for good, or may have taken it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::sync::Change;
use inbox_core::{DeliveryStatus, Id, Message};
use rusqlite::{params, Connection};

use super::events::{emit, emit_conversation};
use super::rows::load_message;
use super::{activity_kind, ms, record_activity, SqliteStore};
use crate::store::{
    Actor, Awaiting, AwaitingAt, DispatchStore, OutboundJob, StoreError, StoreResult,
    UnlinkedReply, LOST_WHILE_SENDING,
};

/// The number a reply goes to: the customer's primary number, else the caller's.
fn to_number(conn: &Connection, conversation_id: Id) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT coalesce(
             (SELECT p.e164 FROM customer_phones p WHERE p.customer_id = c.customer_id ORDER BY p.position, p.e164 LIMIT 1),
             CASE WHEN c.withheld = 0 THEN c.caller_number END)
         FROM conversations c WHERE c.id = ?1",
    )?
    .query_row([conversation_id], |r| r.get(0))
}

/// Sets a message's status with its activity and events.
fn set_status(
    tx: &Connection,
    org: Id,
    id: Id,
    status: DeliveryStatus,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<Message> {
    tx.prepare_cached(
        "UPDATE messages SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![id, status.as_str(), error, ms(now)])?;
    let m = load_message(tx, org, id)?;
    record_activity(tx, org, m.conversation_id, now, activity_kind::STATUS, id)?;
    emit(tx, org, now, &Change::Message(m.clone()))?;
    emit_conversation(tx, org, m.conversation_id, now)?;
    Ok(m)
}

fn org_of(tx: &Connection, message_id: Id) -> StoreResult<Id> {
    super::found(
        tx.prepare_cached("SELECT org_id FROM messages WHERE id = ?1")?
            .query_row([message_id], |r| r.get(0)),
    )
}

/// The message's status and provider id, for deciding what a result may still change.
fn state_of(tx: &Connection, id: Id) -> StoreResult<(DeliveryStatus, Option<String>)> {
    let (status, provider_id): (String, Option<String>) = super::found(
        tx.prepare_cached("SELECT status, provider_id FROM messages WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?))),
    )?;
    Ok((
        DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Pending),
        provider_id,
    ))
}

/// Removes the queue row of this claim; false when the claim is no longer the latest (its lease
/// ran out and another claimer took over, or the row is gone).
fn release(tx: &Connection, id: Id, claim: i64) -> StoreResult<bool> {
    Ok(tx
        .prepare_cached("DELETE FROM outbound_queue WHERE message_id = ?1 AND claim = ?2")?
        .execute(params![id, claim])?
        == 1)
}

/// Records the provider's id and the status it accepted with.
fn record_accepted(
    tx: &Connection,
    org: Id,
    id: Id,
    provider: &str,
    provider_id: &str,
    status: DeliveryStatus,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let was = state_of(tx, id)?.0;
    tx.prepare_cached("UPDATE messages SET provider = ?2, provider_id = ?3 WHERE id = ?1")?
        .execute(params![id, provider, provider_id])?;
    if was == DeliveryStatus::Unknown || status != DeliveryStatus::Pending {
        // An unknown message is settled: the provider has it.
        set_status(tx, org, id, status, None, now)?;
    }
    super::providers::apply_early_statuses(tx, org, id, provider, provider_id)
}

#[async_trait]
impl DispatchStore for SqliteStore {
    async fn claim_outbound(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<OutboundJob>> {
        self.write(move |tx| {
            // A claim that ran out while its provider call was under way: the provider may have
            // the message, so it is never handed out again.
            let stranded: Vec<(Id, Id)> = tx
                .prepare_cached("SELECT message_id, org_id FROM outbound_queue WHERE next_attempt_at <= ?1 AND sending_at IS NOT NULL")?
                .query_map([ms(now)], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, org) in stranded {
                tx.prepare_cached("DELETE FROM outbound_queue WHERE message_id = ?1")?.execute([id])?;
                // Unless a callback carrying our reference has told us the provider has it.
                if state_of(tx, id)? == (DeliveryStatus::Pending, None) {
                    set_status(tx, org, id, DeliveryStatus::Unknown, Some(LOST_WHILE_SENDING), now)?;
                }
            }
            let claimed: Vec<(Id, Id, u32, i64, Option<String>)> = tx
                .prepare_cached(
                    "UPDATE outbound_queue SET next_attempt_at = ?2, attempts = attempts + 1, claim = claim + 1
                     WHERE message_id IN (SELECT message_id FROM outbound_queue WHERE next_attempt_at <= ?1
                                          ORDER BY next_attempt_at, message_id LIMIT ?3)
                     RETURNING message_id, org_id, attempts, claim, last_error",
                )?
                .query_map(params![ms(now), ms(lease_until), limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut jobs = Vec::with_capacity(claimed.len());
            for (id, org_id, attempts, claim, last_error) in claimed {
                let message = load_message(tx, org_id, id)?;
                if message.status != DeliveryStatus::Pending {
                    // Decided elsewhere (e.g. already accepted): nothing to send.
                    tx.prepare_cached("DELETE FROM outbound_queue WHERE message_id = ?1")?.execute([id])?;
                    continue;
                }
                let to_number = to_number(tx, message.conversation_id)?;
                jobs.push(OutboundJob { org_id, message, attempts: attempts.saturating_sub(1), to_number, claim, last_error });
            }
            jobs.sort_by_key(|j| j.message.id);
            Ok(jobs)
        })
        .await
    }

    async fn outbound_sending(
        &self,
        message_id: Id,
        claim: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.write(move |tx| {
            Ok(tx
                .prepare_cached(
                    "UPDATE outbound_queue SET sending_at = ?3 WHERE message_id = ?1 AND claim = ?2",
                )?
                .execute(params![message_id, claim, ms(now)])?
                == 1)
        })
        .await
    }

    async fn outbound_accepted(
        &self,
        message_id: Id,
        claim: i64,
        provider: &str,
        provider_id: &str,
        status: DeliveryStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (provider, provider_id) = (provider.to_string(), provider_id.to_string());
        self.write(move |tx| {
            let org = org_of(tx, message_id)?;
            let ours = release(tx, message_id, claim)?;
            let (was, known) = state_of(tx, message_id)?;
            // A lost claim still settles a message that became unknown meanwhile.
            if ours || (was == DeliveryStatus::Unknown && known.is_none()) {
                record_accepted(tx, org, message_id, &provider, &provider_id, status, now)?;
            }
            Ok(())
        })
        .await
    }

    async fn outbound_retry_later(
        &self,
        message_id: Id,
        claim: i64,
        next_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let error = error.to_string();
        self.write(move |tx| {
            tx.prepare_cached("UPDATE outbound_queue SET next_attempt_at = ?3, last_error = ?4, sending_at = NULL WHERE message_id = ?1 AND claim = ?2")?
                .execute(params![message_id, claim, ms(next_at), error])?;
            Ok(())
        })
        .await
    }

    async fn outbound_release(
        &self,
        message_id: Id,
        claim: i64,
        due_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            tx.prepare_cached("UPDATE outbound_queue SET next_attempt_at = ?3, attempts = max(attempts - 1, 0), sending_at = NULL WHERE message_id = ?1 AND claim = ?2")?
                .execute(params![message_id, claim, ms(due_at)])?;
            Ok(())
        })
        .await
    }

    async fn outbound_failed(
        &self,
        message_id: Id,
        claim: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let reason = reason.to_string();
        self.write(move |tx| {
            let org = org_of(tx, message_id)?;
            let ours = release(tx, message_id, claim)?;
            let (was, known) = state_of(tx, message_id)?;
            if ours || (was == DeliveryStatus::Unknown && known.is_none()) {
                set_status(
                    tx,
                    org,
                    message_id,
                    DeliveryStatus::Failed,
                    Some(&reason),
                    now,
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn outbound_unknown(
        &self,
        message_id: Id,
        claim: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let reason = reason.to_string();
        self.write(move |tx| {
            let org = org_of(tx, message_id)?;
            if release(tx, message_id, claim)?
                && state_of(tx, message_id)?.0 == DeliveryStatus::Pending
            {
                set_status(
                    tx,
                    org,
                    message_id,
                    DeliveryStatus::Unknown,
                    Some(&reason),
                    now,
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn awaiting_status(
        &self,
        provider: &str,
        quiet_since: DateTime<Utc>,
        sent_after: DateTime<Utc>,
        after: Option<AwaitingAt>,
        limit: usize,
    ) -> StoreResult<Vec<Awaiting>> {
        let provider = provider.to_string();
        let after = after.unwrap_or(AwaitingAt {
            updated_at_ms: i64::MIN,
            message_id: 0,
        });
        self.read(move |conn| {
            let rows = conn
                .prepare_cached("SELECT org_id, id, provider_id, updated_at FROM messages WHERE status = 'pending' AND direction = 'outbound' AND provider = ?1 AND provider_id IS NOT NULL AND updated_at < ?2 AND created_at > ?3 AND (updated_at > ?5 OR (updated_at = ?5 AND id > ?6)) ORDER BY updated_at, id LIMIT ?4")?
                .query_map(
                    params![provider, ms(quiet_since), ms(sent_after), limit as i64, after.updated_at_ms, after.message_id],
                    |r| {
                        Ok(Awaiting {
                            org_id: r.get(0)?,
                            provider_id: r.get(2)?,
                            at: AwaitingAt { updated_at_ms: r.get(3)?, message_id: r.get(1)? },
                        })
                    },
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn unknown_unlinked(
        &self,
        channel: &str,
        quiet_since: DateTime<Utc>,
        sent_after: DateTime<Utc>,
        after: Option<AwaitingAt>,
        limit: usize,
    ) -> StoreResult<Vec<UnlinkedReply>> {
        let channel = channel.to_string();
        let after = after.unwrap_or(AwaitingAt {
            updated_at_ms: i64::MIN,
            message_id: 0,
        });
        self.read(move |conn| {
            let rows = conn
                .prepare_cached("SELECT org_id, id, body, created_at, updated_at, conversation_id FROM messages WHERE status = 'unknown' AND direction = 'outbound' AND provider_id IS NULL AND channel = ?1 AND updated_at < ?2 AND created_at > ?3 AND (updated_at > ?5 OR (updated_at = ?5 AND id > ?6)) ORDER BY updated_at, id LIMIT ?4")?
                .query_map(
                    params![channel, ms(quiet_since), ms(sent_after), limit as i64, after.updated_at_ms, after.message_id],
                    |r| Ok((r.get::<_, Id>(0)?, r.get::<_, Id>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?, r.get::<_, i64>(4)?, r.get::<_, Id>(5)?)),
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(org_id, message_id, body, created, updated_at_ms, conversation)| {
                    Ok(UnlinkedReply {
                        org_id,
                        body,
                        to: to_number(conn, conversation)?,
                        created_at: crate::store::rows::from_ms(created),
                        at: AwaitingAt { updated_at_ms, message_id },
                    })
                })
                .collect::<StoreResult<Vec<_>>>()
        })
        .await
    }

    async fn known_provider_ids(
        &self,
        org_id: Id,
        provider: &str,
        provider_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        let (provider, ids) = (provider.to_string(), provider_ids.to_vec());
        self.read(move |conn| {
            let mut known = Vec::new();
            let mut q = conn.prepare_cached(
                "SELECT 1 FROM messages WHERE org_id = ?1 AND provider = ?2 AND provider_id = ?3",
            )?;
            for id in ids {
                if q.exists(params![org_id, provider, id])? {
                    known.push(id);
                }
            }
            Ok(known)
        })
        .await
    }

    async fn unknown_not_taken(
        &self,
        org_id: Id,
        message_id: Id,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let reason = reason.to_string();
        self.write(move |tx| {
            let unlinked: bool = tx
                .prepare_cached(
                    "SELECT count(*) FROM messages WHERE id = ?1 AND org_id = ?2 AND direction = 'outbound' AND status = 'unknown' AND provider_id IS NULL",
                )?
                .query_row(params![message_id, org_id], |r| r.get::<_, i64>(0))?
                == 1;
            if unlinked {
                set_status(tx, org_id, message_id, DeliveryStatus::Failed, Some(&reason), now)?;
            }
            Ok(unlinked)
        })
        .await
    }

    async fn link_provider_id(
        &self,
        org_id: Id,
        message_id: Id,
        provider: &str,
        provider_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (provider, provider_id) = (provider.to_string(), provider_id.to_string());
        self.write(move |tx| {
            let linked = tx
                .prepare_cached(
                    "UPDATE messages SET provider = ?3, provider_id = ?4
                     WHERE id = ?1 AND org_id = ?2 AND direction = 'outbound' AND status IN ('unknown', 'pending') AND provider_id IS NULL",
                )?
                .execute(params![message_id, org_id, provider, provider_id])?
                == 1;
            if linked {
                // The provider has it: never to be sent again (a send it answered with an error,
                // or one still "sending" under a dead server's lease), and pending until its
                // callbacks say more.
                tx.prepare_cached("DELETE FROM outbound_queue WHERE message_id = ?1")?
                    .execute([message_id])?;
                set_status(tx, org_id, message_id, DeliveryStatus::Pending, None, now)?;
                super::providers::apply_early_statuses(tx, org_id, message_id, &provider, &provider_id)?;
            }
            Ok(linked)
        })
        .await
    }

    async fn retry_message(
        &self,
        actor: &Actor,
        message_id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let org = actor.org_id;
        self.write(move |tx| {
            let m = load_message(tx, org, message_id)?;
            if m.status != DeliveryStatus::Failed {
                return Err(StoreError::Conflict(format!("only a failed message can be retried; this one is {}", m.status)));
            }
            tx.prepare_cached(
                "INSERT INTO outbound_queue (message_id, org_id, enqueued_at, next_attempt_at) VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT (message_id) DO UPDATE SET next_attempt_at = excluded.next_attempt_at, attempts = 0, last_error = NULL",
            )?
            .execute(params![message_id, org, ms(now)])?;
            // The provider id of the failed attempt stays with the log, not with the retry.
            tx.prepare_cached("UPDATE messages SET provider_id = NULL WHERE id = ?1")?.execute([message_id])?;
            set_status(tx, org, message_id, DeliveryStatus::Pending, None, now)
        })
        .await
    }
}
