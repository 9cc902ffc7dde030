//! The whole capability × endpoint matrix (ACC-1): a missing capability answers 403, a missing
//! token 401, and everything else is allowed through.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{conv::*, Server};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Needs {
    SignedIn,
    View,
    Write,
    Approve,
    AiManage,
    Templates,
    RolesManage,
    UsersManage,
}

fn endpoints(
    call: i64,
    message: i64,
    work_order: i64,
    quick: i64,
    template: i64,
    inbound: i64,
) -> Vec<(Method, String, Option<Value>, Needs)> {
    use Needs::*;
    let c = ALICE;
    vec![
        (Method::GET, "/api/v1/conversations".into(), None, View),
        (
            Method::GET,
            format!("/api/v1/conversations/{c}"),
            None,
            View,
        ),
        (
            Method::GET,
            format!("/api/v1/conversations/{c}/messages"),
            None,
            View,
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{c}/read"),
            Some(json!({})),
            View,
        ),
        (
            Method::PUT,
            format!("/api/v1/conversations/{c}/assignee"),
            Some(json!({ "user_id": null })),
            Write,
        ),
        (
            Method::PUT,
            format!("/api/v1/conversations/{c}/work-order"),
            Some(json!({ "work_order_id": work_order })),
            Write,
        ),
        (
            Method::DELETE,
            format!("/api/v1/conversations/{c}/work-order"),
            None,
            Write,
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{c}/notes"),
            Some(json!({ "body": "matrix" })),
            Write,
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{c}/messages"),
            Some(json!({ "client_id": "matrix", "body": "hi" })),
            Write,
        ),
        (Method::GET, "/api/v1/approvals".into(), None, Approve),
        (
            Method::POST,
            format!("/api/v1/approvals/{message}/approve"),
            Some(json!({})),
            Approve,
        ),
        (
            Method::POST,
            format!("/api/v1/approvals/{message}/reject"),
            Some(json!({ "reason": "no" })),
            Approve,
        ),
        (Method::GET, format!("/api/v1/calls/{call}"), None, View),
        (
            Method::POST,
            format!("/api/v1/calls/{call}/resolve"),
            Some(json!({})),
            Write,
        ),
        (
            Method::POST,
            format!("/api/v1/calls/{call}/reassign"),
            Some(json!({ "destination": { "to": "anonymous" } })),
            Write,
        ),
        (Method::GET, "/api/v1/customers?q=a".into(), None, View),
        (Method::GET, "/api/v1/work-orders?q=WO".into(), None, View),
        (
            Method::GET,
            format!("/api/v1/work-orders/{work_order}"),
            None,
            View,
        ),
        (Method::GET, "/api/v1/staff".into(), None, View),
        (Method::GET, "/api/v1/templates".into(), None, View),
        (Method::GET, "/api/v1/quick-messages".into(), None, View),
        (
            Method::POST,
            "/api/v1/quick-messages".into(),
            Some(json!({ "name": "matrix", "body": "hi" })),
            Templates,
        ),
        (
            Method::PUT,
            format!("/api/v1/quick-messages/{quick}"),
            Some(json!({ "name": "ready", "body": "Ready now" })),
            Templates,
        ),
        (
            Method::DELETE,
            format!("/api/v1/quick-messages/{quick}"),
            None,
            Templates,
        ),
        (
            Method::POST,
            "/api/v1/templates".into(),
            Some(json!({ "name": "matrix", "language": "en", "body": "hi" })),
            Templates,
        ),
        (
            Method::PUT,
            format!("/api/v1/templates/{template}"),
            Some(json!({ "name": "vehicle_ready", "language": "en_GB", "body": "Ready {{1}}" })),
            Templates,
        ),
        (
            Method::DELETE,
            format!("/api/v1/templates/{template}"),
            None,
            Templates,
        ),
        (Method::GET, "/api/v1/me".into(), None, SignedIn),
        (Method::GET, "/api/v1/settings/ai".into(), None, SignedIn),
        // AI on (by the Owner, the last user tried) before the correction below is tried.
        (
            Method::PUT,
            "/api/v1/settings/ai".into(),
            Some(json!({ "enabled": true })),
            AiManage,
        ),
        (
            Method::GET,
            "/api/v1/settings/ai/model".into(),
            None,
            AiManage,
        ),
        (
            Method::PUT,
            "/api/v1/settings/ai/model".into(),
            Some(json!({ "url": "", "model": "" })),
            AiManage,
        ),
        (Method::GET, "/api/v1/analytics".into(), None, View),
        // An id that is nobody's: 404 for those who may read files, 403 before that.
        (Method::GET, "/api/v1/media/0".into(), None, View),
        (Method::GET, "/api/v1/media/0/thumbnail".into(), None, View),
        (Method::DELETE, "/api/v1/media/0".into(), None, View),
        (
            Method::GET,
            format!("/api/v1/calls/{call}/recording"),
            None,
            View,
        ),
        // A JSON body is no file: 422 for those who may upload.
        (Method::POST, "/api/v1/media".into(), Some(json!({})), Write),
        (Method::GET, "/api/v1/roles".into(), None, RolesManage),
        (
            Method::POST,
            "/api/v1/roles".into(),
            Some(json!({ "name": "Matrix", "copy_of": 0 })),
            RolesManage,
        ),
        (
            Method::PUT,
            "/api/v1/roles/0".into(),
            Some(json!({ "name": "Matrix" })),
            RolesManage,
        ),
        (Method::DELETE, "/api/v1/roles/0".into(), None, RolesManage),
        (Method::GET, "/api/v1/users".into(), None, UsersManage),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(json!({ "email": "matrix@fixture.test", "name": "Matrix", "role_id": 0 })),
            UsersManage,
        ),
        (
            Method::PUT,
            "/api/v1/users/0".into(),
            Some(json!({ "active": true })),
            UsersManage,
        ),
        (
            Method::POST,
            "/api/v1/users/0/password".into(),
            None,
            UsersManage,
        ),
        (Method::GET, "/api/v1/audit".into(), None, UsersManage),
        (
            Method::PUT,
            format!("/api/v1/messages/{inbound}/intent"),
            Some(json!({ "label": "status_inquiry" })),
            Write,
        ),
    ]
}

