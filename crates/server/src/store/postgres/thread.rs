//! A conversation's thread: messages, calls and notes interleaved, newest page first (THR-4 …
//! THR-6, THR-8), and adding notes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::{ThreadPage, PAGE_SIZE};
use inbox_core::sync::Change;
use inbox_core::{Id, Note, ThreadItem};
use sqlx::PgConnection;

use super::events::{emit, emit_conversation};
use super::rows::{self, CALL_SELECT, MESSAGE_SELECT};
use super::{activity_kind, ensure_conversation, record_activity, PgStore};
use crate::store::rows::{from_ms, ms};
use crate::store::{Actor, StoreError, StoreResult, ThreadCursor, ThreadStore};

/// Ties at one instant order by kind (message, call, note) then id, so paging is total.
const PAGE_SQL: &str = "
    SELECT k, id, at FROM (
        SELECT 0::bigint AS k, id, created_at AS at FROM messages WHERE conversation_id = $1
        UNION ALL SELECT 1, id, started_at FROM calls WHERE conversation_id = $1
        UNION ALL SELECT 2, id, created_at FROM notes WHERE conversation_id = $1
    ) t WHERE (at, k, id) < ($2, $3, $4)
    ORDER BY at DESC, k DESC, id DESC LIMIT $5";

async fn load_item(c: &mut PgConnection, kind: u8, id: Id) -> StoreResult<ThreadItem> {
    let one = |select: &str, key: &str| format!("{select} WHERE {key} = $1");
    Ok(match kind {
        0 => {
            let row = sqlx::query(sqlx::AssertSqlSafe(one(MESSAGE_SELECT, "m.id")))
                .bind(id)
                .fetch_optional(c)
                .await?
                .ok_or(StoreError::NotFound)?;
            ThreadItem::Message(rows::message(&row)?)
        }
        1 => {
            let row = sqlx::query(sqlx::AssertSqlSafe(one(CALL_SELECT, "id")))
                .bind(id)
                .fetch_optional(c)
                .await?
                .ok_or(StoreError::NotFound)?;
            ThreadItem::Call(rows::call(&row)?)
        }
        _ => ThreadItem::Note(rows::load_note(c, id).await?),
    })
}

pub(crate) async fn page(
    c: &mut PgConnection,
    org: Id,
    conversation_id: Id,
    before: Option<ThreadCursor>,
) -> StoreResult<ThreadPage> {
    ensure_conversation(c, org, conversation_id).await?;
    let (at, kind, id) = match before {
        Some(k) => (ms(k.at), i64::from(k.kind), k.id),
        None => (i64::MAX, i64::MAX, i64::MAX),
    };
    let found: Vec<(i64, Id, i64)> = sqlx::query_as(PAGE_SQL)
        .bind(conversation_id)
        .bind(at)
        .bind(kind)
        .bind(id)
        .bind(PAGE_SIZE as i64 + 1)
        .fetch_all(&mut *c)
        .await?;
    let mut keys: Vec<ThreadCursor> = found
        .into_iter()
        .map(|(k, id, at)| ThreadCursor {
            kind: u8::try_from(k).unwrap_or(2),
            id,
            at: from_ms(at),
        })
        .collect();
    let more = keys.len() > PAGE_SIZE;
    keys.truncate(PAGE_SIZE);
    let mut items = Vec::with_capacity(keys.len());
    for k in &keys {
        items.push(load_item(c, k.kind, k.id).await?);
    }
    let next_cursor = if more {
        keys.last().map(|k| crate::cursor::encode_thread(*k))
    } else {
        None
    };
    Ok(ThreadPage { items, next_cursor })
}

#[async_trait]
impl ThreadStore for PgStore {
    async fn thread_page(
        &self,
        actor: &Actor,
        conversation_id: Id,
        before: Option<ThreadCursor>,
    ) -> StoreResult<ThreadPage> {
        page(
            &mut *self.conn().await?,
            actor.org_id,
            conversation_id,
            before,
        )
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
        let mut tx = self.begin(org).await?;
        ensure_conversation(&mut tx, org, conversation_id).await?;
        let id: Id = sqlx::query_scalar(
            "INSERT INTO notes (org_id, conversation_id, kind, body, author_id, created_at)
             VALUES ($1, $2, 'note', $3, $4, $5) RETURNING id",
        )
        .bind(org)
        .bind(conversation_id)
        .bind(&body)
        .bind(user)
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        record_activity(&mut tx, org, conversation_id, now, activity_kind::NOTE, id).await?;
        let note = rows::load_note(&mut tx, id).await?;
        emit(&mut tx, org, now, &Change::Note(note.clone())).await?;
        emit_conversation(&mut tx, org, conversation_id, now).await?;
        self.commit(tx).await?;
        Ok(note)
    }
}
