//! Messages: replies with idempotency keys (CMP-1, CMP-3), the Approval Queue (APQ-1), and
//! inbound messages routed into conversations (RTE-1 … RTE-3).

use crate::store::media::{searchable, UploadOwner};
use async_trait::async_trait;

use chrono::{DateTime, Utc};
use inbox_core::analytics::Fact;
use inbox_core::media::row_text;
use inbox_core::preview::message_preview;
use inbox_core::sync::Change;
use inbox_core::{ApprovalItem, DeliveryStatus, Id, Message};
use sqlx::PgConnection;

use super::analytics;
use super::events::{emit, emit_conversation};
use super::rows::{self, load_message, MESSAGE_SELECT};
use super::{
    activity_kind, audit, ensure_conversation, fts_kind, record_activity, search_put, PgStore, Tx,
};
use crate::store::rows::{classify_inbound, ms};
use crate::store::{
    Actor, Ingested, MessageStore, NewInbound, NewOutbound, StoreError, StoreResult,
};

async fn by_client_id(
    c: &mut PgConnection,
    org: Id,
    client_id: &str,
) -> StoreResult<Option<Message>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{MESSAGE_SELECT} WHERE m.org_id = $1 AND m.client_id = $2"
    )))
    .bind(org)
    .bind(client_id)
    .fetch_optional(c)
    .await?;
    Ok(row.as_ref().map(rows::message).transpose()?)
}

