//! Inbound webhooks survive a database that cannot take them (issue 13): spooled to a local
//! file, answered 200, stored exactly once when the database is back.

use inbox_core::providers::Provider;
use std::sync::Arc;
use std::time::Duration;

use inbox_server::webhooks::spool::{self, Spool};
use serde_json::json;

use crate::support::*;
use crate::webhooks::{sid, sms, twilio};

/// A server with a spool in `dir`, replayed every 100 ms.
async fn spooling(dir: &std::path::Path) -> (Server, Arc<Spool>) {
    let spool = Arc::new(Spool::open(dir, "127.0.0.1:0").unwrap());
    let ours = Arc::clone(&spool);
    let s = Server::start_with(move |state| {
        state.spool = Some(ours);
        spool::start_replay(state.clone(), Duration::from_millis(100));
    })
    .await;
    (s, spool)
}

async fn count_bodies(c: &Client, conversation: i64, body: &str) -> usize {
    c.thread_items(conversation)
        .await
        .iter()
        .filter(|i| i["body"] == body)
        .count()
}

async fn until(what: &str, mut f: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

#[tokio::test]
async fn an_inbound_sms_the_database_refuses_is_answered_200_and_stored_once_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let (s, spool) = spooling(dir.path()).await;
    let c = s.login("frontdesk@fixture.test").await;
    let text = "Is the car ready? Need it by five";
    let message_sid = sid("SM", 901);
    let params = sms(&message_sid, ALICE_PHONE, text);

    // Without a spool the same failure is a 500, which Twilio does not retry: the text is lost.
    let plain = Server::start().await;
    plain.db.refuse("INSERT", "messages").await;
    let (status, _) = twilio(&plain, "/webhooks/twilio/sms", &params, Some(TWILIO_TOKEN)).await;
    assert_eq!(status, 500);

    s.db.refuse("INSERT", "messages").await;
    let (status, body) = twilio(&s, "/webhooks/twilio/sms", &params, Some(TWILIO_TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Response"), "TwiML as usual: {body}");
    assert_eq!(spool.pending().unwrap(), 1, "on disk before the answer");
    // Replays keep failing while the database refuses; the request stays spooled.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(count_bodies(&c, conv::ALICE, text).await, 0);
    assert_eq!(spool.pending().unwrap(), 1);

    // Twilio's own retry of the same request while we are down is spooled too.
    let (status, _) = twilio(&s, "/webhooks/twilio/sms", &params, Some(TWILIO_TOKEN)).await;
    assert_eq!(status, 200);

    s.db.allow("INSERT", "messages").await;
    until("the spooled text is stored", async || {
        count_bodies(&c, conv::ALICE, text).await == 1
    })
    .await;
    until("the spool is empty", async || spool.pending().unwrap() == 0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count_bodies(&c, conv::ALICE, text).await, 1, "exactly once");
}

#[tokio::test]
async fn spooled_webhooks_are_replayed_when_the_server_starts_again() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Left the keys at reception";
    let message_sid = sid("SM", 902);
    let params = sms(&message_sid, ALICE_PHONE, text);
    {
        // An instance with a spool but no replay running (it stops right after answering).
        let spool = Arc::new(Spool::open(dir.path(), "127.0.0.1:0").unwrap());
        let ours = Arc::clone(&spool);
        let s = Server::start_with(move |state| state.spool = Some(ours)).await;
        s.db.refuse("INSERT", "messages").await;
        let (status, _) = twilio(&s, "/webhooks/twilio/sms", &params, Some(TWILIO_TOKEN)).await;
        assert_eq!(status, 200);
        assert_eq!(spool.pending().unwrap(), 1);
        s.db.allow("INSERT", "messages").await;
        // A new server over the same database and spool directory replays on start.
        let peer_spool = Arc::new(Spool::open(dir.path(), "127.0.0.1:0").unwrap());
        let next = s
            .peer_with(move |state| {
                state.spool = Some(peer_spool);
                spool::start_replay(state.clone(), Duration::from_secs(3600));
            })
            .await;
        let c = next.login("frontdesk@fixture.test").await;
        until("the spooled text is stored", async || {
            count_bodies(&c, conv::ALICE, text).await == 1
        })
        .await;
        assert_eq!(spool.pending().unwrap(), 0);
    }
}

#[tokio::test]
async fn whatsapp_messages_and_twilio_statuses_are_spooled_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let (s, spool) = spooling(dir.path()).await;
    let c = s.login("frontdesk@fixture.test").await;
    // An SMS reply Twilio accepted, whose status callback arrives while the database refuses.
    let (_, m) = c
        .post(
            &format!("/api/v1/conversations/{}/messages", conv::ALICE),
            json!({ "client_id": "sp-1", "body": "Ready now" }),
        )
        .await;
    let id = m["id"].as_i64().unwrap();
    let message_sid = sid("SM", 903);
    s.store
        .outbound_accepted(
            id,
            0,
            Provider::Twilio,
            &message_sid,
            inbox_core::DeliveryStatus::Pending,
            now(),
        )
        .await
        .unwrap();
    s.db.refuse("INSERT", "messages").await;
    s.db.refuse("UPDATE", "messages").await;
    let callback = [
        ("MessageSid", message_sid.as_str()),
        ("AccountSid", TWILIO_SID),
        ("From", GARAGE_NUMBER),
        ("To", ALICE_PHONE),
        ("MessageStatus", "delivered"),
        ("ApiVersion", "2010-04-01"),
    ];
    let (status, _) = twilio(&s, "/webhooks/twilio/status", &callback, Some(TWILIO_TOKEN)).await;
    assert_eq!(status, 200);
    let ts = now().timestamp().to_string();
    let n = json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "WABA1", "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "441632960001", "phone_number_id": WA_PHONE_NUMBER_ID },
            "contacts": [{ "profile": { "name": "Bob" }, "wa_id": "447700900102" }],
            "messages": [{ "from": "447700900102", "id": "wamid.SPOOLED", "timestamp": ts, "type": "text", "text": { "body": "Spooled hello" } }]
        } }] }]
    });
    let raw = serde_json::to_vec(&n).unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/webhooks/whatsapp", s.base))
        .header("content-type", "application/json")
        .header(
            "X-Hub-Signature-256",
            inbox_core::providers::meta_signature::sign(&raw, WA_APP_SECRET),
        )
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(spool.pending().unwrap(), 2);
    // A forged request is refused as always, never spooled.
    let (status, _) = twilio(
        &s,
        "/webhooks/twilio/sms",
        &sms(&sid("SM", 904), ALICE_PHONE, "x"),
        Some("wrong"),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(spool.pending().unwrap(), 2);

    s.db.allow("INSERT", "messages").await;
    s.db.allow("UPDATE", "messages").await;
    until("both are stored", async || spool.pending().unwrap() == 0).await;
    assert_eq!(count_bodies(&c, conv::BOB, "Spooled hello").await, 1);
    let thread = c
        .ok(&format!("/api/v1/conversations/{}/messages", conv::ALICE))
        .await;
    let mine = thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(mine["status"], "delivered");
}

