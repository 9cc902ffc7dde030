//! The send queue (`outbound_queue`) shared by every instance: each claims due messages with
//! `FOR UPDATE SKIP LOCKED`, leases them and bumps their fencing token (`claim`) in the same
//! transaction; results are recorded only under the latest claim. `sending_at` is written before
//! the provider is called, so a claim that runs out mid-send makes the message `unknown` instead
//! of sending it twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::sync::Change;
use inbox_core::{DeliveryStatus, Id, Message};
use sqlx::PgConnection;

use super::events::{emit, emit_conversation};
use super::rows::load_message;
use super::{activity_kind, lock_org, record_activity, PgStore, Tx};
use crate::store::rows::ms;
use crate::store::{
    Actor, Awaiting, AwaitingAt, DispatchStore, OutboundJob, StoreError, StoreResult,
    UnlinkedReply, LOST_WHILE_SENDING,
};

/// The number a reply goes to: the customer's primary number, else the caller's.
async fn to_number(c: &mut PgConnection, conversation_id: Id) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(
             (SELECT p.e164 FROM customer_phones p WHERE p.customer_id = c.customer_id ORDER BY p.position, p.e164 COLLATE \"C\" LIMIT 1),
             CASE WHEN NOT c.withheld THEN c.caller_number END)
         FROM conversations c WHERE c.id = $1",
    )
    .bind(conversation_id)
    .fetch_one(c)
    .await?)
}

