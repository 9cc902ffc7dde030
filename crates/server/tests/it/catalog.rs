//! Quick messages (CMP-6, SET-1) and templates (CMP-2, SET-1).

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{frame, seen, Seen, Server};

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

/// CMP-6: the list is in name order whatever the letters' case, on both databases (SQLite
/// once sorted with its NOCASE collation, PostgreSQL by `lower(name)`; they now share the
/// latter).
#[tokio::test]
async fn cmp6_quick_messages_list_by_name_whatever_the_case() {
    let s = Server::start().await;
    let manager = s.login("manager@fixture.test").await;
    for name in ["Zebra", "apple", "Mango"] {
        let (status, res) = manager
            .post(
                "/api/v1/quick-messages",
                json!({ "name": name, "body": "x" }),
            )
            .await;
        assert_eq!(status, 201, "{res}");
    }
    let names: Vec<String> = manager.ok("/api/v1/quick-messages").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["apple", "Mango", "ready", "Zebra"]);
}

#[tokio::test]
async fn cmp2_templates_list_with_parameter_counts() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let t = c.ok("/api/v1/templates").await;
    assert_eq!(t["items"][0]["name"], "vehicle_ready");
    assert_eq!(t["items"][0]["param_count"], 1);
}

/// The audit row of a template change: (user id, detail).
async fn template_audit(s: &Server, id: i64, action: &str) -> (String, Value) {
    let (user, detail) =
        s.db.two_texts(&format!(
            "SELECT CAST(user_id AS TEXT), detail FROM audit_log
             WHERE subject_type = 'template' AND subject_id = {id} AND action = '{action}'"
        ))
        .await;
    (user, serde_json::from_str(&detail).unwrap())
}

#[tokio::test]
async fn set1_templates_are_created_edited_and_deleted_by_managers() {
    let s = Server::start().await;
    let manager = s.login("manager@fixture.test").await;
    let (status, created) = manager
        .post(
            "/api/v1/templates",
            json!({ "name": " mot_reminder ", "language": "en_GB ",
                    "body": " Hi {{1}}, the MOT for {{2}} is due. " }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        created,
        json!({ "id": id, "name": "mot_reminder", "language": "en_GB",
                "body": "Hi {{1}}, the MOT for {{2}} is due.", "param_count": 2,
                "header": null })
    );
    let (status, res) = manager
        .post(
            "/api/v1/templates",
            json!({ "name": "mot_reminder", "language": "en_GB", "body": "Again" }),
        )
        .await;
    assert_eq!(status, 409, "(name, language) is unique per organisation");
    assert_eq!(
        res["error"]["message"],
        r#"a template called "mot_reminder" in en_GB already exists"#
    );
    let (status, other_language) = manager
        .post(
            "/api/v1/templates",
            json!({ "name": "mot_reminder", "language": "en", "body": "Hi {{1}}" }),
        )
        .await;
    assert_eq!(
        status, 201,
        "the same name in another language: {other_language}"
    );

    let (status, updated) = manager
        .put(
            &format!("/api/v1/templates/{id}"),
            json!({ "name": "mot_due", "language": "en_GB", "body": "Your MOT is due." }),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["name"], "mot_due");
    assert_eq!(updated["param_count"], 0, "recounted from the new text");
    let (status, res) = manager
        .put(
            &format!("/api/v1/templates/{id}"),
            json!({ "name": "vehicle_ready", "language": "en_GB", "body": "clash" }),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        res["error"]["message"],
        r#"a template called "vehicle_ready" in en_GB already exists"#
    );

    let frontdesk = s.login("frontdesk@fixture.test").await;
    let listed: Vec<(String, String)> = frontdesk.ok("/api/v1/templates").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().into(),
                t["language"].as_str().unwrap().into(),
            )
        })
        .collect();
    let pair = |n: &str, l: &str| (n.to_string(), l.to_string());
    assert_eq!(
        listed,
        vec![
            pair("mot_due", "en_GB"),
            pair("mot_reminder", "en"),
            pair("vehicle_ready", "en_GB")
        ]
    );

    let path = format!("/api/v1/templates/{id}");
    assert_eq!(manager.delete(&path).await.0, 204);
    assert_eq!(manager.delete(&path).await.0, 404);
    let (status, _) = manager
        .put(
            &path,
            json!({ "name": "gone", "language": "en", "body": "x" }),
        )
        .await;
    assert_eq!(status, 404);
    // After a delete its name and language are free again.
    let (status, _) = manager
        .post(
            "/api/v1/templates",
            json!({ "name": "mot_due", "language": "en_GB", "body": "Back" }),
        )
        .await;
    assert_eq!(status, 201);

    let manager_id = crate::support::user::MANAGER.to_string();
    for (action, name) in [
        ("template.created", "mot_reminder"),
        ("template.updated", "mot_due"),
        ("template.deleted", "mot_due"),
    ] {
        assert_eq!(
            template_audit(&s, id, action).await,
            (
                manager_id.clone(),
                json!({ "name": name, "language": "en_GB" })
            ),
            "{action}"
        );
    }
}

