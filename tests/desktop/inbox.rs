//! Sign-in, the list, the thread, real time, offline and notifications, in the real window.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::support::{
    eventually, server_counts, signed_in, wait_badges, App, NotificationWatch, Stack, WAIT,
};

const DESK: &str = "frontdesk@demo.test";

fn activity(c: &Value) -> DateTime<Utc> {
    c["last_activity_at"].as_str().unwrap().parse().unwrap()
}

/// ACC-3, NAV-1, LST-3 … LST-6, LST-2, THR-1, THR-3, THR-7: sign in; the badges match the
/// server's counts per range and filter; search finds a thread outside the range; opening an
/// unread thread marks it read.
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_counts_search_and_open_a_thread() {
    let stack = Stack::start().await;
    let token = stack.token(DESK).await;
    let app = signed_in(&stack, "inbox", DESK).await;
    assert_eq!(
        app.text("#subtitle").await.as_deref(),
        Some("Customer conversations")
    );
    app.wait_text("#showing", "names the default range", |t| {
        t == "Showing: Last 30 days"
    })
    .await;
    assert!(app.visible("#default-range-banner").await, "LST-6 banner");
    wait_badges(&app, &server_counts(&stack, &token, "last_30_days").await).await;
    app.screenshots("last-30-days").await;

    // LST-6: the banner, once dismissed, stays away.
    app.click("#dismiss-banner").await;
    app.wait_gone("#default-range-banner").await;

    // LST-3, LST-7: another range refetches, shows its counts and lands in the URL.
    app.click("button[data-range=\"all_time\"]").await;
    app.wait_text("#showing", "says All time", |t| t == "Showing: All time")
        .await;
    wait_badges(&app, &server_counts(&stack, &token, "all_time").await).await;
    assert!(
        app.url().await.contains("range=all_time"),
        "{}",
        app.url().await
    );
    app.click("button[data-filter=\"unread\"]").await;
    eventually("the filter in the URL", WAIT, || async {
        app.url().await.contains("filter=unread").then_some(())
    })
    .await;
    app.click("button[data-filter=\"all\"]").await;
    app.click("button[data-range=\"last_30_days\"]").await;

    // LST-2: search ignores the range and finds an old thread.
    let month_ago = Utc::now() - chrono::Duration::days(35);
    let all = stack.conversations(&token).await;
    let old = all
        .iter()
        .find(|c| activity(c) < month_ago && !c["customer_id"].is_null())
        .expect("the demo garage has threads older than a month");
    let old_id = old["id"].as_i64().unwrap();
    let name = old["title"].as_str().unwrap();
    app.fill("#search", name).await;
    eventually("the old thread in the search results", WAIT, || async {
        app.row_ids().await.contains(&old_id).then_some(())
    })
    .await;
    app.screenshots("search").await;
    app.fill("#search", "").await;
    app.client
        .find(fantoccini::Locator::Css("#search"))
        .await
        .unwrap()
        .send_keys("\u{e00c}") // Escape clears the search
        .await
        .unwrap();

    // THR-1, THR-3, THR-7: opening an unread thread marks it read; the badge drops.
    let unread_before = app.count_badge("unread").await;
    assert!(unread_before > 0, "the demo has unread conversations");
    // An unread message (not a missed call: calls stay unread until resolved, VOI-7).
    let first_page = stack.get(&token, "/conversations?range=last_30_days").await;
    let id = first_page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["unread_count"].as_u64() > Some(0) && c["unresolved_calls"] == 0)
        .expect("an unread message in the first page")["id"]
        .as_i64()
        .unwrap();
    app.click(&format!(
        ".conversation-row.unread[data-conversation-id=\"{id}\"]"
    ))
    .await;
    app.wait(&format!("#thread[data-conversation-id=\"{id}\"]"))
        .await;
    assert!(app.url().await.contains(&format!("conversation={id}")));
    eventually("the Unread badge to drop by one", WAIT, || async {
        (app.count_badge("unread").await == unread_before - 1).then_some(())
    })
    .await;
    let detail = stack.get(&token, &format!("/conversations/{id}")).await;
    assert_eq!(detail["unread_count"], 0, "read on the server too");
    assert!(app.count(".bubble, .call-card, .note").await > 0);
    app.screenshots("thread").await;
    app.quit().await;
}

