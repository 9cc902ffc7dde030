//! Provider webhooks (issue 5): signed exactly as the providers sign, routed (RTE-1 … RTE-3,
//! VOI-1 … VOI-3), idempotent on provider ids, statuses applied forward only, bad input refused
//! with a reason and nothing stored.

use inbox_core::providers::Provider;
use inbox_core::providers::{meta_signature, twilio_signature};
use serde_json::{json, Value};

use crate::support::*;

const BASE: &str = "https://inbox.fixture.test";

pub(crate) fn sid(prefix: &str, n: u64) -> String {
    format!("{prefix}{n:032x}")
}

/// POSTs a form to a Twilio webhook, signed with `token` (None: no signature header).
pub(crate) async fn twilio(
    s: &Server,
    path: &str,
    params: &[(&str, &str)],
    token: Option<&str>,
) -> (u16, String) {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", s.base))
        .form(params);
    if let Some(t) = token {
        req = req.header(
            "X-Twilio-Signature",
            twilio_signature::sign(&format!("{BASE}{path}"), &owned, t),
        );
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

pub(crate) async fn whatsapp(s: &Server, body: &Value, secret: &str) -> (u16, String) {
    let raw = serde_json::to_vec(body).unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/webhooks/whatsapp", s.base))
        .header("content-type", "application/json")
        .header("X-Hub-Signature-256", meta_signature::sign(&raw, secret))
        .body(raw)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

pub(crate) fn sms<'a>(
    message_sid: &'a str,
    from: &'a str,
    body: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("MessageSid", message_sid),
        ("SmsSid", message_sid),
        ("AccountSid", TWILIO_SID),
        ("From", from),
        ("To", GARAGE_NUMBER),
        ("Body", body),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsStatus", "received"),
        ("ApiVersion", "2010-04-01"),
        ("ToCity", ""),
    ]
}

async fn thread_bodies(c: &Client, conversation: i64) -> Vec<String> {
    c.thread_items(conversation)
        .await
        .iter()
        .filter_map(|i| i["body"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn rte1_signed_inbound_sms_lands_in_the_customers_thread_once() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let m = sid("SM", 1);
    let (status, body) = twilio(
        &s,
        "/webhooks/twilio/sms",
        &sms(&m, ALICE_PHONE, "Running late, sorry"),
        Some(TWILIO_TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Response"), "TwiML: {body}");
    assert_eq!(
        thread_bodies(&c, conv::ALICE).await[0],
        "Running late, sorry"
    );
    // Twilio retries: the same MessageSid changes nothing.
    assert_eq!(
        twilio(
            &s,
            "/webhooks/twilio/sms",
            &sms(&m, ALICE_PHONE, "Running late, sorry"),
            Some(TWILIO_TOKEN)
        )
        .await
        .0,
        200
    );
    let bodies = thread_bodies(&c, conv::ALICE).await;
    assert_eq!(
        bodies
            .iter()
            .filter(|b| *b == "Running late, sorry")
            .count(),
        1
    );
    // An unknown number gets its own Unassigned conversation with the Unknown badge.
    let unknown_sid = sid("SM", 2);
    twilio(
        &s,
        "/webhooks/twilio/sms",
        &sms(&unknown_sid, "+447700900444", "Do you do MOTs?"),
        Some(TWILIO_TOKEN),
    )
    .await;
    let found = c.ok("/api/v1/conversations?q=07700%20900444").await;
    assert_eq!(found["items"][0]["context_badge"], "unknown");
    assert!(found["items"][0]["assignee"].is_null());
}

#[tokio::test]
async fn bad_signatures_and_bad_input_are_refused_and_store_nothing() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let before = thread_bodies(&c, conv::ALICE).await;
    let forged_sid = sid("SM", 3);
    let params = sms(&forged_sid, ALICE_PHONE, "forged");
    assert_eq!(
        twilio(&s, "/webhooks/twilio/sms", &params, Some("not-the-token"))
            .await
            .0,
        403
    );
    assert_eq!(
        twilio(&s, "/webhooks/twilio/sms", &params, None).await.0,
        403
    );
    let mut other = params.clone();
    other[2] = ("AccountSid", "AC99999999999999999999999999999999");
    assert_eq!(
        twilio(&s, "/webhooks/twilio/sms", &other, Some(TWILIO_TOKEN))
            .await
            .0,
        403,
        "unknown account"
    );
    // Signed but malformed: a 4xx with the reason, never a 5xx.
    let bad = vec![
        ("AccountSid", TWILIO_SID),
        ("From", ALICE_PHONE),
        ("To", GARAGE_NUMBER),
        ("Body", "no sid"),
    ];
    let (status, reason) = twilio(&s, "/webhooks/twilio/sms", &bad, Some(TWILIO_TOKEN)).await;
    assert_eq!(status, 400);
    assert!(reason.contains("MessageSid"), "{reason}");
    assert_eq!(thread_bodies(&c, conv::ALICE).await, before);
    let (status, _) = whatsapp(
        &s,
        &json!({ "object": "whatsapp_business_account", "entry": [] }),
        "wrong-secret",
    )
    .await;
    assert_eq!(status, 403);
    let res = reqwest::Client::new()
        .post(format!("{}/webhooks/whatsapp", s.base))
        .header(
            "X-Hub-Signature-256",
            meta_signature::sign(b"{not json", WA_APP_SECRET),
        )
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn whatsapp_verification_handshake() {
    let s = Server::start().await;
    let ok = reqwest::get(format!("{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={WA_VERIFY_TOKEN}&hub.challenge=1158201444", s.base)).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let bad = reqwest::get(format!(
        "{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
        s.base
    ))
    .await
    .unwrap();
    assert_eq!(bad.status(), 403);
}

#[tokio::test]
async fn a_whatsapp_notification_with_several_messages_and_statuses() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    // An outbound WhatsApp message the provider accepted, to receive statuses for.
    let (_, msg) = c.post(&format!("/api/v1/conversations/{}/messages", conv::BOB), json!({ "client_id": "wa-1", "template": { "name": "vehicle_ready", "params": ["Bob"] } })).await;
    let id = msg["id"].as_i64().unwrap();
    s.store
        .outbound_accepted(
            id,
            0, // never claimed: the queue row's first token
            Provider::Whatsapp,
            "wamid.OUT1",
            inbox_core::DeliveryStatus::Pending,
            now(),
        )
        .await
        .unwrap();
    let ts = now().timestamp().to_string();
    let n = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "WABA1",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": "441632960001", "phone_number_id": WA_PHONE_NUMBER_ID },
                    "contacts": [{ "profile": { "name": "Bob" }, "wa_id": "447700900102" }],
                    "messages": [
                        { "from": "447700900102", "id": "wamid.IN1", "timestamp": ts, "type": "text", "text": { "body": "Thanks! On my way" } },
                        { "from": "447700900102", "id": "wamid.IN2", "timestamp": ts, "type": "edit", "errors": [{ "code": 131051, "title": "Message type unknown" }] }
                    ],
                    "statuses": [
                        { "id": "wamid.OUT1", "status": "read", "timestamp": ts, "recipient_id": "447700900102" },
                        { "id": "wamid.OUT1", "status": "delivered", "timestamp": ts, "recipient_id": "447700900102" }
                    ]
                }
            }, { "field": "account_update", "value": {} }]
        }, {
            "id": "WABA2",
            "changes": [{ "field": "messages", "value": { "messaging_product": "whatsapp",
                "metadata": { "display_phone_number": "1", "phone_number_id": "999" },
                "messages": [{ "from": "447700900102", "id": "wamid.ELSEWHERE", "timestamp": ts, "type": "text", "text": { "body": "not ours" } }] } }]
        }]
    });
    let (status, body) = whatsapp(&s, &n, WA_APP_SECRET).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        whatsapp(&s, &n, WA_APP_SECRET).await.0,
        200,
        "a replay changes nothing"
    );
    let bodies = thread_bodies(&c, conv::BOB).await;
    assert_eq!(
        bodies.iter().filter(|b| *b == "Thanks! On my way").count(),
        1
    );
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("Unsupported") && b.contains("edit")),
        "kept with a marker: {bodies:?}"
    );
    assert!(!bodies.iter().any(|b| b == "not ours"));
    let thread = c
        .ok(&format!("/api/v1/conversations/{}/messages", conv::BOB))
        .await;
    let out = thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(
        out["status"], "read",
        "the late `delivered` did not downgrade `read`"
    );
    let bob = c.ok(&format!("/api/v1/conversations/{}", conv::BOB)).await;
    assert_eq!(
        bob["whatsapp_window"]["state"], "open",
        "an inbound WhatsApp message opens the window"
    );
}

