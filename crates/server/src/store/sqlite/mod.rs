//! The SQLite store: rusqlite over an r2d2 pool, WAL, foreign keys, embedded migrations. Calls run
//! on tokio's blocking pool; every write is one `BEGIN IMMEDIATE` transaction, so concurrent
//! writers queue on SQLite's lock instead of failing on a read-to-write upgrade.

pub(crate) mod db;
mod rows;
mod session_ends;

use std::path::Path;
use std::time::Duration;

use inbox_core::Id;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;

use super::backend::Script;
use super::db::now;
use super::db::{Conn, Tx};
use super::group_commit::Batcher;
use super::scripts::messages::Inbound;
use super::{scripts, Ingested, StoreError, StoreResult};
use db::Lite;

/// Migrations in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/sqlite/0001_init.sql"),
    include_str!("../../../migrations/sqlite/0002_event_log.sql"),
    include_str!("../../../migrations/sqlite/0003_count_indexes.sql"),
    include_str!("../../../migrations/sqlite/0004_providers.sql"),
    include_str!("../../../migrations/sqlite/0005_early_statuses.sql"),
    include_str!("../../../migrations/sqlite/0006_dispatch_claims.sql"),
    include_str!("../../../migrations/sqlite/0007_accounts.sql"),
    include_str!("../../../migrations/sqlite/0008_awaiting_status.sql"),
    include_str!("../../../migrations/sqlite/0009_unknown_unlinked.sql"),
    include_str!("../../../migrations/sqlite/0010_intents_and_owner.sql"),
    include_str!("../../../migrations/sqlite/0011_analytics.sql"),
    include_str!("../../../migrations/sqlite/0012_roles.sql"),
    include_str!("../../../migrations/sqlite/0013_language_model.sql"),
    include_str!("../../../migrations/sqlite/0014_media.sql"),
    include_str!("../../../migrations/sqlite/0015_uploads.sql"),
    include_str!("../../../migrations/sqlite/0016_template_headers.sql"),
    include_str!("../../../migrations/sqlite/0017_shared_predicates.sql"),
];

pub struct SqliteStore {
    pool: r2d2::Pool<SqliteConnectionManager>,
    /// Organisation ids whose log grew, sent after each commit (see `events::emit`).
    changes: tokio::sync::broadcast::Sender<Id>,
    /// Seals provider secrets before they are stored.
    pub(crate) secrets: crate::secrets::SecretBox,
    writer: Writer,
    /// Inbound messages, written in groups under one commit (`group_commit`).
    inbound: Batcher<Inbound, Ingested>,
    /// Users whose sessions were ended, in any process (see `session_ends.rs`).
    session_ends: tokio::sync::broadcast::Sender<Id>,
    /// Stops the `session_ends` poller when the store is dropped.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted) {
            return StoreError::TimedOut;
        }
        StoreError::Internal(e.into())
    }
}

/// Interrupts the connection's running statements once `budget` has passed, unless dropped
/// first. The statement then fails with `SQLITE_INTERRUPT` (`StoreError::TimedOut`) and the
/// connection goes back to the pool unharmed. The timer interrupts only while holding the armed
/// flag, and dropping clears the flag under the same lock, so an interrupt can never land on
/// the next user's statement once the connection is back in the pool.
pub(crate) struct Deadline {
    armed: std::sync::Arc<std::sync::Mutex<bool>>,
    timer: Option<tokio::task::JoinHandle<()>>,
}

impl Deadline {
    /// Must be called on a thread inside the runtime (the store's blocking tasks are).
    pub(crate) fn arm(conn: &Connection, budget: Duration) -> Deadline {
        let interrupt = conn.get_interrupt_handle();
        let armed = std::sync::Arc::new(std::sync::Mutex::new(true));
        let timer = tokio::runtime::Handle::try_current().ok().map(|rt| {
            let armed = std::sync::Arc::clone(&armed);
            rt.spawn(async move {
                tokio::time::sleep(budget).await;
                let armed = armed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if *armed {
                    interrupt.interrupt();
                }
            })
        });
        Deadline { armed, timer }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        *self
            .armed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = false;
        if let Some(timer) = self.timer.take() {
            timer.abort();
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Internal(e.into())
    }
}

/// How far a commit goes before it is answered (`?synchronous=` on the database URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// The default: a commit survives the server process dying; a power cut may lose the
    /// last commits (the WAL is synced at checkpoints), never corrupt the file.
    Normal,
    /// Every commit is synced to disk before it is answered: survives a power cut too.
    Full,
}

