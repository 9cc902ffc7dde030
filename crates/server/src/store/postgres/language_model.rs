//! The language model worker's reads and writes (issue 16, AIA-1) on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::LanguageModelSettings;
use inbox_core::intent::Classification;
use inbox_core::sync::Change;
use inbox_core::{Direction, Id};
use sqlx::PgConnection;

use super::events::{emit, emit_conversation};
use super::rows::load_message;
use super::{analytics, system_note, PgStore};
use crate::secrets::Field;
use crate::store::analytics::relabel;
use crate::store::language_model::{
    summary_note, InboundText, LanguageModelStore, ModelEndpoint, ModelWork, SummaryOf, ThreadText,
    VoicemailText,
};
use crate::store::rows::{confidence, from_ms};
use crate::store::{StoreError, StoreResult};

type ModelRow = (Option<String>, Option<String>, Option<String>);

async fn model_row(c: &mut PgConnection, org: Id) -> StoreResult<Option<ModelRow>> {
    Ok(sqlx::query_as(
        "SELECT ai_model_url, ai_model_name, ai_model_key FROM provider_settings WHERE org_id = $1",
    )
    .bind(org)
    .fetch_optional(c)
    .await?)
}

#[async_trait]
impl LanguageModelStore for PgStore {
    async fn language_model(&self, org_id: Id) -> StoreResult<Option<ModelEndpoint>> {
        let mut c = self.conn().await?;
        let on: Option<bool> =
            sqlx::query_scalar("SELECT ai_enabled FROM organisations WHERE id = $1")
                .bind(org_id)
                .fetch_optional(&mut *c)
                .await?;
        if on != Some(true) {
            return Ok(None);
        }
        let Some((Some(url), Some(model), key)) = model_row(&mut c, org_id).await? else {
            return Ok(None);
        };
        let key = self
            .secrets
            .open(&key.unwrap_or_default(), org_id, Field::AiModelKey)?;
        Ok(Some(ModelEndpoint { url, model, key }))
    }

    async fn model_organisations(&self) -> StoreResult<Vec<Id>> {
        Ok(sqlx::query_scalar(
            "SELECT org_id FROM provider_settings WHERE ai_model_url IS NOT NULL ORDER BY org_id",
        )
        .fetch_all(&mut *self.conn().await?)
        .await?)
    }

    async fn language_model_settings(&self, org_id: Id) -> StoreResult<LanguageModelSettings> {
        let mut c = self.conn().await?;
        let (url, model, key) = model_row(&mut c, org_id).await?.unwrap_or_default();
        Ok(LanguageModelSettings {
            url: url.unwrap_or_default(),
            model: model.unwrap_or_default(),
            key_set: key.is_some_and(|k| !k.is_empty()),
        })
    }