/// RT-1, LST-12, THR-4, DSK-4: an inbound SMS bubbles its row to the top with a highlight and
/// raises a native notification; a reply's status pill moves to delivered live.
#[tokio::test(flavor = "multi_thread")]
async fn live_inbound_message_status_pill_and_notification() {
    let stack = Stack::start().await;
    let token = stack.token(DESK).await;
    let watch = NotificationWatch::start().await;
    let app = signed_in(&stack, "live", DESK).await;
    app.click("button[data-range=\"all_time\"]").await;
    app.wait(".conversation-row").await;
    app.wait("#connection[data-state=\"live\"]").await;

    // Open an SMS thread (to watch a reply's pill), the newest one on SMS.
    let all = stack.conversations(&token).await;
    let open = all
        .iter()
        .find(|c| c["last_channel"] == "sms" && !c["customer_id"].is_null())
        .unwrap();
    let open_id = open["id"].as_i64().unwrap();
    app.fill("#search", open["title"].as_str().unwrap()).await;
    app.click(&format!(
        ".conversation-row[data-conversation-id=\"{open_id}\"]"
    ))
    .await;
    app.wait(&format!("#thread[data-conversation-id=\"{open_id}\"]"))
        .await;
    app.fill("#search", "").await;
    // The pointer off the list, which holds still under it (LST-13), to read the thread.
    app.hover("#thread .thread-log").await;

    // A customer further down the list texts in.
    let ids = app.row_ids().await;
    let texter = all
        .iter()
        .filter(|c| !c["customer_id"].is_null() && c["id"].as_i64() != Some(open_id))
        .find(|c| {
            ids.iter()
                .position(|i| Some(*i) == c["id"].as_i64())
                .unwrap_or(99)
                > 3
        })
        .unwrap();
    let texter_id = texter["id"].as_i64().unwrap();
    let detail = stack
        .get(&token, &format!("/conversations/{texter_id}"))
        .await;
    let phone = detail["customer"]["phones"][0]
        .as_str()
        .unwrap()
        .to_string();
    let sent = Instant::now();
    stack
        .inbound_sms(&phone, "Hi, is the Golf ready to collect? (e2e)")
        .await;
    eventually("the texter's row at the top", WAIT, || async {
        (app.row_ids().await.first() == Some(&texter_id)).then_some(())
    })
    .await;
    let on_screen = sent.elapsed();
    eprintln!("webhook → row on top: {on_screen:?}");
    let top = format!(".conversation-row[data-conversation-id=\"{texter_id}\"]");
    assert!(
        app.attr(&top, "class")
            .await
            .unwrap_or_default()
            .contains("highlight"),
        "LST-12: the bubbled row is highlighted"
    );
    assert!(app
        .text(&format!("{top} .row-preview"))
        .await
        .unwrap_or_default()
        .contains("is the Golf ready"));
    app.screenshots("bubbled").await;

    // DSK-4: the notification reached the notification server.
    let title = texter["title"].as_str().unwrap().to_string();
    eventually("a Notify call for the inbound message", WAIT, || async {
        (watch.notifications_mentioning(&title) > 0).then_some(())
    })
    .await;

    // THR-4: a reply (sent from another desk) shows in the open thread and its pill goes from
    // sent to delivered as the provider's receipts arrive.
    let reply = stack
        .post(
            &token,
            &format!("/conversations/{open_id}/messages"),
            json!({"client_id": "e2e-status-pill", "body": "Yes, ready from 4pm.", "channel": "sms"}),
        )
        .await;
    let pill = format!(
        ".bubble[data-message-id=\"{}\"] .status-pill",
        reply["id"].as_i64().unwrap()
    );
    let first = eventually("the reply in the open thread", WAIT, || async {
        app.attr(&pill, "data-status").await
    })
    .await;
    eventually("the pill to read delivered", WAIT, || async {
        (app.attr(&pill, "data-status").await.as_deref() == Some("delivered")).then_some(())
    })
    .await;
    eprintln!("status pill: {first} → delivered");
    app.screenshots("delivered").await;
    app.quit().await;
}

