//! The sync WebSocket (issue 4, DSK-3): replay from a cursor then live, gap-free per
//! organisation, resync when the cursor is outside the log, closed when the session ends.

use std::time::Duration;

use serde_json::json;

use crate::support::{closed, conv::*, frame, seen, Seen, Server, ALICE_PHONE, TWILIO_TOKEN};

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

/// An inbound text far larger than a sync frame may be (providers' text is never refused).
fn huge_text() -> String {
    "Photos of the damage follow. ".repeat(15_000)
}

#[tokio::test]
async fn rt1_an_event_too_large_for_a_frame_goes_as_a_stub_and_the_socket_stays_up() {
    use crate::webhooks::{sid, sms, twilio};
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let mut ws = c.sync(1).await.unwrap();
    assert_eq!(frame(&mut ws).await["type"], "hello");
    assert_eq!(frame(&mut ws).await["type"], "caught_up");
    let body = huge_text();
    assert!(body.len() > 400 * 1024);
    let (status, answer) = twilio(
        &s,
        "/webhooks/twilio/sms",
        &sms(&sid("SM", 77), ALICE_PHONE, &body),
        Some(TWILIO_TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{answer}");

    let stub = frame(&mut ws).await;
    assert_eq!(
        (stub["seq"].as_i64(), stub["type"].as_str()),
        (Some(2), Some("message"))
    );
    assert!(stub.get("data").is_none(), "{stub}");
    assert_eq!(stub["stub"]["conversation_id"], ALICE);
    let id = stub["stub"]["id"].as_i64().unwrap();
    // The rest of the stream carries on, whole frames as before.
    let row = frame(&mut ws).await;
    assert_eq!(
        (row["seq"].as_i64(), row["type"].as_str()),
        (Some(3), Some("conversation"))
    );

    // The whole event, exactly as it would have come.
    let whole = c.ok("/api/v1/sync/events/2").await;
    assert_eq!(
        (whole["seq"].as_i64(), whole["type"].as_str()),
        (Some(2), Some("message"))
    );
    assert_eq!(whole["data"]["id"], id);
    assert_eq!(whole["data"]["body"].as_str().unwrap(), body);
    // Only the caller's organisation's log, only with messages.view, only what is there.
    let other = s.login("frontdesk@other.test").await;
    assert_eq!(other.get("/api/v1/sync/events/2").await.0, 404);
    let mechanic = s.login("mechanic@fixture.test").await;
    assert_eq!(mechanic.get("/api/v1/sync/events/2").await.0, 403);
    assert_eq!(c.get("/api/v1/sync/events/99").await.0, 404);
    assert_eq!(c.get("/api/v1/sync/events/0").await.0, 404);

    // The connection is still up and streaming.
    c.post(
        &format!("/api/v1/conversations/{ALICE}/notes"),
        json!({ "body": "after" }),
    )
    .await;
    let note = frame(&mut ws).await;
    assert_eq!(
        (note["seq"].as_i64(), note["type"].as_str()),
        (Some(4), Some("note"))
    );

    // Replaying from before it sends the stub again, and the replay goes on past it.
    let mut again = c.sync(1).await.unwrap();
    assert_eq!(frame(&mut again).await["type"], "hello");
    let replayed = frame(&mut again).await;
    assert_eq!(replayed, stub);
    assert_eq!(frame(&mut again).await["seq"], 3);
    assert_eq!(frame(&mut again).await["seq"], 4);
    assert_eq!(frame(&mut again).await["seq"], 5);
    assert_eq!(
        frame(&mut again).await,
        json!({ "type": "caught_up", "seq": 5 })
    );
}

#[tokio::test]
async fn pruning_keeps_a_contiguous_tail_even_when_the_clock_stepped_back() {
    use std::sync::{Arc, Mutex};
    let at = Arc::new(Mutex::new(crate::support::now()));
    let read = Arc::clone(&at);
    let s = Server::start_with(move |state| {
        state.clock = inbox_server::clock::Clock::from_fn(move || *read.lock().unwrap());
    })
    .await;
    let c = s.login("frontdesk@fixture.test").await;
    let note = |body: &'static str| {
        let c = &c;
        async move {
            let path = format!("/api/v1/conversations/{ALICE}/notes");
            assert_eq!(c.post(&path, json!({ "body": body })).await.0, 201);
        }
    };
    note("first").await; // events 2, 3
                         // The server's clock steps back 40 days for a moment (NTP, a VM restored from a snapshot).
    *at.lock().unwrap() = crate::support::now() - chrono::Duration::days(40);
    note("stepped back").await; // events 4, 5 carry an old `at`
    *at.lock().unwrap() = crate::support::now();
    note("after").await; // events 6, 7
    let pruned = s
        .store
        .prune_events(crate::support::now() - chrono::Duration::days(30))
        .await
        .unwrap();
    // 2 to 5 (an imported log starts at 1 without a row), not just 4 and 5.
    assert_eq!(
        pruned, 4,
        "everything up to the old event goes, not just it"
    );
    let org = 1;
    let bounds = s.store.log_bounds(org).await.unwrap();
    assert_eq!((bounds.floor, bounds.head), (5, 7));
    let kept: Vec<i64> = s
        .store
        .events_after(org, 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(kept, vec![6, 7], "a contiguous tail");
    // A client at 3 would otherwise have been replayed 6 after 3, silently missing 4 and 5.
    let mut ws = c.sync(3).await.unwrap();
    assert_eq!(frame(&mut ws).await["type"], "hello");
    assert_eq!(frame(&mut ws).await["type"], "resync_required");
    let mut ws = c.sync(5).await.unwrap();
    assert_eq!(frame(&mut ws).await["type"], "hello");
    assert_eq!(frame(&mut ws).await["seq"], 6);
    assert_eq!(frame(&mut ws).await["seq"], 7);
    assert_eq!(frame(&mut ws).await["type"], "caught_up");
}
