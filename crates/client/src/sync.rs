//! The sync loop (DSK-3): bring the cache up to date from the server's log over the WebSocket,
//! resume from the cache's cursor after every disconnection, rebuild from a snapshot when the
//! server says the cursor is too old, and report the connection state as it goes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, SinkExt, StreamExt};
use inbox_core::media::AttachmentStatus;
use inbox_core::sync::{Change, Control, Event, ServerFrame, PROTOCOL_VERSION};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use crate::api::ApiError;
use crate::cache::CacheError;
use crate::connection::{after_failure, Backoff, ConnectionState};
use crate::engine::{Shared, Update};
use crate::notify::{decide, Incoming};

/// Frames applied in one transaction at most.
const MAX_BATCH: usize = 1000;

/// How one connection ended.
#[derive(Debug)]
enum End {
    /// The user asked for a refresh: reconnect at once with a full resync.
    Refresh,
    /// The server's log no longer reaches our cursor.
    ResyncRequired,
    SignedOut(String),
    Stopped,
    /// Lost or refused for a reason worth retrying.
    Lost(String),
}

/// Shown on the sign-in page when the server no longer accepts the session.
const REFUSED: &str = "The server no longer accepts this session. Sign in again to continue.";

/// What the sign-in page tells the user when the server closes the socket for one of the
/// reasons that end a session (`Control::Closing`), in words, not the reason's code.
fn signed_out_because(reason: &str) -> Option<String> {
    let words = match reason {
        "session_expired" => "Your session has expired. Sign in again to continue.",
        "session_revoked" => {
            "Your session was ended on the server: an administrator may have changed or \
             disabled your account. Sign in again to continue."
        }
        _ => return None,
    };
    Some(words.into())
}

pub(crate) async fn run(shared: Arc<Shared>) {
    let mut backoff = Backoff::new(shared.config.backoff_min, shared.config.backoff_max);
    let mut offline_since: Option<Instant> = None;
    let mut force_resync = false;
    loop {
        if shared.is_stopped() {
            return;
        }
        if offline_since.is_none() {
            shared.set_state(ConnectionState::Connecting);
        }
        let end = connection(&shared, force_resync, &mut backoff, &mut offline_since).await;
        force_resync = false;
        match end {
            End::Stopped => return,
            End::SignedOut(reason) => {
                shared.set_state(ConnectionState::SignedOut { reason });
                return;
            }
            End::Refresh | End::ResyncRequired => {
                force_resync = true;
                backoff.reset();
            }
            End::Lost(reason) => {
                tracing::info!(%reason, "sync connection lost");
                let since = *offline_since.get_or_insert_with(Instant::now);
                let delay = backoff.next_delay(&mut rand::thread_rng());
                shared.set_state(after_failure(
                    backoff.attempt(),
                    delay,
                    since.elapsed(),
                    shared.config.pause_after,
                ));
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shared.refresh.notified() => {
                        force_resync = true;
                        backoff.reset();
                    }
                    _ = shared.stopped() => return,
                }
            }
        }
    }
}

