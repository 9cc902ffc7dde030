//! `GET /api/v1/sync?since=N`: replay the log after `since`, say `caught_up`, then stream live
//! events; heartbeats both ways; cut off a client that stops reading, whose session ends, or who
//! falls silent — always with a `closing` frame saying why when the socket still takes one. A
//! session an administrator ends (`inbox-server user revoke-sessions`, `disable`) closes its
//! sockets at once: the store announces the user (`session_ends`), from any process.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use inbox_core::sync::{close_code, Control, Event, ServerFrame, Snapshot, PROTOCOL_VERSION};
use inbox_core::{Capability, Id};
use serde::Deserialize;
use tokio::sync::broadcast;

use super::hub::Frame;
use super::{SyncConfig, REPLAY_BATCH};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::http::{ApiQuery, IdPath};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct SyncQuery {
    /// The last sequence number the client applied; 0 for a client with nothing.
    #[serde(default)]
    pub since: i64,
}

/// Incoming frames are pings, pongs and close; anything larger is not ours.
const MAX_INCOMING: usize = 16 * 1024;

pub async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SyncQuery>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    caller.require(Capability::MessagesView)?;
    // Issue 13: refused before the upgrade, so the client sees a plain 429.
    let slot = state
        .sockets
        .try_take(caller.user.id)
        .ok_or_else(|| AppError::RateLimited {
            message: format!(
                "this user already has {} live connections open; close one first",
                state.sockets.max_per_key
            ),
            retry_after: 5,
        })?;
    let receiver = state.hub.subscribe(caller.actor.org_id).await?;
    let session_ends = state.store.session_ends();
    let conn = Connection {
        state,
        caller,
        cursor: q.since,
        session_ends,
    };
    Ok(ws
        .max_message_size(MAX_INCOMING)
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(1024 * 1024)
        .on_upgrade(move |socket| async move {
            let _slot = slot;
            let span = tracing::info_span!(
                "sync",
                org = conn.caller.actor.org_id,
                user = conn.caller.user.id
            );
            let _enter = span.enter();
            conn.run(socket, receiver).await
        }))
}

/// `GET /api/v1/sync/snapshot?after=`: a page of conversations for a client rebuilding its cache.
#[derive(Debug, Deserialize)]
pub struct SnapshotQuery {
    pub after: Option<Id>,
}

/// Conversations per snapshot page; each brings up to a thread page of items.
pub const SNAPSHOT_PAGE: usize = 200;

pub async fn snapshot(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SnapshotQuery>,
) -> AppResult<Json<Snapshot>> {
    caller.require(Capability::MessagesView)?;
    Ok(Json(
        state
            .store
            .snapshot(&caller.actor, q.after, SNAPSHOT_PAGE)
            .await?,
    ))
}

/// `GET /api/v1/sync/events/{seq}`: one whole event of the caller's organisation's log, for a
/// client that received it as a stub. 404 once it has been pruned (the client then resyncs).
pub async fn event(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(seq): IdPath,
) -> AppResult<Json<Event>> {
    caller.require(Capability::MessagesView)?;
    let events = state
        .store
        .events_after(caller.actor.org_id, seq.saturating_sub(1), 1)
        .await?;
    match events.into_iter().next() {
        Some(e) if e.seq == seq => Ok(Json(e)),
        _ => Err(AppError::NotFound),
    }
}

struct Connection {
    state: AppState,
    caller: Caller,
    /// The newest seq this client has been sent.
    cursor: i64,
    /// Users whose sessions an administrator ended: this connection's user re-checks at once.
    session_ends: broadcast::Receiver<Id>,
}

/// Why a connection ended.
enum End {
    ClientLeft,
    Close {
        code: u16,
        reason: &'static str,
    },
    /// The socket cannot take even a close frame.
    Broken,
}

impl Connection {
    fn config(&self) -> &SyncConfig {
        &self.state.sync
    }

    /// Whether the session still holds; checking records the open socket as use, so a desktop
    /// that stays connected is never idle.
    async fn session_live(&self) -> anyhow::Result<bool> {
        Ok(
            crate::auth::session::resolve(&self.state, self.caller.token_hash)
                .await?
                .is_ok(),
        )
    }

    /// Whether the user may still read the conversations this socket streams: a role changed
    /// under them (ACC-2) stops the stream at the next check.
    async fn may_read(&self) -> anyhow::Result<bool> {
        Ok(
            crate::auth::session::resolve(&self.state, self.caller.token_hash)
                .await?
                .is_ok_and(|s| {
                    s.user
                        .capabilities
                        .has(inbox_core::Capability::MessagesView)
                }),
        )
    }

