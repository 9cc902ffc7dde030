//! The cache's schema: embedded, append-only migrations tracked in `PRAGMA user_version`, and
//! the lists of tables a resync or a sign-out empties.

use rusqlite::Connection;

use super::{CacheError, CacheResult};

/// Migration n (1-based) brings the schema from version n-1 to n. Append only.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_cache.sql"),
    include_str!("../../migrations/0002_outbox_files.sql"),
];

/// What a resync replaces: everything the server sends (rows, threads, reference data), but not
/// the desktop's settings or its outbox.
pub(super) const SYNCED_TABLES: &[&str] = &[
    "conversations",
    "conversation_counts",
    "messages",
    "calls",
    "notes",
    "activity",
    "customers",
    "work_orders",
    "quick_messages",
    "templates",
    "staff",
];

/// Sign-out empties these as well.
pub(super) const ALL_TABLES: &[&str] = &[
    "conversations",
    "conversation_counts",
    "messages",
    "calls",
    "notes",
    "activity",
    "customers",
    "work_orders",
    "quick_messages",
    "templates",
    "staff",
    "settings",
    "outbox",
    "outbox_files",
];

pub(super) fn migrate(conn: &mut Connection) -> CacheResult<()> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known {
        return Err(CacheError::SchemaTooNew { found, known });
    }
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        // PRAGMA takes no parameters; the value is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {}", n + 1))?;
        tx.commit()?;
    }
    Ok(())
}

/// Empties `tables` and the search index.
pub(super) fn clear(conn: &Connection, tables: &[&str]) -> CacheResult<()> {
    for table in tables {
        // Table names come from the constants above, never from input.
        conn.execute(&format!("DELETE FROM {table}"), [])?;
    }
    conn.execute("INSERT INTO search (search) VALUES ('delete-all')", [])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn migrations_set_user_version_and_reopen_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/cache.sqlite");
        {
            let cache = crate::cache::Cache::open(&path).unwrap();
            let v: i64 = cache
                .conn()
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, MIGRATIONS.len() as i64);
            let mode: String = cache
                .conn()
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
        }
        let again = crate::cache::Cache::open(&path).unwrap();
        assert_eq!(again.cursor().unwrap(), None);
    }

    #[test]
    fn a_newer_schema_is_refused_not_misread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite");
        drop(crate::cache::Cache::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA user_version = 99").unwrap();
        drop(conn);
        assert!(matches!(
            crate::cache::Cache::open(&path),
            Err(CacheError::SchemaTooNew { found: 99, .. })
        ));
    }
}