#[tokio::test]
async fn an_inbound_sms_the_database_is_too_slow_for_is_spooled_at_the_deadline_and_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Arc::new(
        Spool::open(dir.path(), "127.0.0.1:0")
            .unwrap()
            .with_deadline(Duration::from_millis(300)),
    );
    let ours = Arc::clone(&spool);
    let s = Server::start_with(move |state| {
        state.spool = Some(ours);
        spool::start_replay(state.clone(), Duration::from_millis(100));
    })
    .await;
    let c = s.login("frontdesk@fixture.test").await;
    let text = "Stuck on the M6, will be late for the MOT";
    let message_sid = sid("SM", 905);
    let params = sms(&message_sid, ALICE_PHONE, text);
    // The database hangs rather than fails (a backup holds its lock, or PostgreSQL is
    // unreachable): without the deadline the webhook would outlive Twilio's 15 s and be lost.
    let stall = s.db.stall().await;
    let began = std::time::Instant::now();
    let (status, body) = twilio(&s, "/webhooks/twilio/sms", &params, Some(TWILIO_TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "answered at the deadline"
    );
    assert_eq!(spool.pending().unwrap(), 1, "on disk before the answer");
    stall.release().await;
    // The slow handler may still commit, and the replay then changes nothing: exactly once.
    until("the spool is empty", async || spool.pending().unwrap() == 0).await;
    until("the text is stored", async || {
        count_bodies(&c, conv::ALICE, text).await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count_bodies(&c, conv::ALICE, text).await, 1, "exactly once");
}

#[tokio::test]
async fn a_spooled_sms_keeps_the_time_it_arrived() {
    let dir = tempfile::tempdir().unwrap();
    let (s, spool) = spooling(dir.path()).await;
    let c = s.login("frontdesk@fixture.test").await;
    let text = "Can I drop it off at 8?";
    s.db.refuse("INSERT", "messages").await;
    let arrived = now();
    let (status, _) = twilio(
        &s,
        "/webhooks/twilio/sms",
        &sms(&sid("SM", 906), ALICE_PHONE, text),
        Some(TWILIO_TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    // It waits in the spool for a while before the database takes it.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    s.db.allow("INSERT", "messages").await;
    until("the spool is empty", async || spool.pending().unwrap() == 0).await;
    let thread = c
        .ok(&format!("/api/v1/conversations/{}/messages", conv::ALICE))
        .await;
    let stored = thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["body"] == text)
        .unwrap()
        .clone();
    let at: chrono::DateTime<chrono::Utc> = stored["created_at"].as_str().unwrap().parse().unwrap();
    assert!(
        (at - arrived).num_milliseconds().abs() < 1_000,
        "stored at {at}, arrived at {arrived}: the time it arrived, not the replay's"
    );
}

#[tokio::test]
async fn a_spooled_webhook_refused_on_replay_is_kept_in_the_dead_letter_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_s, spool) = spooling(dir.path()).await;
    // A request spooled under an auth token that was rotated since: its signature no longer
    // verifies, so the replay is refused (403).
    let body = "MessageSid=SM907&AccountSid=".to_string() + TWILIO_SID + "&Body=Rotated";
    spool
        .append(
            spool::Entry {
                uri: "/webhooks/twilio/sms".into(),
                headers: vec![(
                    "x-twilio-signature".into(),
                    "c2lnbmVkIGJ5IHRoZSBvbGQgdG9rZW4=".into(),
                )],
                body: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, body),
                received_at_ms: Some(now().timestamp_millis()),
            },
            true,
        )
        .await
        .unwrap();
    until("the replay has run", async || spool.pending().unwrap() == 0).await;
    let kept = std::fs::read_to_string(spool.refused_path()).unwrap();
    assert_eq!(kept.lines().count(), 1, "kept for a person, not dropped");
}