/// Sets a message's status with its activity and events.
async fn set_status(
    tx: &mut Tx,
    org: Id,
    id: Id,
    status: DeliveryStatus,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<Message> {
    sqlx::query("UPDATE messages SET status = $2, error = $3, updated_at = $4 WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(error)
        .bind(ms(now))
        .execute(&mut **tx)
        .await?;
    let m = load_message(tx, org, id).await?;
    record_activity(tx, org, m.conversation_id, now, activity_kind::STATUS, id).await?;
    emit(tx, org, now, &Change::Message(m.clone())).await?;
    emit_conversation(tx, org, m.conversation_id, now).await?;
    Ok(m)
}

impl PgStore {
    /// A transaction holding the write lock of the message's organisation.
    async fn begin_for_message(&self, message_id: Id) -> StoreResult<(Tx, Id)> {
        let mut tx = self.begin_any().await?;
        let org: Id = sqlx::query_scalar("SELECT org_id FROM messages WHERE id = $1")
            .bind(message_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        lock_org(&mut tx, org).await?;
        Ok((tx, org))
    }
}

/// The message's status and provider id, for deciding what a result may still change.
async fn state_of(tx: &mut Tx, id: Id) -> StoreResult<(DeliveryStatus, Option<String>)> {
    let (status, provider_id): (String, Option<String>) =
        sqlx::query_as("SELECT status, provider_id FROM messages WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
    Ok((
        DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Pending),
        provider_id,
    ))
}

/// Removes the queue row of this claim; false when the claim is no longer the latest.
async fn release(tx: &mut Tx, id: Id, claim: i64) -> StoreResult<bool> {
    Ok(
        sqlx::query("DELETE FROM outbound_queue WHERE message_id = $1 AND claim = $2")
            .bind(id)
            .bind(claim)
            .execute(&mut **tx)
            .await?
            .rows_affected()
            == 1,
    )
}

#[async_trait]
impl DispatchStore for PgStore {
    async fn claim_outbound(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<OutboundJob>> {
        let mut tx = self.begin_any().await?;
        // A claim that ran out while its provider call was under way: the provider may have the
        // message, so it is never handed out again.
        // Organisation locks first (in id order), as every other writer takes them.
        let stranded: Vec<(Id, Id)> = sqlx::query_as(
            "SELECT message_id, org_id FROM outbound_queue WHERE next_attempt_at <= $1 AND sending_at IS NOT NULL
             ORDER BY org_id, message_id",
        )
        .bind(ms(now))
        .fetch_all(&mut *tx)
        .await?;
        for (id, org) in stranded {
            lock_org(&mut tx, org).await?;
            let gone = sqlx::query(
                "DELETE FROM outbound_queue WHERE message_id = $1 AND next_attempt_at <= $2 AND sending_at IS NOT NULL",
            )
            .bind(id)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // Unless a callback carrying our reference has told us the provider has it.
            if gone == 1 && state_of(&mut tx, id).await? == (DeliveryStatus::Pending, None) {
                set_status(
                    &mut tx,
                    org,
                    id,
                    DeliveryStatus::Unknown,
                    Some(LOST_WHILE_SENDING),
                    now,
                )
                .await?;
            }
        }
        let claimed: Vec<(Id, Id, i64, i64, Option<String>)> = sqlx::query_as(
            "UPDATE outbound_queue q SET next_attempt_at = $2, attempts = q.attempts + 1, claim = q.claim + 1
             FROM (SELECT message_id FROM outbound_queue WHERE next_attempt_at <= $1
                   ORDER BY next_attempt_at, message_id LIMIT $3 FOR UPDATE SKIP LOCKED) due
             WHERE q.message_id = due.message_id
             RETURNING q.message_id, q.org_id, q.attempts, q.claim, q.last_error",
        )
        .bind(ms(now))
        .bind(ms(lease_until))
        .bind(limit as i64)
        .fetch_all(&mut *tx)
        .await?;
        let mut jobs = Vec::with_capacity(claimed.len());
        for (id, org_id, attempts, claim, last_error) in claimed {
            let message = load_message(&mut tx, org_id, id).await?;
            if message.status != DeliveryStatus::Pending {
                // Decided elsewhere (e.g. already accepted): nothing to send.
                sqlx::query("DELETE FROM outbound_queue WHERE message_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                continue;
            }
            let to_number = to_number(&mut tx, message.conversation_id).await?;
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
        self.commit(tx).await?;
        Ok(jobs)
    }

    async fn outbound_sending(
        &self,
        message_id: Id,
        claim: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        Ok(sqlx::query(
            "UPDATE outbound_queue SET sending_at = $3 WHERE message_id = $1 AND claim = $2",
        )
        .bind(message_id)
        .bind(claim)
        .bind(ms(now))
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
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
        let (mut tx, org) = self.begin_for_message(message_id).await?;
        let ours = release(&mut tx, message_id, claim).await?;
        let (was, known) = state_of(&mut tx, message_id).await?;
        // A lost claim still settles a message that became unknown meanwhile.
        if !(ours || (was == DeliveryStatus::Unknown && known.is_none())) {
            return self.commit(tx).await;
        }
        sqlx::query("UPDATE messages SET provider = $2, provider_id = $3 WHERE id = $1")
            .bind(message_id)
            .bind(provider)
            .bind(provider_id)
            .execute(&mut *tx)
            .await?;
        if was == DeliveryStatus::Unknown || status != DeliveryStatus::Pending {
            set_status(&mut tx, org, message_id, status, None, now).await?;
        }
        super::providers::apply_early_statuses(&mut tx, org, message_id, provider, provider_id)
            .await?;
        self.commit(tx).await
    }

    async fn outbound_retry_later(
        &self,
        message_id: Id,
        claim: i64,
        next_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbound_queue SET next_attempt_at = $3, last_error = $4, sending_at = NULL
             WHERE message_id = $1 AND claim = $2",
        )
        .bind(message_id)
        .bind(claim)
        .bind(ms(next_at))
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn outbound_release(
        &self,
        message_id: Id,
        claim: i64,
        due_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbound_queue SET next_attempt_at = $3, attempts = GREATEST(attempts - 1, 0),
                 sending_at = NULL
             WHERE message_id = $1 AND claim = $2",
        )
        .bind(message_id)
        .bind(claim)
        .bind(ms(due_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn outbound_failed(
        &self,
        message_id: Id,
        claim: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (mut tx, org) = self.begin_for_message(message_id).await?;
        let ours = release(&mut tx, message_id, claim).await?;
        let (was, known) = state_of(&mut tx, message_id).await?;
        if ours || (was == DeliveryStatus::Unknown && known.is_none()) {
            set_status(
                &mut tx,
                org,
                message_id,
                DeliveryStatus::Failed,
                Some(reason),
                now,
            )
            .await?;
        }
        self.commit(tx).await
    }

    async fn outbound_unknown(
        &self,
        message_id: Id,
        claim: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (mut tx, org) = self.begin_for_message(message_id).await?;
        if release(&mut tx, message_id, claim).await?
            && state_of(&mut tx, message_id).await?.0 == DeliveryStatus::Pending
        {
            set_status(
                &mut tx,
                org,
                message_id,
                DeliveryStatus::Unknown,
                Some(reason),
                now,
            )
            .await?;
        }
        self.commit(tx).await
    }

    async fn awaiting_status(
        &self,
        provider: &str,
        quiet_since: DateTime<Utc>,
        sent_after: DateTime<Utc>,
        after: Option<AwaitingAt>,
        limit: usize,
    ) -> StoreResult<Vec<Awaiting>> {
        let after = after.unwrap_or(AwaitingAt {
            updated_at_ms: i64::MIN,
            message_id: 0,
        });
        let rows: Vec<(Id, Id, String, i64)> = sqlx::query_as("SELECT org_id, id, provider_id, updated_at FROM messages WHERE status = 'pending' AND direction = 'outbound' AND provider = $1 AND provider_id IS NOT NULL AND updated_at < $2 AND created_at > $3 AND (updated_at > $5 OR (updated_at = $5 AND id > $6)) ORDER BY updated_at, id LIMIT $4")
            .bind(provider)
            .bind(ms(quiet_since))
            .bind(ms(sent_after))
            .bind(limit as i64)
            .bind(after.updated_at_ms)
            .bind(after.message_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(org_id, message_id, provider_id, updated_at_ms)| Awaiting {
                    org_id,
                    provider_id,
                    at: AwaitingAt {
                        updated_at_ms,
                        message_id,
                    },
                },
            )
            .collect())
    }

    async fn unknown_unlinked(
        &self,
        channel: &str,
        quiet_since: DateTime<Utc>,
        sent_after: DateTime<Utc>,
        after: Option<AwaitingAt>,
        limit: usize,
    ) -> StoreResult<Vec<UnlinkedReply>> {
        let after = after.unwrap_or(AwaitingAt {
            updated_at_ms: i64::MIN,
            message_id: 0,
        });
        let rows: Vec<(Id, Id, String, i64, i64, Id)> = sqlx::query_as("SELECT org_id, id, body, created_at, updated_at, conversation_id FROM messages WHERE status = 'unknown' AND direction = 'outbound' AND provider_id IS NULL AND channel = $1 AND updated_at < $2 AND created_at > $3 AND (updated_at > $5 OR (updated_at = $5 AND id > $6)) ORDER BY updated_at, id LIMIT $4")
            .bind(channel)
            .bind(ms(quiet_since))
            .bind(ms(sent_after))
            .bind(limit as i64)
            .bind(after.updated_at_ms)
            .bind(after.message_id)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut c = self.pool.acquire().await?;
        for (org_id, message_id, body, created, updated_at_ms, conversation) in rows {
            out.push(UnlinkedReply {
                org_id,
                body,
                to: to_number(&mut c, conversation).await?,
                created_at: crate::store::rows::from_ms(created),
                at: AwaitingAt {
                    updated_at_ms,
                    message_id,
                },
            });
        }
        Ok(out)
    }

    async fn known_provider_ids(
        &self,
        org_id: Id,
        provider: &str,
        provider_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT provider_id FROM messages WHERE org_id = $1 AND provider = $2 AND provider_id = ANY($3)",
        )
        .bind(org_id)
        .bind(provider)
        .bind(provider_ids)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn unknown_not_taken(
        &self,
        org_id: Id,
        message_id: Id,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(org_id).await?;
        let unlinked: Option<Id> = sqlx::query_scalar(
            "SELECT id FROM messages WHERE id = $1 AND org_id = $2 AND direction = 'outbound' AND status = 'unknown' AND provider_id IS NULL FOR UPDATE",
        )
        .bind(message_id)
        .bind(org_id)
        .fetch_optional(&mut *tx)
        .await?;
        if unlinked.is_some() {
            set_status(
                &mut tx,
                org_id,
                message_id,
                DeliveryStatus::Failed,
                Some(reason),
                now,
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(unlinked.is_some())
    }

    async fn link_provider_id(
        &self,
        org_id: Id,
        message_id: Id,
        provider: &str,
        provider_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(org_id).await?;
        let linked = sqlx::query(
            "UPDATE messages SET provider = $3, provider_id = $4
             WHERE id = $1 AND org_id = $2 AND direction = 'outbound' AND status IN ('unknown', 'pending') AND provider_id IS NULL",
        )
        .bind(message_id)
        .bind(org_id)
        .bind(provider)
        .bind(provider_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if linked {
            // The provider has it: never to be sent again (a send it answered with an error,
            // or one still "sending" under a dead server's lease), and pending until its
            // callbacks say more.
            sqlx::query("DELETE FROM outbound_queue WHERE message_id = $1")
                .bind(message_id)
                .execute(&mut *tx)
                .await?;
            set_status(
                &mut tx,
                org_id,
                message_id,
                DeliveryStatus::Pending,
                None,
                now,
            )
            .await?;
            super::providers::apply_early_statuses(
                &mut tx,
                org_id,
                message_id,
                provider,
                provider_id,
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(linked)
    }

    async fn retry_message(
        &self,
        actor: &Actor,
        message_id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        let m = load_message(&mut tx, org, message_id).await?;
        if m.status != DeliveryStatus::Failed {
            return Err(StoreError::Conflict(format!(
                "only a failed message can be retried; this one is {}",
                m.status
            )));
        }
        sqlx::query(
            "INSERT INTO outbound_queue (message_id, org_id, enqueued_at, next_attempt_at) VALUES ($1, $2, $3, $3)
             ON CONFLICT (message_id) DO UPDATE SET next_attempt_at = excluded.next_attempt_at, attempts = 0, last_error = NULL",
        )
        .bind(message_id)
        .bind(org)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        // The provider id of the failed attempt stays with the log, not with the retry.
        sqlx::query("UPDATE messages SET provider_id = NULL WHERE id = $1")
            .bind(message_id)
            .execute(&mut *tx)
            .await?;
        let m = set_status(&mut tx, org, message_id, DeliveryStatus::Pending, None, now).await?;
        self.commit(tx).await?;
        Ok(m)
    }
}
