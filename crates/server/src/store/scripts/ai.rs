//! The AI switch and intent corrections (issue 16, AIA-1).

use chrono::{DateTime, Utc};
use inbox_core::analytics::{Fact, OpeningHours};
use inbox_core::intent::Intent;
use inbox_core::sync::Change;
use inbox_core::{Id, Message, Organisation};

use super::analytics::{bulk_values, rebuild, record, BULK_ROWS};
use super::{audit, emit, emit_conversation, load};
use crate::store::analytics::{org_clock, relabel};
use crate::store::backend::script;
use crate::store::db::{args, Arg, Db, Dialect, WriteTx};
use crate::store::rows::{from_ms, ms};
use crate::store::Store;
use crate::store::{Actor, StoreResult};

/// A read's row lock on PostgreSQL (`clause`, such as " FOR UPDATE"), for a row the
/// transaction then writes; SQLite runs one writer at a time and needs none.
pub(crate) fn locking(db: &impl Db, clause: &'static str) -> &'static str {
    match db.dialect() {
        Dialect::Sqlite => "",
        Dialect::Postgres => clause,
    }
}

pub(crate) async fn set_ai_enabled(
    db: &mut impl WriteTx,
    (org, user): (Id, Id),
    enabled: bool,
    now: DateTime<Utc>,
) -> StoreResult<Organisation> {
    let changed = db
        .exec(
            "UPDATE organisations SET ai_enabled = $2 WHERE id = $1 AND ai_enabled <> $2",
            args![org, enabled],
        )
        .await?;
    let organisation = super::accounts::organisation(db, org)
        .await?
        .ok_or(crate::store::StoreError::NotFound)?;
    if changed == 0 {
        // Saved as it was: no audit entry, and no desktop rebuilds its cache for it.
        return Ok(organisation);
    }
    let detail = serde_json::json!({ "enabled": enabled });
    let subject = ("organisation", org);
    audit(db, org, Some(user), "settings.ai", subject, detail, now).await?;
    if enabled {
        // What came while it was off never goes to a language model.
        db.exec(
            "UPDATE provider_settings SET ai_model_floor = (SELECT coalesce(max(id), 0) FROM messages),
                    ai_model_cursor = (SELECT coalesce(max(id), 0) FROM messages),
                    ai_model_since = $2
             WHERE org_id = $1",
            args![org, ms(now)],
        )
        .await?;
    }
    // Every desktop follows: its tabs, and its cached messages' intents.
    emit(db, org, now, &Change::Organisation(organisation.clone())).await?;
    Ok(organisation)
}

pub(crate) async fn opening_hours(db: &mut impl Db, org: Id) -> StoreResult<OpeningHours> {
    let raw = db
        .one(
            "SELECT opening_hours FROM organisations WHERE id = $1",
            args![org],
            |r| r.opt_text(0),
        )
        .await?;
    Ok(org_clock("UTC", raw.as_deref()).hours)
}

pub(crate) async fn set_opening_hours(
    db: &mut impl WriteTx,
    (org, user): (Id, Id),
    hours: OpeningHours,
    now: DateTime<Utc>,
) -> StoreResult<OpeningHours> {
    let json = serde_json::to_string(&hours)?;
    db.exec(
        "UPDATE organisations SET opening_hours = $2 WHERE id = $1",
        args![org, &json],
    )
    .await?;
    let detail = serde_json::to_value(hours)?;
    let subject = ("organisation", org);
    audit(db, org, Some(user), "settings.hours", subject, detail, now).await?;
    // Response times are measured in them: every counter is recounted.
    rebuild(db, org).await?;
    Ok(hours)
}

/// Inbound messages without an intent, after `after` in id order.
pub(crate) async fn unclassified(
    db: &mut impl Db,
    after: Id,
    limit: u32,
) -> StoreResult<Vec<(Id, String)>> {
    db.all(
        "SELECT id, body FROM messages
         WHERE intent IS NULL AND direction = 'inbound' AND id > $1 ORDER BY id LIMIT $2",
        args![after, limit],
        |r| Ok((r.int(0)?, r.text(1)?)),
    )
    .await
}

/// Stores the classifier's intents of inbound messages that have none yet. On PostgreSQL the
/// caller holds the messages' organisations' locks: their counters are written under them, as
/// every other write does, so a rebuild never interleaves.
pub(crate) async fn set_intents(
    db: &mut impl WriteTx,
    intents: &[(Id, &'static str, f64)],
) -> StoreResult<()> {
    // The organisations' locks first, in id order: their counters are written under them, as
    // every other write does, so a rebuild never interleaves.
    let mut orgs = std::collections::BTreeSet::new();
    for chunk in intents.chunks(BULK_ROWS) {
        let sql = format!(
            "SELECT DISTINCT org_id FROM messages WHERE id IN (VALUES {})",
            bulk_values(chunk.len(), 1, 1)
        );
        let ids: Vec<Arg> = chunk.iter().map(|&(id, _, _)| id.into()).collect();
        orgs.extend(db.all(&sql, &ids, |r| r.int(0)).await?);
    }
    for org in orgs {
        db.lock(org).await?;
    }
    let mut facts: Vec<(Id, i64, Fact)> = Vec::new();
    for chunk in intents.chunks(BULK_ROWS) {
        let sql = format!(
            "WITH u (id, label, confidence) AS (VALUES {})
             UPDATE messages SET intent = u.label, intent_confidence = u.confidence FROM u
             WHERE messages.id = u.id AND messages.intent IS NULL AND messages.direction = 'inbound'
             RETURNING org_id, created_at, intent, intent_correction",
            bulk_values(chunk.len(), 3, 1)
        );
        let args: Vec<Arg> = chunk
            .iter()
            .flat_map(|&(id, label, confidence)| [id.into(), label.into(), confidence.into()])
            .collect();
        let set = db
            .all(&sql, &args, |r| {
                Ok((r.int(0)?, r.int(1)?, r.opt_text(2)?, r.opt_text(3)?))
            })
            .await?;
        facts.extend(set.into_iter().filter_map(|(org, at, label, correction)| {
            let c = correction.as_deref();
            let fact = relabel(from_ms(at), (None, c), (label.as_deref(), c))?;
            Some((org, at, fact))
        }));
    }
    // In a fixed order, so two writers never wait on each other's counters in a cycle.
    facts.sort_by_key(|(org, at, _)| (*org, *at));
    for (org, _, fact) in facts {
        record(db, org, None, fact).await?;
    }
    Ok(())
}

/// A staff member's label for an inbound message (AIA-1).
pub(crate) async fn correct_intent(
    db: &mut impl WriteTx,
    (org, user): (Id, Id),
    message_id: Id,
    label: Intent,
    now: DateTime<Utc>,
) -> StoreResult<Message> {
    let sql = format!(
        "SELECT intent, intent_correction, created_at FROM messages
         WHERE id = $1 AND org_id = $2 AND direction = 'inbound'{}",
        locking(db, " FOR UPDATE")
    );
    let (intent, correction, at) = db
        .one(&sql, args![message_id, org], |r| {
            Ok((r.opt_text(0)?, r.opt_text(1)?, r.int(2)?))
        })
        .await?;
    let (i, c) = (intent.as_deref(), correction.as_deref());
    let was = c.or(i);
    // `updated_at` stays: a correction is not activity in the conversation (desktops would
    // move it up the list), and the `message` event reaches every cache anyway.
    db.exec(
        "UPDATE messages SET intent_correction = $2, intent_corrected_by = $3,
                intent_corrected_at = $4
         WHERE id = $1",
        args![message_id, label.as_str(), user, ms(now)],
    )
    .await?;
    if let Some(fact) = relabel(from_ms(at), (i, c), (i, Some(label.as_str()))) {
        record(db, org, None, fact).await?;
    }
    let detail = serde_json::json!({ "from": was, "to": label.as_str() });
    let subject = ("message", message_id);
    let action = "message.intent_corrected";
    audit(db, org, Some(user), action, subject, detail, now).await?;
    let message = load::message(db, org, message_id).await?;
    emit(db, org, now, &Change::Message(message.clone())).await?;
    // Its row shows the latest message's intent.
    emit_conversation(db, org, message.conversation_id, now).await?;
    Ok(message)
}

/// The organisation's AI switch and the intents of its messages (issue 16, AIA-1).
impl Store {
    /// Turns AI on or off for the caller's organisation; audited. Returns the organisation.
    pub async fn set_ai_enabled(
        &self,
        actor: &Actor,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<Organisation> {
        let who = (actor.org_id, actor.user_id);
        self.write(
            Some(who.0),
            script!(|tx| set_ai_enabled(tx, who, enabled, now)),
        )
        .await
    }

    /// The organisation's opening hours (the default week until an admin sets them).
    pub async fn opening_hours(&self, actor: &Actor) -> StoreResult<OpeningHours> {
        let org = actor.org_id;
        self.read(script!(|c| opening_hours(c, org))).await
    }

    /// Sets them (already validated); audited; the analytics counters are recounted in them.
    pub async fn set_opening_hours(
        &self,
        actor: &Actor,
        hours: OpeningHours,
        now: DateTime<Utc>,
    ) -> StoreResult<OpeningHours> {
        let who = (actor.org_id, actor.user_id);
        self.write(
            Some(who.0),
            script!(|tx| set_opening_hours(tx, who, hours, now)),
        )
        .await
    }

    /// Inbound messages stored before intents were (any organisation), oldest first after
    /// `after`: (id, body).
    pub async fn unclassified(&self, after: Id, limit: u32) -> StoreResult<Vec<(Id, String)>> {
        self.read(script!(|c| unclassified(c, after, limit))).await
    }

    /// Stores the classifier's intents of messages that have none yet: (id, label, confidence).
    pub async fn set_intents(&self, intents: Vec<(Id, &'static str, f64)>) -> StoreResult<()> {
        self.write(None, script!(|tx| set_intents(tx, &intents)))
            .await
    }

    /// A staff member's label for an inbound message, kept beside the classifier's; audited and
    /// sent to every desktop. NotFound for an outbound message or another organisation's.
    pub async fn correct_intent(
        &self,
        actor: &Actor,
        message_id: Id,
        label: Intent,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let who = (actor.org_id, actor.user_id);
        self.write(
            Some(who.0),
            script!(|tx| correct_intent(tx, who, message_id, label, now)),
        )
        .await
    }
}
