//! The dispatcher against fake Twilio and Meta APIs on loopback (issue 5, CMP-4): accepted sends
//! record the provider id, permanent failures mark the message failed with the reason, transient
//! ones are retried, a restarted dispatcher finds the queue intact, and nothing is sent twice.

use inbox_core::providers::Provider;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json, Router};
use inbox_server::clock::Clock;
use inbox_server::dispatch::{Dispatcher, MAX_ATTEMPTS};
use inbox_server::providers::ProviderConfig;
use inbox_server::status_lookup::StatusLookup;
use serde_json::{json, Value};

use crate::support::*;

#[derive(Default)]
pub(crate) struct Fake {
    /// Every request body, in order.
    pub requests: Mutex<Vec<Value>>,
    /// How often each body was attempted.
    pub attempts: Mutex<HashMap<String, u32>>,
    /// The body of each message id handed out.
    pub sids: Mutex<HashMap<String, String>>,
    /// Message ids looked up (`GET …/Messages/{sid}.json`), in order.
    pub lookups: Mutex<Vec<String>>,
    /// Files uploaded to the Graph media endpoint: (media id, declared type, file name, size).
    pub media: Mutex<Vec<(String, String, String, usize)>>,
}

async fn twilio_messages(
    State(fake): State<Arc<Fake>>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    assert!(
        headers
            .get("authorization")
            .is_some_and(|v| v.to_str().unwrap().starts_with("Basic ")),
        "HTTP Basic auth"
    );
    assert_eq!(account, TWILIO_SID);
    let request_no = {
        let mut requests = fake.requests.lock().unwrap();
        requests.push(json!(form));
        requests.len() as u64
    };
    let body = form.get("Body").cloned().unwrap_or_default();
    let n = {
        let mut a = fake.attempts.lock().unwrap();
        let e = a.entry(body.clone()).or_default();
        *e += 1;
        *e
    };
    if body.contains("FAIL-PERM") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "code": 21211, "message": "Invalid 'To' Phone Number", "status": 400 })),
        );
    }
    if body.contains("FAIL-DOWN") || (body.contains("FAIL-TEMP") && n == 1) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "code": 20500, "message": "Internal error", "status": 503 })),
        );
    }
    let sid = format!("SM{:032x}", 1000 + request_no);
    fake.sids.lock().unwrap().insert(sid.clone(), body);
    (
        StatusCode::CREATED,
        Json(json!({ "sid": sid, "status": "queued" })),
    )
}

/// Twilio's Messages lookup: "LOOKUP-UNDELIVERED" messages were undelivered (30003),
/// "LOOKUP-QUEUED" ones are still queued, others delivered.
async fn twilio_lookup(
    State(fake): State<Arc<Fake>>,
    Path((account, file)): Path<(String, String)>,
) -> (StatusCode, Json<Value>) {
    assert_eq!(account, TWILIO_SID);
    let sid = file.strip_suffix(".json").unwrap().to_string();
    fake.lookups.lock().unwrap().push(sid.clone());
    let Some(body) = fake.sids.lock().unwrap().get(&sid).cloned() else {
        return (StatusCode::NOT_FOUND, Json(json!({ "code": 20404 })));
    };
    let (status, code) = if body.contains("LOOKUP-UNDELIVERED") {
        ("undelivered", json!(30003))
    } else if body.contains("LOOKUP-QUEUED") {
        ("queued", Value::Null)
    } else {
        ("delivered", Value::Null)
    };
    (
        StatusCode::OK,
        Json(json!({ "sid": sid, "status": status, "error_code": code })),
    )
}

async fn meta_messages(
    State(fake): State<Arc<Fake>>,
    Path(pnid): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    assert_eq!(pnid, WA_PHONE_NUMBER_ID);
    fake.requests.lock().unwrap().push(body);
    Json(
        json!({ "messaging_product": "whatsapp", "contacts": [{ "input": "+447700900102", "wa_id": "447700900102" }], "messages": [{ "id": "wamid.SENT1" }] }),
    )
}

