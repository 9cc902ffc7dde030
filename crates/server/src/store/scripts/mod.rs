//! The store's transaction scripts, written once for both databases over the statement layer
//! (`store::db`): what a write does, in which order, under which rule. The backends only open
//! the transaction, run a script and commit (issue 15).

pub(crate) mod accounts;
pub(crate) mod ai;
pub(crate) mod analytics;
pub(crate) mod calls;
pub(crate) mod catalog;
pub(crate) mod conversations;
pub(crate) mod directory;
pub(crate) mod dispatch;
pub(crate) mod events;
pub(crate) mod import;
pub(crate) mod language_model;
pub(crate) mod load;
pub(crate) mod media;
pub(crate) mod messages;
pub(crate) mod providers;
pub(crate) mod routing;
pub(crate) mod settings;
pub(crate) mod staff;
pub(crate) mod thread;

use chrono::{DateTime, Utc};
use inbox_core::sync::Change;
use inbox_core::Id;

use super::db::{args, Db, Dialect, WriteTx};
use super::rows::{activity_kind, event_data, ms, NOTE_SELECT};
use super::StoreResult;

/// NotFound unless the conversation belongs to the organisation.
pub(crate) async fn ensure_conversation(db: &mut impl Db, org: Id, id: Id) -> StoreResult<()> {
    db.exists(
        "SELECT 1 FROM conversations WHERE id = $1 AND org_id = $2",
        args![id, org],
    )
    .await
}

/// Records activity on a conversation and moves its last-activity time forward (LST-9).
pub(crate) async fn record_activity(
    db: &mut impl Db,
    org: Id,
    conversation: Id,
    at: DateTime<Utc>,
    kind: &str,
    ref_id: Id,
) -> StoreResult<()> {
    db.exec(
        "INSERT INTO activity (org_id, conversation_id, at, kind, ref_id) VALUES ($1, $2, $3, $4, $5)",
        args![org, conversation, ms(at), kind, ref_id],
    )
    .await?;
    db.exec(
        "UPDATE conversations SET last_activity_at = greatest(last_activity_at, $2) WHERE id = $1",
        args![conversation, ms(at)],
    )
    .await?;
    Ok(())
}

/// Appends to the audit log: who did what to which subject.
pub(crate) async fn audit(
    db: &mut impl Db,
    org: Id,
    user: Option<Id>,
    action: &str,
    subject: (&str, Id),
    detail: serde_json::Value,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let detail = detail.to_string();
    db.exec(
        "INSERT INTO audit_log (org_id, user_id, action, subject_type, subject_id, detail, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![org, user, action, subject.0, subject.1, &detail, ms(at)],
    )
    .await?;
    Ok(())
}

/// Indexes a searchable text of one kind (`fts_kind`) for its source row.
pub(crate) async fn index(
    db: &mut impl WriteTx,
    kind: i64,
    source: Id,
    org: Id,
    conversation: Id,
    text: &str,
) -> StoreResult<()> {
    db.index_text(source * 4 + kind, org, conversation, text)
        .await
}

/// Appends a change to the organisation's log and returns its sequence number. The counter is
/// taken in the caller's transaction: a rollback returns it (gap-free), and its row stays
/// locked until commit (ordered, across instances too).
pub(crate) async fn emit(
    db: &mut impl WriteTx,
    org: Id,
    at: DateTime<Utc>,
    change: &Change,
) -> StoreResult<i64> {
    let data = event_data(change)?;
    let seq = match db.dialect() {
        // One round trip: this runs twice for every stored message.
        Dialect::Postgres => {
            db.int(
                "WITH next AS (UPDATE organisations SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq)
                 INSERT INTO events (org_id, seq, type, data, at)
                 SELECT $1, event_seq, $2, $3, $4 FROM next RETURNING seq",
                args![org, change.type_name(), &data, ms(at)],
            )
            .await?
        }
        // SQLite has no UPDATE inside WITH; its two statements cost no round trip.
        Dialect::Sqlite => {
            let seq = db
                .int(
                    "UPDATE organisations SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq",
                    args![org],
                )
                .await?;
            db.exec(
                "INSERT INTO events (org_id, seq, type, data, at) VALUES ($1, $2, $3, $4, $5)",
                args![org, seq, change.type_name(), &data, ms(at)],
            )
            .await?;
            seq
        }
    };
    db.touch(org).await?;
    Ok(seq)
}

/// Emits a conversation's current row.
pub(crate) async fn emit_conversation(
    db: &mut impl WriteTx,
    org: Id,
    id: Id,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let summary = load::summary(db, org, id).await?;
    emit(db, org, at, &Change::Conversation(summary)).await?;
    Ok(())
}

/// A system entry in a thread (THR-8): work order linked, call moved.
pub(crate) async fn system_note(
    db: &mut impl WriteTx,
    org: Id,
    conversation: Id,
    body: &str,
    author: Option<Id>,
    at: DateTime<Utc>,
) -> StoreResult<Id> {
    let id = db
        .int(
            "INSERT INTO notes (org_id, conversation_id, kind, body, author_id, created_at)
             VALUES ($1, $2, 'system', $3, $4, $5) RETURNING id",
            args![org, conversation, body, author, ms(at)],
        )
        .await?;
    record_activity(db, org, conversation, at, activity_kind::NOTE, id).await?;
    let note = db
        .one(&format!("{NOTE_SELECT} WHERE n.id = $1"), args![id], |r| {
            super::rows::note(r)
        })
        .await?;
    emit(db, org, at, &Change::Note(note)).await?;
    Ok(id)
}
