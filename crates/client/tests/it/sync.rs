//! Initial sync, live events, server restarts mid-stream, resync, revoked sessions (DSK-3, RT-1).

use std::time::Duration;

use inbox_client::cache::Cache;
use inbox_client::{Engine, Update};
use inbox_core::providers::Provider;
use inbox_core::{NoteKind, ThreadItem};
use serde_json::json;

use crate::support::*;

/// Notes with this prefix in the cache's copy of a thread.
fn notes_with(cache: &Cache, conversation: i64, prefix: &str) -> Vec<String> {
    cache
        .thread(conversation, None, 10_000)
        .unwrap()
        .into_iter()
        .filter_map(|i| match i {
            ThreadItem::Note(n) if n.kind == NoteKind::Note && n.body.starts_with(prefix) => {
                Some(n.body)
            }
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsk3_initial_sync_from_empty_then_live_events_reach_two_clients() {
    let (dir, server, desk, _) = desk().await;
    let second = login(&server.base, "second@engine.test").await;
    let a = Engine::start(engine_config(&server.base, &desk, dir.path().join("a.db")))
        .await
        .unwrap();
    let b = Engine::start(engine_config(
        &server.base,
        &second,
        dir.path().join("b.db"),
    ))
    .await
    .unwrap();
    live(&a).await;
    live(&b).await;
    assert_in_step(&a, &server.base, &desk.token).await;
    assert_in_step(&b, &server.base, &second.token).await;

    let first = engine_conversations(&a).await[0].id;
    let mut updates = a.subscribe();
    let (status, _) = post(
        &server.base,
        &second.token,
        &format!("/api/v1/conversations/{first}/notes"),
        json!({ "body": "live-1" }),
    )
    .await;
    assert_eq!(status, 201);
    let changed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(Update::Changed { conversations, .. }) = updates.recv().await {
                if conversations.contains(&first) {
                    return;
                }
            }
        }
    })
    .await;
    assert!(changed.is_ok(), "engine A heard about the note");
    assert_in_step(&a, &server.base, &desk.token).await;
    assert_in_step(&b, &server.base, &second.token).await;
    let view = a.thread(first, None).await.unwrap();
    assert!(view
        .items
        .iter()
        .any(|i| matches!(i, ThreadItem::Note(n) if n.body == "live-1")));
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsk3_server_killed_mid_stream_resumes_with_nothing_lost_or_repeated() {
    let (_dir, mut server, desk, cache_path) = desk().await;
    let writer = login(&server.base, "second@engine.test").await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    let target = engine_conversations(&engine).await[1].id;

    // Writes stream in; the server dies half-way and comes back; the writes go on.
    let mut written = 0;
    for i in 0..40 {
        if i == 20 {
            server.kill();
            let s = engine
                .wait_for_state(Duration::from_secs(10), |s| !s.is_live())
                .await;
            assert!(s.is_some(), "the engine noticed the server was gone");
            server.restart();
        }
        let body = format!("stream-{i:02}");
        // A write the dead server never took is retried, as a front desk would.
        for _ in 0..50 {
            let res = reqwest::Client::new()
                .post(format!(
                    "{}/api/v1/conversations/{target}/notes",
                    server.base
                ))
                .bearer_auth(&writer.token)
                .json(&json!({ "body": body }))
                .send()
                .await;
            if matches!(res, Ok(r) if r.status() == 201) {
                written += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(written, 40);
    live(&engine).await;
    assert_in_step(&engine, &server.base, &desk.token).await;
    engine.shutdown().await;
    let cache = Cache::open(&cache_path).unwrap();
    let notes = notes_with(&cache, target, "stream-");
    let mut sorted = notes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 40, "every note once: {notes:?}");
    assert_eq!(notes.len(), 40, "none twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_older_than_the_log_triggers_a_full_resync() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    let target = engine_conversations(&engine).await[2].id;
    engine.shutdown().await;

    // While this desktop is away, things happen and the log is pruned past its cursor.
    for i in 0..5 {
        post(
            &server.base,
            &desk.token,
            &format!("/api/v1/conversations/{target}/notes"),
            json!({ "body": format!("away-{i}") }),
        )
        .await;
    }
    let store = inbox_server::store::open(&server.db_url()).await.unwrap();
    assert!(
        store
            .prune_events(chrono::Utc::now() + chrono::Duration::days(1))
            .await
            .unwrap()
            >= 10
    );

    // Subscribed before the engine's first connection, which is when it resyncs.
    let (engine, mut updates) =
        Engine::start_subscribed(engine_config(&server.base, &desk, cache_path))
            .await
            .unwrap();
    live(&engine).await;
    let mut resynced = false;
    while let Ok(u) = updates.try_recv() {
        resynced |= u == Update::Resynced;
    }
    assert!(resynced, "the engine rebuilt from a snapshot");
    assert_in_step(&engine, &server.base, &desk.token).await;
    let row = engine.conversation(target).await.unwrap().unwrap();
    assert_eq!(row.id, target);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_session_signs_the_engine_out() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    assert_eq!(
        post(&server.base, &desk.token, "/api/v1/auth/logout", json!({}))
            .await
            .0,
        204
    );
    let s = engine
        .wait_for_state(Duration::from_secs(10), |s| {
            matches!(
                s,
                inbox_client::connection::ConnectionState::SignedOut { .. }
            )
        })
        .await;
    let Some(inbox_client::connection::ConnectionState::SignedOut { reason }) = s else {
        panic!(
            "signed out, not retrying forever: {:?}",
            engine.connection()
        );
    };
    // The sign-in page says why in words, not with the server's reason code.
    assert!(
        !reason.is_empty() && !reason.contains("session_"),
        "{reason}"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rt2_refresh_forces_a_reconnect_and_a_resync() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    let mut updates = engine.subscribe();
    engine.refresh();
    let resynced = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(Update::Resynced) = updates.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(
        resynced.is_ok(),
        "refresh rebuilt the cache from a snapshot"
    );
    live(&engine).await;
    assert_in_step(&engine, &server.base, &desk.token).await;
    engine.shutdown().await;
}

/// Stores an inbound text as the provider webhook would, through a second handle on the server's
/// database (the server process announces it with the next change it makes itself).
async fn ingest(server: &ServerProc, org: i64, from: &str, sid: &str, body: &str) -> (i64, i64) {
    use inbox_server::store::NewInbound;
    let store = inbox_server::store::open(&server.db_url()).await.unwrap();
    let done = store
        .ingest_message(
            org,
            NewInbound {
                attachments: Vec::new(),
                uploads: Vec::new(),
                channel: inbox_core::Channel::Sms,
                from_number: Some(from.into()),
                customer_id: None,
                body: body.into(),
                provider: Provider::Twilio,
                provider_id: sid.into(),
                at: chrono::Utc::now(),
            },
        )
        .await
        .unwrap();
    (done.conversation_id, done.item_id)
}

/// The body of a message as the cache holds it.
fn cached_body(cache: &Cache, conversation: i64, id: i64) -> Option<String> {
    cache
        .thread(conversation, None, 10_000)
        .unwrap()
        .into_iter()
        .find_map(|i| match i {
            ThreadItem::Message(m) if m.id == id => Some(m.body),
            _ => None,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rt1_an_event_sent_as_a_stub_is_fetched_and_applied_whole_live_and_on_replay() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    let org = desk.organisation.id;
    let huge = "The whole history of the car, page after page. ".repeat(8_000);
    assert!(huge.len() > 300 * 1024);

    // Live: the next change of the server process broadcasts the stored text, as a stub.
    let (conv, live_id) = ingest(&server, org, "+447700900901", "SMstub1", &huge).await;
    let (status, _) = post(
        &server.base,
        &desk.token,
        &format!("/api/v1/conversations/{conv}/notes"),
        json!({ "body": "stub-follow" }),
    )
    .await;
    assert_eq!(status, 201);
    assert_in_step(&engine, &server.base, &desk.token).await;
    assert!(engine.connection().is_live(), "the connection stayed up");
    engine.shutdown().await;

    // Replay: stored while the desktop was away, sent as a stub when it reconnects.
    let (_, replay_id) = ingest(&server, org, "+447700900901", "SMstub2", &huge).await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    assert_in_step(&engine, &server.base, &desk.token).await;
    engine.shutdown().await;

    let cache = Cache::open(&cache_path).unwrap();
    assert_eq!(
        cached_body(&cache, conv, live_id).as_deref(),
        Some(huge.as_str())
    );
    assert_eq!(
        cached_body(&cache, conv, replay_id).as_deref(),
        Some(huge.as_str())
    );
    assert_eq!(notes_with(&cache, conv, "stub-follow").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsk3_a_hole_in_the_replayed_log_makes_the_engine_resync_instead_of_skipping() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    let target = engine_conversations(&engine).await[0].id;
    let cursor = engine.cursor().await.unwrap().unwrap();
    engine.shutdown().await;
    for i in 0..3 {
        post(
            &server.base,
            &desk.token,
            &format!("/api/v1/conversations/{target}/notes"),
            json!({ "body": format!("gap-{i}") }),
        )
        .await;
    }
    // A hole in the middle of the log, as pruning by time could punch: the event right after
    // this desktop's cursor + 2 is gone, the rest still there.
    let db = rusqlite::Connection::open(server.db_url().trim_start_matches("sqlite://")).unwrap();
    let gone = db
        .execute(
            "DELETE FROM events WHERE org_id = ?1 AND seq = ?2",
            rusqlite::params![desk.organisation.id, cursor + 3],
        )
        .unwrap();
    assert_eq!(gone, 1);

    // Subscribed before the engine's first connection, which is when it resyncs.
    let (engine, mut updates) =
        Engine::start_subscribed(engine_config(&server.base, &desk, cache_path.clone()))
            .await
            .unwrap();
    live(&engine).await;
    let mut resynced = false;
    while let Ok(u) = updates.try_recv() {
        resynced |= u == Update::Resynced;
    }
    assert!(
        resynced,
        "the engine rebuilt from a snapshot instead of skipping"
    );
    assert_in_step(&engine, &server.base, &desk.token).await;
    engine.shutdown().await;
    let cache = Cache::open(&cache_path).unwrap();
    assert_eq!(
        notes_with(&cache, target, "gap-").len(),
        3,
        "every note is there"
    );
}

/// How many of a thread's messages (as the engine shows them) carry an intent.
async fn with_intents(engine: &Engine, conversation: i64) -> usize {
    let view = engine.thread(conversation, None).await.unwrap();
    view.items
        .iter()
        .filter(|i| matches!(i, ThreadItem::Message(m) if m.intent.is_some()))
        .count()
}

/// AIA-1: the Owner turns AI on and off again; an open desktop hears each change at once (the
/// UI is told, to re-read the session) and rebuilds its cache, so the messages it already held
/// get their intents and lose them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aia1_the_ai_switch_reaches_an_open_desktop_and_its_cached_intents_follow() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path).await;
    let owner = login(&server.base, "owner@engine.test").await;
    let (_, rows) = server_conversations(&server.base, &desk.token).await;
    let mut conversation = None;
    for enabled in [true, false] {
        let mut updates = engine.subscribe();
        let res = reqwest::Client::new()
            .put(format!("{}/api/v1/settings/ai", server.base))
            .bearer_auth(&owner.token)
            .json(&json!({ "enabled": enabled }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let (mut told, mut resynced) = (false, false);
        let heard = tokio::time::timeout(Duration::from_secs(10), async {
            while !(told && resynced) {
                match updates.recv().await {
                    Ok(Update::Organisation { organisation }) => {
                        assert_eq!(organisation.ai_enabled, enabled);
                        told = true;
                    }
                    Ok(Update::Resynced) => resynced = told,
                    _ => {}
                }
            }
        })
        .await;
        assert!(
            heard.is_ok(),
            "AI {enabled}: told {told}, resynced {resynced}"
        );
        live(&engine).await;
        if conversation.is_none() {
            // The newest conversation with a customer's message now shows intents.
            for row in &rows {
                if with_intents(&engine, row.id).await > 0 {
                    conversation = Some(row.id);
                    break;
                }
            }
        }
        let conversation = conversation.expect("a cached thread with intents once AI is on");
        let shown = with_intents(&engine, conversation).await;
        assert_eq!(
            shown > 0,
            enabled,
            "AI {enabled}: {shown} messages with an intent"
        );
    }
    engine.shutdown().await;
}
