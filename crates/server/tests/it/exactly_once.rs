//! Replies reach the provider exactly once, or are `unknown` (issue 13): per-message claims with
//! a fencing token, "sending" recorded before the provider call, ambiguous outcomes never
//! re-sent, and the provider's status callback (carrying our reference) settles them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Form, Json, Router};
use inbox_server::clock::Clock;
use inbox_server::dispatch::Dispatcher;
use inbox_server::providers::ProviderConfig;
use inbox_server::status_lookup::StatusLookup;
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::support::*;
use crate::webhooks::twilio;

/// A provider that takes every message (201) but can be slow, hang past the sender's
/// timeout, answer garbage, or break our database right after accepting.
#[derive(Default)]
struct Provider {
    /// Every send request's form (Twilio) or JSON (Meta), in order.
    requests: Mutex<Vec<Value>>,
    /// `SLOW` messages wait for this before the answer.
    release: Notify,
    /// `DBFAIL` messages make the outbound queue refuse deletes before the answer.
    db: Mutex<Option<Arc<TestDb>>>,
}

impl Provider {
    fn sent(&self, body: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r["Body"] == body)
            .count()
    }

    fn callback_of(&self, body: &str) -> String {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .find(|r| r["Body"] == body)
            .unwrap()["StatusCallback"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

async fn twilio_messages(
    State(p): State<Arc<Provider>>,
    Path(_account): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let n = {
        let mut r = p.requests.lock().unwrap();
        r.push(json!(form));
        r.len()
    };
    let body = form.get("Body").cloned().unwrap_or_default();
    if body.contains("SLOW") {
        p.release.notified().await;
    }
    if body.contains("HANG") {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    if body.contains("NOTAKE") {
        // Twilio never took it (the connection died before it was read).
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "code": 20500, "status": 503 })),
        );
    }
    if body.contains("DBFAIL") {
        let db = p.db.lock().unwrap().clone().unwrap();
        db.refuse("DELETE", "outbound_queue").await;
    }
    (
        StatusCode::CREATED,
        Json(json!({ "sid": sms_sid(n), "status": "queued" })),
    )
}

/// Twilio's message list for one number (`?To=`): what the provider took, newest first.
async fn twilio_list(
    State(p): State<Arc<Provider>>,
    Path(_account): Path<String>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Json<Value> {
    let to = q.get("To").cloned().unwrap_or_default();
    let requests = p.requests.lock().unwrap().clone();
    let messages: Vec<Value> = requests
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, r)| r["To"] == to.as_str() && !r["Body"].as_str().unwrap_or("").contains("NOTAKE"))
        .map(|(i, r)| {
            json!({ "sid": sms_sid(i + 1), "body": r["Body"], "status": "delivered", "error_code": null,
                    "direction": "outbound-api", "to": to, "date_created": chrono::Utc::now().to_rfc2822() })
        })
        .collect();
    Json(json!({ "messages": messages, "next_page_uri": null }))
}

fn sms_sid(n: usize) -> String {
    format!("SM{:032x}", 7000 + n)
}

async fn meta_messages(State(p): State<Arc<Provider>>, Json(body): Json<Value>) -> String {
    p.requests.lock().unwrap().push(body);
    // A 200 whose body is not the Cloud API's: accepted or not, nobody can tell.
    "<html>upstream proxy</html>".into()
}

async fn start_provider() -> (String, Arc<Provider>) {
    let p = Arc::new(Provider::default());
    let app = Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            post(twilio_messages).get(twilio_list),
        )
        .route("/v23.0/{pnid}/messages", post(meta_messages))
        .with_state(Arc::clone(&p));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, p)
}

/// A dispatcher whose clock reads `at`.
fn dispatcher_at(s: &Server, base: &str, at: chrono::DateTime<chrono::Utc>) -> Dispatcher {
    let mut config = ProviderConfig::new("https://inbox.fixture.test");
    config.twilio_api_base = base.to_string();
    config.whatsapp_api_base = format!("{base}/v23.0");
    let mut d = Dispatcher::new(Arc::clone(&s.store), config, Clock::fixed(at));
    d.retry_base = Duration::ZERO;
    d.record_pause = Duration::from_millis(10);
    d
}

async fn reply(c: &Client, conversation: i64, key: &str, body: &str) -> i64 {
    let (status, m) = c
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({ "client_id": key, "body": body }),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    m["id"].as_i64().unwrap()
}

