//! Issue 13: every free-text field of the API has a limit, answered with a 422 that names the
//! field and the limit before anything is stored or broadcast. Provider text is never refused.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;
use crate::webhooks::{sid, sms, twilio};

fn x(n: usize) -> String {
    "x".repeat(n)
}

/// A 422 whose message names the field and its limit.
#[track_caller]
fn refused(res: (reqwest::StatusCode, Value), field: &str, max: usize) {
    let (status, body) = res;
    assert_eq!(status, 422, "{field}: {body}");
    let message = body["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.starts_with(&format!("{field} is "))
            && message.ends_with(&format!("the limit is {max}")),
        "{field}: {message}"
    );
}

#[tokio::test]
async fn a_600_kb_template_parameter_is_refused_and_nothing_is_stored_or_broadcast() {
    let s = Server::start().await;
    let trainee = s.login("trainee@fixture.test").await;
    let manager = s.login("manager@fixture.test").await;
    let head = s.store.log_bounds(1).await.unwrap().head;
    let path = format!("/api/v1/conversations/{}/messages", conv::BOB);
    let res = trainee
        .post(
            &path,
            json!({ "client_id": "huge-1", "template": { "name": "vehicle_ready", "params": [x(600 * 1024)] } }),
        )
        .await;
    refused(res, "template.params[0]", 1024);
    assert_eq!(s.store.log_bounds(1).await.unwrap().head, head, "no event");
    let approvals = manager.ok("/api/v1/approvals").await;
    assert_eq!(approvals["items"], json!([]), "nothing waits for approval");
    let thread = trainee.ok(&path).await;
    assert!(thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["client_id"] != "huge-1"));
    // The same client id is still free: the refused request left no trace.
    let (status, ok) = trainee
        .post(
            &path,
            json!({ "client_id": "huge-1", "template": { "name": "vehicle_ready", "params": ["Bob"] } }),
        )
        .await;
    assert_eq!(status, 201, "{ok}");
}