pub(crate) async fn enqueue(
    c: &mut PgConnection,
    org: Id,
    message_id: Id,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO outbound_queue (message_id, org_id, enqueued_at, next_attempt_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(message_id)
    .bind(org)
    .bind(ms(now))
    .execute(c)
    .await?;
    Ok(())
}

/// Moves a message to a new status, recording the change as activity (LST-9).
async fn set_status(
    c: &mut PgConnection,
    org: Id,
    m: &Message,
    status: DeliveryStatus,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("UPDATE messages SET status = $2, error = $3, updated_at = $4 WHERE id = $1")
        .bind(m.id)
        .bind(status.as_str())
        .bind(error)
        .bind(ms(now))
        .execute(&mut *c)
        .await?;
    record_activity(c, org, m.conversation_id, now, activity_kind::STATUS, m.id).await
}

/// Emits an approval decision: the message and its conversation.
async fn decided(
    tx: &mut Tx,
    org: Id,
    id: Id,
    conversation_id: Id,
    now: DateTime<Utc>,
) -> StoreResult<Message> {
    let message = load_message(tx, org, id).await?;
    emit(tx, org, now, &Change::Message(message.clone())).await?;
    emit_conversation(tx, org, conversation_id, now).await?;
    Ok(message)
}

async fn pending_approval(c: &mut PgConnection, org: Id, id: Id) -> StoreResult<Message> {
    let m = load_message(c, org, id).await?;
    if m.status != DeliveryStatus::PendingApproval {
        return Err(StoreError::Conflict(format!(
            "this message is {} and no longer awaits approval",
            m.status
        )));
    }
    Ok(m)
}

#[async_trait]
impl MessageStore for PgStore {
    async fn message_by_client_id(
        &self,
        actor: &Actor,
        client_id: &str,
    ) -> StoreResult<Option<Message>> {
        by_client_id(&mut *self.conn().await?, actor.org_id, client_id).await
    }

    async fn create_outbound(
        &self,
        actor: &Actor,
        conversation_id: Id,
        msg: NewOutbound,
        now: DateTime<Utc>,
    ) -> StoreResult<(Message, bool)> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        if let Some(existing) = by_client_id(&mut tx, org, &msg.client_id).await? {
            return Ok((existing, false));
        }
        ensure_conversation(&mut tx, org, conversation_id).await?;
        let status = if msg.needs_approval {
            DeliveryStatus::PendingApproval
        } else {
            DeliveryStatus::Pending
        };
        let author: String = sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
            .bind(user)
            .fetch_one(&mut *tx)
            .await?;
        let (template_name, template_params) = match &msg.template {
            Some(t) => (
                Some(t.name.clone()),
                Some(serde_json::to_string(&t.params)?),
            ),
            None => (None, None),
        };
        let id: Id = sqlx::query_scalar(
            "INSERT INTO messages (org_id, conversation_id, direction, channel, body, template_name, template_params,
                                   status, author_id, sender_name, client_id, created_at, updated_at)
             VALUES ($1, $2, 'outbound', $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(org)
        .bind(conversation_id)
        .bind(msg.channel.as_str())
        .bind(&msg.body)
        .bind(template_name)
        .bind(template_params)
        .bind(status.as_str())
        .bind(user)
        .bind(author)
        .bind(&msg.client_id)
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        let owner = UploadOwner::Staff(user);
        let files = super::media::attach(&mut tx, org, id, owner, &msg.attachments, 0).await?;
        let reply = Fact::Reply {
            at: now,
            staff: Some(user),
        };
        analytics::record(&mut tx, org, Some(conversation_id), reply).await?;
        if !msg.needs_approval {
            enqueue(&mut tx, org, id, now).await?;
        }
        sqlx::query("UPDATE conversations SET preview = $2 WHERE id = $1")
            .bind(conversation_id)
            .bind(message_preview(&row_text(&msg.body, &files)))
            .execute(&mut *tx)
            .await?;
        record_activity(
            &mut tx,
            org,
            conversation_id,
            now,
            activity_kind::MESSAGE,
            id,
        )
        .await?;
        search_put(
            &mut tx,
            fts_kind::MESSAGE,
            id,
            org,
            conversation_id,
            &searchable(&msg.body, &files),
        )
        .await?;
        let message = load_message(&mut tx, org, id).await?;
        emit(&mut tx, org, now, &Change::Message(message.clone())).await?;
        emit_conversation(&mut tx, org, conversation_id, now).await?;
        self.commit(tx).await?;
        Ok((message, true))
    }

    async fn approvals(&self, actor: &Actor) -> StoreResult<Vec<ApprovalItem>> {
        let mut c = self.conn().await?;
        let messages = rows::all(
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{MESSAGE_SELECT} WHERE m.org_id = $1 AND m.status = 'pending_approval' ORDER BY m.created_at, m.id"
            )))
            .bind(actor.org_id)
            .fetch_all(&mut *c)
            .await?,
            rows::message,
        )?;
        let mut items = Vec::with_capacity(messages.len());
        for message in messages {
            let conversation_title = rows::party_name(&mut *c, message.conversation_id).await?;
            items.push(ApprovalItem {
                message,
                conversation_title,
            });
        }
        Ok(items)
    }

    async fn approve(
        &self,
        actor: &Actor,
        message_id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let m = pending_approval(&mut tx, org, message_id).await?;
        set_status(&mut tx, org, &m, DeliveryStatus::Pending, None, now).await?;
        enqueue(&mut tx, org, m.id, now).await?;
        let decision = Fact::Decision {
            written_at: m.created_at,
            decided_at: now,
            approved: true,
        };
        analytics::record(&mut tx, org, None, decision).await?;
        audit(
            &mut tx,
            org,
            Some(user),
            "message.approved",
            ("message", m.id),
            serde_json::json!({}),
            now,
        )
        .await?;
        let message = decided(&mut tx, org, m.id, m.conversation_id, now).await?;
        self.commit(tx).await?;
        Ok(message)
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
        let mut tx = self.begin(org).await?;
        let m = pending_approval(&mut tx, org, message_id).await?;
        set_status(
            &mut tx,
            org,
            &m,
            DeliveryStatus::Rejected,
            Some(&reason),
            now,
        )
        .await?;
        let decision = Fact::Decision {
            written_at: m.created_at,
            decided_at: now,
            approved: false,
        };
        analytics::record(&mut tx, org, None, decision).await?;
        audit(
            &mut tx,
            org,
            Some(user),
            "message.rejected",
            ("message", m.id),
            serde_json::json!({ "reason": reason }),
            now,
        )
        .await?;
        let message = decided(&mut tx, org, m.id, m.conversation_id, now).await?;
        self.commit(tx).await?;
        Ok(message)
    }

    async fn ingest_message(&self, org_id: Id, msg: NewInbound) -> StoreResult<Ingested> {
        // Decided before the transaction, which holds the organisation's lock.
        let (intent, confidence) = classify_inbound(&msg.body).await;
        self.ingest_grouped((org_id, msg, (intent, confidence)))
            .await
    }
}
