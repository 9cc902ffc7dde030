//! Calls: routed into conversations (VOI-1 … VOI-3), moved between them (VOI-6), resolved (VOI-7).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use inbox_core::analytics::Fact;
use inbox_core::api::{CallDestination, CallMoved};
use inbox_core::sync::Change;
use inbox_core::{Call, Channel, Direction, Id};
use serde_json::json;

use super::messages::seen;
use super::routing::{apply_routing, conversation_for, party_for, Party};
use super::{analytics, audit, emit, emit_conversation, index, load, record_activity, system_note};
use crate::store::backend::script;
use crate::store::dataset::call_summary;
use crate::store::db::{args, Db, WriteTx};
use crate::store::rows::{self, activity_kind, fts_kind, ms, CALL_SELECT};
use crate::store::rules;
use crate::store::rules::{refreshed_preview, row_text, unresolved_outcomes};
use crate::store::Store;
use crate::store::{Actor, Ingested, NewCall, StoreError, StoreResult};

/// Stores an inbound call once: a provider call id seen before changes nothing.
pub(crate) async fn ingest(
    db: &mut impl WriteTx,
    org: Id,
    call: &NewCall,
) -> StoreResult<Ingested> {
    let sql = "SELECT id, conversation_id FROM calls WHERE org_id = $1 AND provider_call_id = $2";
    if let Some(seen) = seen(db, sql, args![org, &call.provider_call_id]).await? {
        return Ok(seen);
    }
    let party = party_for(db, org, None, call.from_number.as_deref()).await?;
    let (conversation, _) = conversation_for(db, org, &party, Channel::Voice, call.at).await?;
    let id = insert(db, org, conversation, call).await?;
    let fact = Fact::Call {
        started_at: call.at,
        direction: Direction::Inbound,
        before: None,
        after: call.outcome,
    };
    analytics::record(db, org, Some(conversation), fact).await?;
    let unresolved = i64::from(call.outcome.needs_resolution());
    let summary = call_summary(call.outcome, call.duration_secs, call.recording_secs);
    db.exec(
        // A late webhook for an older call must not replace the newer preview.
        "UPDATE conversations SET
                preview = CASE WHEN $4 >= last_activity_at THEN $2 ELSE preview END,
                last_channel = CASE WHEN $4 >= last_activity_at THEN 'voice' ELSE last_channel END,
                unresolved_calls = unresolved_calls + $3
         WHERE id = $1",
        args![conversation, &summary, unresolved, ms(call.at)],
    )
    .await?;
    record_activity(db, org, conversation, call.at, activity_kind::CALL, id).await?;
    if let Some(t) = &call.transcript {
        index(db, fts_kind::CALL, id, org, conversation, t).await?;
    }
    if matches!(party, Party::Customer(_)) {
        let text = call.transcript.as_deref().unwrap_or("");
        apply_routing(db, org, conversation, text, call.at).await?;
    }
    let stored = load::call(db, org, id).await?;
    emit(db, org, call.at, &Change::Call(stored)).await?;
    emit_conversation(db, org, conversation, call.at).await?;
    Ok(Ingested {
        conversation_id: conversation,
        item_id: id,
        created: true,
    })
}

async fn insert(db: &mut impl Db, org: Id, conversation: Id, call: &NewCall) -> StoreResult<Id> {
    db.int(
        "INSERT INTO calls (org_id, conversation_id, direction, outcome, from_number, provider_call_id, duration_secs,
                            recording_url, recording_secs, transcript, resolved, started_at, updated_at)
         VALUES ($1, $2, 'inbound', $3, $4, $5, $6, $7, $8, $9, false, $10, $10) RETURNING id",
        args![
            org,
            conversation,
            call.outcome.as_str(),
            &call.from_number,
            &call.provider_call_id,
            call.duration_secs,
            &call.recording_url,
            call.recording_secs,
            &call.transcript,
            ms(call.at)
        ],
    )
    .await
}

