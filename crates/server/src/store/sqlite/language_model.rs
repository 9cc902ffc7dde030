//! The language model worker's reads and writes (issue 16, AIA-1) on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::LanguageModelSettings;
use inbox_core::intent::Classification;
use inbox_core::sync::Change;
use inbox_core::{Direction, Id};
use rusqlite::{params, Connection, OptionalExtension};

use super::events::{emit, emit_conversation};
use super::rows::load_message;
use super::{analytics, found, from_ms, system_note, SqliteStore};
use crate::secrets::Field;
use crate::store::analytics::relabel;
use crate::store::language_model::{
    summary_note, InboundText, LanguageModelStore, ModelEndpoint, ModelWork, SummaryOf, ThreadText,
    VoicemailText,
};
use crate::store::rows::confidence;
use crate::store::StoreResult;

type ModelRow = (Option<String>, Option<String>, Option<String>);

fn model_row(c: &Connection, org: Id) -> rusqlite::Result<Option<ModelRow>> {
    c.prepare_cached(
        "SELECT ai_model_url, ai_model_name, ai_model_key FROM provider_settings WHERE org_id = ?1",
    )?
    .query_row([org], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .optional()
}

/// Whether the organisation has a message past its cursor or a voicemail to summarise.
fn pending(c: &Connection, org: Id) -> rusqlite::Result<bool> {
    c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM messages m WHERE m.id > p.ai_model_cursor AND m.org_id = p.org_id
                                                 AND m.direction = 'inbound')
             OR EXISTS (SELECT 1 FROM calls k WHERE k.org_id = p.org_id AND k.summarised = 0
                                               AND k.transcript IS NOT NULL AND k.started_at >= p.ai_model_since)
         FROM provider_settings p WHERE p.org_id = ?1 AND p.ai_model_url IS NOT NULL",
    )?
    .query_row([org], |r| r.get(0))
    .optional()
    .map(|p| p.unwrap_or(false))
}

#[async_trait]
impl LanguageModelStore for SqliteStore {
    async fn language_model(&self, org_id: Id) -> StoreResult<Option<ModelEndpoint>> {
        let secrets = self.secrets.clone();
        self.read(move |c| {
            let on: bool = c
                .prepare_cached("SELECT ai_enabled FROM organisations WHERE id = ?1")?
                .query_row([org_id], |r| r.get(0))
                .optional()?
                .unwrap_or(false);
            let Some((Some(url), Some(model), key)) = model_row(c, org_id)?.filter(|_| on) else {
                return Ok(None);
            };
            let key = secrets.open(&key.unwrap_or_default(), org_id, Field::AiModelKey)?;
            Ok(Some(ModelEndpoint { url, model, key }))
        })
        .await
    }

