//! Calls: routed into conversations (VOI-1 … VOI-3), moved between them (VOI-6), resolved (VOI-7).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::{CallDestination, CallMoved};
use inbox_core::sync::Change;
use inbox_core::{Call, Channel, Id};
use sqlx::PgConnection;

use super::events::{emit, emit_conversation};
use super::routing::{apply_routing, conversation_for, party_for, Party};
use super::rows::{self, load_call, party_name, CALL_SELECT};
use super::{
    activity_kind, audit, exists, fts_kind, record_activity, search_put, system_note, PgStore,
};
use crate::store::dataset::call_summary;
use crate::store::rows::{ms, refreshed_preview, row_text, unresolved_outcomes};
use crate::store::{Actor, CallStore, Ingested, NewCall, StoreError, StoreResult};

/// Recomputes a conversation's derived columns from its rows, after a call left or joined it.
pub(crate) async fn refresh(c: &mut PgConnection, conversation_id: Id) -> StoreResult<()> {
    let sql = format!(
        "UPDATE conversations SET
            last_activity_at = coalesce((SELECT max(at) FROM activity WHERE conversation_id = $1), created_at),
            unresolved_calls = (SELECT count(*) FROM calls WHERE conversation_id = $1 AND NOT resolved
                                AND outcome IN ({}))
         WHERE id = $1",
        unresolved_outcomes()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(conversation_id)
        .execute(&mut *c)
        .await?;
    let message: Option<(i64, String, String)> = sqlx::query_as(
        "SELECT created_at, body, attachments FROM messages WHERE conversation_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(conversation_id)
    .fetch_optional(&mut *c)
    .await?;
    let message = message.map(|(at, body, files)| (at, row_text(body, &files)));
    let inbound: Option<(i64, String)> = sqlx::query_as(
        "SELECT created_at, channel FROM messages WHERE conversation_id = $1 AND direction = 'inbound' ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(conversation_id)
    .fetch_optional(&mut *c)
    .await?;
    let call = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{CALL_SELECT} WHERE conversation_id = $1 ORDER BY started_at DESC, id DESC LIMIT 1"
    )))
    .bind(conversation_id)
    .fetch_optional(&mut *c)
    .await?
    .as_ref()
    .map(rows::call)
    .transpose()?
    .map(|call| (ms(call.started_at), call));
    let (preview, channel) = refreshed_preview(message, inbound, call);
    sqlx::query("UPDATE conversations SET preview = $2, last_channel = coalesce($3, last_channel) WHERE id = $1")
        .bind(conversation_id)
        .bind(preview)
        .bind(channel)
        .execute(c)
        .await?;
    Ok(())
}

#[async_trait]
impl CallStore for PgStore {
    async fn call(&self, actor: &Actor, id: Id) -> StoreResult<Call> {
        load_call(&mut *self.conn().await?, actor.org_id, id).await
    }

