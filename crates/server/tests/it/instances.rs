//! Several `inbox-server` instances over one database (issue 8): an event written through one
//! instance reaches sockets on another, sequence numbers stay gap-free and ordered under
//! concurrent writers on both, and the shared send queue sends each message once. Fan-out across
//! instances needs PostgreSQL (LISTEN/NOTIFY); the send queue is shared on either backend.

use inbox_core::providers::Provider;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::dispatch::{dispatcher, start_fake};
use crate::support::{conv, frame, now, postgres, Server, Socket, TestDb};

/// Frames until the event with `last` arrives; their sequence numbers in order.
async fn seqs_until(ws: &mut Socket, last: i64) -> Vec<i64> {
    let mut seqs = Vec::new();
    while seqs.last() != Some(&last) {
        let f: Value = frame(ws).await;
        if let Some(seq) = f["seq"].as_i64() {
            seqs.push(seq);
        }
    }
    seqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_written_through_one_instance_reach_sockets_on_the_other_gap_free() {
    if !postgres() {
        eprintln!(
            "skipped: fan-out across instances runs on PostgreSQL (INBOX_TEST_BACKEND=postgres)"
        );
        return;
    }
    let a = Server::start().await;
    let b = a.peer().await;
    let (ca, cb) = (
        a.login("frontdesk@fixture.test").await,
        b.login("frontdesk@fixture.test").await,
    );
    let mut on_a = ca.sync(1).await.unwrap();
    let mut on_b = cb.sync(1).await.unwrap();
    for ws in [&mut on_a, &mut on_b] {
        assert_eq!(frame(ws).await["type"], "hello");
        assert_eq!(frame(ws).await["type"], "caught_up");
    }

    // One write through A: B's client hears of it at once, not at the next sweep.
    let started = std::time::Instant::now();
    let (status, _) = ca
        .post(
            &format!("/api/v1/conversations/{}/notes", conv::ALICE),
            json!({ "body": "Written through A" }),
        )
        .await;
    assert_eq!(status, 201);
    let note = frame(&mut on_b).await;
    assert_eq!(
        (note["seq"].as_i64(), note["type"].as_str()),
        (Some(2), Some("note"))
    );
    assert_eq!(note["data"]["body"], "Written through A");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "delivered by notification, took {:?}",
        started.elapsed()
    );

    // Concurrent writers on both instances: every client sees one gap-free, ordered sequence.
    let mut writers = Vec::new();
    for i in 0..20 {
        let c = if i % 2 == 0 { &ca } else { &cb };
        let (http, base, token) = (c.http.clone(), c.base.clone(), c.token.clone().unwrap());
        let conversation = [conv::ALICE, conv::BOB, conv::DAN][i % 3];
        writers.push(tokio::spawn(async move {
            let res = http
                .post(format!("{base}/api/v1/conversations/{conversation}/notes"))
                .bearer_auth(token)
                .json(&json!({ "body": format!("Concurrent note {i}") }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    // Each note is two events (the note and its conversation's row): 3 (the first note's) + 40.
    let last = 3 + 40;
    let expected: Vec<i64> = (3..=last).collect();
    assert_eq!(seqs_until(&mut on_b, last).await, expected, "on B");
    let mut seen_a = seqs_until(&mut on_a, last).await;
    seen_a.retain(|s| *s >= 3);
    assert_eq!(seen_a, expected, "on A");
    let head = a.store.log_bounds(1).await.unwrap().head;
    assert_eq!(head, last, "no number was handed out twice or skipped");
    let events = a.store.events_after(1, 1, 1000).await.unwrap();
    let logged: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(logged, (2..=last).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_send_queue_and_send_each_message_once() {
    let a = Server::start().await;
    let b = a.peer().await;
    let (fake_base, fake) = start_fake().await;
    let (ca, cb) = (
        a.login("frontdesk@fixture.test").await,
        b.login("frontdesk@fixture.test").await,
    );
    let path = format!("/api/v1/conversations/{}/messages", conv::ALICE);
    let send = |batch: &'static str, n: usize| {
        let (ca, cb, path) = (&ca, &cb, path.clone());
        async move {
            for i in 0..n {
                let c = if i % 2 == 0 { ca } else { cb };
                let (status, m) = c
                    .post(
                        &path,
                        json!({ "client_id": format!("{batch}-{i}"), "body": format!("{batch} message {i}"), "channel": "sms" }),
                    )
                    .await;
                assert_eq!(status, 201, "{m}");
            }
        }
    };

    // Claims made at the same moment by both instances never overlap.
    send("claim", 30).await;
    let lease = now() + chrono::Duration::minutes(2);
    let (ja, jb) = tokio::join!(
        a.store.claim_outbound(now(), lease, 100),
        b.store.claim_outbound(now(), lease, 100)
    );
    let (ja, jb) = (ja.unwrap(), jb.unwrap());
    let ids_a: HashSet<i64> = ja.iter().map(|j| j.message.id).collect();
    let ids_b: HashSet<i64> = jb.iter().map(|j| j.message.id).collect();
    assert!(ids_a.is_disjoint(&ids_b), "one message claimed by both");
    assert_eq!(ids_a.len() + ids_b.len(), 30, "every due message claimed");
    for job in ja.iter().chain(&jb) {
        a.store
            .outbound_accepted(
                job.message.id,
                job.claim,
                Provider::Twilio,
                &format!("SM-claimed-{}", job.message.id),
                inbox_core::DeliveryStatus::Pending,
                now(),
            )
            .await
            .unwrap();
    }

    // Two dispatchers draining one queue at once: each message reaches the provider once.
    send("send", 40).await;
    let (da, db) = (dispatcher(&a, &fake_base), dispatcher(&b, &fake_base));
    let drain = |d: inbox_server::dispatch::Dispatcher| async move {
        let mut handled = 0;
        loop {
            match d.run_once().await.unwrap() {
                0 => return handled,
                n => handled += n,
            }
        }
    };
    let (ha, hb) = tokio::join!(tokio::spawn(drain(da)), tokio::spawn(drain(db)));
    let (ha, hb) = (ha.unwrap(), hb.unwrap());
    assert_eq!(ha + hb, 40, "A sent {ha}, B sent {hb}");
    let attempts = fake.attempts.lock().unwrap().clone();
    assert_eq!(attempts.len(), 40);
    for i in 0..40 {
        assert_eq!(attempts[&format!("send message {i}")], 1, "message {i}");
    }
    assert_eq!(fake.requests.lock().unwrap().len(), 40);
}

/// A server restarted while another process holds its SQLite database locked past the busy
/// timeout (a backup, `sqlite3` left open) waits for the lock instead of exiting (issue 13: the
/// fault campaign's restarts during a lock failed, and webhooks meanwhile found nobody).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_opened_during_a_long_lock_waits_for_it() {
    if postgres() {
        eprintln!("skipped: SQLite's file lock (PostgreSQL has no such lock at start)");
        return;
    }
    let db = TestDb::new().await;
    drop(inbox_server::store::open(&db.url).await.unwrap());
    let path = db.url.strip_prefix("sqlite://").unwrap().to_string();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let released = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let holder = {
        let released = Arc::clone(&released);
        std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
            locked_tx.send(()).unwrap();
            // Past the store's 10 s busy timeout.
            std::thread::sleep(std::time::Duration::from_secs(12));
            released.store(true, std::sync::atomic::Ordering::SeqCst);
            conn.execute_batch("ROLLBACK").unwrap();
        })
    };
    locked_rx.recv().unwrap();
    let opened = inbox_server::store::open_with_report(&db.url).await;
    assert!(opened.is_ok(), "{:?}", opened.err());
    assert!(
        released.load(std::sync::atomic::Ordering::SeqCst),
        "the store opened only once the lock was gone"
    );
    holder.join().unwrap();
}
