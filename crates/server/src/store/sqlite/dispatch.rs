//! The send queue (`outbound_queue`): claimed with a lease so one sender sends each message, kept
//! across restarts, emptied when a provider accepts a message or refuses it for good.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::sync::Change;
use inbox_core::{DeliveryStatus, Id, Message};
use rusqlite::{params, Connection};

use super::events::{emit, emit_conversation};
use super::rows::load_message;
use super::{activity_kind, ms, record_activity, SqliteStore};
use crate::store::{Actor, DispatchStore, OutboundJob, StoreError, StoreResult};

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

#[async_trait]
impl DispatchStore for SqliteStore {
    async fn claim_outbound(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<OutboundJob>> {
        self.write(move |tx| {
            let claimed: Vec<(Id, Id, u32)> = tx
                .prepare_cached(
                    "UPDATE outbound_queue SET next_attempt_at = ?2, attempts = attempts + 1
                     WHERE message_id IN (SELECT message_id FROM outbound_queue WHERE next_attempt_at <= ?1
                                          ORDER BY next_attempt_at, message_id LIMIT ?3)
                     RETURNING message_id, org_id, attempts",
                )?
                .query_map(params![ms(now), ms(lease_until), limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut jobs = Vec::with_capacity(claimed.len());
            for (id, org_id, attempts) in claimed {
                let message = load_message(tx, org_id, id)?;
                if message.status != DeliveryStatus::Pending {
                    // Decided elsewhere (e.g. already accepted): nothing to send.
                    tx.prepare_cached("DELETE FROM outbound_queue WHERE message_id = ?1")?.execute([id])?;
                    continue;
                }
                let to_number = to_number(tx, message.conversation_id)?;
                jobs.push(OutboundJob { org_id, message, attempts: attempts.saturating_sub(1), to_number });
            }
            Ok(jobs)
        })
        .await
    }

    async fn outbound_accepted(
        &self,
        message_id: Id,
        provider: &str,
        provider_id: &str,
        status: DeliveryStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (provider, provider_id) = (provider.to_string(), provider_id.to_string());
        self.write(move |tx| {
            let org = org_of(tx, message_id)?;
            tx.prepare_cached("DELETE FROM outbound_queue WHERE message_id = ?1")?
                .execute([message_id])?;
            tx.prepare_cached("UPDATE messages SET provider = ?2, provider_id = ?3 WHERE id = ?1")?
                .execute(params![message_id, provider, provider_id])?;
            if status != DeliveryStatus::Pending {
                set_status(tx, org, message_id, status, None, now)?;
            }
            super::providers::apply_early_statuses(tx, org, message_id, &provider, &provider_id)?;
            Ok(())
        })
        .await
    }

    async fn outbound_retry_later(
        &self,
        message_id: Id,
        next_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let error = error.to_string();
        self.write(move |tx| {
            tx.prepare_cached("UPDATE outbound_queue SET next_attempt_at = ?2, last_error = ?3 WHERE message_id = ?1")?
                .execute(params![message_id, ms(next_at), error])?;
            Ok(())
        })
        .await
    }

    async fn outbound_failed(
        &self,
        message_id: Id,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let reason = reason.to_string();
        self.write(move |tx| {
            let org = org_of(tx, message_id)?;
            tx.prepare_cached("DELETE FROM outbound_queue WHERE message_id = ?1")?
                .execute([message_id])?;
            set_status(
                tx,
                org,
                message_id,
                DeliveryStatus::Failed,
                Some(&reason),
                now,
            )?;
            Ok(())
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
