//! Messages: replies with idempotency keys (CMP-1, CMP-3), the Approval Queue (APQ-1), and
//! inbound messages routed into conversations (RTE-1 … RTE-3).

use chrono::{DateTime, Utc};
use inbox_core::analytics::Fact;
use inbox_core::intent::Intent;
use inbox_core::media::row_text;
use inbox_core::preview::message_preview;
use inbox_core::sync::Change;
use inbox_core::{ApprovalItem, Channel, DeliveryStatus, Id, Message};

use super::routing::{apply_routing, conversation_for, party_for, sender_name};
use super::{
    analytics, audit, emit, emit_conversation, ensure_conversation, index, load, media,
    record_activity,
};
use crate::store::backend::script;
use crate::store::db::{args, Arg, Db, WriteTx};
use crate::store::media::{files, searchable, UploadOwner};
use crate::store::rows::{self, activity_kind, fts_kind, ms, MESSAGE_SELECT};
use crate::store::rules;
use crate::store::Store;
use crate::store::{Actor, Ingested, NewInbound, NewOutbound, StoreError, StoreResult};

/// The organisation's message sent with this idempotency key, if any (CMP-3).
pub(crate) async fn by_client_id(
    db: &mut impl Db,
    org: Id,
    client_id: &str,
) -> StoreResult<Option<Message>> {
    let sql = format!("{MESSAGE_SELECT} WHERE m.org_id = $1 AND m.client_id = $2");
    db.opt(&sql, args![org, client_id], |r| rows::message(r))
        .await
}

/// Stores a staff reply once per idempotency key: a key seen before returns the stored message
/// and changes nothing (false). A reply that needs approval waits in the Approval Queue
/// instead of the outbound queue (APQ-1).
pub(crate) async fn create_outbound(
    db: &mut impl WriteTx,
    org: Id,
    user: Id,
    conversation: Id,
    msg: &NewOutbound,
    now: DateTime<Utc>,
) -> StoreResult<(Message, bool)> {
    if let Some(existing) = by_client_id(db, org, &msg.client_id).await? {
        return Ok((existing, false));
    }
    ensure_conversation(db, org, conversation).await?;
    let status = if msg.needs_approval {
        DeliveryStatus::PendingApproval
    } else {
        DeliveryStatus::Pending
    };
    let author = db
        .one("SELECT name FROM users WHERE id = $1", args![user], |r| {
            r.text(0)
        })
        .await?;
    let (template_name, template_params) = match &msg.template {
        Some(t) => (
            Some(t.name.as_str()),
            Some(serde_json::to_string(&t.params)?),
        ),
        None => (None, None),
    };
    let id = db
        .int(
            "INSERT INTO messages (org_id, conversation_id, direction, channel, body, template_name, template_params,
                                   status, author_id, sender_name, client_id, created_at, updated_at)
             VALUES ($1, $2, 'outbound', $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
            args![
                org,
                conversation,
                msg.channel.as_str(),
                &msg.body,
                template_name,
                &template_params,
                status.as_str(),
                user,
                &author,
                &msg.client_id,
                ms(now)
            ],
        )
        .await?;
    let owner = UploadOwner::Staff(user);
    let files = media::attach(db, org, id, owner, &msg.attachments, 0).await?;
    let reply = Fact::Reply {
        at: now,
        staff: Some(user),
    };
    analytics::record(db, org, Some(conversation), reply).await?;
    if !msg.needs_approval {
        enqueue(db, org, id, now).await?;
    }
    let preview = message_preview(&row_text(&msg.body, &files));
    db.exec(
        "UPDATE conversations SET preview = $2 WHERE id = $1",
        args![conversation, &preview],
    )
    .await?;
    record_activity(db, org, conversation, now, activity_kind::MESSAGE, id).await?;
    let text = searchable(&msg.body, &files);
    index(db, fts_kind::MESSAGE, id, org, conversation, &text).await?;
    let message = load::message(db, org, id).await?;
    emit(db, org, now, &Change::Message(message.clone())).await?;
    emit_conversation(db, org, conversation, now).await?;
    Ok((message, true))
}

