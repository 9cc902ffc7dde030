//! Organisation isolation (ACC-2): another organisation's ids answer 404 on every endpoint, and
//! no list or search shows its data.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{conv::*, Client, Server};

/// Every endpoint that takes an id, aimed at the given ids.
fn probes(
    conversation: i64,
    message: i64,
    call: i64,
    work_order: i64,
    quick: i64,
    template: i64,
    customer: i64,
) -> Vec<(Method, String, Option<Value>)> {
    let c = conversation;
    vec![
        (Method::GET, format!("/api/v1/conversations/{c}"), None),
        (
            Method::GET,
            format!("/api/v1/conversations/{c}/messages"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{c}/read"),
            Some(json!({})),
        ),
        (
            Method::PUT,
            format!("/api/v1/conversations/{c}/assignee"),
            Some(json!({ "user_id": null })),
        ),
        (
            Method::PUT,
            format!("/api/v1/conversations/{c}/work-order"),
            Some(json!({ "work_order_id": work_order })),
        ),
        (
            Method::DELETE,
            format!("/api/v1/conversations/{c}/work-order"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{c}/notes"),
            Some(json!({ "body": "probe" })),
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{c}/messages"),
            Some(json!({ "client_id": "probe", "body": "hi", "channel": "sms" })),
        ),
        (
            Method::POST,
            format!("/api/v1/approvals/{message}/approve"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/approvals/{message}/reject"),
            Some(json!({ "reason": "probe" })),
        ),
        (Method::GET, format!("/api/v1/calls/{call}"), None),
        (
            Method::POST,
            format!("/api/v1/calls/{call}/resolve"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/calls/{call}/reassign"),
            Some(json!({ "destination": { "to": "anonymous" } })),
        ),
        (
            Method::POST,
            format!("/api/v1/calls/{call}/reassign"),
            Some(json!({ "destination": { "to": "customer", "customer_id": customer } })),
        ),
        (
            Method::GET,
            format!("/api/v1/work-orders/{work_order}"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/quick-messages/{quick}"),
            Some(json!({ "name": "probe", "body": "probe" })),
        ),
        (
            Method::DELETE,
            format!("/api/v1/quick-messages/{quick}"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/templates/{template}"),
            Some(json!({ "name": "probe", "language": "en", "body": "probe" })),
        ),
        (
            Method::DELETE,
            format!("/api/v1/templates/{template}"),
            None,
        ),
    ]
}

struct Ids {
    conversation: i64,
    message: i64,
    call: i64,
    work_order: i64,
    quick: i64,
    template: i64,
    customer: i64,
}

async fn ids_of(c: &Client, conversation: i64, customer_query: &str) -> Ids {
    let thread = c
        .ok(&format!("/api/v1/conversations/{conversation}/messages"))
        .await;
    let items = thread["items"].as_array().unwrap();
    let of = |t: &str| {
        items
            .iter()
            .find(|i| i["type"] == t)
            .map(|i| i["id"].as_i64().unwrap())
    };
    Ids {
        conversation,
        message: of("message").unwrap_or(0),
        call: of("call").unwrap_or(0),
        work_order: c.ok("/api/v1/work-orders?q=WO").await["items"][0]["id"]
            .as_i64()
            .unwrap(),
        quick: c.ok("/api/v1/quick-messages").await["items"][0]["id"]
            .as_i64()
            .unwrap(),
        template: c.ok("/api/v1/templates").await["items"][0]["id"]
            .as_i64()
            .unwrap(),
        customer: c.ok(&format!("/api/v1/customers?q={customer_query}")).await["items"][0]["id"]
            .as_i64()
            .unwrap(),
    }
}

async fn assert_all_404(c: &Client, ids: &Ids, who: &str) {
    for (method, path, body) in probes(
        ids.conversation,
        ids.message,
        ids.call,
        ids.work_order,
        ids.quick,
        ids.template,
        ids.customer,
    ) {
        let (status, res) = c.send(method.clone(), &path, body).await;
        assert_eq!(status, 404, "{who}: {method} {path} → {res}");
        assert!(
            res.get("error").is_some(),
            "an error body, never data: {res}"
        );
    }
}

#[tokio::test]
async fn acc2_every_endpoint_answers_404_for_the_other_organisations_ids() {
    let s = Server::start().await;
    let fixture = s.login("manager@fixture.test").await;
    let other = s.login("frontdesk@other.test").await;
    let mut fixture_ids = ids_of(&fixture, UNKNOWN_CALLER, "Alice").await;
    fixture_ids.message = fixture
        .ok(&format!("/api/v1/conversations/{ALICE}/messages"))
        .await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let other_ids = ids_of(&other, OTHER, "Zed").await;
    assert_all_404(&other, &fixture_ids, "other → fixture").await;
    assert_all_404(&fixture, &other_ids, "fixture → other").await;
    // Their data is unchanged by the probes.
    let alice = fixture.ok(&format!("/api/v1/conversations/{ALICE}")).await;
    assert_eq!(alice["unread_count"], 1);
}

#[tokio::test]
async fn acc2_lists_and_searches_show_only_the_callers_organisation() {
    let s = Server::start().await;
    let other = s.login("frontdesk@other.test").await;
    let (ids, counts) = other.ids("range=all_time").await;
    assert_eq!(ids, vec![OTHER]);
    assert_eq!(counts["all"], 1);
    for q in ["Alice", "brake", "07700%20900555", "windscreen"] {
        assert_eq!(
            other.ids(&format!("q={q}")).await.0,
            Vec::<i64>::new(),
            "search {q}"
        );
    }
    let fixture = s.login("frontdesk@fixture.test").await;
    assert_eq!(fixture.ids("q=Secret").await.0, Vec::<i64>::new());
    assert_eq!(
        fixture.ok("/api/v1/customers?q=Zed").await["items"],
        json!([])
    );
    assert_eq!(
        fixture.ok("/api/v1/work-orders?q=WO-9").await["items"],
        json!([])
    );
    let staff = fixture.ok("/api/v1/staff").await;
    assert!(staff["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["id"] != crate::support::user::OTHER_FRONTDESK));
    let quick = other.ok("/api/v1/quick-messages").await;
    assert_eq!(quick["items"].as_array().unwrap().len(), 1);
    let templates = fixture.ok("/api/v1/templates").await;
    assert_eq!(templates["items"].as_array().unwrap().len(), 1);
    assert_eq!(templates["items"][0]["name"], "vehicle_ready");
    let _ = (
        crate::support::user::TRAINEE,
        crate::support::user::MANAGER,
        crate::support::user::VIEWER,
        crate::support::user::MECHANIC,
    );
}
