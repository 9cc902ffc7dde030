//! The sync WebSocket (issue 4, DSK-3): replay from a cursor then live, gap-free per
//! organisation, resync when the cursor is outside the log, closed when the session ends.

use std::time::Duration;

use serde_json::json;

use crate::support::{closed, conv::*, frame, seen, Seen, Server};

#[tokio::test]
async fn dsk3_replays_after_the_cursor_then_streams_live_to_every_client() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let snap = c.ok("/api/v1/sync/snapshot").await;
    assert_eq!(
        snap["seq"], 1,
        "an imported organisation's log starts after the import"
    );
    assert_eq!(
        snap["conversations"].as_array().unwrap().len() as i64,
        7 + OLD_COUNT
    );
    assert_eq!(snap["quick_messages"][0]["name"], "ready");
    let items = snap["items"].as_array().unwrap();
    let carol = items
        .iter()
        .filter(|i| i["conversation_id"] == CAROL)
        .count();
    assert_eq!(
        carol, 50,
        "each conversation's newest page of items comes along (DSK-2)"
    );
    // Carol's 55 items are capped at a page; Dan has a message and a note; the rest one item each.
    assert_eq!(items.len(), 50 + 2 + (7 + OLD_COUNT as usize - 2));
    assert!(snap["next_after"].is_null());

    // A change made while nobody is connected waits in the log.
    let (status, _) = c
        .post(
            &format!("/api/v1/conversations/{ALICE}/notes"),
            json!({ "body": "Rang, no answer" }),
        )
        .await;
    assert_eq!(status, 201);
    let mut ws = c.sync(1).await.unwrap();
    assert_eq!(
        frame(&mut ws).await,
        json!({ "type": "hello", "protocol": 1, "head": 3 })
    );
    let note = frame(&mut ws).await;
    assert_eq!(
        (note["seq"].as_i64(), note["type"].as_str()),
        (Some(2), Some("note"))
    );
    assert_eq!(note["data"]["body"], "Rang, no answer");
    let row = frame(&mut ws).await;
    assert_eq!(
        (row["seq"].as_i64(), row["type"].as_str()),
        (Some(3), Some("conversation"))
    );
    assert_eq!(row["data"]["id"], ALICE);
    assert_eq!(
        frame(&mut ws).await,
        json!({ "type": "caught_up", "seq": 3 })
    );

    let mut second = c.sync(3).await.unwrap();
    assert_eq!(frame(&mut second).await["type"], "hello");
    assert_eq!(
        frame(&mut second).await,
        json!({ "type": "caught_up", "seq": 3 })
    );

    // A refused write appends nothing; an accepted one reaches both clients, in order.
    let path = format!("/api/v1/conversations/{ALICE}/messages");
    assert_eq!(
        c.post(&path, json!({ "client_id": "x", "body": "  " }))
            .await
            .0,
        422
    );
    let (status, msg) = c
        .post(
            &path,
            json!({ "client_id": "live-1", "body": "On its way" }),
        )
        .await;
    assert_eq!(status, 201);
    for socket in [&mut ws, &mut second] {
        let m = frame(socket).await;
        assert_eq!(
            (m["seq"].as_i64(), m["type"].as_str()),
            (Some(4), Some("message"))
        );
        assert_eq!(m["data"]["id"], msg["id"]);
        assert_eq!(m["data"]["status"], "pending");
        let row = frame(socket).await;
        assert_eq!(
            (row["seq"].as_i64(), row["type"].as_str()),
            (Some(5), Some("conversation"))
        );
        assert_eq!(row["data"]["preview"], "On its way");
    }
}

#[tokio::test]
async fn rt1_every_kind_of_change_is_an_event_with_the_whole_row() {
    let s = Server::start().await;
    let c = s.login("manager@fixture.test").await;
    let mut ws = c.sync(1).await.unwrap();
    assert_eq!(frame(&mut ws).await["type"], "hello");
    assert_eq!(frame(&mut ws).await["type"], "caught_up");
    let call = c
        .ok(&format!("/api/v1/conversations/{UNKNOWN_CALLER}/messages"))
        .await["items"][0]["id"]
        .as_i64()
        .unwrap();
    c.post(&format!("/api/v1/conversations/{ALICE}/read"), json!({}))
        .await;
    c.put(
        &format!("/api/v1/conversations/{BOB}/assignee"),
        json!({ "user_id": 1 }),
    )
    .await;
    c.post(&format!("/api/v1/calls/{call}/resolve"), json!({}))
        .await;
    c.post(
        "/api/v1/quick-messages",
        json!({ "name": "thanks", "body": "Thanks!" }),
    )
    .await;
    let expected = [
        ("messages_read", ALICE),
        ("conversation", ALICE),
        ("conversation", BOB),
        ("call", call),
        ("conversation", UNKNOWN_CALLER),
        ("quick_message", 0),
    ];
    for (seq, (kind, id)) in (2..).zip(expected) {
        let e = frame(&mut ws).await;
        assert_eq!(e["type"], kind, "{e}");
        assert_eq!(e["seq"].as_i64().unwrap(), seq, "gap-free");
        match kind {
            "messages_read" => assert_eq!(e["data"]["conversation_id"], id),
            "quick_message" => assert_eq!(e["data"]["name"], "thanks"),
            _ => assert_eq!(e["data"]["id"], id),
        }
        if kind == "conversation" && id == UNKNOWN_CALLER {
            assert_eq!(
                e["data"]["unresolved_calls"], 0,
                "the row carries the new state"
            );
        }
    }
}