#[tokio::test]
async fn acc1_capability_matrix_covers_every_endpoint() {
    let s = Server::start().await;
    let manager = s.login("manager@fixture.test").await;
    let call = manager
        .ok(&format!("/api/v1/conversations/{UNKNOWN_CALLER}/messages"))
        .await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let message = manager
        .ok(&format!("/api/v1/conversations/{ALICE}/messages"))
        .await["items"][0]["id"]
        .as_i64()
        .unwrap();
    // A customer's message, whose intent can be corrected.
    let inbound = manager
        .thread_items(ALICE)
        .await
        .iter()
        .find(|i| i["type"] == "message" && i["direction"] == "inbound")
        .and_then(|i| i["id"].as_i64())
        .unwrap();
    let work_order = manager.ok("/api/v1/work-orders?q=WO-1").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let quick = manager.ok("/api/v1/quick-messages").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let template = manager.ok("/api/v1/templates").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    use Needs::*;
    let users: &[(&str, &[Needs])] = &[
        ("frontdesk@fixture.test", &[SignedIn, View, Write]),
        ("trainee@fixture.test", &[SignedIn, View, Write]),
        (
            "manager@fixture.test",
            &[SignedIn, View, Write, Approve, Templates],
        ),
        ("viewer@fixture.test", &[SignedIn, View]),
        ("mechanic@fixture.test", &[SignedIn]),
        (
            "owner@fixture.test",
            &[
                SignedIn,
                View,
                Write,
                Approve,
                AiManage,
                Templates,
                RolesManage,
                UsersManage,
            ],
        ),
    ];
    let anonymous = s.anonymous();
    for (method, path, body, needs) in
        endpoints(call, message, work_order, quick, template, inbound)
    {
        let (status, _) = anonymous.send(method.clone(), &path, body.clone()).await;
        assert_eq!(status, 401, "no token: {method} {path}");
        for (email, holds) in users {
            let c = s.login(email).await;
            let (status, res) = c.send(method.clone(), &path, body.clone()).await;
            if holds.contains(&needs) {
                assert!(
                    status != 403 && status != 401 && !status.is_server_error(),
                    "{email} may {method} {path}: got {status} {res}"
                );
            } else {
                assert_eq!(status, 403, "{email} must not {method} {path}: {res}");
                assert_eq!(res["error"]["code"], "forbidden");
            }
        }
    }
}