/// `POST /{version}/{phone_number_id}/media`: a multipart upload answered with a media id.
async fn meta_media(
    State(fake): State<Arc<Fake>>,
    Path(pnid): Path<String>,
    mut form: axum::extract::Multipart,
) -> Json<Value> {
    assert_eq!(pnid, WA_PHONE_NUMBER_ID);
    let mut product = None;
    let mut file = None;
    while let Some(field) = form.next_field().await.unwrap() {
        let name = field.name().unwrap_or_default().to_string();
        let declared = field.content_type().unwrap_or_default().to_string();
        let file_name = field.file_name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.unwrap();
        match name.as_str() {
            "messaging_product" => product = Some(String::from_utf8_lossy(&bytes).into_owned()),
            "file" => file = Some((declared, file_name, bytes.len())),
            _ => {}
        }
    }
    assert_eq!(product.as_deref(), Some("whatsapp"));
    let (declared, file_name, size) = file.expect("a file part");
    let mut media = fake.media.lock().unwrap();
    let id = format!("MEDIA{}", media.len() + 1);
    media.push((id.clone(), declared, file_name, size));
    Json(json!({ "id": id }))
}

pub(crate) async fn start_fake() -> (String, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    let app = Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            post(twilio_messages),
        )
        .route(
            "/2010-04-01/Accounts/{account}/Messages/{file}",
            axum::routing::get(twilio_lookup),
        )
        .route("/v23.0/{pnid}/messages", post(meta_messages))
        .route("/v23.0/{pnid}/media", post(meta_media))
        .with_state(Arc::clone(&fake));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, fake)
}

pub(crate) fn dispatcher(s: &Server, fake_base: &str) -> Dispatcher {
    let mut config = ProviderConfig::new("https://inbox.fixture.test");
    config.twilio_api_base = fake_base.to_string();
    config.whatsapp_api_base = format!("{fake_base}/v23.0");
    let mut d = Dispatcher::new(Arc::clone(&s.store), config, Clock::fixed(now()));
    d.retry_base = Duration::ZERO;
    d
}

#[tokio::test]
async fn cmp4_sends_fail_with_reasons_retry_transient_errors_and_never_send_twice() {
    let s = Server::start().await;
    let (fake_base, fake) = start_fake().await;
    let c = s.login("frontdesk@fixture.test").await;
    let path = format!("/api/v1/conversations/{}/messages", conv::ALICE);
    let mut ids = HashMap::new();
    for (key, body) in [
        ("ok", "Your car is ready"),
        ("perm", "FAIL-PERM please"),
        ("temp", "FAIL-TEMP once"),
    ] {
        let (status, m) = c
            .post(
                &path,
                json!({ "client_id": key, "body": body, "channel": "sms" }),
            )
            .await;
        assert_eq!(status, 201);
        ids.insert(key, m["id"].as_i64().unwrap());
    }
    let d = dispatcher(&s, &fake_base);
    assert_eq!(d.run_once().await.unwrap(), 3);
    let status_of =
        |items: &Vec<Value>, id: i64| items.iter().find(|i| i["id"] == id).unwrap().clone();
    let items = c.ok(&path).await["items"].as_array().unwrap().clone();
    assert_eq!(
        status_of(&items, ids["ok"])["status"],
        "pending",
        "queued at Twilio: pending until a callback"
    );
    let perm = status_of(&items, ids["perm"]);
    assert_eq!(perm["status"], "failed");
    assert!(perm["error"].as_str().unwrap().contains("21211"), "{perm}");
    assert_eq!(status_of(&items, ids["temp"])["status"], "pending");

    // A new dispatcher (a restarted server) picks up what is still queued.
    let d2 = dispatcher(&s, &fake_base);
    assert_eq!(
        d2.run_once().await.unwrap(),
        1,
        "only the transient failure was still queued"
    );
    assert_eq!(d2.run_once().await.unwrap(), 0, "nothing left");
    let attempts = fake.attempts.lock().unwrap().clone();
    assert_eq!(attempts["Your car is ready"], 1, "sent once");
    assert_eq!(attempts["FAIL-TEMP once"], 2, "retried once after the 503");
    assert_eq!(
        attempts["FAIL-PERM please"], 1,
        "a permanent failure is not retried"
    );
    let first = fake.requests.lock().unwrap()[0].clone();
    assert_eq!(first["To"], ALICE_PHONE);
    assert_eq!(first["From"], GARAGE_NUMBER);
    assert_eq!(
        first["StatusCallback"],
        format!(
            "https://inbox.fixture.test/webhooks/twilio/status?message={}",
            ids["ok"]
        ),
        "our reference rides on the callback URL"
    );

    // CMP-4: the failed one is retried by the user and goes out again.
    assert_eq!(
        c.post(
            &format!("/api/v1/messages/{}/retry", ids["perm"]),
            json!({})
        )
        .await
        .0,
        200
    );
    assert_eq!(d2.run_once().await.unwrap(), 1);
    assert_eq!(fake.attempts.lock().unwrap()["FAIL-PERM please"], 2);
}