#[tokio::test]
async fn thr4_twilio_status_callbacks_move_forward_only_and_failures_say_why() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let path = format!("/api/v1/conversations/{}/messages", conv::ALICE);
    let (_, a) = c
        .post(&path, json!({ "client_id": "st-1", "body": "Ready at 4" }))
        .await;
    let (_, b) = c
        .post(&path, json!({ "client_id": "st-2", "body": "Ready at 5" }))
        .await;
    let (sa, sb) = (sid("SM", 10), sid("SM", 11));
    s.store
        .outbound_accepted(
            a["id"].as_i64().unwrap(),
            0, // never claimed: the queue row's first token
            Provider::Twilio,
            &sa,
            inbox_core::DeliveryStatus::Pending,
            now(),
        )
        .await
        .unwrap();
    s.store
        .outbound_accepted(
            b["id"].as_i64().unwrap(),
            0, // never claimed: the queue row's first token
            Provider::Twilio,
            &sb,
            inbox_core::DeliveryStatus::Pending,
            now(),
        )
        .await
        .unwrap();
    let cb = |m: &str, status: &str| -> Vec<(String, String)> {
        vec![
            ("MessageSid".into(), m.into()),
            ("AccountSid".into(), TWILIO_SID.into()),
            ("MessageStatus".into(), status.into()),
            ("From".into(), GARAGE_NUMBER.into()),
            ("To".into(), ALICE_PHONE.into()),
        ]
    };
    for status in ["delivered", "sent", "queued"] {
        let p = cb(&sa, status);
        let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            twilio(&s, "/webhooks/twilio/status", &refs, Some(TWILIO_TOKEN))
                .await
                .0,
            200
        );
    }
    let mut p = cb(&sb, "undelivered");
    p.push(("ErrorCode".into(), "30003".into()));
    let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        twilio(&s, "/webhooks/twilio/status", &refs, Some(TWILIO_TOKEN))
            .await
            .0,
        200
    );
    let items = c.ok(&path).await["items"].as_array().unwrap().clone();
    let find = |id: &Value| items.iter().find(|i| i["id"] == *id).unwrap().clone();
    assert_eq!(find(&a["id"])["status"], "delivered");
    let failed = find(&b["id"]);
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["error"].as_str().unwrap().contains("30003"),
        "{failed}"
    );
    // CMP-4: retry re-queues it.
    let (status, retried) = c
        .post(&format!("/api/v1/messages/{}/retry", b["id"]), json!({}))
        .await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["status"], "pending");
    assert_eq!(
        c.post(&format!("/api/v1/messages/{}/retry", b["id"]), json!({}))
            .await
            .0,
        409
    );
}

