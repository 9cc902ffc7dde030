//! Which sessions are live: the store knows a token, its user is enabled and its 30 days have
//! not run out; on top, a session unused for the idle period (`INBOX_SESSION_IDLE_HOURS`, 12 h
//! by default) ends. Every authenticated request and every open sync socket count as use; the
//! use is written at most once a minute (less often than that would let a busy desktop write on
//! every request).

use chrono::{DateTime, Duration, Utc};

use crate::error::AppError;
use crate::state::AppState;
use crate::store::{SessionInfo, StoreResult};

pub const DEFAULT_IDLE_HOURS: i64 = 12;

/// Why a token is not a live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Unknown, signed out, past its expiry, revoked, or its user disabled.
    Unknown,
    /// Unused for longer than the idle period.
    Idle(Duration),
}

impl From<Ended> for AppError {
    fn from(e: Ended) -> AppError {
        match e {
            Ended::Unknown => AppError::Unauthorized,
            Ended::Idle(idle) => AppError::SignInAgain(format!(
                "the session ended after {} without activity; sign in again",
                describe(idle)
            )),
        }
    }
}

/// "12 hours", "90 minutes", "30 seconds".
fn describe(d: Duration) -> String {
    let (n, unit) = if d.num_hours() > 0 && d.num_minutes() % 60 == 0 {
        (d.num_hours(), "hour")
    } else if d.num_minutes() > 0 && d.num_seconds() % 60 == 0 {
        (d.num_minutes(), "minute")
    } else {
        (d.num_seconds(), "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// How stale the recorded use may get before a use is written again: a minute, or a tenth of
/// the idle period when that is shorter.
fn touch_every(idle: Duration) -> Duration {
    std::cmp::min(Duration::minutes(1), idle / 10)
}

/// Whether a session seen at `last_seen` is idle at `now`.
pub fn is_idle(last_seen: DateTime<Utc>, now: DateTime<Utc>, idle: Duration) -> bool {
    now - last_seen >= idle
}

/// The live session of a token, recording this use; an idle session is deleted.
pub async fn resolve(
    state: &AppState,
    token_hash: [u8; 32],
) -> StoreResult<Result<SessionInfo, Ended>> {
    let now = state.clock.now();
    let Some(session) = state.store.session(token_hash, now).await? else {
        return Ok(Err(Ended::Unknown));
    };
    // Recording the use (and deleting an idle session) are writes that a read must not depend
    // on: with the database locked or read-only for a moment, every request and every sync
    // socket would fail although everything they read is there. A missed write is only a
    // slightly older `last_seen_at`; an idle session that could not be deleted is refused
    // anyway and deleted at its next use.
    if is_idle(session.last_seen_at, now, state.session_idle) {
        if let Err(e) = state.store.delete_session(token_hash).await {
            tracing::warn!(error = %e, "could not delete an idle session; it stays refused");
        }
        return Ok(Err(Ended::Idle(state.session_idle)));
    }
    if now - session.last_seen_at >= touch_every(state.session_idle) {
        if let Err(e) = state.store.touch_session(token_hash, now).await {
            tracing::warn!(error = %e, "could not record a session's use; it goes on");
        }
    }
    Ok(Ok(session))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_periods_read_as_people_say_them() {
        assert_eq!(describe(Duration::hours(12)), "12 hours");
        assert_eq!(describe(Duration::hours(1)), "1 hour");
        assert_eq!(describe(Duration::minutes(90)), "90 minutes");
        assert_eq!(describe(Duration::seconds(30)), "30 seconds");
    }

    #[test]
    fn use_is_written_at_most_once_a_minute() {
        assert_eq!(touch_every(Duration::hours(12)), Duration::minutes(1));
        assert_eq!(touch_every(Duration::minutes(5)), Duration::seconds(30));
    }

    #[test]
    fn a_session_is_idle_from_the_full_period_on() {
        let t = Utc::now();
        let idle = Duration::hours(12);
        assert!(!is_idle(
            t,
            t + Duration::hours(12) - Duration::seconds(1),
            idle
        ));
        assert!(is_idle(t, t + Duration::hours(12), idle));
    }
}
