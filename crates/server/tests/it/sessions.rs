//! Sessions end when an administrator says so — at once, open sync sockets included, even when
//! the order comes from another process — and after an idle period, where every request and an
//! open sync socket count as use.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::admin::{ok, run};
use crate::support::*;

/// Opens a socket and reads it up to `caught_up`.
async fn live(c: &Client) -> Socket {
    let mut ws = c.sync(1).await.unwrap();
    assert_eq!(frame(&mut ws).await["type"], "hello");
    assert_eq!(frame(&mut ws).await["type"], "caught_up");
    ws
}

/// Waits up to `limit` for the socket to close; returns what it said and how long it took.
async fn closes_within(
    ws: &mut Socket,
    limit: Duration,
) -> (Vec<serde_json::Value>, Option<u16>, Duration) {
    let start = Instant::now();
    let mut frames = Vec::new();
    loop {
        let left = limit.saturating_sub(start.elapsed());
        match seen(ws, left).await {
            Some(Seen::Frame(v)) => frames.push(v),
            Some(Seen::Ping) => {}
            Some(Seen::Closed(code)) => return (frames, code, start.elapsed()),
            None => panic!("still open after {limit:?}; frames: {frames:?}"),
        }
    }
}

/// Nothing but pings for `wait`.
async fn stays_open(ws: &mut Socket, wait: Duration) {
    let until = Instant::now() + wait;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match seen(ws, left).await {
            None | Some(Seen::Ping) => {}
            other => panic!("the socket should stay open, got {other:?}"),
        }
    }
}

/// The periodic session re-check a minute away, so only the revocation itself can close a socket
/// in time; no pings either (a ping left unanswered while the test reads another socket makes the
/// client's late pong meet a closed connection, which hides the close frame).
fn slow_checks(st: &mut inbox_server::AppState) {
    st.sync.session_check = Duration::from_secs(60);
    st.sync.heartbeat = Duration::from_secs(60);
    st.sync.heartbeat_timeout = Duration::from_secs(120);
}

#[tokio::test]
async fn revoking_from_the_cli_closes_that_users_open_sockets_within_a_second_or_two() {
    let s = Server::start_with(slow_checks).await;
    let url = s.db.url.clone();
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let (mut a, mut b) = (live(&frontdesk).await, live(&frontdesk).await);
    let manager = s.login("manager@fixture.test").await;
    let mut theirs = live(&manager).await;

    ok(run(
        &url,
        &[
            "user",
            "revoke-sessions",
            "--email",
            "frontdesk@fixture.test",
        ],
        &[],
        "",
    ));
    for ws in [&mut a, &mut b] {
        let (frames, code, took) = closes_within(ws, Duration::from_secs(2)).await;
        assert_eq!(
            frames,
            vec![json!({ "type": "closing", "reason": "session_revoked" })]
        );
        assert_eq!(code, Some(4001));
        eprintln!("revoke-sessions closed a socket {took:?} after the CLI returned");
    }
    stays_open(&mut theirs, Duration::from_millis(700)).await;

    // Disabling does the same.
    let mut m = theirs;
    ok(run(
        &url,
        &["user", "disable", "--email", "manager@fixture.test"],
        &[],
        "",
    ));
    let (frames, code, took) = closes_within(&mut m, Duration::from_secs(2)).await;
    assert_eq!(
        frames,
        vec![json!({ "type": "closing", "reason": "session_revoked" })]
    );
    assert_eq!(code, Some(4001));
    eprintln!("disable closed a socket {took:?} after the CLI returned");
}

#[tokio::test]
async fn revoking_through_one_instance_closes_sockets_on_another() {
    let s = Server::start_with(slow_checks).await;
    let peer = s.peer_with(slow_checks).await;
    let c = peer.login("frontdesk@fixture.test").await;
    let mut ws = live(&c).await;
    // The store call the CLI makes, from this test process: a third party to both servers.
    let user = s
        .store
        .user_by_email("frontdesk@fixture.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.store.end_sessions(user.id, now()).await.unwrap(), 1);
    let (frames, code, _) = closes_within(&mut ws, Duration::from_secs(2)).await;
    assert_eq!(
        frames,
        vec![json!({ "type": "closing", "reason": "session_revoked" })]
    );
    assert_eq!(code, Some(4001));
}

/// A clock the test moves forward.
fn manual_clock() -> (inbox_server::clock::Clock, Arc<Mutex<DateTime<Utc>>>) {
    let at = Arc::new(Mutex::new(now()));
    let read = Arc::clone(&at);
    (
        inbox_server::clock::Clock::from_fn(move || *read.lock().unwrap()),
        at,
    )
}

fn advance(at: &Mutex<DateTime<Utc>>, minutes: i64) {
    *at.lock().unwrap() += chrono::Duration::minutes(minutes);
}

#[tokio::test]
async fn an_idle_session_ends_while_use_and_an_open_socket_keep_one_alive() {
    let (clock, at) = manual_clock();
    let s = Server::start_with(move |st| {
        st.clock = clock;
        st.session_idle = chrono::Duration::hours(1);
    })
    .await;
    let busy = s.login("frontdesk@fixture.test").await;
    let idle = s.login("manager@fixture.test").await;
    let desktop = s.login("viewer@fixture.test").await;
    let mut ws = live(&desktop).await;

    for _ in 0..3 {
        advance(&at, 45);
        assert_eq!(
            busy.get("/api/v1/me").await.0,
            200,
            "each use restarts the idle clock"
        );
        // The socket's periodic check (200 ms in tests) records the open desktop as use.
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let (status, body) = idle.get("/api/v1/me").await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["message"],
        "the session ended after 1 hour without activity; sign in again"
    );
    assert_eq!(
        idle.get("/api/v1/me").await.0,
        401,
        "an idle session stays ended"
    );
    assert_eq!(
        desktop.get("/api/v1/me").await.0,
        200,
        "2 h 15 min after sign-in, kept alive by its open socket alone"
    );
    stays_open(&mut ws, Duration::from_millis(300)).await;
    drop(ws);
    tokio::time::sleep(Duration::from_millis(300)).await;
    advance(&at, 61);
    assert_eq!(
        desktop.get("/api/v1/me").await.0,
        401,
        "closed, it idles out"
    );
}