/// One connection: resync if needed, connect, replay, stream live until it ends.
async fn connection(
    shared: &Arc<Shared>,
    force_resync: bool,
    backoff: &mut Backoff,
    offline_since: &mut Option<Instant>,
) -> End {
    let cursor = match shared.cache(|c| c.cursor()).await {
        Ok(c) => c,
        Err(e) => return End::Lost(format!("cache: {e}")),
    };
    let cursor = match (cursor, force_resync) {
        (Some(c), false) => c,
        _ => match resync(shared).await {
            Ok(seq) => seq,
            Err(ApiError::Unauthorized(m)) => return End::SignedOut(m),
            Err(e) => return End::Lost(e.to_string()),
        },
    };
    let url = format!(
        "{}/api/v1/sync?since={cursor}",
        shared.api.base().replacen("http", "ws", 1)
    );
    let mut request = match url.into_client_request() {
        Ok(r) => r,
        Err(e) => return End::Lost(e.to_string()),
    };
    if let Ok(v) = format!("Bearer {}", shared.api.token()).parse() {
        request.headers_mut().insert("authorization", v);
    }
    let connect = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async_tls_with_config(
            request,
            None,
            false,
            Some(shared.transport.websocket()),
        ),
    );
    let mut ws = match connect.await {
        Err(_) => return End::Lost("connecting timed out".into()),
        Ok(Err(tungstenite::Error::Http(res))) if res.status() == 401 => {
            return End::SignedOut(REFUSED.into());
        }
        // Signed in, but not to read conversations (a role changed under the user, ACC-1): the
        // app shows the dashboard; the socket is tried again later, in case the role comes back.
        Ok(Err(tungstenite::Error::Http(res))) if res.status() == 403 => {
            return End::Lost("this user may not read conversations (403)".into());
        }
        Ok(Err(e)) => return End::Lost(e.to_string()),
        Ok(Ok((ws, _))) => ws,
    };
    shared.set_state(ConnectionState::CatchingUp);
    let mut catching_up = true;
    let mut heard = Instant::now();
    let mut heartbeat = tokio::time::interval(shared.config.heartbeat);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            msg = ws.next() => {
                let Some(msg) = msg else { return End::Lost("the server closed the connection".into()) };
                heard = Instant::now();
                let text = match msg {
                    Ok(WsMessage::Text(t)) => t,
                    Ok(WsMessage::Close(frame)) => {
                        return End::Lost(frame.map(|f| f.reason.to_string()).unwrap_or_else(|| "closed".into()));
                    }
                    Ok(_) => continue,
                    Err(e) => return End::Lost(e.to_string()),
                };
                let mut events = Vec::new();
                let mut control = None;
                if let Err(end) = take(shared, &text, &mut events, &mut control).await {
                    return end;
                }
                // Take whatever else has already arrived, to apply it in the same transaction.
                while control.is_none() && events.len() < MAX_BATCH {
                    match ws.next().now_or_never() {
                        Some(Some(Ok(WsMessage::Text(t)))) => {
                            if let Err(end) = take(shared, &t, &mut events, &mut control).await {
                                return end;
                            }
                        }
                        Some(Some(Ok(_))) => {}
                        Some(Some(Err(e))) => return End::Lost(e.to_string()),
                        Some(None) => return End::Lost("the server closed the connection".into()),
                        None => break,
                    }
                }
                if !events.is_empty() {
                    match apply(shared, events, catching_up).await {
                        Ok(Followed::Organisation) => {
                            // Messages carry their intent only while AI is on: the cache is
                            // rebuilt so every thread shows (or hides) them.
                            tracing::info!("the organisation's settings changed; resyncing");
                            return End::ResyncRequired;
                        }
                        Ok(Followed::Events) => {}
                        Err(e) => {
                            if let Some(CacheError::Gap { expected, got }) = e.downcast_ref::<CacheError>() {
                                tracing::warn!(expected, got, "the log skipped events; resyncing");
                                return End::ResyncRequired;
                            }
                            return End::Lost(format!("cache: {e}"));
                        }
                    }
                }
                match control {
                    Some(Control::Hello { protocol, .. }) if protocol != PROTOCOL_VERSION => {
                        return End::Lost(format!("the server speaks sync protocol {protocol}, this app {PROTOCOL_VERSION}"));
                    }
                    Some(Control::CaughtUp { .. }) => {
                        catching_up = false;
                        backoff.reset();
                        *offline_since = None;
                        shared.set_state(ConnectionState::Live);
                        shared.outbox_wake.notify_one();
                        // A role changed while this desktop was closed (or by an upgrade):
                        // what the user may do comes from the server on every connection.
                        if let Ok(user) = shared.api.me().await {
                            if user != shared.config.user {
                                shared.publish(Update::Access { user });
                            }
                        }
                    }
                    Some(Control::ResyncRequired { reason, .. }) => {
                        tracing::info!(%reason, "the server asks for a resync");
                        return End::ResyncRequired;
                    }
                    Some(Control::Closing { reason }) => {
                        return match signed_out_because(&reason) {
                            Some(words) => End::SignedOut(words),
                            None => End::Lost(reason),
                        };
                    }
                    Some(Control::Hello { .. }) | None => {}
                }
            }
            _ = heartbeat.tick() => {
                if heard.elapsed() > shared.config.heartbeat_timeout {
                    return End::Lost("no heartbeat from the server".into());
                }
                if ws.send(WsMessage::Ping(Default::default())).await.is_err() {
                    return End::Lost("the connection broke".into());
                }
            }
            _ = shared.refresh.notified() => {
                let _ = ws.close(None).await;
                return End::Refresh;
            }
            _ = shared.stopped() => {
                let _ = ws.close(None).await;
                return End::Stopped;
            }
        }
    }
}

/// Decodes one text frame into `events` or `control`. A stub (an event too large for the
/// socket) is resolved at once over REST, so it is applied exactly as if it had come whole and
/// the cursor passes it only then.
async fn take(
    shared: &Arc<Shared>,
    text: &str,
    events: &mut Vec<Event>,
    control: &mut Option<Control>,
) -> Result<(), End> {
    match ServerFrame::parse(text) {
        Ok(ServerFrame::Event(e)) => events.push(e),
        // A newer server's kind of event, too large for a frame: nothing here reads it.
        Ok(ServerFrame::Stub(stub)) if !Change::TYPES.contains(&stub.kind.as_str()) => {
            events.push(Event {
                seq: stub.seq,
                at: stub.at,
                change: Change::Unsupported,
            })
        }
        Ok(ServerFrame::Stub(stub)) => match shared.api.event(stub.seq).await {
            Ok(e) if e.seq == stub.seq => events.push(e),
            Ok(e) => {
                return Err(End::Lost(format!(
                    "asked for event {} and got {}",
                    stub.seq, e.seq
                )))
            }
            // Pruned between the frame and the fetch: only a snapshot has it now.
            Err(ApiError::Refused { status: 404, .. }) => return Err(End::ResyncRequired),
            Err(ApiError::Unauthorized(m)) => return Err(End::SignedOut(m)),
            Err(e) => return Err(End::Lost(format!("fetching event {}: {e}", stub.seq))),
        },
        Ok(ServerFrame::Control(c)) => *control = Some(c),
        Err(e) => return Err(End::Lost(format!("unreadable frame: {e}"))),
    }
    Ok(())
}

