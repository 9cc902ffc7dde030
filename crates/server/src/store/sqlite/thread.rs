//! A conversation's thread: messages, calls and notes interleaved, newest page first (THR-4 …
//! THR-6, THR-8), and adding notes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::{ThreadPage, PAGE_SIZE};
use inbox_core::{Id, Note, ThreadItem};
use rusqlite::{params, Connection};

use super::events::{emit, emit_conversation};
use super::rows::{self, CALL_SELECT, MESSAGE_SELECT, NOTE_SELECT};
use super::{activity_kind, ensure_conversation, found, from_ms, ms, record_activity, SqliteStore};
use crate::store::{Actor, StoreResult, ThreadCursor, ThreadStore};
use inbox_core::sync::Change;

/// Ties at one instant order by kind (message, call, note) then id, so paging is total.
const PAGE_SQL: &str = "
    SELECT k, id, at FROM (
        SELECT 0 AS k, id, created_at AS at FROM messages WHERE conversation_id = ?1
        UNION ALL SELECT 1, id, started_at FROM calls WHERE conversation_id = ?1
        UNION ALL SELECT 2, id, created_at FROM notes WHERE conversation_id = ?1
    ) WHERE (at, k, id) < (?2, ?3, ?4)
    ORDER BY at DESC, k DESC, id DESC LIMIT ?5";

fn load_item(conn: &Connection, kind: u8, id: Id) -> StoreResult<ThreadItem> {
    Ok(match kind {
        0 => ThreadItem::Message(found(
            conn.prepare_cached(&format!("{MESSAGE_SELECT} WHERE m.id = ?1"))?
                .query_row([id], rows::message),
        )?),
        1 => ThreadItem::Call(found(
            conn.prepare_cached(&format!("{CALL_SELECT} WHERE id = ?1"))?
                .query_row([id], rows::call),
        )?),
        _ => ThreadItem::Note(found(
            conn.prepare_cached(&format!("{NOTE_SELECT} WHERE n.id = ?1"))?
                .query_row([id], rows::note),
        )?),
    })
}

pub(crate) fn page(
    conn: &Connection,
    org: Id,
    conversation_id: Id,
    before: Option<ThreadCursor>,
) -> StoreResult<ThreadPage> {
    ensure_conversation(conn, org, conversation_id)?;
    let (at, kind, id) = match before {
        Some(c) => (ms(c.at), i64::from(c.kind), c.id),
        None => (i64::MAX, i64::MAX, i64::MAX),
    };
    let mut keys = conn
        .prepare_cached(PAGE_SQL)?
        .query_map(
            params![conversation_id, at, kind, id, PAGE_SIZE as i64 + 1],
            |r| {
                Ok(ThreadCursor {
                    kind: r.get(0)?,
                    id: r.get(1)?,
                    at: from_ms(r.get(2)?),
                })
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let more = keys.len() > PAGE_SIZE;
    keys.truncate(PAGE_SIZE);
    let items = keys
        .iter()
        .map(|k| load_item(conn, k.kind, k.id))
        .collect::<StoreResult<Vec<_>>>()?;
    let next_cursor = if more {
        keys.last().map(|k| crate::cursor::encode_thread(*k))
    } else {
        None
    };
    Ok(ThreadPage { items, next_cursor })
}

#[async_trait]
impl ThreadStore for SqliteStore {
    async fn thread_page(
        &self,
        actor: &Actor,
        conversation_id: Id,
        before: Option<ThreadCursor>,
    ) -> StoreResult<ThreadPage> {
        let org = actor.org_id;
        self.read(move |c| page(c, org, conversation_id, before))
            .await
    }

    async fn add_note(
        &self,
        actor: &Actor,
        conversation_id: Id,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Note> {
        let body = crate::store::rows::note_body(body)?;
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            ensure_conversation(tx, org, conversation_id)?;
            tx.prepare_cached(
                "INSERT INTO notes (org_id, conversation_id, kind, body, author_id, created_at)
                 VALUES (?1, ?2, 'note', ?3, ?4, ?5)",
            )?
            .execute(params![org, conversation_id, body, user, ms(now)])?;
            let id = tx.last_insert_rowid();
            record_activity(tx, org, conversation_id, now, activity_kind::NOTE, id)?;
            let note = found(
                tx.prepare_cached(&format!("{NOTE_SELECT} WHERE n.id = ?1"))?
                    .query_row([id], rows::note),
            )?;
            emit(tx, org, now, &Change::Note(note.clone()))?;
            emit_conversation(tx, org, conversation_id, now)?;
            Ok(note)
        })
        .await
    }
}