/// Moves a call to another conversation (VOI-6): a customer's, or the one of its number. Both
/// threads get a system note, and both conversations' derived columns follow their items (their
/// analytics state too).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn reassign(
    db: &mut impl WriteTx,
    org: Id,
    user: Id,
    tz: Tz,
    id: Id,
    to: CallDestination,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<CallMoved> {
    let call = load::call(db, org, id).await?;
    let from = call.conversation_id;
    let party = destination(db, org, &call, to).await?;
    let (dest, _) = conversation_for(db, org, &party, Channel::Voice, call.started_at).await?;
    if dest == from {
        return Err(StoreError::Conflict(
            "the call is already in that conversation".into(),
        ));
    }
    move_call(db, org, &call, dest, now).await?;
    let from_title = load::party_name(db, from).await?;
    let to_title = load::party_name(db, dest).await?;
    let (from_note, to_note) = rules::call_moved_notes(call.started_at, tz, &from_title, &to_title);
    system_note(db, org, from, &from_note, Some(user), now).await?;
    system_note(db, org, dest, &to_note, Some(user), now).await?;
    refresh(db, from).await?;
    refresh(db, dest).await?;
    let detail = json!({
        "from_conversation_id": from, "to_conversation_id": dest, "reason": reason
    });
    let call = changed(db, (org, user), id, "call.reassigned", detail, now).await?;
    emit_conversation(db, org, from, now).await?;
    emit_conversation(db, org, dest, now).await?;
    // Both conversations' analytics state follows their items.
    analytics::restate(db, org, &[from, dest]).await?;
    Ok(CallMoved {
        call,
        from_conversation_id: from,
        to_conversation_id: dest,
    })
}

/// Whose conversation a moved call goes to: the customer's (of this organisation), or its
/// number's when it goes back to anonymous.
async fn destination(
    db: &mut impl Db,
    org: Id,
    call: &Call,
    to: CallDestination,
) -> StoreResult<Party> {
    Ok(match to {
        CallDestination::Customer { customer_id } => {
            db.exists(
                "SELECT 1 FROM customers WHERE id = $1 AND org_id = $2",
                args![customer_id, org],
            )
            .await?;
            Party::Customer(customer_id)
        }
        CallDestination::Anonymous => match &call.from_number {
            Some(n) => Party::Number(n.clone()),
            None => Party::Withheld,
        },
    })
}

/// Puts the call, its activity and its transcript's index entry in the other conversation.
async fn move_call(
    db: &mut impl WriteTx,
    org: Id,
    call: &Call,
    dest: Id,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    db.exec(
        "UPDATE calls SET conversation_id = $2, updated_at = $3 WHERE id = $1",
        args![call.id, dest, ms(now)],
    )
    .await?;
    db.exec(
        "UPDATE activity SET conversation_id = $2 WHERE kind IN ($3, $4) AND ref_id = $1",
        args![
            call.id,
            dest,
            activity_kind::CALL,
            activity_kind::CALL_STATUS
        ],
    )
    .await?;
    if let Some(t) = &call.transcript {
        index(db, fts_kind::CALL, call.id, org, dest, t).await?;
    }
    Ok(())
}

/// Marks a call resolved (VOI-7); resolving it again changes nothing.
pub(crate) async fn resolve(
    db: &mut impl WriteTx,
    org: Id,
    user: Id,
    id: Id,
    now: DateTime<Utc>,
) -> StoreResult<Call> {
    let call = load::call(db, org, id).await?;
    if call.resolved {
        return Ok(call);
    }
    db.exec(
        "UPDATE calls SET resolved = true, updated_at = $2 WHERE id = $1",
        args![id, ms(now)],
    )
    .await?;
    if call.outcome.needs_resolution() {
        db.exec(
            "UPDATE conversations SET unresolved_calls = greatest(unresolved_calls - 1, 0) WHERE id = $1",
            args![call.conversation_id],
        )
        .await?;
    }
    let kind = activity_kind::CALL_STATUS;
    record_activity(db, org, call.conversation_id, now, kind, id).await?;
    let call = changed(db, (org, user), id, "call.resolved", json!({}), now).await?;
    emit_conversation(db, org, call.conversation_id, now).await?;
    Ok(call)
}

