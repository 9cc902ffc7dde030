//! Ended sessions across processes: `inbox-server user revoke-sessions` (or `disable`,
//! `set-password`) runs in a process of its own and writes a row to `session_ends`; every
//! running server polls that small log twice a second and announces the users on its
//! `session_ends` channel, so their sync sockets close at once instead of at the next periodic
//! session check.

use std::time::Duration;

use inbox_core::Id;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::OptionalExtension;
use tokio::sync::{broadcast, oneshot};

/// How often the log is read.
const POLL: Duration = Duration::from_millis(500);

type Pool = r2d2::Pool<SqliteConnectionManager>;

pub(super) fn start(pool: Pool, ends: broadcast::Sender<Id>, mut stop: oneshot::Receiver<()>) {
    tokio::spawn(async move {
        // Only ends written from now on matter: earlier ones closed their sockets already.
        let mut last = match newest(&pool).await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read ended sessions; sockets fall back to the periodic session check");
                0
            }
        };
        let mut every = tokio::time::interval(POLL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = every.tick() => {}
            }
            match after(&pool, last).await {
                Ok(rows) => {
                    for (id, user) in rows {
                        last = id;
                        // No socket listening is not an error.
                        let _ = ends.send(user);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading ended sessions failed"),
            }
        }
    });
}

async fn newest(pool: &Pool) -> anyhow::Result<i64> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<i64> {
        let conn = pool.get()?;
        Ok(conn
            .query_row("SELECT max(id) FROM session_ends", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .optional()?
            .flatten()
            .unwrap_or(0))
    })
    .await?
}

async fn after(pool: &Pool, last: i64) -> anyhow::Result<Vec<(i64, Id)>> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<(i64, Id)>> {
        let conn = pool.get()?;
        let rows = conn
            .prepare_cached("SELECT id, user_id FROM session_ends WHERE id > ?1 ORDER BY id")?
            .query_map([last], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    })
    .await?
}
