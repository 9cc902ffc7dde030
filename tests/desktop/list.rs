//! The live list under a person's hand (LST-13): with customers texting in all the time, the rows
//! hold still while the pointer is over them, news waits behind a "N new — show" pill, and a
//! click opens the row that was under the pointer.

use std::time::{Duration, Instant};

use crate::support::{eventually, signed_in, App, Stack, WAIT};

const DESK: &str = "frontdesk@demo.test";
/// The simulator's customers: events per second (texts and calls to the demo garage).
const RATE: f64 = 4.0;

/// LST-13, LST-12: hovering the list keeps every row where it is while webhooks keep arriving;
/// the pill counts what waits; a click lands on the row under the pointer; once the pointer
/// leaves, the waiting rows move up.
#[tokio::test(flavor = "multi_thread")]
async fn list_holds_still_under_the_pointer_while_messages_arrive() {
    let stack = Stack::start_with_customers(Some(RATE)).await;
    let app = signed_in(&stack, "list-hold", DESK).await;
    app.click("button[data-range=\"all_time\"]").await;
    app.wait_text("#showing", "says All time", |t| t == "Showing: All time")
        .await;
    app.wait("#connection[data-state=\"live\"]").await;
    let before = eventually("a full first page", WAIT, || async {
        let ids = app.row_ids().await;
        (ids.len() >= 10).then_some(ids)
    })
    .await;

    // The pointer rests on the fifth row, as a person's does before clicking.
    let (x, y) = app
        .hover(&format!(
            ".conversation-row[data-conversation-id=\"{}\"]",
            before[4]
        ))
        .await;
    let target = under_pointer(&app, x, y)
        .await
        .expect("a row under the pointer");
    let held = app.row_ids().await;
    let pill = app
        .wait_text("#show-new", "the new-messages pill", |t| {
            t.ends_with("new — show")
        })
        .await;
    eprintln!("pill: {pill}");
    // Traffic goes on: for three seconds the order never changes.
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        assert_eq!(app.row_ids().await, held, "a row moved under the pointer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.screenshot("pill").await;

    // The row under the pointer is the one the click opens.
    assert_eq!(
        under_pointer(&app, x, y).await,
        Some(target),
        "the hovered row is still under the pointer"
    );
    app.click_here().await;
    app.wait(&format!("#thread[data-conversation-id=\"{target}\"]"))
        .await;
    assert!(app.url().await.contains(&format!("conversation={target}")));

    // The pointer goes from the rows up to the pill: the list holds still on the way, and the
    // pill is still there to click.
    app.hover("#show-new").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        app.visible("#show-new").await,
        "the pill stayed under the pointer"
    );
    assert_eq!(app.row_ids().await, held, "nothing moved on the way");
    app.click_here().await;
    eventually("the waiting rows to move up", WAIT, || async {
        (app.row_ids().await != held).then_some(())
    })
    .await;

    // The pointer leaves for the thread: whatever waited since moves up and the pill goes.
    app.hover("#thread .thread-log").await;
    app.wait_gone("#show-new").await;

    // LST-12: messages keep arriving faster than a glow lasts, and each glow still ends on time.
    let were_glowing = eventually("a row glowing", WAIT, || async {
        let ids = glowing(&app).await;
        (!ids.is_empty()).then_some(ids)
    })
    .await;
    eventually(
        "a glow to end while messages keep arriving",
        Duration::from_millis(u64::from(HIGHLIGHT_MS) + 2_000),
        || async {
            let rows = app.row_ids().await;
            let now = glowing(&app).await;
            were_glowing
                .iter()
                .any(|id| rows.contains(id) && !now.contains(id))
                .then_some(())
        },
    )
    .await;
    app.quit().await;
}

/// LST-13: something that drops the pointer's hold while the pointer stays on the rows (closing
/// the thread does: in a narrow window the list was hidden under it) does not leave the rows
/// free to move under it: the hold comes back as soon as the hand moves, even within one row.
#[tokio::test(flavor = "multi_thread")]
async fn a_resting_pointer_holds_the_list_again_when_it_moves() {
    let stack = Stack::start().await;
    let app = signed_in(&stack, "list-rehold", DESK).await;
    app.click("button[data-range=\"all_time\"]").await;
    app.wait_text("#showing", "says All time", |t| t == "Showing: All time")
        .await;
    app.wait("#connection[data-state=\"live\"]").await;
    let rows = eventually("a first page", WAIT, || async {
        let ids = app.row_ids().await;
        (ids.len() >= 5).then_some(ids)
    })
    .await;
    let row = format!(".conversation-row[data-conversation-id=\"{}\"]", rows[3]);
    let (x, y) = app.hover(&row).await;
    app.click_here().await;
    app.wait(&format!("#thread[data-conversation-id=\"{}\"]", rows[3]))
        .await;

    // The thread closes with the pointer resting on that row; then the hand moves a little.
    app.go("/messages?range=all_time").await;
    app.wait_gone("#thread").await;
    app.move_to(x + 3.0, y + 2.0).await;
    let held = app.row_ids().await;

    // A new customer texts in: the rows stay put and the news waits behind the pill.
    stack
        .inbound_sms("+447700900321", "Hello, is anyone there?")
        .await;
    app.wait_text("#show-new", "the pill", |t| t == "1 new — show")
        .await;
    assert_eq!(app.row_ids().await, held, "a row moved under the pointer");
    app.quit().await;
}

/// How long a row glows after it bubbles up (`HIGHLIGHT_MS` in the UI).
const HIGHLIGHT_MS: u32 = 2_000;

/// The conversations whose rows glow (LST-12).
async fn glowing(app: &App) -> Vec<i64> {
    app.js(
        "return [...document.querySelectorAll('.conversation-row.highlight')].map(e => Number(e.dataset.conversationId));",
        vec![],
    )
    .await
    .as_array()
    .map(|a| a.iter().filter_map(serde_json::Value::as_i64).collect())
    .unwrap_or_default()
}

/// The conversation whose row is at (`x`, `y`) in the viewport.
async fn under_pointer(app: &App, x: f64, y: f64) -> Option<i64> {
    app.js(
        "const e = document.elementFromPoint(arguments[0], arguments[1]); \
         const row = e && e.closest('.conversation-row'); \
         return row ? Number(row.dataset.conversationId) : null;",
        vec![x.into(), y.into()],
    )
    .await
    .as_i64()
}