#[tokio::test]
async fn every_free_text_field_has_a_limit_named_in_the_422() {
    let s = Server::start().await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let trainee = s.login("trainee@fixture.test").await;
    let manager = s.login("manager@fixture.test").await;
    let head = s.store.log_bounds(1).await.unwrap().head;
    let alice = format!("/api/v1/conversations/{}", conv::ALICE);

    refused(
        frontdesk
            .post(&format!("{alice}/notes"), json!({ "body": x(10_001) }))
            .await,
        "body",
        10_000,
    );
    refused(
        frontdesk
            .post(
                &format!("{alice}/messages"),
                json!({ "client_id": x(101), "body": "hi" }),
            )
            .await,
        "client_id",
        100,
    );
    let (status, body) = frontdesk
        .post(
            &format!("{alice}/messages"),
            json!({ "client_id": "long-sms", "body": x(1601) }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 1600"));
    refused(
        frontdesk
            .post(
                &format!("/api/v1/conversations/{}/messages", conv::BOB),
                json!({ "client_id": "t", "template": { "name": x(600), "params": [] } }),
            )
            .await,
        "template.name",
        512,
    );
    let (_, gated) = trainee
        .post(
            &format!("{alice}/messages"),
            json!({ "client_id": "gated", "body": "Needs approval" }),
        )
        .await;
    let head_after_gated = s.store.log_bounds(1).await.unwrap().head;
    assert!(head_after_gated > head);
    refused(
        manager
            .post(
                &format!("/api/v1/approvals/{}/reject", gated["id"]),
                json!({ "reason": x(501) }),
            )
            .await,
        "reason",
        500,
    );
    refused(
        manager
            .post(
                "/api/v1/quick-messages",
                json!({ "name": x(61), "body": "b" }),
            )
            .await,
        "name",
        60,
    );
    refused(
        manager
            .post(
                "/api/v1/quick-messages",
                json!({ "name": "n", "body": x(4097) }),
            )
            .await,
        "body",
        4096,
    );
    refused(
        manager
            .put(
                "/api/v1/quick-messages/1",
                json!({ "name": "n", "body": x(4097) }),
            )
            .await,
        "body",
        4096,
    );
    // Template fields keep their own messages (catalog::set1_template_fields_are_checked_…).
    refused(
        frontdesk
            .get(&format!("/api/v1/customers?q={}", x(101)))
            .await,
        "q",
        100,
    );
    refused(
        frontdesk
            .get(&format!("/api/v1/work-orders?q={}", x(101)))
            .await,
        "q",
        100,
    );
    refused(
        s.anonymous()
            .post(
                "/api/v1/auth/login",
                json!({ "email": x(255), "password": "p" }),
            )
            .await,
        "email",
        254,
    );
    refused(
        s.anonymous()
            .post(
                "/api/v1/auth/login",
                json!({ "email": "frontdesk@fixture.test", "password": x(1025) }),
            )
            .await,
        "password",
        1024,
    );
    assert_eq!(
        s.store.log_bounds(1).await.unwrap().head,
        head_after_gated,
        "no refused request wrote an event"
    );
    let quick = manager.ok("/api/v1/quick-messages").await;
    assert_eq!(quick["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_portal_post_over_the_limit_is_refused() {
    let s = Server::start().await;
    let token = inbox_server::auth::token::generate();
    s.store
        .create_portal_token(1, 1, inbox_server::auth::token::hash(&token), now())
        .await
        .unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/portal/messages", s.base))
        .bearer_auth(&token)
        .json(&json!({ "body": x(10_001) }))
        .send()
        .await
        .unwrap();
    let status = res.status();
    refused((status, res.json().await.unwrap()), "body", 10_000);
}

/// A provider that gets a 422 drops the message, so inbound text of any length is stored.
#[tokio::test]
async fn inbound_provider_text_is_never_refused_for_its_length() {
    let s = Server::start().await;
    let long = x(50_000);
    let (status, body) = twilio(
        &s,
        "/webhooks/twilio/sms",
        &sms(&sid("SM", 77), ALICE_PHONE, &long),
        Some(TWILIO_TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let c = s.login("frontdesk@fixture.test").await;
    let thread = c
        .ok(&format!("/api/v1/conversations/{}/messages", conv::ALICE))
        .await;
    assert_eq!(thread["items"][0]["body"].as_str().unwrap().len(), 50_000);
}

/// LST-2, issue 13: search text is capped in words, word length and total length.
#[tokio::test]
async fn lst2_search_text_with_too_many_or_too_long_words_is_refused() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let search = |q: String| {
        let c = &c;
        async move {
            let (status, body) = c
                .get(&format!("/api/v1/conversations?range=all_time&q={q}"))
                .await;
            (
                status,
                body["error"]["message"].as_str().unwrap_or("").to_string(),
            )
        }
    };
    let (status, message) = search("a+b+c+d+e+f+g+h+i".into()).await;
    assert_eq!(status, 422);
    assert_eq!(message, "q has 9 words; search with at most 8");
    let (status, message) = search(x(65)).await;
    assert_eq!(status, 422);
    assert_eq!(message, "a word of q is 65 characters; the limit is 64");
    let (status, message) = search("-".repeat(257)).await;
    assert_eq!(status, 422);
    assert_eq!(message, "q is 257 characters; the limit is 256");
    let (ids, _) = c.ids("range=all_time&q=brake+pads+golf").await;
    assert_eq!(ids, vec![conv::CAROL], "eight words or fewer still search");
}

/// Issue 13: a list or search that outruns its database time budget is interrupted (SQLite's
/// interrupt, PostgreSQL's statement_timeout), answered 503, and gives its connection back.
#[tokio::test]
async fn lst2_a_search_past_its_time_budget_is_stopped_with_a_503_and_frees_its_connection() {
    let s = Server::start_with(|state| {
        state.list_budget = Duration::from_millis(1);
    })
    .await;
    // Enough data that an eight-prefix search takes well over a millisecond.
    let hash = inbox_server::auth::password::hash(PASSWORD).unwrap();
    let scale = inbox_server::seed::Scale {
        customers: 3_000,
        work_orders: 100,
        conversations: 4_000,
        items_per_customer_conversation: 10,
        days: 365,
    };
    s.store
        .import(
            inbox_server::seed::bench_dataset(7, now(), scale, &hash),
            now(),
        )
        .await
        .unwrap();
    let c = s.login("frontdesk@bench.test").await;
    // On a loaded machine the timer may now and then fire after a fast query has finished, so
    // a search may still succeed; most must be stopped.
    let mut stopped = 0;
    for _ in 0..12 {
        let (status, body) = c
            .get("/api/v1/conversations?range=all_time&q=a+e+i+o+s+t+r+n")
            .await;
        if status == 200 {
            continue;
        }
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"]["code"], "timeout");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("narrow it"));
        stopped += 1;
    }
    assert!(stopped >= 6, "only {stopped} of 12 searches were stopped");
    // More requests than the pool has connections still find one.
    for _ in 0..12 {
        let res = tokio::time::timeout(Duration::from_secs(5), c.get("/api/v1/me")).await;
        assert_eq!(res.expect("a connection was left held").0, 200);
    }
}