/// CMP-4: a provider that keeps answering 503 gets every one of the attempts, one per pass,
/// before the reply fails with the reason; meeting the reply again within one pass (its backoff
/// already over) does not spend an attempt.
#[tokio::test]
async fn cmp4_a_provider_that_stays_down_gets_every_attempt_before_the_reply_fails() {
    let s = Server::start().await;
    let (fake_base, fake) = start_fake().await;
    let c = s.login("frontdesk@fixture.test").await;
    let path = format!("/api/v1/conversations/{}/messages", conv::ALICE);
    let (status, m) = c
        .post(
            &path,
            json!({ "client_id": "down", "body": "FAIL-DOWN until it gives up", "channel": "sms" }),
        )
        .await;
    assert_eq!(status, 201);
    let d = dispatcher(&s, &fake_base);
    let mut passes = 0;
    while d.run_once().await.unwrap() > 0 {
        passes += 1;
        assert!(passes <= 2 * MAX_ATTEMPTS, "the reply never left the queue");
    }
    assert_eq!(
        fake.attempts.lock().unwrap()["FAIL-DOWN until it gives up"],
        MAX_ATTEMPTS,
        "every attempt reached the provider"
    );
    let items = c.ok(&path).await["items"].as_array().unwrap().clone();
    let reply = items.iter().find(|i| i["id"] == m["id"]).unwrap();
    assert_eq!(reply["status"], "failed");
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains(&format!("gave up after {MAX_ATTEMPTS} attempts")),
        "{reply}"
    );
}

#[tokio::test]
async fn cmp2_whatsapp_templates_go_out_as_templates_and_portal_replies_are_delivered_at_once() {
    let s = Server::start().await;
    let (fake_base, fake) = start_fake().await;
    let c = s.login("frontdesk@fixture.test").await;
    let (_, wa) = c.post(&format!("/api/v1/conversations/{}/messages", conv::BOB), json!({ "client_id": "t1", "template": { "name": "vehicle_ready", "params": ["Bob"] } })).await;
    let (_, portal) = c
        .post(
            &format!("/api/v1/conversations/{}/messages", conv::CAROL),
            json!({ "client_id": "p1", "body": "See you at 9", "channel": "portal" }),
        )
        .await;
    let d = dispatcher(&s, &fake_base);
    assert_eq!(d.run_once().await.unwrap(), 2);
    let sent = fake.requests.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "the portal needs no provider");
    assert_eq!(sent[0]["type"], "template");
    assert_eq!(sent[0]["to"], "+447700900102");
    assert_eq!(sent[0]["template"]["name"], "vehicle_ready");
    assert_eq!(sent[0]["template"]["language"]["code"], "en_GB");
    assert_eq!(
        sent[0]["template"]["components"][0]["parameters"][0]["text"],
        "Bob"
    );
    let carol = c
        .ok(&format!("/api/v1/conversations/{}/messages", conv::CAROL))
        .await;
    let p = carol["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == portal["id"])
        .unwrap()
        .clone();
    assert_eq!(p["status"], "delivered");
    // The provider's id is recorded, so WhatsApp statuses find the message.
    let ts = now().timestamp().to_string();
    let n = json!({ "object": "whatsapp_business_account", "entry": [{ "id": "W", "changes": [{ "field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": { "display_phone_number": "1", "phone_number_id": WA_PHONE_NUMBER_ID },
        "statuses": [{ "id": "wamid.SENT1", "status": "failed", "timestamp": ts, "recipient_id": "447700900102",
                       "errors": [{ "code": 131026, "title": "Message undeliverable" }] }] } }] }] });
    let raw = serde_json::to_vec(&n).unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/webhooks/whatsapp", s.base))
        .header(
            "X-Hub-Signature-256",
            inbox_core::providers::meta_signature::sign(&raw, WA_APP_SECRET),
        )
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bob = c
        .ok(&format!("/api/v1/conversations/{}/messages", conv::BOB))
        .await;
    let m = bob["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == wa["id"])
        .unwrap()
        .clone();
    assert_eq!(m["status"], "failed");
    assert!(m["error"].as_str().unwrap().contains("131026"), "{m}");
}