#[tokio::test]
async fn set1_template_fields_are_checked_with_clear_messages() {
    let s = Server::start().await;
    let manager = s.login("manager@fixture.test").await;
    let id = manager.ok("/api/v1/templates").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let cases = [
        (
            json!({ "name": "  ", "language": "en", "body": "x" }),
            "a template needs a name",
        ),
        (
            json!({ "name": "Vehicle-Ready", "language": "en", "body": "x" }),
            "a template name uses only lowercase letters, digits and underscores",
        ),
        (
            json!({ "name": "a".repeat(513), "language": "en", "body": "x" }),
            "a template name is at most 512 characters",
        ),
        (
            json!({ "name": "t", "language": " ", "body": "x" }),
            "a template needs a language",
        ),
        (
            json!({ "name": "t", "language": "english", "body": "x" }),
            r#"the language must be a code like "en" or "en_GB""#,
        ),
        (
            json!({ "name": "t", "language": "en", "body": " \n" }),
            "a template needs a text",
        ),
        (
            json!({ "name": "t", "language": "en", "body": "x".repeat(1025) }),
            "the text is 1025 characters; a template allows at most 1024",
        ),
    ];
    for (body, message) in cases {
        for (method, path) in [
            (reqwest::Method::POST, "/api/v1/templates".to_string()),
            (reqwest::Method::PUT, format!("/api/v1/templates/{id}")),
        ] {
            let (status, res) = manager
                .send(method.clone(), &path, Some(body.clone()))
                .await;
            assert_eq!(status, 422, "{method} {body}");
            assert_eq!(res["error"]["message"], message, "{method} {body}");
        }
    }
    let (status, _) = manager
        .post(
            "/api/v1/templates",
            json!({ "name": "t", "language": "en" }),
        )
        .await;
    assert_eq!(status, 422, "a missing field");
    let (status, ok) = manager
        .post(
            "/api/v1/templates",
            json!({ "name": "a".repeat(512), "language": "en", "body": "x".repeat(1024) }),
        )
        .await;
    assert_eq!(status, 201, "the limits themselves are allowed: {ok}");
    assert_eq!(
        manager.ok("/api/v1/templates").await["items"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "nothing refused was stored"
    );
}

#[tokio::test]
async fn set1_only_approvers_administer_templates() {
    let s = Server::start().await;
    let manager = s.login("manager@fixture.test").await;
    let id = manager.ok("/api/v1/templates").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let body = json!({ "name": "vehicle_ready", "language": "en_GB", "body": "Changed" });
    for email in ["frontdesk@fixture.test", "viewer@fixture.test"] {
        let c = s.login(email).await;
        let path = format!("/api/v1/templates/{id}");
        for (status, res) in [
            c.post(
                "/api/v1/templates",
                json!({ "name": "x", "language": "en", "body": "x" }),
            )
            .await,
            c.put(&path, body.clone()).await,
            c.delete(&path).await,
        ] {
            assert_eq!(status, 403, "{email}: {res}");
            assert_eq!(res["error"]["code"], "forbidden");
        }
    }
    let t = manager.ok("/api/v1/templates").await;
    assert_eq!(t["items"].as_array().unwrap().len(), 1);
    assert_eq!(t["items"][0]["body"], "Hi {{1}}, your vehicle is ready.");
}

#[tokio::test]
async fn set1_template_changes_reach_every_desktop_of_the_organisation() {
    let s = Server::start().await;
    let manager = s.login("manager@fixture.test").await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let other = s.login("frontdesk@other.test").await;
    let mut ws = frontdesk.sync(1).await.unwrap();
    assert_eq!(frame(&mut ws).await["type"], "hello");
    assert_eq!(frame(&mut ws).await["type"], "caught_up");
    let mut elsewhere = other.sync(1).await.unwrap();
    assert_eq!(frame(&mut elsewhere).await["type"], "hello");
    assert_eq!(frame(&mut elsewhere).await["type"], "caught_up");

    let (_, created) = manager
        .post(
            "/api/v1/templates",
            json!({ "name": "booked_in", "language": "en_GB", "body": "See you on {{1}}" }),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    let (_, updated) = manager
        .put(
            &format!("/api/v1/templates/{id}"),
            json!({ "name": "booked_in", "language": "en_GB", "body": "See you on {{1}} at {{2}}" }),
        )
        .await;
    // A refused change appends nothing.
    let (status, _) = manager
        .post(
            "/api/v1/templates",
            json!({ "name": "booked_in", "language": "en_GB", "body": "dup" }),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        manager.delete(&format!("/api/v1/templates/{id}")).await.0,
        204
    );

    let expected = [
        json!({ "seq": 2, "type": "template", "data": created }),
        json!({ "seq": 3, "type": "template", "data": updated }),
        json!({ "seq": 4, "type": "template_deleted", "data": { "id": id } }),
    ];
    for want in expected {
        let mut got = frame(&mut ws).await;
        got.as_object_mut().unwrap().remove("at");
        assert_eq!(got, want);
    }
    assert_eq!(updated["param_count"], 2);
    assert!(
        matches!(
            seen(&mut elsewhere, Duration::from_millis(500)).await,
            None | Some(Seen::Ping)
        ),
        "another organisation hears nothing"
    );
}