/// What a batch asks of the connection once applied.
enum Followed {
    Events,
    /// The organisation's settings changed: the UI was told; the cache is to be rebuilt.
    Organisation,
}

/// A file removed on the server (a V5C, a bank card) leaves this computer too: a failed
/// attachment has no file anywhere.
fn forget_removed<'a>(shared: &Shared, messages: impl Iterator<Item = &'a inbox_core::Message>) {
    for m in messages {
        for a in m
            .attachments
            .iter()
            .filter(|a| a.status == AttachmentStatus::Failed)
        {
            shared.files.remove(a.id);
        }
    }
}

/// Applies a batch to the cache with its cursor, then tells the UI and the notification policy.
async fn apply(
    shared: &Arc<Shared>,
    events: Vec<Event>,
    catching_up: bool,
) -> anyhow::Result<Followed> {
    if !shared.config.apply_delay.is_zero() {
        // Widens the receive→apply window for crash tests.
        tokio::time::sleep(shared.config.apply_delay).await;
    }
    // Issue 17: the thumbnails of photos that just became ready are fetched for offline use.
    let thumbs: Vec<inbox_core::Id> = events
        .iter()
        .filter_map(|e| match &e.change {
            Change::Message(m) => Some(m),
            _ => None,
        })
        .flat_map(|m| m.attachments.iter())
        .filter(|a| crate::files::has_thumbnail(a))
        .map(|a| a.id)
        .collect();
    if !thumbs.is_empty() {
        tokio::spawn(crate::files::prefetch(Arc::clone(shared), thumbs));
    }
    forget_removed(
        shared,
        events.iter().filter_map(|e| match &e.change {
            Change::Message(m) => Some(m),
            _ => None,
        }),
    );
    let mut applied = shared.cache(move |c| c.apply_events(&events)).await?;
    // ACC-2: this user's role changed: what they may do comes from the server, now.
    if applied.access.contains(&shared.config.user.id) {
        match shared.api.me().await {
            Ok(user) => shared.publish(Update::Access { user }),
            Err(e) => tracing::warn!(error = %e, "could not re-read what this user may do"),
        }
    }
    let followed = match applied.organisation.take() {
        Some(organisation) => {
            shared.publish(Update::Organisation { organisation });
            Followed::Organisation
        }
        None => Followed::Events,
    };
    if applied.conversations.is_empty()
        && applied.new_inbound.is_empty()
        && applied.new_calls.is_empty()
    {
        return Ok(followed);
    }
    let attention = shared.attention();
    let titles = {
        let ids: Vec<_> = applied.conversations.clone();
        shared
            .cache(move |c| {
                ids.iter()
                    .map(|id| {
                        Ok((
                            *id,
                            c.conversation(*id)?.map(|s| s.title).unwrap_or_default(),
                        ))
                    })
                    .collect::<Result<Vec<_>, crate::cache::CacheError>>()
            })
            .await?
    };
    let title = |id| {
        titles
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    let notes = decide(
        Incoming {
            new_inbound: &applied.new_inbound,
            new_calls: &applied.new_calls,
            catching_up,
        },
        attention,
        &title,
    );
    shared.publish(Update::Changed {
        conversations: applied.conversations.clone(),
        cursor: applied.cursor,
    });
    for n in notes {
        shared.publish(Update::Notify { notification: n });
    }
    Ok(followed)
}

/// Rebuilds the cache from the snapshot pages; returns the cursor to resume from.
async fn resync(shared: &Arc<Shared>) -> Result<i64, ApiError> {
    let mut after = None;
    let mut first = true;
    let mut first_seq = None;
    loop {
        let page = shared.api.snapshot(after).await?;
        let last = page.next_after.is_none();
        // Later pages may be newer than the first; the cache resumes from the first page's
        // position, replaying whatever changed while paging (events are idempotent upserts).
        let seq = *first_seq.get_or_insert(page.seq);
        after = page.next_after;
        // A file removed while this desktop was away leaves it too.
        forget_removed(
            shared,
            page.items.iter().filter_map(|i| match i {
                inbox_core::ThreadItem::Message(m) => Some(m),
                _ => None,
            }),
        );
        shared
            .cache(move |c| c.apply_snapshot_page(&page, first, last))
            .await
            .map_err(|e| ApiError::Unreachable(format!("cache: {e}")))?;
        first = false;
        if last {
            shared.publish(Update::Resynced);
            // A snapshot carries no organisation: the settings an `organisation` event would
            // have brought (while this desktop was away past the log's retention) come from
            // the session's own record.
            if let Ok(organisation) = shared.api.organisation().await {
                shared.publish(Update::Organisation { organisation });
            }
            // Likewise what this user may do (an `access` event missed while away, or an
            // upgrade that changed the roles).
            if let Ok(user) = shared.api.me().await {
                shared.publish(Update::Access { user });
            }
            return Ok(seq);
        }
    }
}
