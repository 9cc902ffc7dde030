//! Work a write transaction saves for its end: moving conversations' last activity forward for
//! the items it stored, handing out search document numbers, and changing the search index.
//!
//! The index changes go last, in rowid order, on purpose. FTS5 keeps a transaction's new terms
//! in memory and writes them out as one segment, but it must write them out early whenever a
//! document arrives with a smaller rowid than the last, and whenever a statement opens a
//! statement journal (an UPDATE that fires triggers) after the table joined the transaction.
//! Our rowids start with the conversation id, so in event order nearly every document would make
//! a segment of its own and the index would spend the batch merging them; sorted and applied
//! together at the end, a batch's documents make one segment.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use inbox_core::Id;
use rusqlite::{params, Connection};

use super::{ms, search, CacheResult};

/// Whether the search index follows row by row, or is rebuilt once after a bulk load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Index {
    Now,
    Later,
}

enum SearchOp {
    /// The rowid and the exact text it was indexed with.
    Remove(i64, String),
    Insert(i64, String),
}

pub(super) struct Deferred {
    index: Index,
    /// Conversation → the latest item time stored for it since its last row.
    bumps: HashMap<Id, DateTime<Utc>>,
    search: Vec<SearchOp>,
    /// The last document number handed out, once read from `meta`.
    last_doc: Option<i64>,
}

impl Deferred {
    pub(super) fn new(index: Index) -> Deferred {
        Deferred {
            index,
            bumps: HashMap::new(),
            search: Vec::new(),
            last_doc: None,
        }
    }

    /// An item at `at` was stored: the server moves its conversation's last activity to at least
    /// that (messages, status changes, calls and notes all count).
    pub(super) fn bump(&mut self, conversation_id: Id, at: DateTime<Utc>) {
        let e = self.bumps.entry(conversation_id).or_insert(at);
        *e = (*e).max(at);
    }

    /// The conversation's row arrived: the server's row already counts every earlier item.
    pub(super) fn row(&mut self, conversation_id: Id) {
        self.bumps.remove(&conversation_id);
    }

    /// Removes the document `text` made at `rowid` (nothing if the text was blank: no document).
    pub(super) fn unindex(&mut self, rowid: i64, text: &str) {
        if self.index == Index::Now && !text.trim().is_empty() {
            self.search.push(SearchOp::Remove(rowid, text.to_string()));
        }
    }

    /// Adds `text` as the document at `rowid` (nothing for blank text).
    pub(super) fn index(&mut self, rowid: i64, text: &str) {
        if self.index == Index::Now && !text.trim().is_empty() {
            self.search.push(SearchOp::Insert(rowid, text.to_string()));
        }
    }

    /// A fresh document number (1 ..= 2^32 - 1) for a message or call. A desktop never stores
    /// four billion of them; the counter only resets when the cache is wiped.
    pub(super) fn next_doc(&mut self, conn: &Connection) -> CacheResult<i64> {
        let last = match self.last_doc {
            Some(n) => n,
            None => conn
                .prepare_cached("SELECT coalesce(value, 0) FROM meta WHERE key = 'next_doc'")?
                .query_row([], |r| r.get(0))?,
        };
        let next = last % 0xFFFF_FFFF + 1;
        self.last_doc = Some(next);
        Ok(next)
    }

    pub(super) fn finish(self, conn: &Connection) -> CacheResult<()> {
        if !self.bumps.is_empty() {
            let mut stmt = conn.prepare_cached(
                "UPDATE conversations
                 SET last_activity_at = ?2, data = json_set(data, '$.last_activity_at', json(?3))
                 WHERE id = ?1 AND last_activity_at < ?2",
            )?;
            for (id, at) in self.bumps {
                stmt.execute(params![id, ms(at), serde_json::to_value(at)?.to_string()])?;
            }
        }
        if let Some(n) = self.last_doc {
            conn.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'next_doc'")?
                .execute([n])?;
        }
        let mut ops = self.search;
        // Stable: the order of the changes to one rowid is kept.
        ops.sort_by_key(|op| match op {
            SearchOp::Remove(rowid, _) | SearchOp::Insert(rowid, _) => *rowid,
        });
        for op in ops {
            match op {
                SearchOp::Remove(rowid, text) => search::remove(conn, rowid, &text)?,
                SearchOp::Insert(rowid, text) => search::insert(conn, rowid, &text)?,
            }
        }
        Ok(())
    }
}
