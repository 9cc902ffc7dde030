//! The AI switch and intent corrections (issue 16, AIA-1) on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::intent::Intent;
use inbox_core::sync::Change;
use inbox_core::{Id, Message, Organisation};
use rusqlite::params;

use super::accounts::load_organisation;
use super::events::emit;
use super::rows::load_message;
use super::{analytics, audit, found, from_ms, ms, SqliteStore};
use crate::store::analytics::{org_clock, relabel};
use crate::store::{Actor, AiStore, StoreError, StoreResult};
use inbox_core::analytics::OpeningHours;

#[async_trait]
impl AiStore for SqliteStore {
    async fn set_ai_enabled(
        &self,
        actor: &Actor,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<Organisation> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE organisations SET ai_enabled = ?2 WHERE id = ?1 AND ai_enabled <> ?2",
                )?
                .execute(params![org, enabled])?;
            let organisation =
                found(load_organisation(tx, org)?.ok_or(rusqlite::Error::QueryReturnedNoRows))?;
            if changed == 0 {
                // Saved as it was: no audit entry, and no desktop rebuilds its cache for it.
                return Ok(organisation);
            }
            audit(
                tx,
                org,
                Some(user),
                "settings.ai",
                ("organisation", org),
                serde_json::json!({ "enabled": enabled }),
                now,
            )?;
            if enabled {
                // What came while it was off never goes to a language model.
                tx.prepare_cached(
                    "UPDATE provider_settings SET ai_model_floor = (SELECT coalesce(max(id), 0) FROM messages),
                            ai_model_cursor = (SELECT coalesce(max(id), 0) FROM messages),
                            ai_model_since = ?2
                     WHERE org_id = ?1",
                )?
                .execute(params![org, ms(now)])?;
            }
            // Every desktop follows: its tabs, and its cached messages' intents.
            emit(tx, org, now, &Change::Organisation(organisation.clone()))?;
            Ok(organisation)
        })
        .await
    }

    async fn opening_hours(&self, actor: &Actor) -> StoreResult<OpeningHours> {
        let org = actor.org_id;
        self.read(move |c| {
            let raw: Option<String> = found(
                c.prepare_cached("SELECT opening_hours FROM organisations WHERE id = ?1")?
                    .query_row([org], |r| r.get(0)),
            )?;
            Ok(org_clock("UTC", raw.as_deref()).hours)
        })
        .await
    }

    async fn set_opening_hours(
        &self,
        actor: &Actor,
        hours: OpeningHours,
        now: DateTime<Utc>,
    ) -> StoreResult<OpeningHours> {
        let (org, user) = (actor.org_id, actor.user_id);
        let json = serde_json::to_string(&hours)?;
        self.write(move |tx| {
            tx.prepare_cached("UPDATE organisations SET opening_hours = ?2 WHERE id = ?1")?
                .execute(params![org, json])?;
            let detail = serde_json::to_value(hours)?;
            audit(
                tx,
                org,
                Some(user),
                "settings.hours",
                ("organisation", org),
                detail,
                now,
            )?;
            // Response times are measured in them: every counter is recounted.
            analytics::rebuild(tx, org)?;
            Ok(hours)
        })
        .await
    }

    async fn unclassified(&self, after: Id, limit: u32) -> StoreResult<Vec<(Id, String)>> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT id, body FROM messages
                 WHERE intent IS NULL AND direction = 'inbound' AND id > ?1 ORDER BY id LIMIT ?2",
            )?
            .query_map(params![after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(Into::into)
        })
        .await
    }

    async fn set_intents(&self, intents: Vec<(Id, &'static str, f64)>) -> StoreResult<()> {
        self.write(move |tx| {
            for (id, label, confidence) in intents {
                let Some((None, correction, at)) = analytics::intent_columns(tx, id)? else {
                    continue;
                };
                tx.prepare_cached(
                    "UPDATE messages SET intent = ?2, intent_confidence = ?3 WHERE id = ?1",
                )?
                .execute(params![id, label, confidence])?;
                let org: Id = tx
                    .prepare_cached("SELECT org_id FROM messages WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))?;
                let c = correction.as_deref();
                if let Some(fact) = relabel(from_ms(at), (None, c), (Some(label), c)) {
                    analytics::record(tx, org, None, fact)?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn correct_intent(
        &self,
        actor: &Actor,
        message_id: Id,
        label: Intent,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            found(
                tx.prepare_cached("SELECT 1 FROM messages WHERE id = ?1 AND org_id = ?2 AND direction = 'inbound'")?
                    .query_row([message_id, org], |_| Ok(())),
            )?;
            let (intent, correction, at) = analytics::intent_columns(tx, message_id)?
                .ok_or(StoreError::NotFound)?;
            let was = correction.as_deref().or(intent.as_deref());
            // `updated_at` stays: a correction is not activity in the conversation (desktops
            // would move it up the list), and the `message` event reaches every cache anyway.
            tx.prepare_cached(
                "UPDATE messages SET intent_correction = ?2, intent_corrected_by = ?3,
                        intent_corrected_at = ?4
                 WHERE id = ?1",
            )?
            .execute(params![message_id, label.as_str(), user, ms(now)])?;
            let (i, c) = (intent.as_deref(), correction.as_deref());
            if let Some(fact) = relabel(from_ms(at), (i, c), (i, Some(label.as_str()))) {
                analytics::record(tx, org, None, fact)?;
            }
            audit(
                tx,
                org,
                Some(user),
                "message.intent_corrected",
                ("message", message_id),
                serde_json::json!({ "from": was, "to": label.as_str() }),
                now,
            )?;
            let message = load_message(tx, org, message_id)?;
            emit(tx, org, now, &Change::Message(message.clone()))?;
            // Its row shows the latest message's intent.
            super::events::emit_conversation(tx, org, message.conversation_id, now)?;
            Ok(message)
        })
        .await
    }
}