async fn message(c: &Client, conversation: i64, id: i64) -> Value {
    c.ok(&format!("/api/v1/conversations/{conversation}/messages"))
        .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()
        .clone()
}

/// Twilio's status callback to the URL the send gave it (with our reference in the query).
async fn callback(s: &Server, url: &str, message_sid: &str, status: &str) -> u16 {
    let path = url.trim_start_matches("https://inbox.fixture.test");
    let params = [
        ("MessageSid", message_sid),
        ("SmsSid", message_sid),
        ("AccountSid", TWILIO_SID),
        ("From", GARAGE_NUMBER),
        ("To", ALICE_PHONE),
        ("MessageStatus", status),
        ("ApiVersion", "2010-04-01"),
    ];
    twilio(s, path, &params, Some(TWILIO_TOKEN)).await.0
}

#[tokio::test]
async fn a_send_slower_than_the_lease_reaches_the_provider_once_with_two_dispatchers() {
    let s = Server::start().await;
    let (base, provider) = start_provider().await;
    let c = s.login("frontdesk@fixture.test").await;
    let body = "SLOW: your car is ready";
    let id = reply(&c, conv::ALICE, "slow-1", body).await;

    let first = Arc::new(dispatcher_at(&s, &base, now()));
    let running = tokio::spawn({
        let first = Arc::clone(&first);
        async move { first.run_once().await }
    });
    for _ in 0..100 {
        if provider.sent(body) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(provider.sent(body), 1);
    // Another instance comes by after the first one's lease ran out, its call still under way.
    let second = dispatcher_at(&s, &base, now() + chrono::Duration::minutes(10));
    assert_eq!(second.run_once().await.unwrap(), 0, "nothing handed out");
    assert_eq!(provider.sent(body), 1, "not sent again");
    let m = message(&c, conv::ALICE, id).await;
    assert_eq!(m["status"], "unknown", "{m}");

    provider.release.notify_one();
    assert_eq!(running.await.unwrap().unwrap(), 1);
    assert_eq!(provider.sent(body), 1);
    // The late answer still settles it: the provider has it, under its id.
    let m = message(&c, conv::ALICE, id).await;
    assert_eq!(m["status"], "pending", "{m}");
    assert!(m["error"].is_null(), "{m}");
    assert_eq!(
        callback(&s, &provider.callback_of(body), &sms_sid(1), "delivered").await,
        200
    );
    assert_eq!(message(&c, conv::ALICE, id).await["status"], "delivered");
    assert_eq!(second.run_once().await.unwrap(), 0);
    assert_eq!(provider.sent(body), 1);
}

/// Issue 13: a status callback carrying our reference that arrives while the send is still
/// under way (here the sender then dies, its lease left to run out) settles the message at once;
/// the lease running out later neither makes it `unknown` nor sends it again.
#[tokio::test]
async fn a_callback_during_the_send_settles_it_and_the_dead_senders_lease_changes_nothing() {
    let s = Server::start().await;
    let (base, provider) = start_provider().await;
    let c = s.login("frontdesk@fixture.test").await;
    let body = "SLOW: the sender dies mid-call";
    let id = reply(&c, conv::ALICE, "dies-1", body).await;
    let dying = {
        let d = dispatcher_at(&s, &base, now());
        tokio::spawn(async move { d.run_once().await })
    };
    while provider.sent(body) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(message(&c, conv::ALICE, id).await["status"], "pending");
    let url = provider.callback_of(body);
    assert_eq!(callback(&s, &url, &sms_sid(1), "sent").await, 200);
    assert_eq!(message(&c, conv::ALICE, id).await["status"], "sent");
    dying.abort();

    let later = dispatcher_at(&s, &base, now() + chrono::Duration::hours(1));
    assert_eq!(later.run_once().await.unwrap(), 0);
    let m = message(&c, conv::ALICE, id).await;
    assert_eq!(m["status"], "sent", "{m}");
    assert!(m["error"].is_null(), "{m}");
    assert_eq!(callback(&s, &url, &sms_sid(1), "delivered").await, 200);
    assert_eq!(message(&c, conv::ALICE, id).await["status"], "delivered");
    assert_eq!(provider.sent(body), 1);
}

/// Issue 13: an `unknown` SMS whose callbacks were lost too is reconciled with Twilio's list of
/// messages to that number: found there, it takes its `MessageSid` and status; with nothing sent
/// to that number since, Twilio never took it and it is `failed`, so staff may send it again.
/// Never re-sent by the server either way.
#[tokio::test]
async fn unknown_sms_replies_are_settled_from_twilios_message_list() {
    let s = Server::start().await;
    let (base, provider) = start_provider().await;
    let c = s.login("frontdesk@fixture.test").await;
    let taken = "HANG: callback lost too";
    let taken_id = reply(&c, conv::ALICE, "lost-1", taken).await;
    let d = dispatcher_at(&s, &base, now()).with_send_timeout(Duration::from_millis(300));
    assert_eq!(d.run_once().await.unwrap(), 1);
    let never = "HANG NOTAKE: never reached Twilio";
    let never_id = reply(&c, conv::EVE, "lost-2", never).await;
    assert_eq!(d.run_once().await.unwrap(), 1);
    for (conversation, id) in [(conv::ALICE, taken_id), (conv::EVE, never_id)] {
        assert_eq!(message(&c, conversation, id).await["status"], "unknown");
    }

    let lookup = |minutes| {
        StatusLookup::new(
            Arc::clone(&s.store),
            &base,
            Clock::fixed(now() + chrono::Duration::minutes(minutes)),
            Duration::from_secs(600),
        )
    };
    assert_eq!(
        lookup(1).run_once().await.unwrap(),
        0,
        "not quiet long enough"
    );
    assert_eq!(lookup(11).run_once().await.unwrap(), 2);
    let m = message(&c, conv::ALICE, taken_id).await;
    assert_eq!(m["status"], "delivered", "{m}");
    let m = message(&c, conv::EVE, never_id).await;
    assert_eq!(m["status"], "failed", "{m}");
    assert!(
        m["error"]
            .as_str()
            .unwrap()
            .contains("You can send it again"),
        "{m}"
    );
    // Failed, it may be retried by staff; the server sent neither again.
    assert_eq!((provider.sent(taken), provider.sent(never)), (1, 1));
    let (status, _) = c
        .post(&format!("/api/v1/messages/{never_id}/retry"), json!({}))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_timeout_after_the_provider_accepted_is_unknown_never_resent_and_its_callback_settles_it()
{
    let s = Server::start().await;
    let (base, provider) = start_provider().await;
    let c = s.login("frontdesk@fixture.test").await;
    let body = "HANG: ready at five";
    let id = reply(&c, conv::ALICE, "hang-1", body).await;
    let d = dispatcher_at(&s, &base, now()).with_send_timeout(Duration::from_millis(300));
    assert_eq!(d.run_once().await.unwrap(), 1);
    let m = message(&c, conv::ALICE, id).await;
    assert_eq!(m["status"], "unknown", "{m}");
    assert!(
        m["error"].as_str().unwrap().contains("did not answer"),
        "{m}"
    );
    // Nothing sends it again: not this dispatcher, not another one much later, not Retry.
    assert_eq!(d.run_once().await.unwrap(), 0);
    let later = dispatcher_at(&s, &base, now() + chrono::Duration::hours(1));
    assert_eq!(later.run_once().await.unwrap(), 0);
    let (status, _) = c
        .post(&format!("/api/v1/messages/{id}/retry"), json!({}))
        .await;
    assert_eq!(status, 409, "no blind re-send");
    assert_eq!(provider.sent(body), 1);

    // Twilio reports on the message; the reference in the callback URL ties it to ours.
    let url = provider.callback_of(body);
    assert!(
        url.ends_with(&format!("/webhooks/twilio/status?message={id}")),
        "{url}"
    );
    assert_eq!(callback(&s, &url, &sms_sid(1), "sent").await, 200);
    let m = message(&c, conv::ALICE, id).await;
    assert_eq!(m["status"], "sent", "{m}");
    assert!(m["error"].is_null(), "the doubt is gone: {m}");
    assert_eq!(callback(&s, &url, &sms_sid(1), "delivered").await, 200);
    assert_eq!(message(&c, conv::ALICE, id).await["status"], "delivered");
    assert_eq!(provider.sent(body), 1);
}

#[tokio::test]
async fn a_database_error_after_the_provider_accepted_never_resends() {
    let s = Server::start().await;
    let (base, provider) = start_provider().await;
    *provider.db.lock().unwrap() = Some(Arc::clone(&s.db));
    let c = s.login("frontdesk@fixture.test").await;
    let body = "DBFAIL: invoice attached";
    let id = reply(&c, conv::ALICE, "db-1", body).await;
    let d = dispatcher_at(&s, &base, now());
    assert!(
        d.run_once().await.is_err(),
        "the acceptance could not be recorded"
    );
    assert_eq!(message(&c, conv::ALICE, id).await["status"], "pending");
    s.db.allow("DELETE", "outbound_queue").await;
    // The database is back; the lease runs out; the next claimer must not send it again.
    let later = dispatcher_at(&s, &base, now() + chrono::Duration::minutes(10));
    assert_eq!(later.run_once().await.unwrap(), 0);
    assert_eq!(provider.sent(body), 1);
    let m = message(&c, conv::ALICE, id).await;
    assert_eq!(m["status"], "unknown", "{m}");
    assert_eq!(
        callback(&s, &provider.callback_of(body), &sms_sid(1), "delivered").await,
        200
    );
    assert_eq!(message(&c, conv::ALICE, id).await["status"], "delivered");
    assert_eq!(later.run_once().await.unwrap(), 0);
    assert_eq!(provider.sent(body), 1);
}

/// An unreadable WhatsApp acceptance is `unknown` and never re-sent; the send carried our
/// reference in `biz_opaque_callback_data`, which Meta copies into the message's status
/// webhooks, so the first status settles it (links the wamid and applies).
#[tokio::test]
async fn an_unreadable_whatsapp_acceptance_is_unknown_never_resent_and_its_status_settles_it() {
    let s = Server::start().await;
    let (base, provider) = start_provider().await;
    let c = s.login("frontdesk@fixture.test").await;
    let (status, m) = c
        .post(
            &format!("/api/v1/conversations/{}/messages", conv::BOB),
            json!({ "client_id": "wa-x", "template": { "name": "vehicle_ready", "params": ["Bob"] } }),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    let id = m["id"].as_i64().unwrap();
    let d = dispatcher_at(&s, &base, now());
    assert_eq!(d.run_once().await.unwrap(), 1);
    let m = message(&c, conv::BOB, id).await;
    assert_eq!(m["status"], "unknown", "{m}");
    assert_eq!(
        dispatcher_at(&s, &base, now() + chrono::Duration::hours(1))
            .run_once()
            .await
            .unwrap(),
        0
    );
    let reference = format!("message={id}");
    {
        let requests = provider.requests.lock().unwrap();
        assert_eq!(requests.len(), 1, "sent once");
        assert_eq!(requests[0]["biz_opaque_callback_data"], reference.as_str());
    }

    let status_webhook = |status: &str, data: &str| {
        json!({
            "object": "whatsapp_business_account",
            "entry": [{ "id": "WABA1", "changes": [{ "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": { "display_phone_number": "441632960001", "phone_number_id": WA_PHONE_NUMBER_ID },
                "statuses": [{ "id": "wamid.LOST", "status": status, "timestamp": now().timestamp().to_string(),
                    "recipient_id": "447700900102", "biz_opaque_callback_data": data }]
            } }] }]
        })
    };
    // Another reply's reference, or one that is not ours, settles nothing.
    let other = status_webhook("delivered", &format!("message={}", id + 1000));
    assert_eq!(
        crate::webhooks::whatsapp(&s, &other, WA_APP_SECRET).await.0,
        200
    );
    let junk = status_webhook("delivered", "campaign-7");
    assert_eq!(
        crate::webhooks::whatsapp(&s, &junk, WA_APP_SECRET).await.0,
        200
    );
    assert_eq!(message(&c, conv::BOB, id).await["status"], "unknown");

    let (code, body) =
        crate::webhooks::whatsapp(&s, &status_webhook("delivered", &reference), WA_APP_SECRET)
            .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(message(&c, conv::BOB, id).await["status"], "delivered");
    let later = status_webhook("read", &reference);
    assert_eq!(
        crate::webhooks::whatsapp(&s, &later, WA_APP_SECRET).await.0,
        200
    );
    assert_eq!(message(&c, conv::BOB, id).await["status"], "read");
    assert_eq!(provider.requests.lock().unwrap().len(), 1, "never re-sent");
}
