//! Quick messages (CMP-6, SET-1) and templates.

use serde_json::json;

use crate::support::Server;

#[tokio::test]
async fn cmp6_quick_messages_are_created_edited_and_deleted_by_managers() {
    let s = Server::start().await;
    let manager = s.login("manager@fixture.test").await;
    let (status, created) = manager
        .post(
            "/api/v1/quick-messages",
            json!({ "name": "collect", "body": "Ready to collect" }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, _) = manager
        .post(
            "/api/v1/quick-messages",
            json!({ "name": "collect", "body": "Again" }),
        )
        .await;
    assert_eq!(status, 409, "names are unique per organisation");
    let (status, _) = manager
        .post(
            "/api/v1/quick-messages",
            json!({ "name": " ", "body": "x" }),
        )
        .await;
    assert_eq!(status, 422);
    let (status, updated) = manager
        .put(
            &format!("/api/v1/quick-messages/{id}"),
            json!({ "name": "collect", "body": "Ready to collect now" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(updated["body"], "Ready to collect now");
    let (status, _) = manager
        .put(
            &format!("/api/v1/quick-messages/{id}"),
            json!({ "name": "ready", "body": "clash" }),
        )
        .await;
    assert_eq!(status, 409);
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let names: Vec<String> = frontdesk.ok("/api/v1/quick-messages").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["collect", "ready"]);
    assert_eq!(
        manager
            .delete(&format!("/api/v1/quick-messages/{id}"))
            .await
            .0,
        204
    );
    assert_eq!(
        manager
            .delete(&format!("/api/v1/quick-messages/{id}"))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn cmp2_templates_list_with_parameter_counts() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let t = c.ok("/api/v1/templates").await;
    assert_eq!(t["items"][0]["name"], "vehicle_ready");
    assert_eq!(t["items"][0]["param_count"], 1);
}
