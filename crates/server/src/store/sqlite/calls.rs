//! Calls: routed into conversations (VOI-1 … VOI-3), moved between them (VOI-6), resolved (VOI-7).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::analytics::Fact;
use inbox_core::api::{CallDestination, CallMoved};
use inbox_core::{Call, Channel, Direction, Id};
use rusqlite::{params, Connection, OptionalExtension};

use super::events::{emit, emit_conversation};
use super::routing::{apply_routing, conversation_for, party_for, Party};
use super::rows::{load_call, party_name};
use super::{
    activity_kind, audit, found, fts_kind, fts_put, ms, record_activity, system_note, SqliteStore,
};
use crate::store::dataset::call_summary;
use crate::store::rows::{refreshed_preview, row_text, unresolved_outcomes};
use crate::store::{Actor, CallStore, Ingested, NewCall, StoreError, StoreResult};
use inbox_core::sync::Change;

/// Recomputes a conversation's derived columns from its rows, after a call left or joined it.
pub(crate) fn refresh(tx: &Connection, conversation_id: Id) -> StoreResult<()> {
    let sql = format!(
        "UPDATE conversations SET
            last_activity_at = coalesce((SELECT max(at) FROM activity WHERE conversation_id = ?1), created_at),
            unresolved_calls = (SELECT count(*) FROM calls WHERE conversation_id = ?1 AND resolved = 0
                                AND outcome IN ({}))
         WHERE id = ?1",
        unresolved_outcomes()
    );
    tx.prepare_cached(&sql)?.execute([conversation_id])?;
    // Preview: the newest message or call. Channel: how the customer last reached us, which
    // is the newer of their last inbound message and the last call (as `dataset::derive`).
    let message: Option<(i64, String)> = tx
        .prepare_cached("SELECT created_at, body, attachments FROM messages WHERE conversation_id = ?1 ORDER BY created_at DESC, id DESC LIMIT 1")?
        .query_row([conversation_id], |r| Ok((r.get(0)?, row_text(r.get(1)?, &r.get::<_, String>(2)?))))
        .optional()?;
    let inbound: Option<(i64, String)> = tx
        .prepare_cached("SELECT created_at, channel FROM messages WHERE conversation_id = ?1 AND direction = 'inbound' ORDER BY created_at DESC, id DESC LIMIT 1")?
        .query_row([conversation_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let call: Option<(i64, Id)> = tx
        .prepare_cached("SELECT started_at, id FROM calls WHERE conversation_id = ?1 ORDER BY started_at DESC, id DESC LIMIT 1")?
        .query_row([conversation_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let call = match call {
        Some((at, id)) => Some((at, load_call_unscoped(tx, id)?)),
        None => None,
    };
    let (preview, channel) = refreshed_preview(message, inbound, call);
    tx.prepare_cached("UPDATE conversations SET preview = ?2, last_channel = coalesce(?3, last_channel) WHERE id = ?1")?
        .execute(params![conversation_id, preview, channel])?;
    Ok(())
}

fn load_call_unscoped(tx: &Connection, id: Id) -> StoreResult<Call> {
    let org: Id = found(
        tx.prepare_cached("SELECT org_id FROM calls WHERE id = ?1")?
            .query_row([id], |r| r.get(0)),
    )?;
    load_call(tx, org, id)
}

#[async_trait]
impl CallStore for SqliteStore {
    async fn call(&self, actor: &Actor, id: Id) -> StoreResult<Call> {
        let org = actor.org_id;
        self.read(move |c| load_call(c, org, id)).await
    }

    async fn ingest_call(&self, org_id: Id, call: NewCall) -> StoreResult<Ingested> {
        self.write(move |tx| {
            let seen = tx
                .prepare_cached("SELECT id, conversation_id FROM calls WHERE org_id = ?1 AND provider_call_id = ?2")?
                .query_row(params![org_id, &call.provider_call_id], |r| Ok((r.get::<_, Id>(0)?, r.get::<_, Id>(1)?)))
                .optional()?;
            if let Some((item_id, conversation_id)) = seen {
                return Ok(Ingested { conversation_id, item_id, created: false });
            }
            let party = party_for(tx, org_id, None, call.from_number.as_deref())?;
            let (conversation_id, _) = conversation_for(tx, org_id, &party, Channel::Voice, call.at)?;
            tx.prepare_cached(
                "INSERT INTO calls (org_id, conversation_id, direction, outcome, from_number, provider_call_id, duration_secs,
                                    recording_url, recording_secs, transcript, resolved, started_at, updated_at)
                 VALUES (?1, ?2, 'inbound', ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?10)",
            )?
            .execute(params![org_id, conversation_id, call.outcome.as_str(), call.from_number, call.provider_call_id,
                call.duration_secs, call.recording_url, call.recording_secs, call.transcript, ms(call.at)])?;
            let id = tx.last_insert_rowid();
            let fact = Fact::Call { started_at: call.at, direction: Direction::Inbound, before: None, after: call.outcome };
            super::analytics::record(tx, org_id, Some(conversation_id), fact)?;
            let unresolved = i64::from(call.outcome.needs_resolution());
            tx.prepare_cached(
                "UPDATE conversations SET
                        preview = CASE WHEN ?4 >= last_activity_at THEN ?2 ELSE preview END,
                        last_channel = CASE WHEN ?4 >= last_activity_at THEN 'voice' ELSE last_channel END,
                        unresolved_calls = unresolved_calls + ?3
                 WHERE id = ?1",
            )?
            .execute(params![conversation_id, call_summary(call.outcome, call.duration_secs, call.recording_secs), unresolved, ms(call.at)])?;
            record_activity(tx, org_id, conversation_id, call.at, activity_kind::CALL, id)?;
            if let Some(t) = &call.transcript {
                fts_put(tx, fts_kind::CALL, id, org_id, conversation_id, t)?;
            }
            if matches!(party, Party::Customer(_)) {
                apply_routing(tx, org_id, conversation_id, call.transcript.as_deref().unwrap_or(""), call.at)?;
            }
            emit(tx, org_id, call.at, &Change::Call(load_call(tx, org_id, id)?))?;
            emit_conversation(tx, org_id, conversation_id, call.at)?;
            Ok(Ingested { conversation_id, item_id: id, created: true })
        })
        .await
    }

    async fn reassign_call(
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
            .map(str::to_string);
        self.write(move |tx| {
            let call = load_call(tx, org, id)?;
            let from = call.conversation_id;
            let party = match to {
                CallDestination::Customer { customer_id } => {
                    found(tx.prepare_cached("SELECT 1 FROM customers WHERE id = ?1 AND org_id = ?2")?.query_row([customer_id, org], |_| Ok(())))?;
                    Party::Customer(customer_id)
                }
                CallDestination::Anonymous => match &call.from_number {
                    Some(n) => Party::Number(n.clone()),
                    None => Party::Withheld,
                },
            };
            let (dest, _) = conversation_for(tx, org, &party, Channel::Voice, call.started_at)?;
            if dest == from {
                return Err(StoreError::Conflict("the call is already in that conversation".into()));
            }
            tx.prepare_cached("UPDATE calls SET conversation_id = ?2, updated_at = ?3 WHERE id = ?1")?.execute(params![id, dest, ms(now)])?;
            tx.prepare_cached("UPDATE activity SET conversation_id = ?2 WHERE kind IN (?3, ?4) AND ref_id = ?1")?
                .execute(params![id, dest, activity_kind::CALL, activity_kind::CALL_STATUS])?;
            if let Some(t) = &call.transcript {
                fts_put(tx, fts_kind::CALL, id, org, dest, t)?;
            }
            let (from_title, to_title) = (party_name(tx, from)?, party_name(tx, dest)?);
            let (from_note, to_note) = crate::store::rows::call_moved_notes(call.started_at, tz, &from_title, &to_title);
            system_note(tx, org, from, &from_note, Some(user), now)?;
            system_note(tx, org, dest, &to_note, Some(user), now)?;
            refresh(tx, from)?;
            refresh(tx, dest)?;
            super::analytics::restate(tx, org, &[from, dest])?;
            audit(tx, org, Some(user), "call.reassigned", ("call", id),
                serde_json::json!({ "from_conversation_id": from, "to_conversation_id": dest, "reason": reason }), now)?;
            let call = load_call(tx, org, id)?;
            emit(tx, org, now, &Change::Call(call.clone()))?;
            emit_conversation(tx, org, from, now)?;
            emit_conversation(tx, org, dest, now)?;
            Ok(CallMoved { call, from_conversation_id: from, to_conversation_id: dest })
        })
        .await
    }

    async fn resolve_call(&self, actor: &Actor, id: Id, now: DateTime<Utc>) -> StoreResult<Call> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let call = load_call(tx, org, id)?;
            if call.resolved {
                return Ok(call);
            }
            tx.prepare_cached("UPDATE calls SET resolved = 1, updated_at = ?2 WHERE id = ?1")?.execute(params![id, ms(now)])?;
            if call.outcome.needs_resolution() {
                tx.prepare_cached("UPDATE conversations SET unresolved_calls = max(unresolved_calls - 1, 0) WHERE id = ?1")?
                    .execute([call.conversation_id])?;
            }
            record_activity(tx, org, call.conversation_id, now, activity_kind::CALL_STATUS, id)?;
            audit(tx, org, Some(user), "call.resolved", ("call", id), serde_json::json!({}), now)?;
            let call = load_call(tx, org, id)?;
            emit(tx, org, now, &Change::Call(call.clone()))?;
            emit_conversation(tx, org, call.conversation_id, now)?;
            Ok(call)
        })
        .await
    }
}