/// Audits a staff member's change to a call, and sends the call as it is now to the desktops.
async fn changed(
    db: &mut impl WriteTx,
    (org, user): (Id, Id),
    id: Id,
    action: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> StoreResult<Call> {
    audit(db, org, Some(user), action, ("call", id), detail, now).await?;
    let call = load::call(db, org, id).await?;
    emit(db, org, now, &Change::Call(call.clone())).await?;
    Ok(call)
}

/// Recomputes a conversation's derived columns from its rows, after a call left or joined it.
pub(crate) async fn refresh(db: &mut impl Db, conversation: Id) -> StoreResult<()> {
    let sql = format!(
        "UPDATE conversations SET
            last_activity_at = coalesce((SELECT max(at) FROM activity WHERE conversation_id = $1), created_at),
            unresolved_calls = (SELECT count(*) FROM calls WHERE conversation_id = $1 AND NOT resolved
                                AND outcome IN ({}))
         WHERE id = $1",
        unresolved_outcomes()
    );
    db.exec(&sql, args![conversation]).await?;
    // Preview: the newest message or call. Channel: how the customer last reached us, which
    // is the newer of their last inbound message and the last call (as `dataset::derive`).
    let message = db
        .opt(
            "SELECT created_at, body, attachments FROM messages WHERE conversation_id = $1
             ORDER BY created_at DESC, id DESC LIMIT 1",
            args![conversation],
            |r| Ok((r.int(0)?, row_text(r.text(1)?, &r.text(2)?))),
        )
        .await?;
    let inbound = db
        .opt(
            "SELECT created_at, channel FROM messages WHERE conversation_id = $1 AND direction = 'inbound'
             ORDER BY created_at DESC, id DESC LIMIT 1",
            args![conversation],
            |r| Ok((r.int(0)?, r.text(1)?)),
        )
        .await?;
    let sql = format!(
        "{CALL_SELECT} WHERE conversation_id = $1 ORDER BY started_at DESC, id DESC LIMIT 1"
    );
    let call = db
        .opt(&sql, args![conversation], |r| rows::call(r))
        .await?
        .map(|call| (ms(call.started_at), call));
    let (preview, channel) = refreshed_preview(message, inbound, call);
    db.exec(
        "UPDATE conversations SET preview = $2, last_channel = coalesce($3, last_channel) WHERE id = $1",
        args![conversation, &preview, &channel],
    )
    .await?;
    Ok(())
}

impl Store {
    pub async fn call(&self, actor: &Actor, id: Id) -> StoreResult<Call> {
        let org = actor.org_id;
        self.read(script!(|c| load::call(c, org, id))).await
    }

    /// Routes and stores a call (VOI-1..3); idempotent on the provider call id.
    pub async fn ingest_call(&self, org_id: Id, call: NewCall) -> StoreResult<Ingested> {
        self.write(Some(org_id), script!(|tx| ingest(tx, org_id, &call)))
            .await
    }

    /// VOI-6, with the reason in the audit log.
    pub async fn reassign_call(
        &self,
        actor: &Actor,
        id: Id,
        to: CallDestination,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<CallMoved> {
        let (org, user, tz) = (actor.org_id, actor.user_id, actor.time_zone);
        let reason = reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        self.write(
            Some(org),
            script!(|tx| reassign(tx, org, user, tz, id, to, reason.as_deref(), now)),
        )
        .await
    }

    /// VOI-7.
    pub async fn resolve_call(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Call> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(Some(org), script!(|tx| resolve(tx, org, user, id, now)))
            .await
    }
}
