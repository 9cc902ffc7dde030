//! A conversation's cached thread (THR-4 … THR-6, THR-8): messages, calls and notes interleaved,
//! newest first, paged exactly like the server's thread (ties at one instant order by kind —
//! message 0, call 1, note 2 — then id).

use chrono::{DateTime, Utc};
use inbox_core::{Call, Channel, Id, ThreadItem};
use rusqlite::{params, OptionalExtension};

use super::{ms, Cache, CacheResult};

/// `activity` rows of kinds 0–2 are the thread's entries in the server's order.
const PAGE_SQL: &str = "
    SELECT a.kind, coalesce(m.data, c.data, n.data)
    FROM activity a
    LEFT JOIN messages m ON a.kind = 0 AND m.id = a.ref_id
    LEFT JOIN calls c ON a.kind = 1 AND c.id = a.ref_id
    LEFT JOIN notes n ON a.kind = 2 AND n.id = a.ref_id
    WHERE a.conversation_id = ?1 AND a.kind <= 2 AND (a.at, a.kind, a.ref_id) < (?2, ?3, ?4)
    ORDER BY a.at DESC, a.kind DESC, a.ref_id DESC LIMIT ?5";

/// Kind numbers of the thread order.
pub const THREAD_MESSAGE: u8 = 0;
pub const THREAD_CALL: u8 = 1;
pub const THREAD_NOTE: u8 = 2;

/// The `before` key of an item, for paging on from it.
pub fn thread_key(item: &ThreadItem) -> (DateTime<Utc>, u8, Id) {
    match item {
        ThreadItem::Message(m) => (m.created_at, THREAD_MESSAGE, m.id),
        ThreadItem::Call(c) => (c.started_at, THREAD_CALL, c.id),
        ThreadItem::Note(n) => (n.created_at, THREAD_NOTE, n.id),
    }
}

impl Cache {
    /// Newest first, at most `limit`, strictly older than `before` (at, kind, id).
    pub fn thread(
        &self,
        conversation_id: Id,
        before: Option<(DateTime<Utc>, u8, Id)>,
        limit: usize,
    ) -> CacheResult<Vec<ThreadItem>> {
        let (at, kind, id) = match before {
            Some((at, kind, id)) => (ms(at), i64::from(kind), id),
            None => (i64::MAX, i64::MAX, i64::MAX),
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .conn
            .prepare_cached(PAGE_SQL)?
            .query_map(params![conversation_id, at, kind, id, limit], |r| {
                Ok((r.get::<_, u8>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(k, data)| {
                Ok(match k {
                    THREAD_MESSAGE => ThreadItem::Message(serde_json::from_str(&data)?),
                    THREAD_CALL => ThreadItem::Call(serde_json::from_str(&data)?),
                    _ => ThreadItem::Note(serde_json::from_str(&data)?),
                })
            })
            .collect()
    }
}

impl Cache {
    /// Whether the cached thread holds any message on `channel`, and when the customer last
    /// wrote on it (the WhatsApp window of THR-2 starts from that).
    pub fn channel_activity(
        &self,
        conversation_id: Id,
        channel: Channel,
    ) -> CacheResult<Option<Option<DateTime<Utc>>>> {
        let (any, last_inbound): (i64, Option<i64>) = self
            .conn
            .prepare_cached(
                "SELECT count(*), max(CASE WHEN inbound = 1 THEN created_at END) FROM messages
             WHERE conversation_id = ?1 AND json_extract(data, '$.channel') = ?2",
            )?
            .query_row(params![conversation_id, channel.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok((any > 0).then(|| last_inbound.and_then(DateTime::from_timestamp_millis)))
    }
}

impl Cache {
    /// One cached call (VOI-8 opens offline too).
    pub fn call(&self, id: Id) -> CacheResult<Option<Call>> {
        let data: Option<String> = self
            .conn
            .prepare_cached("SELECT data FROM calls WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
    }
}