    async fn ingest_call(&self, org_id: Id, call: NewCall) -> StoreResult<Ingested> {
        let mut tx = self.begin(org_id).await?;
        let seen: Option<(Id, Id)> = sqlx::query_as(
            "SELECT id, conversation_id FROM calls WHERE org_id = $1 AND provider_call_id = $2",
        )
        .bind(org_id)
        .bind(&call.provider_call_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((item_id, conversation_id)) = seen {
            return Ok(Ingested {
                conversation_id,
                item_id,
                created: false,
            });
        }
        let party = party_for(&mut tx, org_id, None, call.from_number.as_deref()).await?;
        let (conversation_id, _) =
            conversation_for(&mut tx, org_id, &party, Channel::Voice, call.at).await?;
        let id: Id = sqlx::query_scalar(
            "INSERT INTO calls (org_id, conversation_id, direction, outcome, from_number, provider_call_id, duration_secs,
                                recording_url, recording_secs, transcript, resolved, started_at, updated_at)
             VALUES ($1, $2, 'inbound', $3, $4, $5, $6, $7, $8, $9, false, $10, $10) RETURNING id",
        )
        .bind(org_id)
        .bind(conversation_id)
        .bind(call.outcome.as_str())
        .bind(&call.from_number)
        .bind(&call.provider_call_id)
        .bind(i64::from(call.duration_secs))
        .bind(&call.recording_url)
        .bind(call.recording_secs.map(i64::from))
        .bind(&call.transcript)
        .bind(ms(call.at))
        .fetch_one(&mut *tx)
        .await?;
        let fact = inbox_core::analytics::Fact::Call {
            started_at: call.at,
            direction: inbox_core::Direction::Inbound,
            before: None,
            after: call.outcome,
        };
        super::analytics::record(&mut tx, org_id, Some(conversation_id), fact).await?;
        let unresolved = i64::from(call.outcome.needs_resolution());
        sqlx::query(
            "UPDATE conversations SET
                    preview = CASE WHEN $4 >= last_activity_at THEN $2 ELSE preview END,
                    last_channel = CASE WHEN $4 >= last_activity_at THEN 'voice' ELSE last_channel END,
                    unresolved_calls = unresolved_calls + $3
             WHERE id = $1",
        )
        .bind(conversation_id)
        .bind(call_summary(call.outcome, call.duration_secs, call.recording_secs))
        .bind(unresolved)
        .bind(ms(call.at))
        .execute(&mut *tx)
        .await?;
        record_activity(
            &mut tx,
            org_id,
            conversation_id,
            call.at,
            activity_kind::CALL,
            id,
        )
        .await?;
        if let Some(t) = &call.transcript {
            search_put(&mut tx, fts_kind::CALL, id, org_id, conversation_id, t).await?;
        }
        if matches!(party, Party::Customer(_)) {
            apply_routing(
                &mut tx,
                org_id,
                conversation_id,
                call.transcript.as_deref().unwrap_or(""),
                call.at,
            )
            .await?;
        }
        let stored = load_call(&mut tx, org_id, id).await?;
        emit(&mut tx, org_id, call.at, &Change::Call(stored)).await?;
        emit_conversation(&mut tx, org_id, conversation_id, call.at).await?;
        self.commit(tx).await?;
        Ok(Ingested {
            conversation_id,
            item_id: id,
            created: true,
        })
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
        let mut tx = self.begin(org).await?;
        let call = load_call(&mut tx, org, id).await?;
        let from = call.conversation_id;
        let party = match to {
            CallDestination::Customer { customer_id } => {
                exists(
                    &mut tx,
                    "SELECT 1 FROM customers WHERE id = $1 AND org_id = $2",
                    customer_id,
                    org,
                )
                .await?;
                Party::Customer(customer_id)
            }
            CallDestination::Anonymous => match &call.from_number {
                Some(n) => Party::Number(n.clone()),
                None => Party::Withheld,
            },
        };
        let (dest, _) =
            conversation_for(&mut tx, org, &party, Channel::Voice, call.started_at).await?;
        if dest == from {
            return Err(StoreError::Conflict(
                "the call is already in that conversation".into(),
            ));
        }
        sqlx::query("UPDATE calls SET conversation_id = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(dest)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE activity SET conversation_id = $2 WHERE kind IN ($3, $4) AND ref_id = $1",
        )
        .bind(id)
        .bind(dest)
        .bind(activity_kind::CALL)
        .bind(activity_kind::CALL_STATUS)
        .execute(&mut *tx)
        .await?;
        if let Some(t) = &call.transcript {
            search_put(&mut tx, fts_kind::CALL, id, org, dest, t).await?;
        }
        let (from_title, to_title) = (
            party_name(&mut tx, from).await?,
            party_name(&mut tx, dest).await?,
        );
        let (from_note, to_note) =
            crate::store::rows::call_moved_notes(call.started_at, tz, &from_title, &to_title);
        system_note(&mut tx, org, from, &from_note, Some(user), now).await?;
        system_note(&mut tx, org, dest, &to_note, Some(user), now).await?;
        refresh(&mut tx, from).await?;
        refresh(&mut tx, dest).await?;
        super::analytics::restate(&mut tx, org, &[from, dest]).await?;
        audit(
            &mut tx,
            org,
            Some(user),
            "call.reassigned",
            ("call", id),
            serde_json::json!({ "from_conversation_id": from, "to_conversation_id": dest, "reason": reason }),
            now,
        )
        .await?;
        let call = load_call(&mut tx, org, id).await?;
        emit(&mut tx, org, now, &Change::Call(call.clone())).await?;
        emit_conversation(&mut tx, org, from, now).await?;
        emit_conversation(&mut tx, org, dest, now).await?;
        self.commit(tx).await?;
        Ok(CallMoved {
            call,
            from_conversation_id: from,
            to_conversation_id: dest,
        })
    }

    async fn resolve_call(&self, actor: &Actor, id: Id, now: DateTime<Utc>) -> StoreResult<Call> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let call = load_call(&mut tx, org, id).await?;
        if call.resolved {
            return Ok(call);
        }
        sqlx::query("UPDATE calls SET resolved = true, updated_at = $2 WHERE id = $1")
            .bind(id)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        if call.outcome.needs_resolution() {
            sqlx::query("UPDATE conversations SET unresolved_calls = greatest(unresolved_calls - 1, 0) WHERE id = $1")
                .bind(call.conversation_id)
                .execute(&mut *tx)
                .await?;
        }
        record_activity(
            &mut tx,
            org,
            call.conversation_id,
            now,
            activity_kind::CALL_STATUS,
            id,
        )
        .await?;
        audit(
            &mut tx,
            org,
            Some(user),
            "call.resolved",
            ("call", id),
            serde_json::json!({}),
            now,
        )
        .await?;
        let call = load_call(&mut tx, org, id).await?;
        emit(&mut tx, org, now, &Change::Call(call.clone())).await?;
        emit_conversation(&mut tx, org, call.conversation_id, now).await?;
        self.commit(tx).await?;
        Ok(call)
    }
}
