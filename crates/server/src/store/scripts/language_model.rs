//! The language model worker's reads and writes (issue 16, AIA-1).

use chrono::{DateTime, Utc};
use inbox_core::api::LanguageModelSettings;
use inbox_core::intent::Classification;
use inbox_core::sync::Change;
use inbox_core::{Direction, Id};

use super::ai::locking;
use super::analytics::record;
use super::{emit, emit_conversation, ensure_conversation, load, system_note};
use crate::secrets::{Field, SecretBox};
use crate::store::analytics::relabel;
use crate::store::backend::script;
use crate::store::db::{args, Db, WriteTx};
use crate::store::language_model::{
    summary_note, InboundText, ModelEndpoint, ModelWork, SummaryOf, ThreadText, VoicemailText,
};
use crate::store::rows::from_ms;
use crate::store::rules::confidence;
use crate::store::Store;
use crate::store::StoreResult;

type ModelRow = (Option<String>, Option<String>, Option<String>);

/// The organisation's endpoint columns (url, model, sealed key), if it has provider settings.
async fn model_row(db: &mut impl Db, org: Id) -> StoreResult<Option<ModelRow>> {
    db.opt(
        "SELECT ai_model_url, ai_model_name, ai_model_key FROM provider_settings WHERE org_id = $1",
        args![org],
        |r| Ok((r.opt_text(0)?, r.opt_text(1)?, r.opt_text(2)?)),
    )
    .await
}

/// None unless an endpoint is configured and AI is on.
pub(crate) async fn language_model(
    db: &mut impl Db,
    org: Id,
    secrets: &SecretBox,
) -> StoreResult<Option<ModelEndpoint>> {
    let on = db
        .opt(
            "SELECT ai_enabled FROM organisations WHERE id = $1",
            args![org],
            |r| r.flag(0),
        )
        .await?;
    if on != Some(true) {
        return Ok(None);
    }
    let Some((Some(url), Some(model), key)) = model_row(db, org).await? else {
        return Ok(None);
    };
    let key = secrets.open(&key.unwrap_or_default(), org, Field::AiModelKey)?;
    Ok(Some(ModelEndpoint { url, model, key }))
}

pub(crate) async fn model_organisations(db: &mut impl Db) -> StoreResult<Vec<Id>> {
    db.all(
        "SELECT org_id FROM provider_settings WHERE ai_model_url IS NOT NULL ORDER BY org_id",
        args![],
        |r| r.int(0),
    )
    .await
}

/// As Settings shows it: never the key, only whether there is one.
pub(crate) async fn settings(db: &mut impl Db, org: Id) -> StoreResult<LanguageModelSettings> {
    let (url, model, key) = model_row(db, org).await?.unwrap_or_default();
    Ok(LanguageModelSettings {
        url: url.unwrap_or_default(),
        model: model.unwrap_or_default(),
        key_set: key.is_some_and(|k| !k.is_empty()),
    })
}

/// Whether the organisation has a message past its cursor or a voicemail to summarise. Most
/// announcements find nothing new: a read says so without taking the writer (the
/// organisation's lock on PostgreSQL).
pub(crate) async fn pending(db: &mut impl Db, org: Id) -> StoreResult<bool> {
    let pending = db
        .opt(
            "SELECT EXISTS (SELECT 1 FROM messages m WHERE m.id > p.ai_model_cursor AND m.org_id = p.org_id
                                                     AND m.direction = 'inbound')
                 OR EXISTS (SELECT 1 FROM calls k WHERE k.org_id = p.org_id AND NOT k.summarised
                                                   AND k.transcript IS NOT NULL AND k.started_at >= p.ai_model_since)
             FROM provider_settings p WHERE p.org_id = $1 AND p.ai_model_url IS NOT NULL",
            args![org],
            |r| r.flag(0),
        )
        .await?;
    Ok(pending == Some(true))
}

/// Takes the next inbound messages and voicemails for the model (`claim_model_work`); the
/// organisation's cursor moves in the same transaction, so no other instance takes them too.
pub(crate) async fn claim_work(db: &mut impl Db, org: Id, limit: u32) -> StoreResult<ModelWork> {
    let sql = format!(
        "SELECT ai_model_cursor, ai_model_since FROM provider_settings
         WHERE org_id = $1 AND ai_model_url IS NOT NULL{}",
        locking(db, " FOR UPDATE")
    );
    let marks = db
        .opt(&sql, args![org], |r| Ok((r.int(0)?, r.int(1)?)))
        .await?;
    let Some((cursor, since)) = marks else {
        return Ok(ModelWork::default());
    };
    let messages = claim_messages(db, org, cursor, limit).await?;
    let voicemails = claim_voicemails(db, org, since, limit).await?;
    Ok(ModelWork {
        messages,
        voicemails,
    })
}

