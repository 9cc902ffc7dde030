//! Cross-instance fan-out: every instance LISTENs on `inbox_events` and announces the
//! organisations other instances wrote to on its own `changes` channel; the hub then reads the
//! new events from the log. Notifications only say "look"; the log is the truth, so after a lost
//! connection (notifications sent meanwhile are gone) and every few seconds regardless, every
//! organisation is announced and the hubs catch up from the log.
//!
//! The same connection LISTENs on `inbox_sessions`: a transaction that ends a user's sessions
//! (the CLI, any instance) notifies the user id, announced on `session_ends` so that user's sync
//! sockets re-check their session at once. A notification missed while reconnecting is caught by
//! the sockets' periodic session check.

use std::time::Duration;

use inbox_core::Id;
use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::{broadcast, oneshot};

use super::{CHANNEL, SESSIONS_CHANNEL};

/// Where the listener announces what it hears.
pub(super) struct Announce {
    /// Organisations whose log grew.
    pub changes: broadcast::Sender<Id>,
    /// Users whose sessions were ended.
    pub session_ends: broadcast::Sender<Id>,
}

/// How often every organisation is announced even without a notification.
const SWEEP: Duration = Duration::from_secs(5);

pub(super) fn start(
    pool: PgPool,
    announce: Announce,
    instance: String,
    mut stop: oneshot::Receiver<()>,
) {
    tokio::spawn(async move {
        tokio::select! {
            _ = &mut stop => {}
            _ = run(&pool, &announce, &instance) => {}
        }
    });
}

async fn run(pool: &PgPool, announce: &Announce, instance: &str) {
    let changes = &announce.changes;
    loop {
        let mut listener = match connect(pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for other instances' events; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        // Whatever was notified while not listening is in the log.
        announce_all(pool, changes).await;
        let mut sweep = tokio::time::interval(SWEEP);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                n = listener.try_recv() => match n {
                    Ok(Some(n)) if n.channel() == SESSIONS_CHANNEL => {
                        if let Ok(user) = n.payload().parse::<Id>() {
                            let _ = announce.session_ends.send(user);
                        }
                    }
                    Ok(Some(n)) => {
                        if let Some(org) = other_instance(n.payload(), instance) {
                            let _ = changes.send(org);
                        }
                    }
                    // The connection dropped; the next call reconnects and re-LISTENs.
                    Ok(None) => announce_all(pool, changes).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the LISTEN connection; reconnecting");
                        break;
                    }
                },
                _ = sweep.tick() => announce_all(pool, changes).await,
            }
        }
    }
}

async fn connect(pool: &PgPool) -> sqlx::Result<PgListener> {
    let mut l = PgListener::connect_with(pool).await?;
    l.listen_all([CHANNEL, SESSIONS_CHANNEL]).await?;
    Ok(l)
}

/// The organisation a notification names, unless this instance sent it (it announced its own
/// commits already).
fn other_instance(payload: &str, instance: &str) -> Option<Id> {
    let (org, from) = payload.split_once(' ')?;
    (from != instance).then(|| org.parse().ok()).flatten()
}

async fn announce_all(pool: &PgPool, changes: &broadcast::Sender<Id>) {
    if changes.receiver_count() == 0 {
        return;
    }
    match sqlx::query_scalar::<_, Id>("SELECT id FROM organisations")
        .fetch_all(pool)
        .await
    {
        Ok(orgs) => {
            for org in orgs {
                let _ = changes.send(org);
            }
        }
        Err(e) => tracing::warn!(error = %e, "listing organisations to catch up failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::other_instance;

    #[test]
    fn notifications_from_this_instance_are_skipped() {
        assert_eq!(other_instance("7 abc", "def"), Some(7));
        assert_eq!(other_instance("7 abc", "abc"), None);
        assert_eq!(other_instance("garbage", "abc"), None);
    }
}
