//! The PostgreSQL store: sqlx over a connection pool, its own migrations (run with sqlx's
//! migrator), for sites that outgrow one SQLite file and for several `inbox-server` instances
//! serving one organisation together.
//!
//! - Every write is one transaction that first locks its organisation's row (`FOR NO KEY
//!   UPDATE`): writers of one organisation queue as they do on SQLite's single writer, so routing
//!   (find-or-create a conversation) and idempotency checks see each other's commits, while
//!   organisations write in parallel.
//! - `events::emit` takes the organisation's next sequence number with `UPDATE … RETURNING` in the
//!   same transaction: rolled back with it, handed out in commit order — gap-free and ordered
//!   across instances.
//! - The same transaction sends `pg_notify('inbox_events', …)` just before it commits, once for
//!   each organisation whose log it grew (never inside a savepoint), delivered at commit; every
//!   instance listens (`listen.rs`) and announces the organisation to its hub, which reads the log
//!   by sequence number. A missed notification is caught up from the log.

mod db;
mod listen;
mod rows;

use std::borrow::Cow;
use std::time::Duration;

use inbox_core::Id;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, SqlStr};

use super::backend::Script;
use super::db::{Conn, Tx};
use super::group_commit::{Batcher, PerKey};
use super::scripts::messages::Inbound;
use super::{scripts, Ingested, StoreError, StoreResult};

/// The channel instances notify each other on; the payload is `"<org id> <instance id>"`.
pub(crate) const CHANNEL: &str = "inbox_events";

/// The channel a transaction that ends a user's sessions notifies; the payload is the user id.
pub(crate) const SESSIONS_CHANNEL: &str = "inbox_sessions";

/// Migrations in order, embedded in the binary.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "dispatch_claims",
        include_str!("../../../migrations/postgres/0002_dispatch_claims.sql"),
    ),
    (
        3,
        "accounts",
        include_str!("../../../migrations/postgres/0003_accounts.sql"),
    ),
    (
        4,
        "awaiting_status",
        include_str!("../../../migrations/postgres/0004_awaiting_status.sql"),
    ),
    (
        5,
        "unknown_unlinked",
        include_str!("../../../migrations/postgres/0005_unknown_unlinked.sql"),
    ),
    (
        6,
        "intents_and_owner",
        include_str!("../../../migrations/postgres/0006_intents_and_owner.sql"),
    ),
    (
        7,
        "analytics",
        include_str!("../../../migrations/postgres/0007_analytics.sql"),
    ),
    (
        8,
        "roles",
        include_str!("../../../migrations/postgres/0008_roles.sql"),
    ),
    (
        9,
        "language_model",
        include_str!("../../../migrations/postgres/0009_language_model.sql"),
    ),
    (
        10,
        "media",
        include_str!("../../../migrations/postgres/0010_media.sql"),
    ),
    (
        11,
        "uploads",
        include_str!("../../../migrations/postgres/0011_uploads.sql"),
    ),
    (
        12,
        "template_headers",
        include_str!("../../../migrations/postgres/0012_template_headers.sql"),
    ),
];

fn migrator() -> Migrator {
    migrator_to(i64::MAX)
}

/// The migrations up to `version`.
fn migrator_to(version: i64) -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .filter(|(v, _, _)| *v <= version)
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    SqlStr::from_static(sql),
                    false,
                )
            })
            .collect(),
    )
}

pub struct PgStore {
    pool: PgPool,
    /// Organisation ids whose log grew: after this instance's commits, and as other instances
    /// notify.
    changes: tokio::sync::broadcast::Sender<Id>,
    /// Seals provider secrets before they are stored.
    pub(crate) secrets: crate::secrets::SecretBox,
    /// Tells this instance's notifications from other instances'.
    instance: String,
    /// Users whose sessions were ended, by any instance or the CLI (heard through NOTIFY).
    session_ends: tokio::sync::broadcast::Sender<Id>,
    /// Stops the listener task when the store is dropped.
    _stop: tokio::sync::oneshot::Sender<()>,
    /// Inbound messages, written in groups under one commit (`group_commit`).
    inbound: PerKey<Inbound, Ingested>,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // 57014 query_canceled: `statement_timeout` stopped the query.
        if let sqlx::Error::Database(d) = &e {
            if d.code().as_deref() == Some("57014") {
                return StoreError::TimedOut;
            }
        }
        StoreError::Internal(e.into())
    }
}

/// A write transaction: the organisations whose log it grew are announced after commit.
pub(crate) struct PgTx {
    tx: sqlx::Transaction<'static, Postgres>,
    touched: Vec<Id>,
    instance: String,
}

impl std::ops::Deref for PgTx {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for PgTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

/// Where the key that seals provider secrets lives when `INBOX_SECRET_KEY` is not set: one file
/// per user and machine. Instances on several machines must share `INBOX_SECRET_KEY`.
fn key_file() -> std::path::PathBuf {
    directories::ProjectDirs::from("", "", "garage-inbox")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| std::path::PathBuf::from("."))
        .join("postgres-secret.key")
}

