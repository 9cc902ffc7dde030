//! The AI switch and intent corrections (issue 16, AIA-1) on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::analytics::Fact;
use inbox_core::intent::Intent;
use inbox_core::sync::Change;
use inbox_core::{Id, Message, Organisation};

use super::accounts::load_organisation;
use super::events::emit;
use super::rows::load_message;
use super::{analytics, audit, PgStore};
use crate::store::analytics::{org_clock, relabel};
use crate::store::rows::{from_ms, ms};
use crate::store::{Actor, AiStore, StoreError, StoreResult};
use inbox_core::analytics::OpeningHours;

#[async_trait]
impl AiStore for PgStore {
    async fn set_ai_enabled(
        &self,
        actor: &Actor,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<Organisation> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let changed = sqlx::query(
            "UPDATE organisations SET ai_enabled = $2 WHERE id = $1 AND ai_enabled <> $2",
        )
        .bind(org)
        .bind(enabled)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let organisation = load_organisation(&mut tx, org)
            .await?
            .ok_or(StoreError::NotFound)?;
        if changed == 0 {
            // Saved as it was: no audit entry, and no desktop rebuilds its cache for it.
            self.commit(tx).await?;
            return Ok(organisation);
        }
        audit(
            &mut tx,
            org,
            Some(user),
            "settings.ai",
            ("organisation", org),
            serde_json::json!({ "enabled": enabled }),
            now,
        )
        .await?;
        if enabled {
            // What came while it was off never goes to a language model.
            sqlx::query(
                "UPDATE provider_settings SET ai_model_floor = (SELECT coalesce(max(id), 0) FROM messages),
                        ai_model_cursor = (SELECT coalesce(max(id), 0) FROM messages),
                        ai_model_since = $2
                 WHERE org_id = $1",
            )
            .bind(org)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        }
        // Every desktop follows: its tabs, and its cached messages' intents.
        emit(
            &mut tx,
            org,
            now,
            &Change::Organisation(organisation.clone()),
        )
        .await?;
        self.commit(tx).await?;
        Ok(organisation)
    }

    async fn opening_hours(&self, actor: &Actor) -> StoreResult<OpeningHours> {
        let mut c = self.conn().await?;
        let raw: Option<Option<String>> =
            sqlx::query_scalar("SELECT opening_hours FROM organisations WHERE id = $1")
                .bind(actor.org_id)
                .fetch_optional(&mut *c)
                .await?;
        let raw = raw.ok_or(StoreError::NotFound)?;
        Ok(org_clock("UTC", raw.as_deref()).hours)
    }

    async fn set_opening_hours(
        &self,
        actor: &Actor,
        hours: OpeningHours,
        now: DateTime<Utc>,
    ) -> StoreResult<OpeningHours> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        sqlx::query("UPDATE organisations SET opening_hours = $2 WHERE id = $1")
            .bind(org)
            .bind(serde_json::to_string(&hours)?)
            .execute(&mut *tx)
            .await?;
        let detail = serde_json::to_value(hours)?;
        audit(
            &mut tx,
            org,
            Some(user),
            "settings.hours",
            ("organisation", org),
            detail,
            now,
        )
        .await?;
        // Response times are measured in them: every counter is recounted.
        analytics::rebuild(&mut tx, org).await?;
        self.commit(tx).await?;
        Ok(hours)
    }

    async fn unclassified(&self, after: Id, limit: u32) -> StoreResult<Vec<(Id, String)>> {
        let mut c = self.conn().await?;
        Ok(sqlx::query_as(
            "SELECT id, body FROM messages
             WHERE intent IS NULL AND direction = 'inbound' AND id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await?)
    }

    async fn set_intents(&self, intents: Vec<(Id, &'static str, f64)>) -> StoreResult<()> {
        let (ids, rest): (Vec<Id>, Vec<(&str, f64)>) =
            intents.into_iter().map(|(id, l, c)| (id, (l, c))).unzip();
        let (labels, confidences): (Vec<&str>, Vec<f64>) = rest.into_iter().unzip();
        let mut tx = self.begin_any().await?;
        // The organisations' locks first, in id order: their counters are written under them,
        // as every other write does, so a rebuild never interleaves.
        let orgs: Vec<Id> = sqlx::query_scalar(
            "SELECT DISTINCT org_id FROM messages WHERE id = ANY($1) ORDER BY org_id",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        for org in orgs {
            super::lock_org(&mut tx, org).await?;
        }
        let set: Vec<(Id, i64, String, Option<String>)> = sqlx::query_as(
            "UPDATE messages m SET intent = u.label, intent_confidence = u.confidence
             FROM UNNEST($1::bigint[], $2::text[], $3::float8[]) AS u(id, label, confidence)
             WHERE m.id = u.id AND m.intent IS NULL AND m.direction = 'inbound'
             RETURNING m.org_id, m.created_at, m.intent, m.intent_correction",
        )
        .bind(ids)
        .bind(labels)
        .bind(confidences)
        .fetch_all(&mut *tx)
        .await?;
        // In a fixed order, so two writers never wait on each other's counters in a cycle.
        let mut facts: Vec<(Id, i64, Fact)> = set
            .into_iter()
            .filter_map(|(org, at, label, correction)| {
                let c = correction.as_deref();
                let fact = relabel(from_ms(at), (None, c), (Some(&label), c))?;
                Some((org, at, fact))
            })
            .collect();
        facts.sort_by_key(|(org, at, _)| (*org, *at));
        for (org, _, fact) in facts {
            analytics::record(&mut tx, org, None, fact).await?;
        }
        self.commit(tx).await
    }

    async fn correct_intent(
        &self,
        actor: &Actor,
        message_id: Id,
        label: Intent,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let row: Option<(Option<String>, Option<String>, i64)> = sqlx::query_as(
            "SELECT intent, intent_correction, created_at FROM messages
             WHERE id = $1 AND org_id = $2 AND direction = 'inbound' FOR UPDATE",
        )
        .bind(message_id)
        .bind(org)
        .fetch_optional(&mut *tx)
        .await?;
        let (intent, correction, at) = row.ok_or(StoreError::NotFound)?;
        let was = correction.as_deref().or(intent.as_deref());
        let (i, c) = (intent.as_deref(), correction.as_deref());
        if let Some(fact) = relabel(from_ms(at), (i, c), (i, Some(label.as_str()))) {
            analytics::record(&mut tx, org, None, fact).await?;
        }
        // `updated_at` stays: a correction is not activity in the conversation (desktops would
        // move it up the list), and the `message` event reaches every cache anyway.
        sqlx::query(
            "UPDATE messages SET intent_correction = $2, intent_corrected_by = $3,
                    intent_corrected_at = $4
             WHERE id = $1",
        )
        .bind(message_id)
        .bind(label.as_str())
        .bind(user)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            org,
            Some(user),
            "message.intent_corrected",
            ("message", message_id),
            serde_json::json!({ "from": was, "to": label.as_str() }),
            now,
        )
        .await?;
        let message = load_message(&mut tx, org, message_id).await?;
        emit(&mut tx, org, now, &Change::Message(message.clone())).await?;
        // Its row shows the latest message's intent.
        super::events::emit_conversation(&mut tx, org, message.conversation_id, now).await?;
        self.commit(tx).await?;
        Ok(message)
    }
}