/// While the database cannot even be read, a Twilio webhook not signed with its account's
/// last-seen auth token is spooled only within the small unverified budget (full here), so a
/// flood of forgeries cannot crowd out the providers' own requests, which are still spooled and
/// stored once.
#[tokio::test]
async fn forged_webhooks_cannot_crowd_the_spool_while_the_database_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Arc::new(
        Spool::open(dir.path(), "127.0.0.1:0")
            .unwrap()
            .with_unverified_cap(0),
    );
    let ours = Arc::clone(&spool);
    let s = Server::start_with(move |state| {
        // Every request reads the account, so only the last-seen copy can judge it.
        state.accounts = Arc::new(inbox_server::webhooks::AccountCache::with_ttl(
            Duration::ZERO,
        ));
        state.spool = Some(ours);
        spool::start_replay(state.clone(), Duration::from_millis(100));
    })
    .await;
    let c = s.login("frontdesk@fixture.test").await;
    let first = sid("SM", 931);
    let (status, _) = twilio(
        &s,
        "/webhooks/twilio/sms",
        &sms(&first, ALICE_PHONE, "Morning, is it booked in?"),
        Some(TWILIO_TOKEN),
    )
    .await;
    assert_eq!(status, 200);

    // The provider settings cannot be read (the table is gone for a moment).
    s.db.execute("ALTER TABLE provider_settings RENAME TO provider_settings_away")
        .await;
    let forged_sid = sid("SM", 932);
    let (status, body) = twilio(
        &s,
        "/webhooks/twilio/sms",
        &sms(&forged_sid, ALICE_PHONE, "Forged: send the car to Bob"),
        Some("not-the-auth-token"),
    )
    .await;
    assert_eq!(status, 500, "not stored, not spooled: {body}");
    let (status, _) = twilio(
        &s,
        "/webhooks/twilio/sms",
        &sms(&forged_sid, ALICE_PHONE, "Forged: no signature at all"),
        None,
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(spool.pending().unwrap(), 0, "nothing forged on disk");

    let text = "Genuine: I'll collect at four";
    let genuine = sid("SM", 933);
    let (status, body) = twilio(
        &s,
        "/webhooks/twilio/sms",
        &sms(&genuine, ALICE_PHONE, text),
        Some(TWILIO_TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(spool.pending().unwrap(), 1, "the genuine one is spooled");

    s.db.execute("ALTER TABLE provider_settings_away RENAME TO provider_settings")
        .await;
    until("the spooled text is stored", async || {
        count_bodies(&c, conv::ALICE, text).await == 1
    })
    .await;
    until("the spool is empty", async || spool.pending().unwrap() == 0).await;
    assert_eq!(
        count_bodies(&c, conv::ALICE, "Forged: send the car to Bob").await,
        0
    );
}
