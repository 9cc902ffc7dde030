//! Replies: idempotency, channel rules, the WhatsApp window, approvals (CMP-1 … CMP-5, APQ-1).

use inbox_core::providers::Provider;
use serde_json::json;

use crate::support::{conv::*, Server};

#[tokio::test]
async fn cmp1_compose_is_idempotent_on_client_id() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let body = json!({ "client_id": "desk-1-0001", "body": "Yes, it's ready for collection" });
    let (status, first) = c
        .post(
            &format!("/api/v1/conversations/{ALICE}/messages"),
            body.clone(),
        )
        .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["status"], "pending");
    assert_eq!(
        first["channel"], "sms",
        "CMP-5: defaults to the customer's last channel"
    );
    assert_eq!(first["direction"], "outbound");
    let (status, again) = c
        .post(&format!("/api/v1/conversations/{ALICE}/messages"), body)
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], first["id"]);
    let thread = c
        .ok(&format!("/api/v1/conversations/{ALICE}/messages"))
        .await;
    let mine: Vec<_> = thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["client_id"] == "desk-1-0001")
        .collect();
    assert_eq!(mine.len(), 1, "stored once");
    // The same key on another conversation is a conflict, not a silent success.
    let (status, _) = c
        .post(
            &format!("/api/v1/conversations/{BOB}/messages"),
            json!({ "client_id": "desk-1-0001", "body": "x", "channel": "sms" }),
        )
        .await;
    assert_eq!(status, 409);
    // The reply shows in the list preview.
    let list = c.ok("/api/v1/conversations?range=today").await;
    let alice = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == ALICE)
        .unwrap()
        .clone();
    assert_eq!(alice["preview"], "Yes, it's ready for collection");
}

#[tokio::test]
async fn cmp2_whatsapp_outside_the_window_takes_templates_only() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let path = format!("/api/v1/conversations/{BOB}/messages");
    let (status, body) = c
        .post(&path, json!({ "client_id": "w1", "body": "Hello Bob" }))
        .await;
    assert_eq!(status, 422);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("24-hour"),
        "{body}"
    );
    let (status, msg) = c.post(&path, json!({ "client_id": "w2", "template": { "name": "vehicle_ready", "params": ["Bob"] } })).await;
    assert_eq!(status, 201, "{msg}");
    assert_eq!(msg["body"], "Hi Bob, your vehicle is ready.");
    assert_eq!(msg["template"]["name"], "vehicle_ready");
    let (status, _) = c
        .post(
            &path,
            json!({ "client_id": "w3", "template": { "name": "vehicle_ready", "params": [] } }),
        )
        .await;
    assert_eq!(status, 422, "parameter count is checked");
    let (status, _) = c
        .post(
            &path,
            json!({ "client_id": "w4", "template": { "name": "nope", "params": [] } }),
        )
        .await;
    assert_eq!(status, 422);
    // SMS is still free-form.
    let (status, _) = c
        .post(
            &path,
            json!({ "client_id": "w5", "body": "Hello Bob", "channel": "sms" }),
        )
        .await;
    assert_eq!(status, 201);
    // A new inbound WhatsApp message reopens the window.
    s.store
        .ingest_message(
            1,
            inbox_server::store::NewInbound {
                attachments: Vec::new(),
                uploads: Vec::new(),
                channel: inbox_core::Channel::Whatsapp,
                from_number: Some("+447700900102".into()),
                customer_id: None,
                body: "Any news?".into(),
                provider: Provider::Whatsapp,
                provider_id: "wamid.1".into(),
                at: crate::support::now() - chrono::Duration::hours(1),
            },
        )
        .await
        .unwrap();
    let bob = c.ok(&format!("/api/v1/conversations/{BOB}")).await;
    assert_eq!(bob["whatsapp_window"]["state"], "open");
    let (status, _) = c
        .post(
            &path,
            json!({ "client_id": "w6", "body": "Yes, it's ready" }),
        )
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn cmp1_invalid_replies_are_refused_with_reasons() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let alice = format!("/api/v1/conversations/{ALICE}/messages");
    for body in [
        json!({ "client_id": "a", "body": "   " }),
        json!({ "client_id": "b" }),
        json!({ "client_id": "c", "body": "x".repeat(1601) }),
        json!({ "client_id": "d", "body": "hi", "channel": "voice" }),
        json!({ "client_id": "", "body": "hi" }),
        json!({ "client_id": "e", "body": "hi", "channel": "fax" }),
        json!({ "body": "no client id" }),
    ] {
        let (status, res) = c.post(&alice, body.clone()).await;
        assert_eq!(status, 422, "{body} → {res}");
    }
    let (status, _) = c
        .post(
            &format!("/api/v1/conversations/{WITHHELD}/messages"),
            json!({ "client_id": "f", "body": "hi" }),
        )
        .await;
    assert_eq!(status, 422, "a withheld caller cannot be answered");
    let (status, _) = c
        .post(
            "/api/v1/conversations/999999/messages",
            json!({ "client_id": "g", "body": "hi" }),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn cmp3_apq1_gated_reply_waits_for_approval_then_is_queued() {
    let s = Server::start().await;
    let trainee = s.login("trainee@fixture.test").await;
    let manager = s.login("manager@fixture.test").await;
    let (status, msg) = trainee
        .post(
            &format!("/api/v1/conversations/{ALICE}/messages"),
            json!({ "client_id": "t-1", "body": "It'll be ready at 4" }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(msg["status"], "pending_approval");
    let id = msg["id"].as_i64().unwrap();
    let (status, _) = trainee.get("/api/v1/approvals").await;
    assert_eq!(status, 403, "the trainee cannot approve");
    let queue = manager.ok("/api/v1/approvals").await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["message"]["id"], id);
    assert_eq!(items[0]["message"]["author"]["name"], "Trainee");
    assert_eq!(items[0]["conversation_title"], "Alice Able");
    let (status, approved) = manager
        .post(&format!("/api/v1/approvals/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(approved["status"], "pending");
    let (status, _) = manager
        .post(&format!("/api/v1/approvals/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 409, "already decided");
    assert_eq!(manager.ok("/api/v1/approvals").await["items"], json!([]));
}

#[tokio::test]
async fn apq1_rejection_needs_a_reason_and_the_author_sees_it() {
    let s = Server::start().await;
    let trainee = s.login("trainee@fixture.test").await;
    let manager = s.login("manager@fixture.test").await;
    let (_, msg) = trainee
        .post(
            &format!("/api/v1/conversations/{ALICE}/messages"),
            json!({ "client_id": "t-2", "body": "It's £500" }),
        )
        .await;
    let id = msg["id"].as_i64().unwrap();
    let (status, _) = manager
        .post(
            &format!("/api/v1/approvals/{id}/reject"),
            json!({ "reason": " " }),
        )
        .await;
    assert_eq!(status, 422);
    let (status, rejected) = manager
        .post(
            &format!("/api/v1/approvals/{id}/reject"),
            json!({ "reason": "Check the quote first" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(rejected["status"], "rejected");
    let thread = trainee
        .ok(&format!("/api/v1/conversations/{ALICE}/messages"))
        .await;
    let mine = thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(mine["status"], "rejected");
    assert_eq!(mine["error"], "Check the quote first");
    let (status, _) = manager
        .post(&format!("/api/v1/approvals/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 409);
}