/// Inbound messages past the cursor, oldest first; the cursor moves past them.
async fn claim_messages(
    db: &mut impl Db,
    org: Id,
    cursor: Id,
    limit: u32,
) -> StoreResult<Vec<InboundText>> {
    let messages = db
        .all(
            "SELECT id, conversation_id, body, created_at FROM messages
             WHERE id > $1 AND org_id = $2 AND direction = 'inbound' ORDER BY id LIMIT $3",
            args![cursor, org, limit],
            |r| {
                Ok(InboundText {
                    id: r.int(0)?,
                    conversation_id: r.int(1)?,
                    body: r.text(2)?,
                    at: r.time(3)?,
                })
            },
        )
        .await?;
    if let Some(last) = messages.last() {
        db.exec(
            "UPDATE provider_settings SET ai_model_cursor = $2 WHERE org_id = $1",
            args![org, last.id],
        )
        .await?;
    }
    Ok(messages)
}

/// Voicemail transcripts not yet summarised, since the model was set; marked summarised.
async fn claim_voicemails(
    db: &mut impl Db,
    org: Id,
    since: i64,
    limit: u32,
) -> StoreResult<Vec<VoicemailText>> {
    let mut voicemails = db
        .all(
            "UPDATE calls SET summarised = true WHERE id IN (
                 SELECT id FROM calls
                 WHERE org_id = $1 AND NOT summarised AND transcript IS NOT NULL AND started_at >= $2
                 ORDER BY started_at, id LIMIT $3)
             RETURNING id, conversation_id, transcript, started_at",
            args![org, since, limit],
            |r| {
                Ok(VoicemailText {
                    call_id: r.int(0)?,
                    conversation_id: r.int(1)?,
                    transcript: r.text(2)?,
                    at: r.time(3)?,
                })
            },
        )
        .await?;
    // RETURNING keeps no order.
    voicemails.sort_by_key(|v| (v.at, v.call_id));
    Ok(voicemails)
}

/// The model's label for an inbound message, unless a staff member corrected it; false when it
/// was corrected, is unknown, or already says that.
pub(crate) async fn refine_intent(
    db: &mut impl WriteTx,
    org: Id,
    message_id: Id,
    intent: Classification,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let sql = format!(
        "SELECT intent, intent_confidence, created_at FROM messages
         WHERE id = $1 AND org_id = $2 AND direction = 'inbound' AND intent_correction IS NULL{}",
        locking(db, " FOR UPDATE")
    );
    let old = db
        .opt(&sql, args![message_id, org], |r| {
            Ok((r.opt_text(0)?, r.opt_real(1)?, r.int(2)?))
        })
        .await?;
    let Some((was, old_confidence, at)) = old else {
        return Ok(false);
    };
    let (label, confidence) = (intent.intent.as_str(), confidence(intent));
    if was.as_deref() == Some(label) && old_confidence == Some(confidence) {
        return Ok(false);
    }
    db.exec(
        "UPDATE messages SET intent = $2, intent_confidence = $3 WHERE id = $1",
        args![message_id, label, confidence],
    )
    .await?;
    if let Some(fact) = relabel(from_ms(at), (was.as_deref(), None), (Some(label), None)) {
        record(db, org, None, fact).await?;
    }
    let message = load::message(db, org, message_id).await?;
    emit(db, org, now, &Change::Message(message.clone())).await?;
    emit_conversation(db, org, message.conversation_id, now).await?;
    Ok(true)
}