/// Hands a message to the dispatcher (once: a message already queued stays as it is).
async fn enqueue(db: &mut impl Db, org: Id, message: Id, now: DateTime<Utc>) -> StoreResult<()> {
    db.exec(
        "INSERT INTO outbound_queue (message_id, org_id, enqueued_at, next_attempt_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (message_id) DO NOTHING",
        args![message, org, ms(now)],
    )
    .await?;
    Ok(())
}

/// The Approval Queue (APQ-1): the messages waiting for approval, oldest first, each with its
/// conversation's title.
pub(crate) async fn approvals(db: &mut impl Db, org: Id) -> StoreResult<Vec<ApprovalItem>> {
    let sql = format!(
        "{MESSAGE_SELECT} WHERE m.org_id = $1 AND m.status = 'pending_approval' ORDER BY m.created_at, m.id"
    );
    let messages = db.all(&sql, args![org], |r| rows::message(r)).await?;
    let mut items = Vec::with_capacity(messages.len());
    for message in messages {
        let conversation_title = load::party_name(db, message.conversation_id).await?;
        items.push(ApprovalItem {
            message,
            conversation_title,
        });
    }
    Ok(items)
}

/// Approves a waiting message: it goes to the outbound queue (APQ-1).
pub(crate) async fn approve(
    db: &mut impl WriteTx,
    org: Id,
    user: Id,
    message: Id,
    now: DateTime<Utc>,
) -> StoreResult<Message> {
    let m = pending_approval(db, org, message).await?;
    set_status(db, org, &m, DeliveryStatus::Pending, None, now).await?;
    enqueue(db, org, m.id, now).await?;
    let decision = Fact::Decision {
        written_at: m.created_at,
        decided_at: now,
        approved: true,
    };
    analytics::record(db, org, None, decision).await?;
    let subject = ("message", m.id);
    let detail = serde_json::json!({});
    audit(
        db,
        org,
        Some(user),
        "message.approved",
        subject,
        detail,
        now,
    )
    .await?;
    decided(db, org, m.id, m.conversation_id, now).await
}

