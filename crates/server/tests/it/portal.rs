//! The customer portal (issue 13): a customer sees only what actually reached them, and posts are
//! rate-limited per token.

use serde_json::{json, Value};

use crate::dispatch::{dispatcher, start_fake};
use crate::support::*;

/// A portal token for the fixture's portal customer, Carol.
pub(crate) async fn carol_token(s: &Server, staff: &Client) -> String {
    let carol = staff
        .ok(&format!("/api/v1/conversations/{}", conv::CAROL))
        .await["customer_id"]
        .as_i64()
        .unwrap();
    let token = inbox_server::auth::token::generate();
    s.store
        .create_portal_token(1, carol, inbox_server::auth::token::hash(&token), now())
        .await
        .unwrap();
    token
}

async fn portal_bodies(s: &Server, token: &str) -> Vec<String> {
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/portal/messages", s.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let items: Value = res.json().await.unwrap();
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_portal_shows_only_replies_that_reached_the_customer() {
    let s = Server::start().await;
    let (fake_base, _fake) = start_fake().await;
    let trainee = s.login("trainee@fixture.test").await;
    let manager = s.login("manager@fixture.test").await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let token = carol_token(&s, &manager).await;
    let compose = format!("/api/v1/conversations/{}/messages", conv::CAROL);
    let reply = |client_id: &str, body: &str, channel: &str| json!({ "client_id": client_id, "body": body, "channel": channel });

    // A trainee's reply waits for approval: the customer has not received it.
    let (status, gated) = trainee
        .post(&compose, reply("t-1", "Gated draft: 400 pounds", "portal"))
        .await;
    assert_eq!(status, 201, "{gated}");
    assert_eq!(gated["status"], "pending_approval");
    let (status, _) = trainee
        .post(
            &format!("/api/v1/conversations/{}/notes", conv::CAROL),
            json!({ "body": "Internal: customer is price-sensitive" }),
        )
        .await;
    assert_eq!(status, 201);
    let seen = portal_bodies(&s, &token).await;
    assert!(!seen.iter().any(|b| b.contains("Gated draft")), "{seen:?}");
    assert!(!seen.iter().any(|b| b.contains("Internal")), "{seen:?}");
    assert!(seen.contains(&"Carol message 54".to_string()), "{seen:?}");

    // Rejected: still never shown.
    let (status, _) = manager
        .post(
            &format!("/api/v1/approvals/{}/reject", gated["id"]),
            json!({ "reason": "too expensive" }),
        )
        .await;
    assert_eq!(status, 200);
    assert!(!portal_bodies(&s, &token)
        .await
        .iter()
        .any(|b| b.contains("Gated draft")));

    // Approved but still queued: not yet shown; once delivered, shown.
    let (_, second) = trainee
        .post(&compose, reply("t-2", "Approved: 350 pounds", "portal"))
        .await;
    let (status, approved) = manager
        .post(
            &format!("/api/v1/approvals/{}/approve", second["id"]),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "pending");
    // A reply the provider refused never reached the customer either.
    let (status, _) = frontdesk
        .post(&compose, reply("f-1", "FAIL-PERM by SMS", "sms"))
        .await;
    assert_eq!(status, 201);
    assert!(!portal_bodies(&s, &token)
        .await
        .iter()
        .any(|b| b.contains("Approved: 350")));
    dispatcher(&s, &fake_base).run_once().await.unwrap();
    let seen = portal_bodies(&s, &token).await;
    assert_eq!(seen[0], "Approved: 350 pounds", "{seen:?}");
    assert!(!seen.iter().any(|b| b.contains("FAIL-PERM")), "{seen:?}");
    assert!(!seen.iter().any(|b| b.contains("Gated draft")), "{seen:?}");
}