#[tokio::test]
async fn a_cursor_outside_the_log_gets_resync_required() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    for since in [0, 99] {
        let mut ws = c.sync(since).await.unwrap();
        assert_eq!(frame(&mut ws).await["type"], "hello");
        let r = frame(&mut ws).await;
        assert_eq!(r["type"], "resync_required", "since={since}");
        assert_eq!(
            (r["oldest_retained"].as_i64(), r["head"].as_i64()),
            (Some(1), Some(1))
        );
        assert_eq!(closed(&mut ws).await.1, Some(4000));
    }
    c.post(
        &format!("/api/v1/conversations/{ALICE}/notes"),
        json!({ "body": "one" }),
    )
    .await;
    c.post(
        &format!("/api/v1/conversations/{ALICE}/notes"),
        json!({ "body": "two" }),
    )
    .await;
    // Retention drops the old events: a client still at seq 2 can no longer be replayed to.
    let pruned = s
        .store
        .prune_events(chrono::Utc::now() + chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(pruned, 4);
    let mut ws = c.sync(2).await.unwrap();
    assert_eq!(frame(&mut ws).await["head"], 5);
    assert_eq!(frame(&mut ws).await["type"], "resync_required");
    let mut ws = c.sync(5).await.unwrap();
    assert_eq!(frame(&mut ws).await["type"], "hello");
    assert_eq!(
        frame(&mut ws).await,
        json!({ "type": "caught_up", "seq": 5 }),
        "a client at the head is fine"
    );
}

#[tokio::test]
async fn acc1_the_handshake_needs_a_session_and_messages_view() {
    use tokio_tungstenite::tungstenite::Error;
    let s = Server::start().await;
    let status = |r: Result<_, Error>| match r {
        Err(Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("unexpected {e}"),
        Ok(_) => 101,
    };
    assert_eq!(status(s.anonymous().sync(1).await), 401);
    assert_eq!(
        status(s.login("mechanic@fixture.test").await.sync(1).await),
        403
    );
    assert_eq!(
        status(s.login("viewer@fixture.test").await.sync(1).await),
        101
    );
}

#[tokio::test]
async fn acc2_events_reach_only_their_organisation() {
    let s = Server::start().await;
    let fixture = s.login("frontdesk@fixture.test").await;
    let other = s.login("frontdesk@other.test").await;
    let mut ws = fixture.sync(1).await.unwrap();
    frame(&mut ws).await;
    frame(&mut ws).await;
    let mut theirs = other.sync(1).await.unwrap();
    frame(&mut theirs).await;
    frame(&mut theirs).await;
    other
        .post(
            &format!("/api/v1/conversations/{OTHER}/notes"),
            json!({ "body": "private" }),
        )
        .await;
    let e = frame(&mut theirs).await;
    assert_eq!(
        (e["seq"].as_i64(), e["data"]["body"].as_str()),
        (Some(2), Some("private")),
        "each organisation has its own sequence"
    );
    match seen(&mut ws, Duration::from_millis(700)).await {
        None | Some(Seen::Ping) => {}
        other => panic!("another organisation's event leaked: {other:?}"),
    }
    fixture
        .post(
            &format!("/api/v1/conversations/{ALICE}/notes"),
            json!({ "body": "ours" }),
        )
        .await;
    let e = frame(&mut ws).await;
    assert_eq!(
        (e["seq"].as_i64(), e["data"]["body"].as_str()),
        (Some(2), Some("ours"))
    );
}

#[tokio::test]
async fn a_revoked_session_closes_the_socket_with_a_reason() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let mut ws = c.sync(1).await.unwrap();
    frame(&mut ws).await;
    frame(&mut ws).await;
    assert_eq!(c.post("/api/v1/auth/logout", json!({})).await.0, 204);
    let (frames, code) = closed(&mut ws).await;
    assert_eq!(
        frames,
        vec![json!({ "type": "closing", "reason": "session_expired" })]
    );
    assert_eq!(code, Some(4001));
}

#[tokio::test]
async fn the_server_sends_heartbeats() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let mut ws = c.sync(1).await.unwrap();
    frame(&mut ws).await;
    frame(&mut ws).await;
    let mut pings = 0;
    while pings < 2 {
        match seen(&mut ws, Duration::from_secs(3)).await {
            Some(Seen::Ping) => pings += 1,
            other => panic!("expected a ping, got {other:?}"),
        }
    }
}
