//! Real-time sync (issue 4): the fan-out hub and the `GET /api/v1/sync` WebSocket (protocol in
//! `inbox_core::sync`, documented in docs/api.md).

pub mod hub;
pub mod socket;

use std::time::Duration;

/// Timings of the sync socket; tests shorten them.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// How often the server pings.
    pub heartbeat: Duration,
    /// A client heard from less recently than this is cut off.
    pub heartbeat_timeout: Duration,
    /// How often a connection re-checks that its session is still valid.
    pub session_check: Duration,
    /// A frame that cannot be written within this time means the client stopped reading.
    pub send_timeout: Duration,
    /// Events older than this are pruned; clients further behind resync from a snapshot.
    pub retention: chrono::Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            heartbeat: Duration::from_secs(20),
            heartbeat_timeout: Duration::from_secs(60),
            session_check: Duration::from_secs(15),
            send_timeout: Duration::from_secs(10),
            retention: chrono::Duration::days(30),
        }
    }
}

/// Events read from the log per query while replaying.
pub const REPLAY_BATCH: usize = 500;