impl Synchronous {
    /// Splits `path?synchronous=full|normal` into the path and the setting.
    pub fn from_path(path: &str) -> anyhow::Result<(&str, Synchronous)> {
        let Some((path, query)) = path.split_once('?') else {
            return Ok((path, Synchronous::Normal));
        };
        let mut setting = Synchronous::Normal;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            setting = match pair.to_ascii_lowercase().as_str() {
                "synchronous=normal" => Synchronous::Normal,
                "synchronous=full" => Synchronous::Full,
                other => anyhow::bail!(
                    "unknown SQLite option {other:?}: the database URL takes synchronous=normal or synchronous=full"
                ),
            };
        }
        Ok((path, setting))
    }

    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Normal => "PRAGMA synchronous = NORMAL;",
            Synchronous::Full => "PRAGMA synchronous = FULL;",
        }
    }
}

fn configure(conn: &mut Connection, synchronous: Synchronous) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch(synchronous.pragma())?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32000;",
    )?;
    conn.set_prepared_statement_cache_capacity(128);
    db::add_functions(conn)?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &str) -> anyhow::Result<SqliteStore> {
        let path = path.to_string();
        let (pool, secrets) =
            tokio::task::spawn_blocking(move || SqliteStore::open_blocking(&path)).await??;
        let (changes, _) = tokio::sync::broadcast::channel(1024);
        let (session_ends, _) = tokio::sync::broadcast::channel(256);
        let (stop, stopped) = tokio::sync::oneshot::channel();
        session_ends::start(pool.clone(), session_ends.clone(), stopped);
        let writer = Writer {
            pool: pool.clone(),
            turn: Default::default(),
            changes: changes.clone(),
        };
        let batches = writer.clone();
        let inbound = Batcher::start(move |batch: Vec<Inbound>| {
            let writer = batches.clone();
            async move {
                writer
                    .write(move |lite| now(scripts::messages::ingest_many(lite, &batch)))
                    .await
            }
        });
        Ok(SqliteStore {
            pool,
            changes,
            secrets,
            writer,
            inbound,
            session_ends,
            _stop: stop,
        })
    }

    fn open_blocking(
        path: &str,
    ) -> anyhow::Result<(
        r2d2::Pool<SqliteConnectionManager>,
        crate::secrets::SecretBox,
    )> {
        let (path, synchronous) = Synchronous::from_path(path)?;
        if let Some(dir) = Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let manager = SqliteConnectionManager::file(path)
            .with_init(move |c: &mut Connection| configure(c, synchronous));
        let pool = r2d2::Pool::builder()
            .max_size(8)
            .connection_timeout(Duration::from_secs(30))
            .build(manager)?;
        let mut conn = pool.get()?;
        migrate(&mut conn)?;
        let secrets = crate::secrets::SecretBox::load(Path::new(&format!("{path}.key")))?;
        Ok((pool, secrets))
    }
}

/// The ways to run a script `Store` hands over (`store::backend`).
impl SqliteStore {
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl for<'c> FnOnce(Conn<'c>) -> Script<'c, T> + Send + 'static,
    ) -> StoreResult<T> {
        let pool = self.pool.clone();
        blocking(move || now(f(Conn::Lite(&mut Lite::new(pool.get()?))))).await
    }

    pub(crate) async fn read_snapshot<T: Send + 'static>(
        &self,
        budget: Option<Duration>,
        f: impl for<'c> FnOnce(Conn<'c>) -> Script<'c, T> + Send + 'static,
    ) -> StoreResult<T> {
        let pool = self.pool.clone();
        blocking(move || {
            let mut lite = Lite::new(pool.get()?);
            // Rolled back when `lite` is dropped: it only read.
            lite.conn().execute_batch("BEGIN")?;
            let _deadline = budget.map(|b| Deadline::arm(lite.conn(), b));
            now(f(Conn::Lite(&mut lite)))
        })
        .await
    }

    pub(crate) async fn write_one<T: Send + 'static>(
        &self,
        f: impl for<'c> FnOnce(Conn<'c>) -> Script<'c, T> + Send + 'static,
    ) -> StoreResult<T> {
        self.writer
            .write(move |lite| now(f(Conn::Lite(lite))))
            .await
    }

    pub(crate) async fn write<T: Send + 'static>(
        &self,
        _lock: Option<Id>,
        f: impl for<'c> FnOnce(Tx<'c>) -> Script<'c, T> + Send + 'static,
    ) -> StoreResult<T> {
        self.writer.write(move |lite| now(f(Tx::Lite(lite)))).await
    }

    pub(crate) async fn ingest_grouped(&self, job: Inbound) -> StoreResult<Ingested> {
        self.inbound.submit(job).await
    }

    pub(crate) fn secret_box(&self) -> &crate::secrets::SecretBox {
        &self.secrets
    }

    pub(crate) fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<Id> {
        self.changes.subscribe()
    }

    pub(crate) fn subscribe_session_ends(&self) -> tokio::sync::broadcast::Receiver<Id> {
        self.session_ends.subscribe()
    }
}