    async fn claim_model_work(&self, org_id: Id, limit: u32) -> StoreResult<ModelWork> {
        // Most announcements find nothing new: a read says so without the organisation's lock.
        let pending: Option<bool> = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM messages m WHERE m.id > p.ai_model_cursor AND m.org_id = p.org_id
                                                     AND m.direction = 'inbound')
                 OR EXISTS (SELECT 1 FROM calls k WHERE k.org_id = p.org_id AND NOT k.summarised
                                                   AND k.transcript IS NOT NULL AND k.started_at >= p.ai_model_since)
             FROM provider_settings p WHERE p.org_id = $1 AND p.ai_model_url IS NOT NULL",
        )
        .bind(org_id)
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        if pending != Some(true) {
            return Ok(ModelWork::default());
        }
        let mut tx = self.begin(org_id).await?;
        let Some((cursor, since)) = sqlx::query_as::<_, (Id, i64)>(
            "SELECT ai_model_cursor, ai_model_since FROM provider_settings
             WHERE org_id = $1 AND ai_model_url IS NOT NULL FOR UPDATE",
        )
        .bind(org_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(ModelWork::default());
        };
        let messages: Vec<(Id, Id, String, i64)> = sqlx::query_as(
            "SELECT id, conversation_id, body, created_at FROM messages
             WHERE id > $1 AND org_id = $2 AND direction = 'inbound' ORDER BY id LIMIT $3",
        )
        .bind(cursor)
        .bind(org_id)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        if let Some(last) = messages.last() {
            sqlx::query("UPDATE provider_settings SET ai_model_cursor = $2 WHERE org_id = $1")
                .bind(org_id)
                .bind(last.0)
                .execute(&mut *tx)
                .await?;
        }
        let voicemails: Vec<(Id, Id, String, i64)> = sqlx::query_as(
            "UPDATE calls SET summarised = true WHERE id IN (
                 SELECT id FROM calls
                 WHERE org_id = $1 AND NOT summarised AND transcript IS NOT NULL AND started_at >= $2
                 ORDER BY started_at, id LIMIT $3)
             RETURNING id, conversation_id, transcript, started_at",
        )
        .bind(org_id)
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        self.commit(tx).await?;
        let mut voicemails: Vec<VoicemailText> = voicemails
            .into_iter()
            .map(|(call_id, conversation_id, transcript, at)| VoicemailText {
                call_id,
                conversation_id,
                transcript,
                at: from_ms(at),
            })
            .collect();
        voicemails.sort_by_key(|v| (v.at, v.call_id));
        Ok(ModelWork {
            messages: messages
                .into_iter()
                .map(|(id, conversation_id, body, at)| InboundText {
                    id,
                    conversation_id,
                    body,
                    at: from_ms(at),
                })
                .collect(),
            voicemails,
        })
    }

    async fn refine_intent(
        &self,
        org_id: Id,
        message_id: Id,
        intent: Classification,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(org_id).await?;
        let label = intent.intent.as_str();
        let row: Option<(Option<String>, i64)> = sqlx::query_as(
            "UPDATE messages m SET intent = $3, intent_confidence = $4
             FROM (SELECT id, intent, intent_confidence FROM messages WHERE id = $1 FOR UPDATE) old
             WHERE m.id = old.id AND m.org_id = $2 AND m.direction = 'inbound'
                   AND m.intent_correction IS NULL
                   AND (old.intent IS DISTINCT FROM $3 OR old.intent_confidence IS DISTINCT FROM $4)
             RETURNING old.intent, m.created_at",
        )
        .bind(message_id)
        .bind(org_id)
        .bind(label)
        .bind(confidence(intent))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((was, at)) = row else {
            self.commit(tx).await?;
            return Ok(false);
        };
        if let Some(fact) = relabel(from_ms(at), (was.as_deref(), None), (Some(label), None)) {
            analytics::record(&mut tx, org_id, None, fact).await?;
        }
        let message = load_message(&mut tx, org_id, message_id).await?;
        emit(&mut tx, org_id, now, &Change::Message(message.clone())).await?;
        emit_conversation(&mut tx, org_id, message.conversation_id, now).await?;
        self.commit(tx).await?;
        Ok(true)
    }

    async fn claim_thread(
        &self,
        org_id: Id,
        conversation_id: Id,
        every: u32,
        take: u32,
    ) -> StoreResult<Option<ThreadText>> {
        let mut tx = self.begin(org_id).await?;
        let Some((through, floor)): Option<(Id, Id)> = sqlx::query_as(
            "SELECT c.summarised_through, p.ai_model_floor
             FROM conversations c JOIN provider_settings p ON p.org_id = c.org_id
             WHERE c.id = $1 AND c.org_id = $2 FOR UPDATE OF c",
        )
        .bind(conversation_id)
        .bind(org_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            self.commit(tx).await?;
            return Ok(None);
        };
        let start = through.max(floor);
        let since: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM messages WHERE conversation_id = $1 AND id > $2",
        )
        .bind(conversation_id)
        .bind(start)
        .fetch_one(&mut *tx)
        .await?;
        if since < i64::from(every) {
            self.commit(tx).await?;
            return Ok(None);
        }
        let mut latest: Vec<(Id, String, String)> = sqlx::query_as(
            "SELECT id, direction, body FROM messages WHERE conversation_id = $1 AND id > $2
             ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(conversation_id)
        .bind(floor)
        .bind(i64::from(take))
        .fetch_all(&mut *tx)
        .await?;
        latest.reverse();
        let newest = latest.iter().map(|l| l.0).max().unwrap_or(start);
        sqlx::query("UPDATE conversations SET summarised_through = $2 WHERE id = $1")
            .bind(conversation_id)
            .bind(newest)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(Some(ThreadText {
            lines: latest
                .into_iter()
                .filter_map(|(_, d, body)| Some((Direction::parse(&d)?, body)))
                .collect(),
        }))
    }

    async fn add_summary(
        &self,
        org_id: Id,
        conversation_id: Id,
        of: SummaryOf,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(org_id).await?;
        let ours: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM conversations WHERE id = $1 AND org_id = $2")
                .bind(conversation_id)
                .bind(org_id)
                .fetch_optional(&mut *tx)
                .await?;
        if ours.is_none() {
            return Err(StoreError::NotFound);
        }
        system_note(
            &mut tx,
            org_id,
            conversation_id,
            &summary_note(of, text),
            None,
            now,
        )
        .await?;
        self.commit(tx).await
    }
}
