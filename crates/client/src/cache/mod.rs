//! The desktop engine's local cache (DSK-2, DSK-3, DSK-5): one SQLite file holding the
//! organisation's conversations, their threads, reference data, the desktop's settings and the
//! outbox, fed by sync events and snapshots so the app starts instantly and reads offline.
//!
//! The server is the reference for every read: the list, its counts and search answer like
//! `GET /api/v1/conversations` for the data the cache holds (see `list`).

mod apply;
mod deferred;
mod list;
mod outbox;
mod rows;
mod schema;
mod search;
mod settings;
mod snapshot;
mod thread;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use inbox_core::Id;
use rusqlite::{Connection, OptionalExtension};

pub use apply::Applied;
pub use list::{encode_list_cursor, parse_list_cursor, LocalQuery, LocalScope};
pub use outbox::{OutboxEntry, OutboxFile, OutboxState};
pub use thread::{thread_key, THREAD_CALL, THREAD_MESSAGE, THREAD_NOTE};

/// The local cache. One connection; every write is one transaction.
pub struct Cache {
    conn: Connection,
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cache data: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cache file: {0}")]
    Io(#[from] std::io::Error),
    /// The file was written by a newer build; opening it would misread it.
    #[error("the cache file has schema version {found}; this build knows up to {known}")]
    SchemaTooNew { found: i64, known: i64 },
    /// The search index keys documents by conversation id in 31 bits (see `search`).
    #[error("conversation id {0} is outside the range the local search index supports")]
    IdOutOfRange(Id),
    /// An event's seq is not the one after the cursor: the log has a hole for this cache, so it
    /// must resync from a snapshot instead of skipping what it never received.
    #[error("the sync log skipped from {expected} to {got}")]
    Gap { expected: i64, got: i64 },
    /// A thread panicked while holding the cache (for callers that share it behind a lock).
    #[error("the cache is unavailable: a thread panicked while using it")]
    Poisoned,
}

pub type CacheResult<T> = Result<T, CacheError>;

impl Cache {
    /// Opens (creating the directory and file if needed) and migrates the cache at `path`.
    pub fn open(path: &Path) -> CacheResult<Cache> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        Cache::init(Connection::open(path)?)
    }

    /// A cache that lives as long as the value (tests, or a profile that must not touch disk).
    pub fn open_in_memory() -> CacheResult<Cache> {
        Cache::init(Connection::open_in_memory()?)
    }

    /// Every connection's settings, in one place (STYLE: WAL, synchronous=NORMAL, foreign keys,
    /// a busy timeout, a statement cache big enough for the list's query shapes).
    fn init(mut conn: Connection) -> CacheResult<Cache> {
        conn.busy_timeout(Duration::from_secs(5))?;
        // Returns the mode; an in-memory database answers "memory", which is fine.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        // A 32 MiB page cache holds the list's working set at 100,000 conversations. The WAL is
        // checkpointed every 4,000 pages (16 MiB) rather than 1,000: a sync batch touching
        // conversations all over the file writes more than 1,000 pages, and checkpointing after
        // every commit cost more than the commits. The file is truncated back to 64 MiB.
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA cache_size = -32768;
             PRAGMA wal_autocheckpoint = 4000;
             PRAGMA journal_size_limit = 67108864;",
        )?;
        conn.set_prepared_statement_cache_capacity(128);
        schema::migrate(&mut conn)?;
        Ok(Cache { conn })
    }

    /// The last applied event's seq; None = never synced (or a resync was interrupted): the
    /// caller must load a snapshot first.
    pub fn cursor(&self) -> CacheResult<Option<i64>> {
        read_cursor(&self.conn)
    }

    /// Sign-out (ACC-3): removes everything, outbox and settings included. The file stays but
    /// holds nothing, and is compacted so the deleted pages do not linger on disk.
    pub fn wipe(&mut self) -> CacheResult<()> {
        let tx = self.conn.transaction()?;
        schema::clear(&tx, schema::ALL_TABLES)?;
        tx.execute_batch(
            "UPDATE meta SET value = NULL WHERE key = 'cursor';
             UPDATE meta SET value = 0 WHERE key = 'next_doc';
             DELETE FROM meta WHERE key NOT IN ('cursor', 'next_doc');",
        )?;
        tx.commit()?;
        self.conn.execute_batch("VACUUM;")?;
        // In WAL mode the old pages also sit in the -wal file until a checkpoint truncates it.
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .optional()?;
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

fn read_cursor(conn: &Connection) -> CacheResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'cursor'")?
        .query_row([], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten())
}

fn write_cursor(conn: &Connection, cursor: Option<i64>) -> CacheResult<()> {
    conn.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'cursor'")?
        .execute([cursor])?;
    Ok(())
}

/// Stored times: milliseconds since the epoch, as the server stores them, so keyset cursors agree.
fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// How much the cache holds (benchmarks, diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub conversations: u64,
    /// Messages, calls and notes.
    pub items: u64,
}

impl Cache {
    pub fn stats(&self) -> CacheResult<CacheStats> {
        let count = |table: &str| -> CacheResult<u64> {
            let n: i64 =
                self.conn
                    .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
            Ok(n.max(0) as u64)
        };
        Ok(CacheStats {
            conversations: count("conversations")?,
            items: count("messages")? + count("calls")? + count("notes")?,
        })
    }
}