/// Runs `f` on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Internal(e.into()))?
}

/// The one writer: transactions queue for it here, since SQLite allows one writer anyway and
/// its own busy handler waits by sleeping with backoff, which under load costs far more than
/// the writes.
#[derive(Clone)]
struct Writer {
    pool: r2d2::Pool<SqliteConnectionManager>,
    turn: std::sync::Arc<std::sync::Mutex<()>>,
    changes: tokio::sync::broadcast::Sender<Id>,
}

impl Writer {
    /// Runs `f` in one immediate transaction, committed if it succeeds, then announces the
    /// organisations whose log grew.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Lite) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let pool = self.pool.clone();
        let turn = std::sync::Arc::clone(&self.turn);
        let changes = self.changes.clone();
        blocking(move || {
            // A panic in an earlier write poisons nothing worth keeping: the lock guards no data.
            let _turn = turn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut lite = Lite::new(pool.get()?);
            lite.conn().execute_batch("BEGIN IMMEDIATE")?;
            let out = f(&mut lite)?;
            lite.conn().execute_batch("COMMIT")?;
            // Announced here rather than by the caller: one that went away (a request closed
            // mid-write) still had its write made, and the desktops must hear of it.
            for org in lite.take_touched() {
                // No receiver (no one connected) is not an error.
                let _ = changes.send(org);
            }
            Ok(out)
        })
        .await
    }
}

/// Applies the migrations not yet applied, each in its own transaction.
pub fn migrate(conn: &mut Connection) -> anyhow::Result<usize> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Applies the migrations up to `version` (as an older server would have left the database,
/// for upgrade tests); returns how many ran.
pub fn migrate_to(conn: &mut Connection, version: usize) -> anyhow::Result<usize> {
    let done: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let done = usize::try_from(done)?;
    if done > MIGRATIONS.len() {
        anyhow::bail!(
            "the database schema (version {done}) is newer than this server (version {}); upgrade the server",
            MIGRATIONS.len()
        );
    }
    let version = version.min(MIGRATIONS.len());
    for (i, sql) in MIGRATIONS.iter().enumerate().take(version).skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(version.saturating_sub(done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_says_how_far_a_commit_goes() {
        assert_eq!(
            Synchronous::from_path("/data/inbox.db").unwrap(),
            ("/data/inbox.db", Synchronous::Normal)
        );
        assert_eq!(
            Synchronous::from_path("/data/inbox.db?synchronous=FULL").unwrap(),
            ("/data/inbox.db", Synchronous::Full)
        );
        let e = Synchronous::from_path("inbox.db?journal=off").unwrap_err();
        assert!(e.to_string().contains("synchronous=full"), "{e}");
    }

    /// The hot statements, as the shared scripts write them, use their indexes on SQLite
    /// (a partial index serves only a query that states its condition the same way).
    #[test]
    fn shared_statements_on_the_ingest_path_use_their_indexes() {
        let mut conn = Connection::open_in_memory().unwrap();
        db::add_functions(&conn).unwrap();
        migrate(&mut conn).unwrap();
        for sql in [
            "SELECT id FROM conversations WHERE org_id = $1 AND customer_id IS NULL AND NOT withheld AND caller_number = $2",
            "SELECT id FROM conversations WHERE org_id = $1 AND customer_id = $2",
            "SELECT id, conversation_id FROM messages WHERE org_id = $1 AND provider = $2 AND provider_id = $3",
            "SELECT customer_id FROM customer_phones WHERE org_id = $1 AND e164 = $2 ORDER BY customer_id LIMIT 1",
            "SELECT id FROM calls WHERE org_id = $1 AND NOT summarised AND transcript IS NOT NULL AND started_at >= $2",
        ] {
            let mut explain = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {}", db::placeholders(sql)))
                .unwrap();
            let nulls = vec![rusqlite::types::Null; explain.parameter_count()];
            let plan: Vec<String> = explain
                .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(
                plan.iter().all(|step| !step.starts_with("SCAN")),
                "{sql}: {plan:?}"
            );
        }
    }

    #[test]
    fn a_full_database_url_syncs_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = format!("{}?synchronous=full", dir.path().join("x.db").display());
        let (pool, _) = SqliteStore::open_blocking(&path).unwrap();
        let level: i64 = pool
            .get()
            .unwrap()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(level, 2, "FULL");
        assert!(dir.path().join("x.db").exists());
    }
}