/// RT-2, DSK-2: with the server gone the amber banner shows and cached threads still read; the
/// app starts again from its cache and keychain with the server down; back live on restart.
#[tokio::test(flavor = "multi_thread")]
async fn offline_banner_cached_reading_cold_start_and_back_live() {
    let mut stack = Stack::start().await;
    let app = signed_in(&stack, "offline", DESK).await;
    app.wait("#connection[data-state=\"live\"]").await;
    // Live before the first sync's rows show: wait for them rather than read them once.
    let ids = eventually("two rows in the list", WAIT, || async {
        let ids = app.row_ids().await;
        (ids.len() >= 2).then_some(ids)
    })
    .await;
    for id in &ids[..2] {
        app.click(&format!(".conversation-row[data-conversation-id=\"{id}\"]"))
            .await;
        app.wait(&format!("#thread[data-conversation-id=\"{id}\"]"))
            .await;
        app.wait("#thread .bubble, #thread .call-card, #thread .note")
            .await;
    }

    stack.kill_server();
    let banner = app
        .wait_text("#paused-banner", "shows RT-2's words", |t| {
            t.contains(
                "Real-time updates paused — refresh the page to reload the latest conversations",
            )
        })
        .await;
    assert!(!banner.is_empty());
    assert!(app.visible("#offline-indicator").await);
    assert!(app.visible("#refresh").await);
    app.click(&format!(
        ".conversation-row[data-conversation-id=\"{}\"]",
        ids[0]
    ))
    .await;
    app.wait(&format!("#thread[data-conversation-id=\"{}\"] .bubble, #thread[data-conversation-id=\"{}\"] .call-card", ids[0], ids[0]))
        .await;
    app.screenshots("paused").await;

    // DSK-2: a cold start with the server down opens from the cache, signed in.
    let dir = app.data_dir.clone();
    app.quit().await;
    let app = App::launch(&dir, "offline-cold").await;
    app.wait_text("h1", "reads Messages", |t| t == "Messages")
        .await;
    eventually("the cached rows", WAIT, || async {
        (app.row_ids().await.len() >= 2).then_some(())
    })
    .await;
    app.wait("#offline-indicator").await;
    app.click(&format!(
        ".conversation-row[data-conversation-id=\"{}\"]",
        ids[1]
    ))
    .await;
    app.wait("#thread .bubble, #thread .call-card, #thread .note")
        .await;
    app.screenshot("cold-start-offline").await;

    // Back live once the server returns (RT-1 resumes; the banner goes).
    stack.start_server().await;
    if app.visible("#refresh").await {
        app.click("#refresh").await;
    }
    app.wait("#connection[data-state=\"live\"]").await;
    app.wait_gone("#paused-banner").await;
    app.wait_gone("#offline-indicator").await;
    app.quit().await;
}

/// DSK-2, RT-1: a text that came in while the app was closed tops the list after a cold start:
/// the list is read from the cache while the catch-up that brings the text may still be under
/// way, and the catch-up must still reach the list.
#[tokio::test(flavor = "multi_thread")]
async fn a_text_sent_while_the_app_was_closed_tops_the_list_after_a_cold_start() {
    let stack = Stack::start().await;
    let app = signed_in(&stack, "closed", DESK).await;
    app.wait("#connection[data-state=\"live\"]").await;
    app.wait(".conversation-row").await;
    let dir = app.data_dir.clone();
    app.quit().await;

    let body = "Is the Corsa ready to collect? I can come at five.";
    stack.inbound_sms("+447700900877", body).await;
    let app = App::launch(&dir, "closed-cold").await;
    app.wait_text(".conversation-row .row-preview", "is the new text", |t| {
        t.contains("Corsa ready to collect")
    })
    .await;
    app.wait("#connection[data-state=\"live\"]").await;
    app.screenshot("cold-start-catch-up").await;
    app.quit().await;
}