    async fn model_organisations(&self) -> StoreResult<Vec<Id>> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT org_id FROM provider_settings WHERE ai_model_url IS NOT NULL ORDER BY org_id",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<Id>>>()?)
        })
        .await
    }

    async fn language_model_settings(&self, org_id: Id) -> StoreResult<LanguageModelSettings> {
        self.read(move |c| {
            let (url, model, key) = model_row(c, org_id)?.unwrap_or_default();
            Ok(LanguageModelSettings {
                url: url.unwrap_or_default(),
                model: model.unwrap_or_default(),
                key_set: key.is_some_and(|k| !k.is_empty()),
            })
        })
        .await
    }

    async fn claim_model_work(&self, org_id: Id, limit: u32) -> StoreResult<ModelWork> {
        // Most announcements find nothing new: a read says so without taking the writer.
        if !self.read(move |c| Ok(pending(c, org_id)?)).await? {
            return Ok(ModelWork::default());
        }
        self.write(move |tx| {
            let Some((cursor, since)) = tx
                .prepare_cached(
                    "SELECT ai_model_cursor, ai_model_since FROM provider_settings
                     WHERE org_id = ?1 AND ai_model_url IS NOT NULL",
                )?
                .query_row([org_id], |r| Ok((r.get::<_, Id>(0)?, r.get::<_, i64>(1)?)))
                .optional()?
            else {
                return Ok(ModelWork::default());
            };
            let messages = tx
                .prepare_cached(
                    "SELECT id, conversation_id, body, created_at FROM messages
                     WHERE id > ?1 AND org_id = ?2 AND direction = 'inbound' ORDER BY id LIMIT ?3",
                )?
                .query_map(params![cursor, org_id, limit], |r| {
                    Ok(InboundText {
                        id: r.get(0)?,
                        conversation_id: r.get(1)?,
                        body: r.get(2)?,
                        at: from_ms(r.get(3)?),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            if let Some(last) = messages.last() {
                tx.prepare_cached("UPDATE provider_settings SET ai_model_cursor = ?2 WHERE org_id = ?1")?
                    .execute(params![org_id, last.id])?;
            }
            let voicemails = tx
                .prepare_cached(
                    "SELECT id, conversation_id, transcript, started_at FROM calls
                     WHERE org_id = ?1 AND summarised = 0 AND transcript IS NOT NULL AND started_at >= ?2
                     ORDER BY started_at, id LIMIT ?3",
                )?
                .query_map(params![org_id, since, limit], |r| {
                    Ok(VoicemailText {
                        call_id: r.get(0)?,
                        conversation_id: r.get(1)?,
                        transcript: r.get(2)?,
                        at: from_ms(r.get(3)?),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for v in &voicemails {
                tx.prepare_cached("UPDATE calls SET summarised = 1 WHERE id = ?1")?
                    .execute([v.call_id])?;
            }
            Ok(ModelWork {
                messages,
                voicemails,
            })
        })
        .await
    }

    async fn refine_intent(
        &self,
        org_id: Id,
        message_id: Id,
        intent: Classification,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.write(move |tx| {
            let Some((was, correction, at)) = analytics::intent_columns(tx, message_id)? else {
                return Ok(false);
            };
            let label = intent.intent.as_str();
            let old_confidence: Option<f64> = tx
                .prepare_cached("SELECT intent_confidence FROM messages WHERE id = ?1")?
                .query_row([message_id], |r| r.get(0))?;
            if was.as_deref() == Some(label) && old_confidence == Some(confidence(intent)) {
                return Ok(false);
            }
            let changed = tx
                .prepare_cached(
                    "UPDATE messages SET intent = ?3, intent_confidence = ?4
                     WHERE id = ?1 AND org_id = ?2 AND intent_correction IS NULL",
                )?
                .execute(params![message_id, org_id, label, confidence(intent)])?;
            if changed == 0 {
                return Ok(false);
            }
            let c = correction.as_deref();
            if let Some(fact) = relabel(from_ms(at), (was.as_deref(), c), (Some(label), c)) {
                analytics::record(tx, org_id, None, fact)?;
            }
            let message = load_message(tx, org_id, message_id)?;
            emit(tx, org_id, now, &Change::Message(message.clone()))?;
            emit_conversation(tx, org_id, message.conversation_id, now)?;
            Ok(true)
        })
        .await
    }

    async fn claim_thread(
        &self,
        org_id: Id,
        conversation_id: Id,
        every: u32,
        take: u32,
    ) -> StoreResult<Option<ThreadText>> {
        self.write(move |tx| {
            let Some(start) = tx
                .prepare_cached(
                    "SELECT max(c.summarised_through, p.ai_model_floor)
                     FROM conversations c JOIN provider_settings p ON p.org_id = c.org_id
                     WHERE c.id = ?1 AND c.org_id = ?2",
                )?
                .query_row([conversation_id, org_id], |r| r.get::<_, Id>(0))
                .optional()?
            else {
                return Ok(None);
            };
            let since: u32 = tx
                .prepare_cached(
                    "SELECT count(*) FROM messages WHERE conversation_id = ?1 AND id > ?2",
                )?
                .query_row([conversation_id, start], |r| r.get(0))?;
            if since < every {
                return Ok(None);
            }
            let floor: Id = tx
                .prepare_cached("SELECT ai_model_floor FROM provider_settings WHERE org_id = ?1")?
                .query_row([org_id], |r| r.get(0))?;
            let mut latest = tx
                .prepare_cached(
                    "SELECT id, direction, body FROM messages WHERE conversation_id = ?1 AND id > ?2
                     ORDER BY created_at DESC, id DESC LIMIT ?3",
                )?
                .query_map(params![conversation_id, floor, take], |r| {
                    Ok((
                        r.get::<_, Id>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            latest.reverse();
            let through = latest.iter().map(|l| l.0).max().unwrap_or(start);
            tx.prepare_cached("UPDATE conversations SET summarised_through = ?2 WHERE id = ?1")?
                .execute([conversation_id, through])?;
            Ok(Some(ThreadText {
                lines: latest
                    .into_iter()
                    .filter_map(|(_, d, body)| Some((Direction::parse(&d)?, body)))
                    .collect(),
            }))
        })
        .await
    }

    async fn add_summary(
        &self,
        org_id: Id,
        conversation_id: Id,
        of: SummaryOf,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let body = summary_note(of, text);
        self.write(move |tx| {
            found(
                tx.prepare_cached("SELECT 1 FROM conversations WHERE id = ?1 AND org_id = ?2")?
                    .query_row([conversation_id, org_id], |_| Ok(())),
            )?;
            system_note(tx, org_id, conversation_id, &body, None, now)?;
            Ok(())
        })
        .await
    }
}
