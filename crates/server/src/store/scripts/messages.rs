//! Messages: inbound messages routed into conversations (RTE-1 … RTE-3).

use inbox_core::analytics::Fact;
use inbox_core::intent::Intent;
use inbox_core::media::row_text;
use inbox_core::preview::message_preview;
use inbox_core::sync::Change;
use inbox_core::{Channel, Id};

use super::routing::{apply_routing, conversation_for, party_for, sender_name};
use super::{analytics, emit, emit_conversation, index, load, media, record_activity};
use crate::store::db::{args, WriteTx};
use crate::store::media::{files, searchable, UploadOwner};
use crate::store::rows::{activity_kind, fts_kind, ms};
use crate::store::{Ingested, NewInbound, StoreResult};

/// One inbound message waiting for a group commit: its organisation, the message and its
/// intent.
pub(crate) type Inbound = (Id, NewInbound, (&'static str, f64));

/// Stores a batch of inbound messages in one transaction (`group_commit`), each in its own
/// savepoint so one that fails leaves the others. Organisations are locked first, in id order,
/// so two instances writing batches for the same organisations never wait on each other in a
/// circle.
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
    let mut out = Vec::with_capacity(batch.len());
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

/// Stores an inbound message once: a provider id seen before changes nothing. `intent` is
/// decided before the transaction, so no writer waits on the classifier.
pub(crate) async fn ingest(
    db: &mut impl WriteTx,
    org: Id,
    msg: &NewInbound,
    (intent, confidence): (&'static str, f64),
) -> StoreResult<Ingested> {
    let seen = db
        .opt(
            "SELECT id, conversation_id FROM messages WHERE org_id = $1 AND provider = $2 AND provider_id = $3",
            args![org, &msg.provider, &msg.provider_id],
            |r| Ok((r.int(0)?, r.int(1)?)),
        )
        .await?;
    if let Some((item_id, conversation_id)) = seen {
        return Ok(Ingested {
            conversation_id,
            item_id,
            created: false,
        });
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
                &msg.provider,
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