/// Rejects a waiting message with a reason (already checked): it is never sent (APQ-1).
pub(crate) async fn reject(
    db: &mut impl WriteTx,
    org: Id,
    user: Id,
    message: Id,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<Message> {
    let m = pending_approval(db, org, message).await?;
    set_status(db, org, &m, DeliveryStatus::Rejected, Some(reason), now).await?;
    let decision = Fact::Decision {
        written_at: m.created_at,
        decided_at: now,
        approved: false,
    };
    analytics::record(db, org, None, decision).await?;
    let subject = ("message", m.id);
    let detail = serde_json::json!({ "reason": reason });
    audit(
        db,
        org,
        Some(user),
        "message.rejected",
        subject,
        detail,
        now,
    )
    .await?;
    decided(db, org, m.id, m.conversation_id, now).await
}

/// The message, if it still awaits approval; Conflict once someone has decided.
async fn pending_approval(db: &mut impl Db, org: Id, id: Id) -> StoreResult<Message> {
    let m = load::message(db, org, id).await?;
    if m.status != DeliveryStatus::PendingApproval {
        return Err(StoreError::Conflict(format!(
            "this message is {} and no longer awaits approval",
            m.status
        )));
    }
    Ok(m)
}

/// Moves a message to a new status, recording the change as activity (LST-9).
pub(crate) async fn set_status(
    db: &mut impl Db,
    org: Id,
    m: &Message,
    status: DeliveryStatus,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    db.exec(
        "UPDATE messages SET status = $2, error = $3, updated_at = $4 WHERE id = $1",
        args![m.id, status.as_str(), error, ms(now)],
    )
    .await?;
    let kind = activity_kind::STATUS;
    record_activity(db, org, m.conversation_id, now, kind, m.id).await
}

/// Emits a message's new status (an approval decision, a send's result): the message and its
/// conversation.
pub(crate) async fn decided(
    db: &mut impl WriteTx,
    org: Id,
    id: Id,
    conversation: Id,
    now: DateTime<Utc>,
) -> StoreResult<Message> {
    let message = load::message(db, org, id).await?;
    emit(db, org, now, &Change::Message(message.clone())).await?;
    emit_conversation(db, org, conversation, now).await?;
    Ok(message)
}

/// One inbound message waiting for a group commit: its organisation, the message and its
/// intent.
pub(crate) type Inbound = (Id, NewInbound, (&'static str, f64));

/// Stores a batch of inbound messages in one transaction (`group_commit`); one that fails
/// leaves the others. Organisations are locked first, in id order, so two instances writing
/// batches for the same organisations never wait on each other in a circle.
///
/// Messages almost never fail, so the batch is first written straight under one savepoint.
/// Only if one fails is it rolled back and written again with each message in a savepoint of
/// its own: a savepoint a message costs SQLite a journal copy of every page it touches and
/// PostgreSQL two more round trips.
pub(crate) async fn ingest_many(
    db: &mut impl WriteTx,
    batch: &[Inbound],
) -> StoreResult<Vec<StoreResult<Ingested>>> {
    let mut orgs: Vec<Id> = batch.iter().map(|(org, _, _)| *org).collect();
    orgs.sort_unstable();
    orgs.dedup();
    for org in orgs {
        db.lock(org).await?;
    }
    if let [(org, msg, intent)] = batch {
        // A lone message's failure is its transaction's.
        return Ok(vec![Ok(ingest(db, *org, msg, *intent).await?)]);
    }
    db.exec("SAVEPOINT batch", &[]).await?;
    let mut out = Vec::with_capacity(batch.len());
    for (org, msg, intent) in batch {
        match ingest(db, *org, msg, *intent).await {
            Ok(ingested) => out.push(Ok(ingested)),
            Err(_) => break,
        }
    }
    if out.len() == batch.len() {
        db.exec("RELEASE SAVEPOINT batch", &[]).await?;
        return Ok(out);
    }
    db.exec("ROLLBACK TO SAVEPOINT batch", &[]).await?;
    db.exec("RELEASE SAVEPOINT batch", &[]).await?;
    out.clear();
    for (org, msg, intent) in batch {
        db.exec("SAVEPOINT inbound", &[]).await?;
        let result = ingest(db, *org, msg, *intent).await;
        if result.is_err() {
            db.exec("ROLLBACK TO SAVEPOINT inbound", &[]).await?;
        }
        db.exec("RELEASE SAVEPOINT inbound", &[]).await?;
        out.push(result);
    }
    Ok(out)
}

/// What a provider id seen before was stored as (`sql` selects its id and conversation): an
/// item arrives once, however often its provider sends it.
pub(crate) async fn seen(
    db: &mut impl Db,
    sql: &str,
    args: &[Arg<'_>],
) -> StoreResult<Option<Ingested>> {
    let row = db.opt(sql, args, |r| Ok((r.int(0)?, r.int(1)?))).await?;
    Ok(row.map(|(item_id, conversation_id)| Ingested {
        conversation_id,
        item_id,
        created: false,
    }))
}

/// Stores an inbound message once: a provider id seen before changes nothing. `intent` is
/// decided before the transaction, so no writer waits on the classifier.
pub(crate) async fn ingest(
    db: &mut impl WriteTx,
    org: Id,
    msg: &NewInbound,
    (intent, confidence): (&'static str, f64),
) -> StoreResult<Ingested> {
    let sql = "SELECT id, conversation_id FROM messages WHERE org_id = $1 AND provider = $2 AND provider_id = $3";
    let id = (msg.provider.as_str(), &msg.provider_id);
    if let Some(seen) = seen(db, sql, args![org, id.0, id.1]).await? {
        return Ok(seen);
    }
    if let Some(c) = msg.customer_id {
        db.exists(
            "SELECT 1 FROM customers WHERE id = $1 AND org_id = $2",
            args![c, org],
        )
        .await?;
    }
    let party = party_for(db, org, msg.customer_id, msg.from_number.as_deref()).await?;
    let (conversation, _) = conversation_for(db, org, &party, msg.channel, msg.at).await?;
    let sender = sender_name(db, &party).await?;
    let id = db
        .int(
            "INSERT INTO messages (org_id, conversation_id, direction, channel, body, status, sender_name,
                                   provider, provider_id, created_at, updated_at, intent, intent_confidence)
             VALUES ($1, $2, 'inbound', $3, $4, 'delivered', $5, $6, $7, $8, $8, $9, $10) RETURNING id",
            args![
                org,
                conversation,
                msg.channel.as_str(),
                &msg.body,
                &sender,
                msg.provider.as_str(),
                &msg.provider_id,
                ms(msg.at),
                intent,
                confidence
            ],
        )
        .await?;
    media::insert(db, org, id, &msg.attachments, msg.at).await?;
    let mut files = files(&msg.attachments);
    if let Some(customer) = msg.customer_id {
        let owner = UploadOwner::Portal(customer);
        let after = files.len();
        files.extend(media::attach(db, org, id, owner, &msg.uploads, after).await?);
    }
    let inbound = Fact::Inbound {
        at: msg.at,
        channel: msg.channel,
        intent: Intent::parse(intent),
        corrected: false,
    };
    analytics::record(db, org, Some(conversation), inbound).await?;
    let whatsapp_at = (msg.channel == Channel::Whatsapp).then(|| ms(msg.at));
    let preview = message_preview(&row_text(&msg.body, &files));
    db.exec(
        // A late webhook for an older message must not replace the newer preview.
        "UPDATE conversations SET
                preview = CASE WHEN $5 >= last_activity_at THEN $2 ELSE preview END,
                last_channel = CASE WHEN $5 >= last_activity_at THEN $3 ELSE last_channel END,
                unread_count = unread_count + 1,
                last_inbound_whatsapp_at = greatest(last_inbound_whatsapp_at, $4)
         WHERE id = $1",
        args![
            conversation,
            &preview,
            msg.channel.as_str(),
            whatsapp_at,
            ms(msg.at)
        ],
    )
    .await?;
    record_activity(db, org, conversation, msg.at, activity_kind::MESSAGE, id).await?;
    let text = searchable(&msg.body, &files);
    index(db, fts_kind::MESSAGE, id, org, conversation, &text).await?;
    apply_routing(db, org, conversation, &msg.body, msg.at).await?;
    let message = load::message(db, org, id).await?;
    emit(db, org, msg.at, &Change::Message(message)).await?;
    emit_conversation(db, org, conversation, msg.at).await?;
    Ok(Ingested {
        conversation_id: conversation,
        item_id: id,
        created: true,
    })
}

impl Store {
    pub async fn message_by_client_id(
        &self,
        actor: &Actor,
        client_id: &str,
    ) -> StoreResult<Option<Message>> {
        let (org, client_id) = (actor.org_id, client_id.to_owned());
        self.read(script!(|c| by_client_id(c, org, &client_id)))
            .await
    }

    /// Stores a reply as pending (queued for dispatch) or pending_approval. A client id seen
    /// before returns the earlier message with `false`.
    pub async fn create_outbound(
        &self,
        actor: &Actor,
        conversation_id: Id,
        msg: NewOutbound,
        now: DateTime<Utc>,
    ) -> StoreResult<(Message, bool)> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(
            Some(org),
            script!(|tx| create_outbound(tx, org, user, conversation_id, &msg, now)),
        )
        .await
    }

    pub async fn approvals(&self, actor: &Actor) -> StoreResult<Vec<ApprovalItem>> {
        let org = actor.org_id;
        self.read(script!(|c| approvals(c, org))).await
    }

    /// APQ-1: a pending_approval message becomes pending and is queued. 409 if already decided.
    pub async fn approve(
        &self,
        actor: &Actor,
        message_id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(
            Some(org),
            script!(|tx| approve(tx, org, user, message_id, now)),
        )
        .await
    }

    pub async fn reject(
        &self,
        actor: &Actor,
        message_id: Id,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let reason = rules::rejection_reason(reason)?;
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(
            Some(org),
            script!(|tx| reject(tx, org, user, message_id, &reason, now)),
        )
        .await
    }

    /// Routes and stores an inbound message (RTE-1..3); idempotent on the provider id.
    pub async fn ingest_message(&self, org_id: Id, msg: NewInbound) -> StoreResult<Ingested> {
        // Decided before the write, which holds the organisation's lock (SQLite: the writer).
        let classified = rules::classify_inbound(&msg.body).await;
        self.ingest_grouped((org_id, msg, classified)).await
    }
}
