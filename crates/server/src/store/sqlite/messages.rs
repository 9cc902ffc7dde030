//! Messages: replies with idempotency keys (CMP-1, CMP-3), the Approval Queue (APQ-1), and
//! inbound messages routed into conversations (RTE-1 … RTE-3).

use async_trait::async_trait;

use chrono::{DateTime, Utc};
use inbox_core::analytics::Fact;
use inbox_core::preview::message_preview;
use inbox_core::sync::Change;
use inbox_core::{ApprovalItem, DeliveryStatus, Id, Message};
use rusqlite::{params, Connection, OptionalExtension};

use super::analytics;
use super::events::{emit, emit_conversation};
use super::rows::{self, load_message, MESSAGE_SELECT};
use super::{
    activity_kind, audit, ensure_conversation, fts_kind, fts_put, ms, record_activity, SqliteStore,
};
use crate::store::media::{searchable, UploadOwner};
use crate::store::rows::classify_inbound;
use crate::store::{
    Actor, Ingested, MessageStore, NewInbound, NewOutbound, StoreError, StoreResult,
};
use inbox_core::media::row_text;

fn by_client_id(conn: &Connection, org: Id, client_id: &str) -> StoreResult<Option<Message>> {
    Ok(conn
        .prepare_cached(&format!(
            "{MESSAGE_SELECT} WHERE m.org_id = ?1 AND m.client_id = ?2"
        ))?
        .query_row(params![org, client_id], rows::message)
        .optional()?)
}

fn enqueue(tx: &Connection, org: Id, message_id: Id, now: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO outbound_queue (message_id, org_id, enqueued_at, next_attempt_at) VALUES (?1, ?2, ?3, ?3)",
    )?
    .execute(params![message_id, org, ms(now)])?;
    Ok(())
}

