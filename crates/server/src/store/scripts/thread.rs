//! A conversation's thread: messages, calls and notes interleaved, newest page first (THR-4 …
//! THR-6, THR-8), and adding notes.

use chrono::{DateTime, Utc};
use inbox_core::api::{ThreadPage, PAGE_SIZE};
use inbox_core::sync::Change;
use inbox_core::{Id, Note, ThreadItem};

use super::{emit, emit_conversation, ensure_conversation, load, record_activity};
use crate::store::backend::script;
use crate::store::db::{args, Db, WriteTx};
use crate::store::rows::{self, activity_kind, ms, CALL_SELECT, MESSAGE_SELECT};
use crate::store::rules;
use crate::store::Store;
use crate::store::{Actor, StoreResult, ThreadCursor};

/// Ties at one instant order by kind (message, call, note) then id, so paging is total.
const PAGE_SQL: &str = "
    SELECT k, id, at FROM (
        SELECT CAST(0 AS bigint) AS k, id, created_at AS at FROM messages WHERE conversation_id = $1
        UNION ALL SELECT 1, id, started_at FROM calls WHERE conversation_id = $1
        UNION ALL SELECT 2, id, created_at FROM notes WHERE conversation_id = $1
    ) t WHERE (at, k, id) < ($2, $3, $4)
    ORDER BY at DESC, k DESC, id DESC LIMIT $5";

/// One page of the thread, before `before` (the newest page without one).
pub(crate) async fn page(
    db: &mut impl Db,
    org: Id,
    conversation: Id,
    before: Option<ThreadCursor>,
) -> StoreResult<ThreadPage> {
    ensure_conversation(db, org, conversation).await?;
    let (at, kind, id) = match before {
        Some(c) => (ms(c.at), i64::from(c.kind), c.id),
        None => (i64::MAX, i64::MAX, i64::MAX),
    };
    let mut keys = db
        .all(
            PAGE_SQL,
            args![conversation, at, kind, id, PAGE_SIZE as i64 + 1],
            |r| {
                Ok(ThreadCursor {
                    kind: u8::try_from(r.int(0)?).unwrap_or(2),
                    id: r.int(1)?,
                    at: r.time(2)?,
                })
            },
        )
        .await?;
    let more = keys.len() > PAGE_SIZE;
    keys.truncate(PAGE_SIZE);
    let mut items = Vec::with_capacity(keys.len());
    for k in &keys {
        items.push(item(db, k.kind, k.id).await?);
    }
    let next_cursor = if more {
        keys.last().map(|k| crate::cursor::encode_thread(*k))
    } else {
        None
    };
    Ok(ThreadPage { items, next_cursor })
}

/// One item of the page (already scoped by its conversation).
async fn item(db: &mut impl Db, kind: u8, id: Id) -> StoreResult<ThreadItem> {
    Ok(match kind {
        0 => {
            let sql = format!("{MESSAGE_SELECT} WHERE m.id = $1");
            ThreadItem::Message(db.one(&sql, args![id], |r| rows::message(r)).await?)
        }
        1 => {
            let sql = format!("{CALL_SELECT} WHERE id = $1");
            ThreadItem::Call(db.one(&sql, args![id], |r| rows::call(r)).await?)
        }
        _ => ThreadItem::Note(load::note(db, id).await?),
    })
}

/// A staff note on the thread (THR-8); `body` is already checked.
pub(crate) async fn add_note(
    db: &mut impl WriteTx,
    org: Id,
    user: Id,
    conversation: Id,
    body: &str,
    now: DateTime<Utc>,
) -> StoreResult<Note> {
    ensure_conversation(db, org, conversation).await?;
    let id = db
        .int(
            "INSERT INTO notes (org_id, conversation_id, kind, body, author_id, created_at)
             VALUES ($1, $2, 'note', $3, $4, $5) RETURNING id",
            args![org, conversation, body, user, ms(now)],
        )
        .await?;
    record_activity(db, org, conversation, now, activity_kind::NOTE, id).await?;
    let note = load::note(db, id).await?;
    emit(db, org, now, &Change::Note(note.clone())).await?;
    emit_conversation(db, org, conversation, now).await?;
    Ok(note)
}

impl Store {
    pub async fn thread_page(
        &self,
        actor: &Actor,
        conversation_id: Id,
        before: Option<ThreadCursor>,
    ) -> StoreResult<ThreadPage> {
        let org = actor.org_id;
        self.read(script!(|c| page(c, org, conversation_id, before)))
            .await
    }

    pub async fn add_note(
        &self,
        actor: &Actor,
        conversation_id: Id,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Note> {
        let body = rules::note_body(body)?;
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(
            Some(org),
            script!(|tx| add_note(tx, org, user, conversation_id, &body, now)),
        )
        .await
    }
}