impl PgStore {
    /// Connects and brings the schema up to date (sqlx's migrator takes an advisory lock, so
    /// instances starting together migrate once).
    pub async fn open(url: &str) -> anyhow::Result<PgStore> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        migrator().run(&pool).await?;
        let path = key_file();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let secrets = crate::secrets::SecretBox::load(&path)?;
        let (changes, _) = tokio::sync::broadcast::channel(1024);
        let (session_ends, _) = tokio::sync::broadcast::channel(256);
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let instance = format!("{:016x}", rand::random::<u64>());
        listen::start(
            pool.clone(),
            listen::Announce {
                changes: changes.clone(),
                session_ends: session_ends.clone(),
            },
            instance.clone(),
            stopped,
        );
        let (batch_pool, batch_instance, batch_changes) =
            (pool.clone(), instance.clone(), changes.clone());
        let inbound = PerKey::new(move || {
            let (pool, instance, changes) = (
                batch_pool.clone(),
                batch_instance.clone(),
                batch_changes.clone(),
            );
            Batcher::start(move |batch: Vec<Inbound>| {
                let (pool, instance, changes) = (pool.clone(), instance.clone(), changes.clone());
                async move {
                    let mut tx = begin_on(&pool, instance).await?;
                    let out = scripts::messages::ingest_many(&mut tx, &batch).await?;
                    commit_on(tx, &changes).await?;
                    Ok(out)
                }
            })
        });
        Ok(PgStore {
            pool,
            changes,
            secrets,
            instance,
            session_ends,
            _stop: stop,
            inbound,
        })
    }
}

/// The ways to run a script `Store` hands over (`store::backend`).
impl PgStore {
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl for<'c> FnOnce(Conn<'c>) -> Script<'c, T> + Send + 'static,
    ) -> StoreResult<T> {
        f(Conn::Pg(&mut *self.pool.acquire().await?)).await
    }

    pub(crate) async fn read_snapshot<T: Send + 'static>(
        &self,
        budget: Option<Duration>,
        f: impl for<'c> FnOnce(Conn<'c>) -> Script<'c, T> + Send + 'static,
    ) -> StoreResult<T> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        if let Some(budget) = budget {
            // A cancelled query rolls the transaction back; the connection returns to the pool.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SET LOCAL statement_timeout = {}",
                budget.as_millis().clamp(1, i32::MAX as u128)
            )))
            .execute(&mut *tx)
            .await?;
        }
        let out = f(Conn::Pg(&mut tx)).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn write_one<T: Send + 'static>(
        &self,
        f: impl for<'c> FnOnce(Conn<'c>) -> Script<'c, T> + Send + 'static,
    ) -> StoreResult<T> {
        self.read(f).await
    }

    pub(crate) async fn write<T: Send + 'static>(
        &self,
        lock: Option<Id>,
        f: impl for<'c> FnOnce(Tx<'c>) -> Script<'c, T> + Send + 'static,
    ) -> StoreResult<T> {
        let mut tx = begin_on(&self.pool, self.instance.clone()).await?;
        if let Some(org) = lock {
            lock_org(&mut tx, org).await?;
        }
        let out = f(Tx::Pg(&mut tx)).await?;
        commit_on(tx, &self.changes).await?;
        Ok(out)
    }

    pub(crate) async fn ingest_grouped(&self, job: Inbound) -> StoreResult<Ingested> {
        self.inbound.submit(job.0, job).await
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

async fn begin_on(pool: &PgPool, instance: String) -> StoreResult<PgTx> {
    Ok(PgTx {
        tx: pool.begin().await?,
        touched: Vec::new(),
        instance,
    })
}

/// Commits, then announces the organisations whose log grew to this instance's listeners
/// (other instances hear of it through the notification sent inside the transaction).
async fn commit_on(tx: PgTx, changes: &tokio::sync::broadcast::Sender<Id>) -> StoreResult<()> {
    let PgTx {
        mut tx,
        touched,
        instance,
    } = tx;
    // Sent just before the commit, outside every savepoint: a notification sent inside one that
    // was then rolled back would be lost. PostgreSQL delivers them at commit.
    for org in &touched {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(format!("{org} {instance}"))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    for org in touched {
        // No receiver (no one connected) is not an error.
        let _ = changes.send(org);
    }
    Ok(())
}

/// Takes the organisation's write lock for the rest of the transaction.
pub(crate) async fn lock_org(c: &mut PgConnection, org: Id) -> StoreResult<()> {
    sqlx::query("SELECT 1 FROM organisations WHERE id = $1 FOR NO KEY UPDATE")
        .bind(org)
        .fetch_optional(c)
        .await?;
    Ok(())
}

/// Scratch databases for tests and benchmarks: one fresh database per run on a cluster reached
/// through its maintenance database's URL (e.g. `postgres://postgres@127.0.0.1:54329/postgres`).
pub mod scratch {
    use sqlx::Connection;

    /// Brings a database's schema to `version` and no further, as an older server left it, so
    /// a test can fill it and watch the later migrations upgrade it.
    pub async fn migrate_to(url: &str, version: i64) -> anyhow::Result<()> {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        super::migrator_to(version).run(&mut conn).await?;
        conn.close().await?;
        Ok(())
    }

    /// Creates a database with a unique name; returns its URL and its name.
    pub async fn create(admin_url: &str, prefix: &str) -> anyhow::Result<(String, String)> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "{prefix}_{}_{}_{:08x}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            rand::random::<u32>()
        );
        let mut conn = sqlx::PgConnection::connect(admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let (base, _) = admin_url
            .rsplit_once('/')
            .ok_or_else(|| anyhow::anyhow!("{admin_url} names no database"))?;
        Ok((format!("{base}/{name}"), name))
    }

    /// Drops a database made by `create`, ending its open connections. Blocks: it runs on a
    /// thread and runtime of its own, so it can be called from `Drop`.
    pub fn drop_blocking(admin_url: &str, name: &str) -> anyhow::Result<()> {
        let (admin_url, owned) = (admin_url.to_string(), name.to_string());
        std::thread::spawn(move || -> anyhow::Result<()> {
            let name = owned;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await?;
                conn.close().await?;
                Ok(())
            })
        })
        .join()
        .map_err(|_| anyhow::anyhow!("dropping {name} panicked"))?
    }
}