/// Moves a message to a new status, recording the change as activity (LST-9).
fn set_status(
    tx: &Connection,
    org: Id,
    m: &Message,
    status: DeliveryStatus,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.prepare_cached(
        "UPDATE messages SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![m.id, status.as_str(), error, ms(now)])?;
    record_activity(tx, org, m.conversation_id, now, activity_kind::STATUS, m.id)?;
    Ok(())
}

/// Emits an approval decision: the message and its conversation.
fn decided(
    tx: &Connection,
    org: Id,
    id: Id,
    conversation_id: Id,
    now: DateTime<Utc>,
) -> StoreResult<Message> {
    let message = load_message(tx, org, id)?;
    emit(tx, org, now, &Change::Message(message.clone()))?;
    emit_conversation(tx, org, conversation_id, now)?;
    Ok(message)
}

fn pending_approval(tx: &Connection, org: Id, id: Id) -> StoreResult<Message> {
    let m = load_message(tx, org, id)?;
    if m.status != DeliveryStatus::PendingApproval {
        return Err(StoreError::Conflict(format!(
            "this message is {} and no longer awaits approval",
            m.status
        )));
    }
    Ok(m)
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn message_by_client_id(
        &self,
        actor: &Actor,
        client_id: &str,
    ) -> StoreResult<Option<Message>> {
        let (org, client_id) = (actor.org_id, client_id.to_string());
        self.read(move |c| by_client_id(c, org, &client_id)).await
    }

    async fn create_outbound(
        &self,
        actor: &Actor,
        conversation_id: Id,
        msg: NewOutbound,
        now: DateTime<Utc>,
    ) -> StoreResult<(Message, bool)> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            if let Some(existing) = by_client_id(tx, org, &msg.client_id)? {
                return Ok((existing, false));
            }
            ensure_conversation(tx, org, conversation_id)?;
            let status = if msg.needs_approval { DeliveryStatus::PendingApproval } else { DeliveryStatus::Pending };
            let author: String = tx.prepare_cached("SELECT name FROM users WHERE id = ?1")?.query_row([user], |r| r.get(0))?;
            let (template_name, template_params) = match &msg.template {
                Some(t) => (Some(t.name.clone()), Some(serde_json::to_string(&t.params).map_err(anyhow::Error::from)?)),
                None => (None, None),
            };
            tx.prepare_cached(
                "INSERT INTO messages (org_id, conversation_id, direction, channel, body, template_name, template_params,
                                       status, author_id, sender_name, client_id, created_at, updated_at)
                 VALUES (?1, ?2, 'outbound', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
            )?
            .execute(params![org, conversation_id, msg.channel.as_str(), msg.body, template_name, template_params,
                status.as_str(), user, author, msg.client_id, ms(now)])?;
            let id = tx.last_insert_rowid();
            let files = super::media::attach(tx, org, id, UploadOwner::Staff(user), &msg.attachments, 0)?;
            analytics::record(tx, org, Some(conversation_id), Fact::Reply { at: now, staff: Some(user) })?;
            if !msg.needs_approval {
                enqueue(tx, org, id, now)?;
            }
            tx.prepare_cached("UPDATE conversations SET preview = ?2 WHERE id = ?1")?
                .execute(params![conversation_id, message_preview(&row_text(&msg.body, &files))])?;
            record_activity(tx, org, conversation_id, now, activity_kind::MESSAGE, id)?;
            fts_put(tx, fts_kind::MESSAGE, id, org, conversation_id, &searchable(&msg.body, &files))?;
            let message = load_message(tx, org, id)?;
            emit(tx, org, now, &Change::Message(message.clone()))?;
            emit_conversation(tx, org, conversation_id, now)?;
            Ok((message, true))
        })
        .await
    }

    async fn approvals(&self, actor: &Actor) -> StoreResult<Vec<ApprovalItem>> {
        let org = actor.org_id;
        self.read(move |c| {
            let messages = c
                .prepare_cached(&format!(
                    "{MESSAGE_SELECT} WHERE m.org_id = ?1 AND m.status = 'pending_approval' ORDER BY m.created_at, m.id"
                ))?
                .query_map([org], rows::message)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            messages
                .into_iter()
                .map(|message| {
                    let conversation_title = rows::party_name(c, message.conversation_id)?;
                    Ok(ApprovalItem { message, conversation_title })
                })
                .collect()
        })
        .await
    }

    async fn approve(
        &self,
        actor: &Actor,
        message_id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let m = pending_approval(tx, org, message_id)?;
            set_status(tx, org, &m, DeliveryStatus::Pending, None, now)?;
            enqueue(tx, org, m.id, now)?;
            let decision = Fact::Decision {
                written_at: m.created_at,
                decided_at: now,
                approved: true,
            };
            analytics::record(tx, org, None, decision)?;
            audit(
                tx,
                org,
                Some(user),
                "message.approved",
                ("message", m.id),
                serde_json::json!({}),
                now,
            )?;
            decided(tx, org, m.id, m.conversation_id, now)
        })
        .await
    }

    async fn reject(
        &self,
        actor: &Actor,
        message_id: Id,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let reason = crate::store::rows::rejection_reason(reason)?;
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let m = pending_approval(tx, org, message_id)?;
            set_status(tx, org, &m, DeliveryStatus::Rejected, Some(&reason), now)?;
            let decision = Fact::Decision {
                written_at: m.created_at,
                decided_at: now,
                approved: false,
            };
            analytics::record(tx, org, None, decision)?;
            audit(
                tx,
                org,
                Some(user),
                "message.rejected",
                ("message", m.id),
                serde_json::json!({ "reason": reason }),
                now,
            )?;
            decided(tx, org, m.id, m.conversation_id, now)
        })
        .await
    }

    async fn ingest_message(&self, org_id: Id, msg: NewInbound) -> StoreResult<Ingested> {
        // Decided before the write, so the single writer never waits on the classifier.
        let (intent, confidence) = classify_inbound(&msg.body).await;
        self.ingest_grouped((org_id, msg, (intent, confidence)))
            .await
    }
}