#[tokio::test]
async fn the_portal_posts_into_the_customers_thread_and_reads_it() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let token = inbox_server::auth::token::generate();
    let alice = c
        .ok(&format!("/api/v1/conversations/{}", conv::ALICE))
        .await["customer_id"]
        .as_i64()
        .unwrap();
    s.store
        .create_portal_token(1, alice, inbox_server::auth::token::hash(&token), now())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/portal/messages", s.base);
    let res = http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({ "body": "Can I pay online?", "client_id": "p-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let again = http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({ "body": "Can I pay online?", "client_id": "p-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "idempotent on the portal's client id");
    let row = c
        .ok(&format!("/api/v1/conversations/{}", conv::ALICE))
        .await;
    assert_eq!(row["last_channel"], "portal");
    assert_eq!(row["preview"], "Can I pay online?");
    let mine: Value = http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine[0]["body"], "Can I pay online?");
    assert!(mine
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m.get("body").is_some()));
    assert_eq!(
        http.get(&url)
            .bearer_auth("nope")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn a_status_that_arrives_before_the_send_is_recorded_is_applied_when_it_is() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let path = format!("/api/v1/conversations/{}/messages", conv::ALICE);
    let (_, m) = c
        .post(
            &path,
            json!({ "client_id": "early-1", "body": "On its way" }),
        )
        .await;
    let message_sid = sid("SM", 77);
    let params = [
        ("MessageSid", message_sid.as_str()),
        ("AccountSid", TWILIO_SID),
        ("MessageStatus", "delivered"),
        ("From", GARAGE_NUMBER),
        ("To", ALICE_PHONE),
    ];
    assert_eq!(
        twilio(&s, "/webhooks/twilio/status", &params, Some(TWILIO_TOKEN))
            .await
            .0,
        200
    );
    let status = |v: Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == m["id"])
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status(c.ok(&path).await), "pending", "not known yet");
    s.store
        .outbound_accepted(
            m["id"].as_i64().unwrap(),
            0, // never claimed: the queue row's first token
            Provider::Twilio,
            &message_sid,
            inbox_core::DeliveryStatus::Pending,
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        status(c.ok(&path).await),
        "delivered",
        "applied once the provider id is recorded"
    );
}

#[tokio::test]
async fn provider_secrets_are_sealed_at_rest_and_still_verify_webhooks() {
    let s = Server::start().await;
    let (token, access) = s
        .db
        .two_texts(&format!(
            "SELECT twilio_auth_token, whatsapp_access_token FROM provider_settings WHERE twilio_account_sid = '{TWILIO_SID}'"
        ))
        .await;
    assert!(
        token.starts_with("v2:") && !token.contains(TWILIO_TOKEN),
        "{token}"
    );
    assert!(
        access.starts_with("v2:") && !access.contains("EAAG"),
        "{access}"
    );
    let m = sid("SM", 90);
    assert_eq!(
        twilio(
            &s,
            "/webhooks/twilio/sms",
            &sms(&m, ALICE_PHONE, "sealed"),
            Some(TWILIO_TOKEN)
        )
        .await
        .0,
        200
    );
}