/// Takes a long thread's latest stretch for a summary (`claim_thread`), marking it taken.
pub(crate) async fn claim_thread(
    db: &mut impl Db,
    org: Id,
    conversation: Id,
    every: u32,
    take: u32,
) -> StoreResult<Option<ThreadText>> {
    let sql = format!(
        "SELECT c.summarised_through, p.ai_model_floor
         FROM conversations c JOIN provider_settings p ON p.org_id = c.org_id
         WHERE c.id = $1 AND c.org_id = $2{}",
        locking(db, " FOR UPDATE OF c")
    );
    let marks = db
        .opt(&sql, args![conversation, org], |r| {
            Ok((r.int(0)?, r.int(1)?))
        })
        .await?;
    let Some((through, floor)) = marks else {
        return Ok(None);
    };
    // Counted since the last summary, or since the model was set or AI turned on.
    let start = through.max(floor);
    let since = db
        .int(
            "SELECT count(*) FROM messages WHERE conversation_id = $1 AND id > $2",
            args![conversation, start],
        )
        .await?;
    if since < i64::from(every) {
        return Ok(None);
    }
    let mut latest = db
        .all(
            "SELECT id, direction, body FROM messages WHERE conversation_id = $1 AND id > $2
             ORDER BY created_at DESC, id DESC LIMIT $3",
            args![conversation, floor, take],
            |r| Ok((r.int(0)?, r.text(1)?, r.text(2)?)),
        )
        .await?;
    latest.reverse();
    let newest = latest.iter().map(|l| l.0).max().unwrap_or(start);
    db.exec(
        "UPDATE conversations SET summarised_through = $2 WHERE id = $1",
        args![conversation, newest],
    )
    .await?;
    Ok(Some(ThreadText {
        lines: latest
            .into_iter()
            .filter_map(|(_, d, body)| Some((Direction::parse(&d)?, body)))
            .collect(),
    }))
}

pub(crate) async fn add_summary(
    db: &mut impl WriteTx,
    org: Id,
    conversation: Id,
    (of, text): (SummaryOf, &str),
    now: DateTime<Utc>,
) -> StoreResult<()> {
    ensure_conversation(db, org, conversation).await?;
    system_note(db, org, conversation, &summary_note(of, text), None, now).await?;
    Ok(())
}

impl Store {
    /// The endpoint the worker calls for the organisation: None unless one is configured and AI
    /// is on.
    pub async fn language_model(&self, org_id: Id) -> StoreResult<Option<ModelEndpoint>> {
        let secrets = self.secret_box().clone();
        self.read(script!(|c| language_model(c, org_id, &secrets)))
            .await
    }

    /// Organisations with a language model configured (AI on or not).
    pub async fn model_organisations(&self) -> StoreResult<Vec<Id>> {
        self.read(script!(|c| model_organisations(c))).await
    }

    /// As Settings shows it (never the key).
    pub async fn language_model_settings(&self, org_id: Id) -> StoreResult<LanguageModelSettings> {
        self.read(script!(|c| settings(c, org_id))).await
    }

    /// Takes up to `limit` inbound messages that arrived after the model was configured and
    /// were not taken yet, and as many voicemail transcripts not yet summarised, oldest first.
    /// Taking them moves the organisation's cursor in the same transaction, so another server
    /// instance never takes them too.
    pub async fn claim_model_work(&self, org_id: Id, limit: u32) -> StoreResult<ModelWork> {
        // Most passes find nothing: a read says so without taking the organisation's lock.
        if !self.read(script!(|c| pending(c, org_id))).await? {
            return Ok(ModelWork::default());
        }
        self.write(Some(org_id), script!(|tx| claim_work(tx, org_id, limit)))
            .await
    }

    /// The model's label for an inbound message, unless a staff member corrected it; counted in
    /// the analytics and sent to every desktop. False when it was corrected, is unknown, or
    /// already says that.
    pub async fn refine_intent(
        &self,
        org_id: Id,
        message_id: Id,
        intent: Classification,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.write(
            Some(org_id),
            script!(|tx| refine_intent(tx, org_id, message_id, intent, now)),
        )
        .await
    }

    /// Once `every` or more messages have arrived in a conversation since its last summary (or
    /// since the model was set or AI turned on), takes its latest `take` messages of that time
    /// for a summary, and marks them taken in the same transaction: one instance summarises a
    /// stretch once, even when the model then fails. None otherwise.
    pub async fn claim_thread(
        &self,
        org_id: Id,
        conversation_id: Id,
        every: u32,
        take: u32,
    ) -> StoreResult<Option<ThreadText>> {
        self.write(
            Some(org_id),
            script!(|tx| claim_thread(tx, org_id, conversation_id, every, take)),
        )
        .await
    }

    /// Writes a summary into the thread as a system note.
    pub async fn add_summary(
        &self,
        org_id: Id,
        conversation_id: Id,
        of: SummaryOf,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let text = text.to_owned();
        self.write(
            Some(org_id),
            script!(|tx| add_summary(tx, org_id, conversation_id, (of, &text), now)),
        )
        .await
    }
}
