//! The AI switch and message intents (issue 16, AIA-1): the switch is read by anyone and changed
//! only with `settings.ai.manage`, audited; inbound messages carry the classifier's intent only
//! while AI is on; a staff member's correction is kept, audited and sent to every desktop.

use serde_json::{json, Value};

use crate::support::{conv::*, *};
use crate::webhooks::{sid, sms, twilio};

/// The thread item with this body.
async fn item(c: &Client, conversation: i64, body: &str) -> Value {
    c.thread_items(conversation)
        .await
        .into_iter()
        .find(|i| i["body"] == body)
        .unwrap_or_else(|| panic!("no item {body:?}"))
}

/// Alice texts the garage (a signed Twilio webhook, accepted).
pub(crate) async fn alice_texts(s: &Server, n: u64, body: &str) {
    let (status, text) = twilio(
        s,
        "/webhooks/twilio/sms",
        &sms(&sid("SM", n), ALICE_PHONE, body),
        Some(TWILIO_TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{text}");
}

async fn switch(c: &Client, enabled: bool) -> (u16, Value) {
    let (status, body) = c
        .put("/api/v1/settings/ai", json!({ "enabled": enabled }))
        .await;
    (status.as_u16(), body)
}

#[tokio::test]
async fn aia1_the_switch_is_read_by_anyone_and_turned_only_by_settings_ai_manage() {
    let s = Server::start().await;
    let mechanic = s.login("mechanic@fixture.test").await;
    assert_eq!(
        mechanic.ok("/api/v1/settings/ai").await,
        json!({ "enabled": false })
    );
    let (status, _) = s.anonymous().get("/api/v1/settings/ai").await;
    assert_eq!(status, 401);

    // Not even a manager may turn it on: only the Owner role holds the capability.
    let manager = s.login("manager@fixture.test").await;
    let (status, body) = switch(&manager, true).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("settings.ai.manage"));

    // Open desktops follow at once: the switch is an event of the organisation's log.
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let head = frontdesk.ok("/api/v1/sync/snapshot").await["seq"]
        .as_i64()
        .unwrap();
    let mut ws = frontdesk.sync(head).await.unwrap();
    assert_eq!(frame(&mut ws).await["type"], "hello");
    assert_eq!(frame(&mut ws).await["type"], "caught_up");

    let owner = s.login("owner@fixture.test").await;
    assert_eq!(
        switch(&owner, true).await,
        (200, json!({ "enabled": true }))
    );
    let event = frame(&mut ws).await;
    assert_eq!(event["type"], "organisation", "{event}");
    assert_eq!(event["data"]["ai_enabled"], true, "{event}");
    assert_eq!(event["data"]["name"], "Fixture Garage", "{event}");
    // Saved as it is, it changes nothing: no event (no desktop rebuilds its cache for it).
    assert_eq!(
        switch(&owner, true).await,
        (200, json!({ "enabled": true }))
    );
    let quiet = tokio::time::Instant::now() + std::time::Duration::from_millis(800);
    while let Some(left) = quiet.checked_duration_since(tokio::time::Instant::now()) {
        if let Some(Seen::Frame(f)) = seen(&mut ws, left).await {
            panic!("an unchanged switch sent {f}");
        }
    }
    assert_eq!(
        mechanic.ok("/api/v1/settings/ai").await,
        json!({ "enabled": true })
    );
    assert_eq!(
        mechanic.ok("/api/v1/me").await["organisation"]["ai_enabled"],
        true
    );
    // The other garage's switch is its own.
    let other = s.login("frontdesk@other.test").await;
    assert_eq!(
        other.ok("/api/v1/settings/ai").await,
        json!({ "enabled": false })
    );

    assert_eq!(
        switch(&owner, false).await,
        (200, json!({ "enabled": false }))
    );
    let (status, body) = owner
        .put("/api/v1/settings/ai", json!({ "enabled": "yes" }))
        .await;
    assert_eq!(status, 422, "{body}");

    // Every change is in the audit log, with who made it.
    let (entries, _) = s
        .db
        .two_texts("SELECT CAST(COUNT(*) AS TEXT), 'x' FROM audit_log WHERE action = 'settings.ai'")
        .await;
    assert_eq!(entries, "2", "on and off, not the unchanged save");
    let (last, by) =
        s.db.two_texts(
            "SELECT detail, CAST(user_id AS TEXT) FROM audit_log
             WHERE action = 'settings.ai' ORDER BY id DESC LIMIT 1",
        )
        .await;
    assert_eq!(last, r#"{"enabled":false}"#);
    assert_eq!(by, user::OWNER.to_string());
}

#[tokio::test]
async fn aia1_inbound_messages_carry_their_intent_only_while_ai_is_on() {
    let s = Server::start().await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let owner = s.login("owner@fixture.test").await;
    let ask = "hi is my car ready yet? been waiting all day";
    alice_texts(&s, 1601, ask).await;

    // Off (the default): nothing about intents leaves the server.
    assert!(item(&frontdesk, ALICE, ask).await["intent"].is_null());

    switch(&owner, true).await;
    let m = item(&frontdesk, ALICE, ask).await;
    assert_eq!(m["intent"]["label"], "status_inquiry", "{m}");
    let confidence = m["intent"]["confidence"].as_f64().unwrap();
    assert!((0.3..=1.0).contains(&confidence), "{m}");
    assert_eq!(m["intent"]["corrected"], false);

    // A reply is outbound: no intent.
    let (status, reply) = frontdesk
        .post(
            &format!("/api/v1/conversations/{ALICE}/messages"),
            json!({ "client_id": "aia1-reply", "body": "Yes, ready from 4pm" }),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    assert!(reply["intent"].is_null());
    assert!(item(&frontdesk, ALICE, "Yes, ready from 4pm").await["intent"].is_null());

    // An obvious scam is labelled spam.
    let spam = "URGENT: your parcel is held, pay the fee at http://bit.ly/x to release it";
    alice_texts(&s, 1602, spam).await;
    assert_eq!(
        item(&frontdesk, ALICE, spam).await["intent"]["label"],
        "spam"
    );

    switch(&owner, false).await;
    assert!(item(&frontdesk, ALICE, ask).await["intent"].is_null());
}

#[tokio::test]
async fn aia1_a_correction_is_kept_audited_and_sent_to_every_desktop() {
    let s = Server::start().await;
    let owner = s.login("owner@fixture.test").await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let text = "can i bring it in thursday morning for the mot";
    alice_texts(&s, 1701, text).await;
    let id = item(&frontdesk, ALICE, text).await["id"].as_i64().unwrap();
    let path = format!("/api/v1/messages/{id}/intent");

    // While AI is off there is nothing to correct.
    let (status, body) = frontdesk
        .put(&path, json!({ "label": "quote_question" }))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("AI is off"));
    switch(&owner, true).await;
    assert_eq!(
        item(&frontdesk, ALICE, text).await["intent"]["label"],
        "booking_request"
    );

    let head = frontdesk.ok("/api/v1/sync/snapshot").await["seq"]
        .as_i64()
        .unwrap();
    let mut ws = frontdesk.sync(head).await.unwrap();
    assert_eq!(frame(&mut ws).await["type"], "hello");
    assert_eq!(frame(&mut ws).await["type"], "caught_up");

    let (status, m) = frontdesk
        .put(&path, json!({ "label": "quote_question" }))
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(
        m["intent"],
        json!({ "label": "quote_question", "confidence": 1.0, "corrected": true })
    );
    assert_eq!(
        item(&frontdesk, ALICE, text).await["intent"]["label"],
        "quote_question"
    );
    let event = frame(&mut ws).await;
    assert_eq!(
        (event["type"].as_str(), event["data"]["id"].as_i64()),
        (Some("message"), Some(id))
    );
    assert_eq!(event["data"]["intent"]["label"], "quote_question");
    assert_eq!(
        event["data"]["updated_at"], event["data"]["created_at"],
        "a correction is not activity: the conversation keeps its place in every list"
    );

    let (detail, by) =
        s.db.two_texts(
            "SELECT detail, CAST(user_id AS TEXT) FROM audit_log
             WHERE action = 'message.intent_corrected' ORDER BY id DESC LIMIT 1",
        )
        .await;
    assert_eq!(
        detail,
        r#"{"from":"booking_request","to":"quote_question"}"#
    );
    assert_eq!(by, user::FRONTDESK.to_string());

    // Bad input: an unknown label, a reply, a viewer, another garage's message, no message.
    let (status, body) = frontdesk.put(&path, json!({ "label": "complaint" })).await;
    assert_eq!(status, 422, "{body}");
    let (_, reply) = frontdesk
        .post(
            &format!("/api/v1/conversations/{ALICE}/messages"),
            json!({ "client_id": "aia1-correct", "body": "Thursday 9am is free" }),
        )
        .await;
    let (status, _) = frontdesk
        .put(
            &format!("/api/v1/messages/{}/intent", reply["id"]),
            json!({ "label": "spam" }),
        )
        .await;
    assert_eq!(status, 404, "a reply has no intent to correct");
    let viewer = s.login("viewer@fixture.test").await;
    let (status, _) = viewer.put(&path, json!({ "label": "spam" })).await;
    assert_eq!(status, 403);
    let other = s.login("frontdesk@other.test").await;
    let (status, _) = other.put(&path, json!({ "label": "spam" })).await;
    assert_eq!(status, 403, "the other garage has AI off");
    let other_owner_view = other
        .ok(&format!("/api/v1/conversations/{OTHER}/messages"))
        .await;
    let foreign = other_owner_view["items"][0]["id"].as_i64().unwrap();
    let (status, _) = frontdesk
        .put(
            &format!("/api/v1/messages/{foreign}/intent"),
            json!({ "label": "spam" }),
        )
        .await;
    assert_eq!(status, 404, "another organisation's message is not found");
    let (status, _) = frontdesk
        .put("/api/v1/messages/999999/intent", json!({ "label": "spam" }))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        item(&frontdesk, ALICE, text).await["intent"]["label"],
        "quote_question"
    );
}

/// The upgrade that brings the Owner role (issue 16, SET-1): every organisation gets one, held by
/// its earliest active user with `messages.approve`, or else its earliest user, so an upgraded
/// garage always has someone who can turn AI on. An Owner already there is left as it is.
#[tokio::test]
async fn set1_an_upgraded_database_gives_every_organisation_an_owner() {
    let db = TestDb::new().await;
    // The schema as the release before intents left it.
    if postgres() {
        inbox_server::store::postgres::scratch::migrate_to(&db.url, 5)
            .await
            .unwrap();
    } else {
        let mut conn = rusqlite::Connection::open(db.url.trim_start_matches("sqlite://")).unwrap();
        inbox_server::store::sqlite::migrate_to(&mut conn, 9).unwrap();
    }
    let mut sql = String::new();
    for org in ["Approvers", "No approver", "Has an owner", "Disabled owner"] {
        sql += &format!(
            "INSERT INTO organisations (name, time_zone, ai_enabled, created_at)
             VALUES ('{org}', 'Europe/London', false, 1);"
        );
    }
    let roles: &[(&str, &str, &[&str])] = &[
        (
            "Approvers",
            "Front desk",
            &["messages.view", "messages.send"],
        ),
        (
            "Approvers",
            "Manager",
            &["messages.view", "messages.send", "messages.approve"],
        ),
        (
            "No approver",
            "Front desk",
            &["messages.view", "messages.send"],
        ),
        (
            "Has an owner",
            "Owner",
            &["messages.view", "messages.send", "messages.approve"],
        ),
        (
            "Has an owner",
            "Manager",
            &["messages.view", "messages.approve"],
        ),
        ("Disabled owner", "Owner", &["messages.view"]),
        (
            "Disabled owner",
            "Manager",
            &["messages.view", "messages.approve"],
        ),
    ];
    for (org, role, caps) in roles {
        sql += &format!(
            "INSERT INTO roles (org_id, name) SELECT id, '{role}' FROM organisations WHERE name = '{org}';"
        );
        for cap in *caps {
            sql += &format!(
                "INSERT INTO role_capabilities (role_id, capability)
                 SELECT r.id, '{cap}' FROM roles r JOIN organisations o ON o.id = r.org_id
                 WHERE o.name = '{org}' AND r.name = '{role}';"
            );
        }
    }
    // (email, organisation, role, active, created_at)
    let users: &[(&str, &str, &str, bool, i64)] = &[
        ("desk@a.test", "Approvers", "Front desk", true, 10),
        ("gone@a.test", "Approvers", "Manager", false, 11),
        ("boss@a.test", "Approvers", "Manager", true, 12),
        ("late@a.test", "Approvers", "Manager", true, 13),
        ("second@b.test", "No approver", "Front desk", true, 21),
        ("first@b.test", "No approver", "Front desk", true, 20),
        ("owner@c.test", "Has an owner", "Owner", true, 31),
        ("manager@c.test", "Has an owner", "Manager", true, 30),
        ("left@d.test", "Disabled owner", "Owner", false, 40),
        ("manager@d.test", "Disabled owner", "Manager", true, 41),
    ];
    for (email, org, role, active, at) in users {
        sql += &format!(
            "INSERT INTO users (org_id, role_id, email, name, password_hash, active, created_at)
             SELECT o.id, r.id, '{email}', '{email}', 'x', {active}, {at}
             FROM organisations o JOIN roles r ON r.org_id = o.id
             WHERE o.name = '{org}' AND r.name = '{role}';"
        );
    }
    db.execute(&sql).await;

    // The server opens the database and upgrades it. In "Has an owner" the "Manager" could not
    // send, unlike the system Manager: its holders keep exactly what they had, under
    // "Manager (custom)".
    let store = inbox_server::store::open(&db.url).await.unwrap();
    for (n, (email, role)) in [
        ("desk@a.test", "Front desk"),
        ("gone@a.test", "Manager"),
        ("boss@a.test", "Owner"),
        ("late@a.test", "Manager"),
        ("second@b.test", "Front desk"),
        ("first@b.test", "Owner"),
        ("owner@c.test", "Owner"),
        ("manager@c.test", "Manager (custom)"),
        ("left@d.test", "Owner"),
        ("manager@d.test", "Owner"),
    ]
    .into_iter()
    .enumerate()
    {
        let account = store.user_by_email(email).await.unwrap().unwrap();
        assert_eq!(account.role, role, "{email}");
        if !account.active {
            continue;
        }
        // What the user may do, as a session of theirs sees it.
        let token = [n as u8 + 1; 32];
        let later = now() + chrono::Duration::days(1);
        store
            .create_session(account.id, token, now(), later)
            .await
            .unwrap();
        let caps = store
            .session(token, now())
            .await
            .unwrap()
            .unwrap()
            .user
            .capabilities;
        assert_eq!(
            caps.has(inbox_core::Capability::SettingsAiManage),
            role == "Owner",
            "{email}: {caps:?}"
        );
    }
}

/// AIA-1: messages stored before intents were (an upgraded database) get theirs from the
/// background task the server runs at start; a message already classified or corrected keeps
/// its label.
#[tokio::test]
async fn aia1_messages_stored_before_intents_are_classified_at_start() {
    let s = Server::start().await;
    let owner = s.login("owner@fixture.test").await;
    switch(&owner, true).await;
    let ask = "any news on my car? is it ready";
    alice_texts(&s, 1801, ask).await;
    let id = item(&owner, ALICE, ask).await["id"].as_i64().unwrap();
    owner
        .put(
            &format!("/api/v1/messages/{id}/intent"),
            json!({ "label": "spam" }),
        )
        .await;
    // As an older server left them: no intent on any message but the corrected one.
    s.db.execute(&format!(
        "UPDATE messages SET intent = NULL, intent_confidence = NULL WHERE id <> {id}"
    ))
    .await;
    assert!(item(&owner, ALICE, "Is my car ready yet?").await["intent"].is_null());

    let classified = inbox_server::intent_backfill::run(std::sync::Arc::clone(&s.store))
        .await
        .unwrap();
    assert!(
        classified > 60,
        "every inbound message of both garages: {classified}"
    );
    assert_eq!(
        item(&owner, ALICE, "Is my car ready yet?").await["intent"]["label"],
        "status_inquiry"
    );
    let corrected = item(&owner, ALICE, ask).await;
    assert_eq!(corrected["intent"]["label"], "spam", "{corrected}");
    // Nothing is left to do, so later starts cost one query.
    let again = inbox_server::intent_backfill::run(std::sync::Arc::clone(&s.store))
        .await
        .unwrap();
    assert_eq!(again, 0);
}