/// THR-1, LST-1: below 1024 px the list or the thread fills the window, with "Back to
/// conversations"; keyboard: j/k move, Enter opens, Esc goes back.
#[tokio::test(flavor = "multi_thread")]
async fn narrow_window_list_or_thread_and_keyboard() {
    let stack = Stack::start().await;
    let app = signed_in(&stack, "narrow", DESK).await;
    app.wait(".conversation-row").await;
    app.set_width(800).await;
    assert!(app.visible(".conversation-row").await);
    let first = app.row_ids().await[0];
    app.click(&format!(
        ".conversation-row[data-conversation-id=\"{first}\"]"
    ))
    .await;
    app.wait(&format!("#thread[data-conversation-id=\"{first}\"]"))
        .await;
    assert!(app.visible("#back-to-conversations").await);
    assert!(
        !app.visible(".conversation-row").await,
        "the thread fills the window"
    );
    app.screenshot("thread-800").await;
    app.click("#back-to-conversations").await;
    app.wait_gone("#thread").await;
    assert!(app.visible(".conversation-row").await);
    app.screenshot("list-800").await;

    // Keyboard at desktop width: j moves down, Enter opens, Esc closes on narrow.
    app.set_width(1440).await;
    let body = app
        .client
        .find(fantoccini::Locator::Css("body"))
        .await
        .unwrap();
    body.send_keys("j").await.unwrap();
    body.send_keys("j").await.unwrap();
    body.send_keys("\u{e007}").await.unwrap(); // Enter
    let ids = app.row_ids().await;
    eventually("Enter to open the second row", WAIT, || async {
        app.url()
            .await
            .contains(&format!("conversation={}", ids[1]))
            .then_some(())
    })
    .await;
    app.quit().await;
}

/// ACC-1, NAV-2, ACC-3: no messages.view → the dashboard; the Approval Queue tab only for
/// approvers; sign-out forgets the session (a relaunch asks to sign in again).
#[tokio::test(flavor = "multi_thread")]
async fn capabilities_shape_the_app_and_sign_out_forgets_the_session() {
    let stack = Stack::start().await;
    let app = App::launch(&stack.data_dir("mechanic"), "mechanic").await;
    app.sign_in(&stack.url, "mechanic@demo.test").await;
    app.wait("#dashboard").await;
    assert!(app.url().await.contains("dashboard"));
    app.screenshot("dashboard").await;
    app.quit().await;

    let app = signed_in(&stack, "manager", "manager@demo.test").await;
    app.wait("#tab-approvals").await;
    app.quit().await;

    let app = signed_in(&stack, "desk", DESK).await;
    app.wait("#tab-inbox").await;
    assert_eq!(app.count("#tab-approvals").await, 0);
    let dir = app.data_dir.clone();
    app.click("#sign-out").await;
    app.wait("#sign-in").await;
    app.quit().await;
    let cache_left = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("session"))
        .count();
    assert_eq!(cache_left, 0, "the session file is gone");
    let app = App::launch(&dir, "signed-out").await;
    app.wait("#sign-in").await;
    app.quit().await;
}

/// Login errors are sentences (ACC-3): a wrong password and an unreachable server.
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_errors_are_clear() {
    let stack = Stack::start().await;
    let app = App::launch(&stack.data_dir("errors"), "login-errors").await;
    app.wait("#sign-in").await;
    app.fill("#server", &stack.url).await;
    app.fill("#email", DESK).await;
    app.fill("#password", "wrong-password").await;
    app.click("#sign-in").await;
    app.wait_text("#login-error", "explains the refusal", |t| {
        t.contains("do not match")
    })
    .await;
    app.screenshot("wrong-password").await;
    app.fill("#server", "http://127.0.0.1:9").await;
    app.fill("#password", "demo-password").await;
    app.click("#sign-in").await;
    app.wait_text("#login-error", "says the server is unreachable", |t| {
        t.contains("cannot be reached")
    })
    .await;
    app.quit().await;
}
