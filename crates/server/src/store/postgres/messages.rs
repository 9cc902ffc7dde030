//! Messages: replies with idempotency keys (CMP-1, CMP-3), the Approval Queue (APQ-1), and
//! inbound messages routed into conversations (RTE-1 … RTE-3).

use crate::store::media::{files, searchable, UploadOwner};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::analytics::Fact;
use inbox_core::intent::Intent;
use inbox_core::media::row_text;
use inbox_core::preview::message_preview;
use inbox_core::sync::Change;
use inbox_core::{ApprovalItem, Channel, DeliveryStatus, Id, Message};
use sqlx::PgConnection;

use super::analytics;
use super::events::{emit, emit_conversation};
use super::routing::{apply_routing, conversation_for, party_for, sender_name};
use super::rows::{self, load_message, MESSAGE_SELECT};
use super::{
    activity_kind, audit, ensure_conversation, exists, fts_kind, record_activity, search_put,
    PgStore, Tx,
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
            let conversation_title = rows::party_name(&mut c, message.conversation_id).await?;
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
        let mut tx = self.begin(org_id).await?;
        let seen: Option<(Id, Id)> = sqlx::query_as(
            "SELECT id, conversation_id FROM messages WHERE org_id = $1 AND provider = $2 AND provider_id = $3",
        )
        .bind(org_id)
        .bind(&msg.provider)
        .bind(&msg.provider_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((item_id, conversation_id)) = seen {
            return Ok(Ingested {
                conversation_id,
                item_id,
                created: false,
            });
        }
        if let Some(customer) = msg.customer_id {
            exists(
                &mut tx,
                "SELECT 1 FROM customers WHERE id = $1 AND org_id = $2",
                customer,
                org_id,
            )
            .await?;
        }
        let party = party_for(&mut tx, org_id, msg.customer_id, msg.from_number.as_deref()).await?;
        let (conversation_id, _) =
            conversation_for(&mut tx, org_id, &party, msg.channel, msg.at).await?;
        let sender = sender_name(&mut tx, &party).await?;
        let id: Id = sqlx::query_scalar(
            "INSERT INTO messages (org_id, conversation_id, direction, channel, body, status, sender_name,
                                   provider, provider_id, created_at, updated_at, intent, intent_confidence)
             VALUES ($1, $2, 'inbound', $3, $4, 'delivered', $5, $6, $7, $8, $8, $9, $10) RETURNING id",
        )
        .bind(org_id)
        .bind(conversation_id)
        .bind(msg.channel.as_str())
        .bind(&msg.body)
        .bind(sender)
        .bind(&msg.provider)
        .bind(&msg.provider_id)
        .bind(ms(msg.at))
        .bind(intent)
        .bind(confidence)
        .fetch_one(&mut *tx)
        .await?;
        super::media::insert(&mut tx, org_id, id, &msg.attachments, msg.at).await?;
        let mut files = files(&msg.attachments);
        if let Some(customer) = msg.customer_id {
            let owner = UploadOwner::Portal(customer);
            let after = files.len();
            files.extend(
                super::media::attach(&mut tx, org_id, id, owner, &msg.uploads, after).await?,
            );
        }
        let inbound = Fact::Inbound {
            at: msg.at,
            channel: msg.channel,
            intent: Intent::parse(intent),
            corrected: false,
        };
        analytics::record(&mut tx, org_id, Some(conversation_id), inbound).await?;
        let whatsapp_at = (msg.channel == Channel::Whatsapp).then(|| ms(msg.at));
        sqlx::query(
            // A late webhook for an older message must not replace the newer preview.
            "UPDATE conversations SET
                    preview = CASE WHEN $5 >= last_activity_at THEN $2 ELSE preview END,
                    last_channel = CASE WHEN $5 >= last_activity_at THEN $3 ELSE last_channel END,
                    unread_count = unread_count + 1,
                    last_inbound_whatsapp_at = CASE WHEN $4::bigint IS NULL THEN last_inbound_whatsapp_at
                        ELSE greatest(last_inbound_whatsapp_at, $4::bigint) END
             WHERE id = $1",
        )
        .bind(conversation_id)
        .bind(message_preview(&row_text(&msg.body, &files)))
        .bind(msg.channel.as_str())
        .bind(whatsapp_at)
        .bind(ms(msg.at))
        .execute(&mut *tx)
        .await?;
        record_activity(
            &mut tx,
            org_id,
            conversation_id,
            msg.at,
            activity_kind::MESSAGE,
            id,
        )
        .await?;
        search_put(
            &mut tx,
            fts_kind::MESSAGE,
            id,
            org_id,
            conversation_id,
            &searchable(&msg.body, &files),
        )
        .await?;
        apply_routing(&mut tx, org_id, conversation_id, &msg.body, msg.at).await?;
        let message = load_message(&mut tx, org_id, id).await?;
        emit(&mut tx, org_id, msg.at, &Change::Message(message)).await?;
        emit_conversation(&mut tx, org_id, conversation_id, msg.at).await?;
        self.commit(tx).await?;
        Ok(Ingested {
            conversation_id,
            item_id: id,
            created: true,
        })
    }
}
