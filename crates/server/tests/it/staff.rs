//! Settings › Roles and Settings › Users (issue 16: SET-1, ACC-2): system roles are read-only,
//! custom roles start as a copy; staff are added with a one-time password, given roles,
//! disabled (their sessions end at once) and reset; the last Owner stays; every change is in
//! the audit log; a user whose role changes hears of it on their open socket.

use serde_json::{json, Value};

use crate::support::*;

async fn role_id(c: &Client, name: &str) -> i64 {
    c.ok("/api/v1/roles").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no role {name}"))["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn set1_system_roles_are_read_only_and_custom_roles_start_as_a_copy() {
    let s = Server::start().await;
    let owner = s.login("owner@fixture.test").await;
    let roles = owner.ok("/api/v1/roles").await;
    let items = roles["items"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        &names[..4],
        ["Owner", "Manager", "Service Advisor", "Technician"],
        "{names:?}"
    );
    assert!(items[..4].iter().all(|r| r["system"] == true));
    assert_eq!(
        items[0]["capabilities"].as_array().unwrap().len(),
        7,
        "all but send_gated"
    );
    assert_eq!(
        items[1]["capabilities"],
        json!([
            "messages.view",
            "messages.send",
            "messages.approve",
            "settings.templates.manage"
        ])
    );
    assert_eq!(items[3]["capabilities"], json!([]));
    // The fixture's own roles stay, as custom roles with their holders.
    let trainee = items.iter().find(|r| r["name"] == "Trainee").unwrap();
    assert_eq!(
        (trainee["system"].as_bool(), trainee["users"].as_i64()),
        (Some(false), Some(1))
    );

    let (status, _) = s
        .login("manager@fixture.test")
        .await
        .get("/api/v1/roles")
        .await;
    assert_eq!(status, 403);

    let advisor = role_id(&owner, "Service Advisor").await;
    let (status, body) = owner
        .put(&format!("/api/v1/roles/{advisor}"), json!({ "name": "X" }))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("system roles"));
    let (status, _) = owner.delete(&format!("/api/v1/roles/{advisor}")).await;
    assert_eq!(status, 409);

    let (status, role) = owner
        .post(
            "/api/v1/roles",
            json!({ "name": " Apprentice ", "copy_of": advisor }),
        )
        .await;
    assert_eq!(status, 201, "{role}");
    assert_eq!(role["name"], "Apprentice");
    assert_eq!(role["system"], false);
    assert_eq!(
        role["capabilities"],
        json!(["messages.view", "messages.send"])
    );
    let id = role["id"].as_i64().unwrap();
    for (body, want) in [
        (json!({ "name": "Apprentice", "copy_of": advisor }), 409),
        (json!({ "name": "   ", "copy_of": advisor }), 422),
        (json!({ "name": "x".repeat(61), "copy_of": advisor }), 422),
        (json!({ "name": "Ghost", "copy_of": 999_999 }), 404),
        (json!({ "name": "Ghost" }), 422),
    ] {
        let (status, res) = owner.post("/api/v1/roles", body.clone()).await;
        assert_eq!(status.as_u16(), want, "{body}: {res}");
    }
    let (status, role) = owner
        .put(
            &format!("/api/v1/roles/{id}"),
            json!({ "name": "Junior", "capabilities": ["messages.view"] }),
        )
        .await;
    assert_eq!(status, 200, "{role}");
    assert_eq!(
        (role["name"].as_str(), role["capabilities"].clone()),
        (Some("Junior"), json!(["messages.view"]))
    );
    let (status, _) = owner
        .put(
            &format!("/api/v1/roles/{id}"),
            json!({ "capabilities": ["messages.delete"] }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(owner.delete(&format!("/api/v1/roles/{id}")).await.0, 204);
    assert_eq!(owner.delete(&format!("/api/v1/roles/{id}")).await.0, 404);

    // Another organisation's roles are not there to copy or change.
    let other = s.login("frontdesk@other.test").await;
    let theirs = role_id(&other, "Owner").await;
    let (status, _) = owner
        .post("/api/v1/roles", json!({ "name": "Spy", "copy_of": theirs }))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        owner.delete(&format!("/api/v1/roles/{theirs}")).await.0,
        404
    );
}

#[tokio::test]
async fn acc2_staff_are_added_given_roles_disabled_and_reset_and_every_change_is_audited() {
    let s = Server::start().await;
    let owner = s.login("owner@fixture.test").await;
    let advisor = role_id(&owner, "Service Advisor").await;
    let technician = role_id(&owner, "Technician").await;

    let (status, made) = owner
        .post(
            "/api/v1/users",
            json!({ "email": " Sam@Fixture.test ", "name": "Sam Spanner", "role_id": advisor }),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["user"]["email"], "sam@fixture.test");
    assert_eq!(made["user"]["role"], "Service Advisor");
    let password = made["password"].as_str().unwrap().to_string();
    assert!(password.len() >= 12);
    let sam_id = made["user"]["id"].as_i64().unwrap();
    for (body, want) in [
        (
            json!({ "email": "sam@fixture.test", "name": "Again", "role_id": advisor }),
            409,
        ),
        (
            json!({ "email": "not-an-email", "name": "X", "role_id": advisor }),
            422,
        ),
        (
            json!({ "email": "x@fixture.test", "name": "", "role_id": advisor }),
            422,
        ),
        (
            json!({ "email": "x@fixture.test", "name": "X", "role_id": 999_999 }),
            404,
        ),
    ] {
        let (status, res) = owner.post("/api/v1/users", body.clone()).await;
        assert_eq!(status.as_u16(), want, "{body}: {res}");
    }

    // Sam signs in with the one-time password and reads the inbox.
    let sam = s.login_with("sam@fixture.test", &password).await;
    assert_eq!(sam.get("/api/v1/conversations").await.0, 200);
    let head = sam.ok("/api/v1/sync/snapshot").await["seq"]
        .as_i64()
        .unwrap();
    let mut ws = sam.sync(head).await.unwrap();
    assert_eq!(frame(&mut ws).await["type"], "hello");
    assert_eq!(frame(&mut ws).await["type"], "caught_up");

    // Made a Technician: his open desktop hears at once, and the server enforces it.
    let (status, changed) = owner
        .put(
            &format!("/api/v1/users/{sam_id}"),
            json!({ "role_id": technician }),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["role"], "Technician");
    let event = frame(&mut ws).await;
    assert_eq!(event["type"], "access", "{event}");
    assert_eq!(event["data"]["user_ids"], json!([sam_id]));
    assert_eq!(sam.get("/api/v1/conversations").await.0, 403);
    // And his socket stops streaming conversations at the next check.
    let (_, code) = closed(&mut ws).await;
    assert_eq!(code, Some(inbox_core::sync::close_code::FORBIDDEN));
    assert_eq!(sam.ok("/api/v1/me").await["user"]["role"], "Technician");

    // Disabled: his session ends now, and he cannot sign in.
    let (status, _) = owner
        .put(
            &format!("/api/v1/users/{sam_id}"),
            json!({ "active": false }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(sam.get("/api/v1/me").await.0, 401);
    let (status, refused) = s
        .anonymous()
        .post(
            "/api/v1/auth/login",
            json!({ "email": "sam@fixture.test", "password": password }),
        )
        .await;
    assert_eq!(status, 403);
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("disabled"));
    let (status, _) = owner
        .put(
            &format!("/api/v1/users/{sam_id}"),
            json!({ "active": true }),
        )
        .await;
    assert_eq!(status, 200);
    let sam = s.login_with("sam@fixture.test", &password).await;

    // A reset password ends his sessions and is shown once.
    let (status, reset) = owner
        .post(&format!("/api/v1/users/{sam_id}/password"), json!({}))
        .await;
    assert_eq!(status, 200, "{reset}");
    assert_eq!(sam.get("/api/v1/me").await.0, 401);
    let fresh = reset["password"].as_str().unwrap();
    assert_ne!(fresh, password);
    s.login_with("sam@fixture.test", fresh).await;

    // The last Owner can be neither disabled nor demoted.
    let me = owner.ok("/api/v1/me").await["user"]["id"].as_i64().unwrap();
    for body in [json!({ "active": false }), json!({ "role_id": advisor })] {
        let (status, res) = owner
            .put(&format!("/api/v1/users/{me}"), body.clone())
            .await;
        assert_eq!(status, 409, "{body}: {res}");
        assert!(res["error"]["message"]
            .as_str()
            .unwrap()
            .contains("last active Owner"));
    }

    // Another organisation's users are out of reach.
    let other = s.login("frontdesk@other.test").await;
    let theirs: Vec<Value> = other.ok("/api/v1/users").await["items"]
        .as_array()
        .unwrap()
        .clone();
    assert!(theirs
        .iter()
        .all(|u| u["email"].as_str().unwrap().ends_with("@other.test")));
    let (status, _) = other
        .put(
            &format!("/api/v1/users/{sam_id}"),
            json!({ "active": false }),
        )
        .await;
    assert_eq!(status, 404);

    // Every change, in the audit log, newest first, with who made it.
    let audit = owner.ok("/api/v1/audit").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for want in [
        "user.created",
        "user.role_changed",
        "user.disabled",
        "user.enabled",
        "user.password_reset",
    ] {
        assert!(actions.contains(&want), "{want} missing from {actions:?}");
    }
    assert_eq!(audit["items"][0]["action"], "user.password_reset");
    assert_eq!(audit["items"][0]["by"], "Owner");
    let (status, _) = s
        .login("manager@fixture.test")
        .await
        .get("/api/v1/audit")
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn acc2_nobody_gives_or_takes_over_more_than_their_own_role_allows() {
    let s = Server::start().await;
    let owner = s.login("owner@fixture.test").await;
    let technician = role_id(&owner, "Technician").await;
    let owner_role = role_id(&owner, "Owner").await;
    let (_, role) = owner
        .post(
            "/api/v1/roles",
            json!({ "name": "User admin", "copy_of": technician }),
        )
        .await;
    let admin_role = role["id"].as_i64().unwrap();
    let (status, _) = owner
        .put(
            &format!("/api/v1/roles/{admin_role}"),
            json!({ "capabilities": ["settings.users.manage", "settings.roles.manage"] }),
        )
        .await;
    assert_eq!(status, 200);
    let (_, made) = owner
        .post(
            "/api/v1/users",
            json!({ "email": "ua@fixture.test", "name": "Una Admin", "role_id": admin_role }),
        )
        .await;
    let una_id = made["user"]["id"].as_i64().unwrap();
    let una = s
        .login_with("ua@fixture.test", made["password"].as_str().unwrap())
        .await;
    let me = owner.ok("/api/v1/me").await["user"]["id"].as_i64().unwrap();

    for (what, status) in [
        ("make herself Owner", una.put(&format!("/api/v1/users/{una_id}"), json!({ "role_id": owner_role })).await.0),
        ("add an Owner", una.post("/api/v1/users", json!({ "email": "x@fixture.test", "name": "X", "role_id": owner_role })).await.0),
        ("reset the Owner's password", una.post(&format!("/api/v1/users/{me}/password"), json!({})).await.0),
        ("disable the Owner", una.put(&format!("/api/v1/users/{me}"), json!({ "active": false })).await.0),
        ("copy the Owner role", una.post("/api/v1/roles", json!({ "name": "Mine", "copy_of": owner_role })).await.0),
        (
            "give her role the AI switch",
            una.put(&format!("/api/v1/roles/{admin_role}"), json!({ "capabilities": ["settings.users.manage", "settings.roles.manage", "settings.ai.manage"] })).await.0,
        ),
    ] {
        assert_eq!(status, 403, "she must not {what}");
    }
    // Within her own reach she works: a Technician added.
    let (status, _) = una
        .post(
            "/api/v1/users",
            json!({ "email": "tech@fixture.test", "name": "Tess", "role_id": technician }),
        )
        .await;
    assert_eq!(status, 201);
}

/// Settings › Users lists active staff first, then by name with case ignored and in byte order
/// (a space before a letter), on either database whatever its locale (issue 15: SQLite's
/// `NOCASE`; PostgreSQL sorted by its database's collation, which may skip spaces).
#[tokio::test]
async fn acc2_users_are_listed_by_name_case_ignored_in_byte_order() {
    let s = Server::start().await;
    let owner = s.login("owner@fixture.test").await;
    let advisor = role_id(&owner, "Service Advisor").await;
    let added = ["bea", "Anna", "ann smith", "Bob"];
    for name in added {
        let email = format!("{}@order.test", name.replace(' ', "."));
        let (status, made) = owner
            .post(
                "/api/v1/users",
                json!({ "email": email, "name": name, "role_id": advisor }),
            )
            .await;
        assert_eq!(status, 201, "{made}");
    }
    let users = owner.ok("/api/v1/users").await;
    let names: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["name"].as_str())
        .filter(|n| added.contains(n))
        .collect();
    assert_eq!(names, ["ann smith", "Anna", "bea", "Bob"]);
}