    async fn run(mut self, mut socket: WebSocket, mut receiver: broadcast::Receiver<Arc<Frame>>) {
        let end = match self.serve(&mut socket, &mut receiver).await {
            Ok(end) => end,
            Err(e) => {
                tracing::warn!(error = %e, "sync connection failed");
                End::Close {
                    code: 1011,
                    reason: "server_error",
                }
            }
        };
        if let End::Close { code, reason } = end {
            let closing = ServerFrame::Control(Control::Closing {
                reason: reason.to_string(),
            });
            if let Ok(json) = serde_json::to_string(&closing) {
                if code != close_code::RESYNC_REQUIRED {
                    let _ = self.send(&mut socket, Message::Text(json.into())).await;
                }
            }
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from(reason),
            };
            let _ = self.send(&mut socket, Message::Close(Some(frame))).await;
            tracing::info!(reason, "sync connection closed by the server");
        }
    }

    /// Writes one frame, or reports the client as too slow.
    async fn send(&self, socket: &mut WebSocket, msg: Message) -> Result<(), End> {
        match tokio::time::timeout(self.config().send_timeout, socket.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::Broken),
            Err(_) => Err(End::Close {
                code: close_code::TOO_SLOW,
                reason: "too_slow",
            }),
        }
    }

    async fn send_control(&self, socket: &mut WebSocket, c: Control) -> Result<(), End> {
        let json = serde_json::to_string(&ServerFrame::Control(c)).map_err(|_| End::Broken)?;
        self.send(socket, Message::Text(json.into())).await
    }

    /// Sends everything the log holds after the cursor.
    async fn replay(&mut self, socket: &mut WebSocket) -> anyhow::Result<Result<(), End>> {
        loop {
            let events = self
                .state
                .store
                .events_after(self.caller.actor.org_id, self.cursor, REPLAY_BATCH)
                .await?;
            if events.is_empty() {
                return Ok(Ok(()));
            }
            for e in events {
                let json = e.frame_json()?;
                if let Err(end) = self.send(socket, Message::Text(json.into())).await {
                    return Ok(Err(end));
                }
                self.cursor = e.seq;
            }
        }
    }

    async fn serve(
        &mut self,
        socket: &mut WebSocket,
        receiver: &mut broadcast::Receiver<Arc<Frame>>,
    ) -> anyhow::Result<End> {
        let org = self.caller.actor.org_id;
        let bounds = self.state.store.log_bounds(org).await?;
        if let Err(end) = self
            .send_control(
                socket,
                Control::Hello {
                    protocol: PROTOCOL_VERSION,
                    head: bounds.head,
                },
            )
            .await
        {
            return Ok(end);
        }
        if !bounds.can_replay_from(self.cursor) {
            let reason = if self.cursor > bounds.head {
                "the cursor is ahead of the server's log"
            } else {
                "the cursor is older than the retained log"
            };
            let resync = Control::ResyncRequired {
                reason: reason.into(),
                oldest_retained: bounds.floor,
                head: bounds.head,
            };
            return Ok(match self.send_control(socket, resync).await {
                Ok(()) => End::Close {
                    code: close_code::RESYNC_REQUIRED,
                    reason: "resync_required",
                },
                Err(end) => end,
            });
        }
        if let Err(end) = self.replay(socket).await? {
            return Ok(end);
        }
        if let Err(end) = self
            .send_control(socket, Control::CaughtUp { seq: self.cursor })
            .await
        {
            return Ok(end);
        }

        let start = tokio::time::Instant::now();
        let mut heartbeat =
            tokio::time::interval_at(start + self.config().heartbeat, self.config().heartbeat);
        let mut session_check = tokio::time::interval_at(
            start + self.config().session_check,
            self.config().session_check,
        );
        let mut heard = Instant::now();
        loop {
            tokio::select! {
                frame = receiver.recv() => match frame {
                    Ok(f) if f.seq <= self.cursor => {}
                    Ok(f) if f.seq == self.cursor + 1 => {
                        if let Err(end) = self.send(socket, Message::Text(f.json.clone().into())).await {
                            return Ok(end);
                        }
                        self.cursor = f.seq;
                    }
                    // A gap or a lag: the log has what the channel did not carry.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        if let Err(end) = self.replay(socket).await? {
                            return Ok(end);
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        return Ok(End::Close { code: 1001, reason: "shutting_down" });
                    }
                },
                incoming = socket.recv() => match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(End::ClientLeft),
                    // Pings are answered by the socket itself; every frame proves the client alive.
                    Some(Ok(_)) => heard = Instant::now(),
                },
                _ = heartbeat.tick() => {
                    if heard.elapsed() > self.config().heartbeat_timeout {
                        return Ok(End::Close { code: close_code::HEARTBEAT_TIMEOUT, reason: "heartbeat_timeout" });
                    }
                    if let Err(end) = self.send(socket, Message::Ping(Default::default())).await {
                        return Ok(end);
                    }
                },
                _ = session_check.tick() => {
                    if !self.session_live().await? {
                        return Ok(End::Close { code: close_code::SESSION_EXPIRED, reason: "session_expired" });
                    }
                    if !self.may_read().await? {
                        return Ok(End::Close { code: close_code::FORBIDDEN, reason: "forbidden" });
                    }
                },
                ended = self.session_ends.recv() => match ended {
                    Ok(user) if user != self.caller.user.id => {}
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        if !self.session_live().await? {
                            return Ok(End::Close { code: close_code::SESSION_EXPIRED, reason: "session_revoked" });
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        return Ok(End::Close { code: 1001, reason: "shutting_down" });
                    }
                },
            }
        }
    }
}
