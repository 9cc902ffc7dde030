//! Threads opened by a link (THR-2, THR-7): the header comes from the conversation itself, and
//! the thread is marked read only once someone is looking at it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::support::{eventually, signed_in, Stack, WAIT};

const DESK: &str = "frontdesk@demo.test";

fn activity(c: &Value) -> DateTime<Utc> {
    c["last_activity_at"].as_str().unwrap().parse().unwrap()
}

/// THR-2: a link to a WhatsApp conversation outside the range shown (so not on the loaded
/// page), opened right after sign-in, shows the customer's name, the channel badge and the
/// WhatsApp window in the thread's header.
#[tokio::test(flavor = "multi_thread")]
async fn a_thread_opened_by_link_has_its_header() {
    let stack = Stack::start().await;
    let token = stack.token(DESK).await;
    let month_ago = Utc::now() - chrono::Duration::days(35);
    let old = stack
        .conversations(&token)
        .await
        .into_iter()
        .find(|c| {
            c["last_channel"] == "whatsapp"
                && !c["customer_id"].is_null()
                && activity(c) < month_ago
        })
        .expect("the demo has old WhatsApp conversations");
    let id = old["id"].as_i64().unwrap();
    let detail = stack.get(&token, &format!("/conversations/{id}")).await;
    let app = signed_in(&stack, "thread-by-link", DESK).await;
    app.go(&format!("/messages?range=today&conversation={id}"))
        .await;
    app.wait(&format!("#thread[data-conversation-id=\"{id}\"]"))
        .await;
    let title = old["title"].as_str().unwrap();
    app.wait_text("#thread .thread-title", "the customer's name", |t| {
        t == title
    })
    .await;
    assert_eq!(
        app.attr("#thread .channel-badge", "data-channel")
            .await
            .as_deref(),
        Some("whatsapp")
    );
    let want = match detail["whatsapp_window"]["state"].as_str() {
        Some("open") => "open",
        _ => "expired",
    };
    assert_eq!(
        app.attr("#wa-window", "data-state").await.as_deref(),
        Some(want)
    );
    assert!(
        !app.row_ids().await.contains(&id),
        "not a row of today's list"
    );
    app.screenshots("header").await;
    app.quit().await;
}

/// THR-7: a thread opened (by a link) while the window is in the background is not marked read
/// for the team; once the window is back in front and the thread has been on screen a moment,
/// it is.
#[tokio::test(flavor = "multi_thread")]
async fn a_thread_opened_in_the_background_stays_unread_until_looked_at() {
    let stack = Stack::start().await;
    let token = stack.token(DESK).await;
    let unread = stack
        .conversations(&token)
        .await
        .into_iter()
        .find(|c| c["unread_count"].as_u64() > Some(0) && c["unresolved_calls"] == 0)
        .expect("the demo has unread messages");
    let id = unread["id"].as_i64().unwrap();
    let app = signed_in(&stack, "read-in-background", DESK).await;
    app.wait("#connection[data-state=\"live\"]").await;
    let unread_on_server = || async {
        stack.get(&token, &format!("/conversations/{id}")).await["unread_count"]
            .as_u64()
            .unwrap()
    };

    // The window goes to the background; a link opens the thread there.
    app.js("window.dispatchEvent(new Event('blur'));", vec![])
        .await;
    app.go(&format!("/messages?range=all_time&conversation={id}"))
        .await;
    app.wait(&format!("#thread[data-conversation-id=\"{id}\"]"))
        .await;
    app.wait("#thread .bubble").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        unread_on_server().await > 0,
        "nobody has looked at it: still unread for the team"
    );

    // Back in front: read after a moment on screen.
    app.js("window.dispatchEvent(new Event('focus'));", vec![])
        .await;
    eventually("the thread marked read", WAIT, || async {
        (unread_on_server().await == 0).then_some(())
    })
    .await;
    app.quit().await;
}
