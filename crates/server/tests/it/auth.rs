//! Sign-in, sessions and bad input at the door (ACC-1, ACC-3).

use serde_json::json;

use crate::support::{now, Server};

#[tokio::test]
async fn acc3_login_returns_token_user_capabilities_and_organisation() {
    let s = Server::start().await;
    let (status, body) = s
        .anonymous()
        .post(
            "/api/v1/auth/login",
            json!({ "email": "Manager@Fixture.test", "password": crate::support::PASSWORD }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["token"].as_str().unwrap().len() >= 40);
    assert_eq!(body["user"]["email"], "manager@fixture.test");
    assert_eq!(
        body["user"]["capabilities"],
        json!([
            "messages.view",
            "messages.send",
            "messages.approve",
            "settings.templates.manage"
        ])
    );
    assert_eq!(body["organisation"]["name"], "Fixture Garage");
    assert_eq!(body["organisation"]["time_zone"], "Europe/London");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let s = Server::start().await;
    let a = s.anonymous();
    let (s1, b1) = a
        .post(
            "/api/v1/auth/login",
            json!({ "email": "frontdesk@fixture.test", "password": "wrong" }),
        )
        .await;
    let (s2, b2) = a
        .post(
            "/api/v1/auth/login",
            json!({ "email": "nobody@fixture.test", "password": "wrong" }),
        )
        .await;
    assert_eq!((s1.as_u16(), s2.as_u16()), (401, 401));
    assert_eq!(b1, b2);
    let (status, _) = a
        .post(
            "/api/v1/auth/login",
            json!({ "email": "frontdesk@fixture.test" }),
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn logout_and_expiry_end_a_session() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    assert_eq!(c.get("/api/v1/me").await.0, 200);
    assert_eq!(c.post("/api/v1/auth/logout", json!({})).await.0, 204);
    let (status, body) = c.get("/api/v1/me").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    // A session past its expiry is refused.
    let token = inbox_server::auth::token::generate();
    s.store
        .create_session(
            crate::support::user::FRONTDESK,
            inbox_server::auth::token::hash(&token),
            now() - chrono::Duration::days(31),
            now() - chrono::Duration::seconds(1),
        )
        .await
        .unwrap();
    let expired = crate::support::Client {
        token: Some(token),
        ..s.anonymous()
    };
    assert_eq!(expired.get("/api/v1/conversations").await.0, 401);
    let garbage = crate::support::Client {
        token: Some("not-a-token".into()),
        ..s.anonymous()
    };
    assert_eq!(garbage.get("/api/v1/conversations").await.0, 401);
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_clear_errors() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let url = format!("{}/api/v1/conversations/1/notes", s.base);
    let auth = format!("Bearer {}", c.token.clone().unwrap());
    let res = c
        .http
        .post(&url)
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid");
    let big = format!("{{\"body\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let res = c
        .http
        .post(&url)
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let (status, _) = c.get("/api/v1/conversations/not-a-number").await;
    assert_eq!(status, 404);
    let (status, body) = c.get("/api/v1/no-such-route").await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}