#[tokio::test]
async fn opening_a_whatsapp_thread_sends_the_read_receipt_when_switched_on() {
    let (fake_base, fake) = start_fake().await;
    let s = Server::start_with(|state| {
        state.providers.whatsapp_api_base = format!("{fake_base}/v23.0");
        state.providers.whatsapp_read_receipts = true;
    })
    .await;
    let c = s.login("frontdesk@fixture.test").await;
    s.store
        .ingest_message(
            1,
            inbox_server::store::NewInbound {
                attachments: Vec::new(),
                uploads: Vec::new(),
                channel: inbox_core::Channel::Whatsapp,
                from_number: Some("+447700900102".into()),
                customer_id: None,
                body: "Is it ready?".into(),
                provider: Provider::Whatsapp,
                provider_id: "wamid.IN9".into(),
                at: now(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        c.post(
            &format!("/api/v1/conversations/{}/read", conv::BOB),
            json!({})
        )
        .await
        .0,
        200
    );
    for _ in 0..100 {
        if fake
            .requests
            .lock()
            .unwrap()
            .iter()
            .any(|r| r["status"] == "read" && r["message_id"] == "wamid.IN9")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "no read receipt reached WhatsApp: {:?}",
        fake.requests.lock().unwrap()
    );
}

/// Issue 13 (THR-7): a receipt tells the customer their message was read, so only an opening
/// that read something new sends one; opening the thread again sends nothing.
#[tokio::test]
async fn thr7_reopening_a_read_whatsapp_thread_sends_no_second_receipt() {
    let (fake_base, fake) = start_fake().await;
    let s = Server::start_with(|state| {
        state.providers.whatsapp_api_base = format!("{fake_base}/v23.0");
        state.providers.whatsapp_read_receipts = true;
    })
    .await;
    let c = s.login("frontdesk@fixture.test").await;
    let receipts = || {
        fake.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == "read")
            .count()
    };
    let read = format!("/api/v1/conversations/{}/read", conv::BOB);
    // The fixture's WhatsApp message was read long ago: nothing to tell the customer.
    assert_eq!(c.post(&read, json!({})).await.0, 200);
    s.store
        .ingest_message(
            1,
            inbox_server::store::NewInbound {
                attachments: Vec::new(),
                uploads: Vec::new(),
                channel: inbox_core::Channel::Whatsapp,
                from_number: Some("+447700900102".into()),
                customer_id: None,
                body: "Is it ready?".into(),
                provider: Provider::Whatsapp,
                provider_id: "wamid.IN10".into(),
                at: now(),
            },
        )
        .await
        .unwrap();
    assert_eq!(c.post(&read, json!({})).await.0, 200);
    for _ in 0..100 {
        if receipts() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(receipts(), 1, "the new message is receipted");
    for _ in 0..3 {
        assert_eq!(c.post(&read, json!({})).await.0, 200);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receipts(),
        1,
        "nothing was unread, so no receipt: {:?}",
        fake.requests.lock().unwrap()
    );
}

/// Issue 13: a reply Twilio took whose status callbacks never came (the server was down when
/// they were posted) is looked up once it has been quiet for a while, and settles as Twilio
/// says; a reply still queued here (no Twilio id yet) is not looked up.
#[tokio::test]
async fn replies_whose_status_callbacks_were_lost_are_settled_by_twilios_lookup() {
    let s = Server::start().await;
    let (fake_base, fake) = start_fake().await;
    let c = s.login("frontdesk@fixture.test").await;
    let path = format!("/api/v1/conversations/{}/messages", conv::ALICE);
    let mut ids = HashMap::new();
    for (key, body) in [("ok", "Ready at four"), ("bad", "LOOKUP-UNDELIVERED text")] {
        let (status, m) = c
            .post(
                &path,
                json!({ "client_id": key, "body": body, "channel": "sms" }),
            )
            .await;
        assert_eq!(status, 201);
        ids.insert(key, m["id"].as_i64().unwrap());
    }
    assert_eq!(dispatcher(&s, &fake_base).run_once().await.unwrap(), 2);
    let (status, queued) = c
        .post(
            &path,
            json!({ "client_id": "later", "body": "Not sent yet", "channel": "sms" }),
        )
        .await;
    assert_eq!(status, 201);

    let lookup = |at| {
        StatusLookup::new(
            Arc::clone(&s.store),
            &fake_base,
            Clock::fixed(at),
            Duration::from_secs(600),
        )
    };
    // Quiet for less than ten minutes: nobody is asked.
    assert_eq!(lookup(now()).run_once().await.unwrap(), 0);
    assert!(fake.lookups.lock().unwrap().is_empty());

    assert_eq!(
        lookup(now() + chrono::Duration::minutes(11))
            .run_once()
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        fake.lookups.lock().unwrap().len(),
        2,
        "only the two Twilio has"
    );
    let items = c.ok(&path).await["items"].as_array().unwrap().clone();
    let of = |id: i64| items.iter().find(|i| i["id"] == id).unwrap().clone();
    assert_eq!(of(ids["ok"])["status"], "delivered");
    let bad = of(ids["bad"]);
    assert_eq!(bad["status"], "failed");
    assert!(bad["error"].as_str().unwrap().contains("30003"), "{bad}");
    assert_eq!(of(queued["id"].as_i64().unwrap())["status"], "pending");

    // Settled replies are not asked about again.
    assert_eq!(
        lookup(now() + chrono::Duration::minutes(30))
            .run_once()
            .await
            .unwrap(),
        0
    );
    assert_eq!(fake.lookups.lock().unwrap().len(), 2);
}

/// Issue 13: replies Twilio cannot settle yet (still queued there) fill more than one pass; the
/// next pass reads on from where the last stopped, so a newer reply is still looked up, and the
/// unsettled ones are asked again only after their back-off.
#[tokio::test]
async fn unsettled_lookups_hold_back_neither_newer_replies_nor_ask_twilio_every_pass() {
    let s = Server::start().await;
    let (fake_base, fake) = start_fake().await;
    let c = s.login("frontdesk@fixture.test").await;
    let path = format!("/api/v1/conversations/{}/messages", conv::ALICE);
    for n in 0..55 {
        let body = format!("LOOKUP-QUEUED {n}");
        let (status, _) = c
            .post(
                &path,
                json!({ "client_id": format!("q{n}"), "body": body, "channel": "sms" }),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (status, newest) = c
        .post(
            &path,
            json!({ "client_id": "newest", "body": "Ready at four", "channel": "sms" }),
        )
        .await;
    assert_eq!(status, 201);
    let d = dispatcher(&s, &fake_base);
    while d.run_once().await.unwrap() > 0 {}
    assert_eq!(fake.sids.lock().unwrap().len(), 56);

    let lookup = StatusLookup::new(
        Arc::clone(&s.store),
        &fake_base,
        Clock::fixed(now() + chrono::Duration::minutes(11)),
        Duration::from_secs(600),
    );
    assert_eq!(lookup.run_once().await.unwrap(), 0, "a page of queued ones");
    assert_eq!(fake.lookups.lock().unwrap().len(), 50);
    assert_eq!(
        lookup.run_once().await.unwrap(),
        1,
        "the next page has the newest"
    );
    assert_eq!(fake.lookups.lock().unwrap().len(), 56);
    let items = c.ok(&path).await["items"].as_array().unwrap().clone();
    let newest = items.iter().find(|i| i["id"] == newest["id"]).unwrap();
    assert_eq!(newest["status"], "delivered");
    // Back at the start: every unsettled one is in its back-off, so Twilio is not asked.
    assert_eq!(lookup.run_once().await.unwrap(), 0);
    assert_eq!(lookup.run_once().await.unwrap(), 0);
    assert_eq!(fake.lookups.lock().unwrap().len(), 56);
}

/// Issue 13: the status lookup asks which ids of a page of Twilio's list are ours already. Only
/// the organisation's messages from that provider count, and each id is answered once however
/// often the page lists it (one statement for the page, on both databases).
#[tokio::test]
async fn the_status_lookup_knows_only_the_organisations_own_provider_ids_each_once() {
    let s = Server::start().await;
    let (fake_base, fake) = start_fake().await;
    let c = s.login("frontdesk@fixture.test").await;
    let path = format!("/api/v1/conversations/{}/messages", conv::ALICE);
    let (status, _) = c
        .post(
            &path,
            json!({ "client_id": "k", "body": "Your car is ready", "channel": "sms" }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(dispatcher(&s, &fake_base).run_once().await.unwrap(), 1);
    let sid = fake.sids.lock().unwrap().keys().next().unwrap().clone();
    let page = [sid.clone(), "SM_not_ours".to_string(), sid.clone()];
    let store = &s.store;
    let ours = store
        .known_provider_ids(1, Provider::Twilio, &page)
        .await
        .unwrap();
    assert_eq!(ours, vec![sid]);
    let other_org = store
        .known_provider_ids(2, Provider::Twilio, &page)
        .await
        .unwrap();
    assert!(
        other_org.is_empty(),
        "another organisation's: {other_org:?}"
    );
    let other_provider = store.known_provider_ids(1, Provider::Whatsapp, &page).await;
    assert!(other_provider.unwrap().is_empty(), "another provider's");
    let nothing = store
        .known_provider_ids(1, Provider::Twilio, &[])
        .await
        .unwrap();
    assert!(nothing.is_empty(), "an empty page asks nothing");
}
