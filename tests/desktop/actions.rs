//! Replying and acting in the real window (issue 7): the gated reply approved by a manager, the
//! WhatsApp template-only composer, retrying a failed reply, the sidebar (assignment, work-order
//! link and unlink, notes, quick messages, the three widths), the work-order page, calls
//! (resolve, reassign), Settings, deep links into the running app, and correcting an intent.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{bins, eventually, server_counts, signed_in, wait_badges, App, Stack, WAIT};

const DESK: &str = "frontdesk@demo.test";
const TRAINEE: &str = "trainee@demo.test";
const MANAGER: &str = "manager@demo.test";

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// The status pill of message `message_id` once it reads one of `want`.
async fn wait_status(app: &App, message_id: i64, want: &[&str]) -> String {
    let css = format!(".bubble[data-message-id=\"{message_id}\"] .status-pill");
    app.until(&format!("message {message_id} to be {want:?}"), || async {
        app.attr(&css, "data-status")
            .await
            .filter(|s| want.contains(&s.as_str()))
    })
    .await
}

/// The id of the newest outbound bubble whose text is `body`.
async fn bubble_with(app: &App, body: &str) -> i64 {
    app.until(&format!("a bubble reading {body:?}"), || async {
        app.js(
            "const b = [...document.querySelectorAll('.bubble[data-message-id]')]
                 .filter(e => e.querySelector('.bubble-body').textContent.trim() === arguments[0]);
             return b.length ? Number(b[b.length - 1].dataset.messageId) : null;",
            vec![Value::from(body)],
        )
        .await
        .as_i64()
    })
    .await
}

async fn open_conversation(app: &App, conversation: i64) {
    app.go(&format!(
        "/messages?range=all_time&conversation={conversation}"
    ))
    .await;
    app.wait(&format!("#thread[data-conversation-id=\"{conversation}\"]"))
        .await;
}

/// CMP-3, APQ-1: a trainee's reply waits as pending_approval; the manager approves it from the
/// Approval Queue; the provider delivers it and the pill says so.
#[tokio::test(flavor = "multi_thread")]
async fn gated_reply_is_approved_by_a_manager_and_delivered() {
    let stack = Stack::start().await;
    let manager = stack.token(MANAGER).await;
    let c = stack
        .find_conversation(&manager, |d| d["reply_channels"][0] == "sms")
        .await;
    let app = signed_in(&stack, "gated", TRAINEE).await;
    open_conversation(&app, id(&c)).await;
    app.wait_text("#send", "the gated send button", |t| {
        t == "Send for approval"
    })
    .await;
    let body = "Can we book you in for Tuesday at 9?";
    app.fill("#composer-text", body).await;
    app.click("#send").await;
    let message = bubble_with(&app, body).await;
    wait_status(&app, message, &["pending_approval"]).await;
    app.screenshots("pending-approval").await;

    app.click("#sign-out").await;
    app.sign_in(&stack.url, MANAGER).await;
    app.click("#tab-approvals").await;
    let item = format!(".approval[data-message-id=\"{message}\"]");
    app.wait(&item).await;
    assert!(app.text(&item).await.unwrap().contains(body));
    app.screenshots("approval-queue").await;
    app.click(&format!("{item} .approve")).await;
    app.wait_gone(&item).await;
    open_conversation(&app, id(&c)).await;
    wait_status(&app, message, &["delivered", "read"]).await;
    let thread = stack
        .get(&manager, &format!("/conversations/{}/messages", id(&c)))
        .await;
    let sent = thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == message && i["type"] == "message")
        .unwrap();
    assert_eq!(sent["status"], "delivered");
    app.screenshots("approved-delivered").await;
    app.quit().await;
}

/// CMP-2 and the troubleshooting row "Cannot type a free-form reply": outside the 24-hour
/// window WhatsApp offers only templates, with parameters and a preview; SMS stays free-form.
#[tokio::test(flavor = "multi_thread")]
async fn whatsapp_outside_the_window_offers_templates_only() {
    let stack = Stack::start().await;
    let token = stack.token(DESK).await;
    let c = stack
        .find_conversation(&token, |d| {
            d["reply_channels"][0] == "whatsapp" && d["whatsapp_window"]["state"] != "open"
        })
        .await;
    let templates = stack.get(&token, "/templates").await;
    let template = templates["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["param_count"].as_u64() > Some(0))
        .unwrap()
        .clone();
    let app = signed_in(&stack, "template-only", DESK).await;
    open_conversation(&app, id(&c)).await;
    app.wait("#window-expired").await;
    assert_eq!(app.count("#composer-text").await, 0, "no free text");
    app.select("#template-picker", template["name"].as_str().unwrap())
        .await;
    let count = template["param_count"].as_u64().unwrap();
    let params: Vec<String> = (1..=count).map(|n| format!("Value{n}")).collect();
    for (i, p) in params.iter().enumerate() {
        app.fill(&format!(".template-param[data-index=\"{i}\"]"), p)
            .await;
    }
    let mut expected = template["body"].as_str().unwrap().to_string();
    for (i, p) in params.iter().enumerate() {
        expected = expected.replace(&format!("{{{{{}}}}}", i + 1), p);
    }
    app.wait_text("#template-preview", "the rendered template", |t| {
        t == expected
    })
    .await;
    app.screenshots("template-picker").await;
    app.click("#send").await;
    bubble_with(&app, &expected).await;
    app.select("#reply-channel", "sms").await;
    app.wait("#composer-text").await;
    assert_eq!(app.count("#window-expired").await, 0);
    app.quit().await;
}

/// CMP-2, issue 17: outside the window, a template with a photo header asks for its photo: Send
/// waits with the reason until one is dropped on the composer, then one WhatsApp template goes
/// to the simulator's Cloud API with the photo uploaded as its header.
#[tokio::test(flavor = "multi_thread")]
async fn a_photo_header_template_waits_for_its_photo_and_goes_with_it() {
    use base64::Engine as _;
    let stack = Stack::start().await;
    let manager = stack.token(MANAGER).await;
    stack
        .post(
            &manager,
            "/templates",
            json!({
                "name": "brake_pads_photo",
                "language": "en_GB",
                "body": "Hi {{1}}, here is the photo of your brake pads.",
                "header": "image",
            }),
        )
        .await;
    let token = stack.token(DESK).await;
    let c = stack
        .find_conversation(&token, |d| {
            d["reply_channels"][0] == "whatsapp" && d["whatsapp_window"]["state"] != "open"
        })
        .await;
    let app = signed_in(&stack, "template-photo", DESK).await;
    open_conversation(&app, id(&c)).await;
    app.wait("#window-expired").await;
    app.select("#template-picker", "brake_pads_photo").await;
    app.fill(".template-param[data-index=\"0\"]", "Sam").await;
    let why = app
        .wait_text("#send-blocked", "why Send waits", |t| !t.is_empty())
        .await;
    assert!(why.to_lowercase().contains("photo"), "{why}");
    assert!(app.attr("#send", "disabled").await.is_some(), "Send waits");

    // A photo dropped on the composer.
    let photo = inbox_sim::media::photo("brake-pads-header");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&photo);
    app.js(
        "const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
         const dt = new DataTransfer();
         dt.items.add(new File([bytes], 'pads.jpg', { type: 'image/jpeg' }));
         const e = new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true });
         document.querySelector('#composer').dispatchEvent(e);",
        vec![json!(b64)],
    )
    .await;
    app.wait("#composer-files .composer-file-preview").await;
    app.until("Send to be ready", || async {
        app.attr("#send", "disabled").await.is_none().then_some(())
    })
    .await;
    app.screenshots("template-photo-header").await;
    app.click("#send").await;
    let body = "Hi Sam, here is the photo of your brake pads.";
    bubble_with(&app, body).await;
    let sent = eventually(
        "the template at the simulator's Cloud API",
        WAIT,
        || async {
            stack
                .sim_sent()
                .await
                .into_iter()
                .find(|s| s.to_string().contains("brake_pads_photo") || s["body"] == body)
        },
    )
    .await;
    assert!(
        sent.to_string()
            .contains(&format!("image/jpeg {} bytes", photo.len())),
        "the photo went as the header: {sent}"
    );
    app.quit().await;
}

/// CMP-4 and the troubleshooting row "Message shows failed": the provider's reason shows beside
/// the pill in plain words; Retry re-queues the failed reply, and the provider delivers it.
#[tokio::test(flavor = "multi_thread")]
async fn failed_reply_is_retried_and_delivered() {
    let stack = Stack::start().await;
    let token = stack.token(DESK).await;
    let (c, failed) = stack
        .find_item(
            &token,
            |_| true,
            |i| i["type"] == "message" && i["status"] == "failed" && i["channel"] == "sms",
        )
        .await;
    let app = signed_in(&stack, "retry", DESK).await;
    open_conversation(&app, id(&c)).await;
    wait_status(&app, id(&failed), &["failed"]).await;
    // The provider's reason, in plain words, beside the pill.
    let reason = failed["error"]
        .as_str()
        .expect("a failed reply carries its reason");
    assert!(reason.contains("(Twilio "), "{reason}");
    let shown = app
        .text(&format!(
            ".bubble[data-message-id=\"{}\"] .failure-reason",
            id(&failed)
        ))
        .await
        .unwrap_or_default();
    assert_eq!(shown, format!("Not sent: {reason}"));
    app.screenshots("failed").await;
    app.click(&format!(".retry[data-message-id=\"{}\"]", id(&failed)))
        .await;
    wait_status(&app, id(&failed), &["delivered", "read"]).await;
    assert_eq!(app.count(".retry").await, 0);
    app.quit().await;
}

/// The newest conversation with a customer's message that has an intent (the demo has AI on):
/// (conversation, message).
async fn classified_message(stack: &Stack, token: &str) -> (Value, Value) {
    stack
        .find_item(
            token,
            |_| true,
            |i| i["type"] == "message" && i["direction"] == "inbound" && !i["intent"].is_null(),
        )
        .await
}

/// AIA-1: with AI on (as in the demo) an inbound message shows its intent; a front-desk user
/// corrects it with one choice, the badge says a colleague set it, and the server keeps it.
#[tokio::test(flavor = "multi_thread")]
async fn an_intent_is_corrected_from_the_thread() {
    let stack = Stack::start().await;
    let token = stack.token(DESK).await;
    let (c, m) = classified_message(&stack, &token).await;
    let app = signed_in(&stack, "intent", DESK).await;
    open_conversation(&app, id(&c)).await;
    let badge = format!(".intent-badge[data-message-id=\"{}\"]", id(&m));
    app.wait(&badge).await;
    assert_eq!(
        app.attr(&badge, "data-intent").await.as_deref(),
        m["intent"]["label"].as_str()
    );
    app.screenshots("intent").await;
    let to = if m["intent"]["label"] == "quote_question" {
        "booking_request"
    } else {
        "quote_question"
    };
    app.select(&badge, to).await;
    app.until("the corrected intent on the badge", || async {
        app.attr(&badge, "class")
            .await
            .filter(|class| class.contains("corrected") && class.contains(to))
    })
    .await;
    app.screenshots("intent-corrected").await;
    let page = stack
        .get(&token, &format!("/conversations/{}/messages", id(&c)))
        .await;
    let kept = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "message" && i["id"] == m["id"])
        .cloned()
        .unwrap();
    assert_eq!(kept["intent"]["label"], to, "{kept}");
    assert_eq!(kept["intent"]["corrected"], true, "{kept}");
    app.quit().await;
}

/// AIA-1, NAV-2: the Owner turns AI off and on again; a front-desk user's open app loses and
/// regains the AI Analytics tab and the intent badges, without a restart.
#[tokio::test(flavor = "multi_thread")]
async fn the_ai_switch_reaches_an_open_app() {
    let stack = Stack::start().await;
    let owner = stack.token("owner@demo.test").await;
    let token = stack.token(DESK).await;
    let (c, m) = classified_message(&stack, &token).await;
    let app = signed_in(&stack, "ai-switch", DESK).await;
    open_conversation(&app, id(&c)).await;
    let badge = format!(".intent-badge[data-message-id=\"{}\"]", id(&m));
    app.wait("#tab-analytics").await;
    app.wait(&badge).await;

    let off = stack
        .put(&owner, "/settings/ai", json!({ "enabled": false }))
        .await;
    assert_eq!(off["enabled"], false);
    app.wait_gone("#tab-analytics").await;
    app.wait_gone(&badge).await;
    app.screenshots("ai-off").await;

    stack
        .put(&owner, "/settings/ai", json!({ "enabled": true }))
        .await;
    app.wait("#tab-analytics").await;
    app.wait(&badge).await;

    // The tab leads to the figures: charts drawn as SVG, readable at the three widths.
    app.click("#tab-analytics").await;
    for chart in ["#volume-chart", "#heat-map", "#intent-mix", "#calls-bar"] {
        app.wait(chart).await;
    }
    app.wait_text("#stat-inbound .stat-value", "a contact count", |t| {
        t.parse::<u64>().is_ok_and(|n| n > 0)
    })
    .await;
    app.screenshots("analytics").await;
    // Every table as one CSV in the Downloads folder.
    app.click("#export-csv").await;
    app.wait_text("#csv-saved", "the saved path", |t| t.contains(".csv"))
        .await;
    app.quit().await;
}

/// SET-1, ACC-2: the Owner gives a front-desk user a custom role copied from Manager, and
/// their open app gains the Approval Queue at once; disabled, they are signed out at once. The
/// Owner's Settings show roles, users and the audit log at the three widths.
#[tokio::test(flavor = "multi_thread")]
async fn a_role_change_reaches_an_open_app_and_a_disabled_user_is_signed_out() {
    let stack = Stack::start().await;
    let owner = stack.token("owner@demo.test").await;
    let desk = signed_in(&stack, "roles-desk", DESK).await;
    assert!(
        !desk.visible("#tab-approvals").await,
        "a Service Advisor has no Approval Queue"
    );
    let roles = stack.get(&owner, "/roles").await;
    let manager = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Manager")
        .unwrap()["id"]
        .clone();
    let lead = stack
        .post(
            &owner,
            "/roles",
            json!({ "name": "Desk lead", "copy_of": manager }),
        )
        .await;
    assert_eq!(lead["system"], false);
    let users = stack.get(&owner, "/users").await;
    let fran = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == DESK)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let changed = stack
        .put(
            &owner,
            &format!("/users/{fran}"),
            json!({ "role_id": lead["id"] }),
        )
        .await;
    assert_eq!(changed["role"], "Desk lead");
    desk.wait("#tab-approvals").await;
    desk.wait("#tab-settings").await;

    stack
        .put(
            &owner,
            &format!("/users/{fran}"),
            json!({ "active": false }),
        )
        .await;
    desk.wait("#login-title").await;
    desk.wait_text("#signed-out-reason", "why, in words", |t| {
        t.contains("administrator")
    })
    .await;
    desk.screenshot("roles-desk-signed-out").await;
    desk.quit().await;

    let admin = signed_in(&stack, "roles-owner", "owner@demo.test").await;
    admin.click("#tab-settings").await;
    admin
        .wait("#roles-section li[data-role=\"Desk lead\"]")
        .await;
    admin
        .wait(&format!(
            "#users-section tr[data-user-id=\"{fran}\"].disabled"
        ))
        .await;
    admin
        .wait("#audit-list li[data-action=\"user.disabled\"]")
        .await;
    // AIA-1: the Owner points the garage at its own language model; the key is kept sealed
    // on the server and the form shows only that one is saved.
    admin.fill("#model-url", "http://127.0.0.1:11434/v1").await;
    admin.fill("#model-name", "llama3.1:8b").await;
    admin.fill("#model-key", "sk-e2e-secret").await;
    admin.click("#save-model").await;
    admin
        .wait_text("#language-model .admin-notice", "the saved model", |t| {
            t.contains("llama3.1:8b")
        })
        .await;
    let model = stack.get(&owner, "/settings/ai/model").await;
    assert_eq!(
        model,
        json!({ "url": "http://127.0.0.1:11434/v1", "model": "llama3.1:8b", "key_set": true })
    );
    assert_eq!(admin.value("#model-key").await.as_deref(), Some(""));
    admin.wait("#model-key[placeholder^=\"Saved\"]").await;
    admin.screenshots("settings-admin").await;
    admin.click("#remove-model").await;
    admin.wait_gone("#remove-model").await;
    assert_eq!(stack.get(&owner, "/settings/ai/model").await["url"], "");
    admin.quit().await;
}

/// SDB-1 … SDB-4, THR-8, CMP-6, WO-1: assignment moves the Mine and Unassigned counts at once;
/// a work order is linked through the search dialog and unlinked after a confirmation, each
/// with its system note; an internal note; a quick message inserted; the sidebar at the three
/// widths; the work-order page's Messages tab replies into the same thread.
#[tokio::test(flavor = "multi_thread")]
async fn sidebar_assignment_work_orders_notes_and_quick_messages() {
    let stack = Stack::start().await;
    let token = stack.token(DESK).await;
    let me = stack.get(&token, "/me").await["user"]["id"]
        .as_i64()
        .unwrap();
    let c = stack
        .find_conversation(&token, |d| {
            !d["customer"].is_null()
                && d["assignee"].is_null()
                && d["linked_work_order"].is_null()
                && !d["needs_work_order_pick"].as_bool().unwrap()
        })
        .await;
    let conversation = id(&c);
    let app = signed_in(&stack, "sidebar", DESK).await;
    // The counts before anything is opened (opening marks the thread read).
    app.go("/messages?range=all_time").await;
    let counts = server_counts(&stack, &token, "all_time").await;
    wait_badges(&app, &counts).await;
    let (mine, unassigned) = (
        counts["mine"].as_u64().unwrap(),
        counts["unassigned"].as_u64().unwrap(),
    );
    open_conversation(&app, conversation).await;
    app.wait("#sidebar").await;
    assert!(app.visible("#sidebar").await, "SDB-1: shown at 1440 px");
    let customer = c["customer"]["name"].as_str().unwrap();
    app.wait_text("#sidebar-customer .customer-name", "the customer", |t| {
        t == customer
    })
    .await;

    // SDB-4: assign to me, then unassign.
    app.select("#assignee", &me.to_string()).await;
    app.wait_text("button[data-filter=\"mine\"] .count", "Mine + 1", |t| {
        t == (mine + 1).to_string()
    })
    .await;
    assert_eq!(app.count_badge("unassigned").await, unassigned - 1);
    let detail = stack
        .get(&token, &format!("/conversations/{conversation}"))
        .await;
    assert_eq!(detail["assignee"]["id"], me);

    // SDB-3: link through the search dialog.
    app.click("#link-work-order").await;
    app.wait("#link-dialog .work-order-option").await;
    app.screenshots("link-dialog").await;
    let number = app
        .text("#link-dialog .work-order-option strong")
        .await
        .unwrap();
    app.click("#link-dialog .work-order-option").await;
    app.wait_gone("#link-dialog").await;
    app.wait_text("#sidebar .work-order-number", "the linked number", |t| {
        t == number
    })
    .await;
    app.until("the linked system note", || async {
        app.js(
            "return [...document.querySelectorAll('.note.system .note-body')]
                 .some(e => e.textContent.includes(arguments[0]) && e.textContent.endsWith('linked'));",
            vec![Value::from(number.clone())],
        )
        .await
        .as_bool()
        .filter(|b| *b)
    })
    .await;

    // THR-8: an internal note.
    app.click("#mode-note").await;
    app.fill("#note-text", "Customer will collect at 5pm").await;
    app.click("#add-note").await;
    app.wait_text(".note.internal:last-of-type .note-body", "the note", |t| {
        t == "Customer will collect at 5pm"
    })
    .await;

    // CMP-6: `/` opens the quick messages; picking one inserts its text.
    let quick = stack.get(&token, "/quick-messages").await;
    let first = quick["items"][0]["body"].as_str().unwrap().to_string();
    app.click("#mode-reply").await;
    app.fill("#composer-text", "/").await;
    app.wait("#quick-picker .quick-message-option").await;
    app.screenshot("quick-picker").await;
    app.click("#quick-picker .quick-message-option").await;
    app.until("the quick message inserted", || async {
        app.value("#composer-text").await.filter(|v| *v == first)
    })
    .await;
    app.fill("#composer-text", "").await;

    // SDB-1: toggled at 1100 px, a sheet at 800 px.
    app.set_width(1100).await;
    assert!(
        !app.visible("#sidebar").await,
        "hidden until toggled at 1100 px"
    );
    app.click("#toggle-sidebar").await;
    app.until("the sidebar toggled on", || async {
        app.visible("#sidebar").await.then_some(())
    })
    .await;
    app.screenshot("sidebar-1100").await;
    app.click("#toggle-sidebar").await;
    app.set_width(800).await;
    assert!(!app.visible("#sidebar").await);
    app.click("#open-details").await;
    app.until("the details sheet", || async {
        app.visible("#sidebar").await.then_some(())
    })
    .await;
    app.screenshot("sidebar-sheet-800").await;
    app.click("#close-details").await;
    app.wait_gone("#sidebar").await;
    app.set_width(1440).await;
    app.screenshots("sidebar").await;

    // WO-1: the work order's Messages tab is the same thread; a reply there shows in the inbox.
    app.click("#open-work-order").await;
    app.wait(&format!(
        "#work-order #thread[data-conversation-id=\"{conversation}\"]"
    ))
    .await;
    let reply = "Your car is on the ramp now.";
    app.fill("#composer-text", reply).await;
    app.click("#send").await;
    bubble_with(&app, reply).await;
    app.screenshots("work-order").await;
    app.click("#back-to-inbox").await;
    app.wait(&format!("#thread[data-conversation-id=\"{conversation}\"]"))
        .await;
    bubble_with(&app, reply).await;

    // SDB-3: unlink after the confirmation.
    app.click("#unlink-work-order").await;
    app.wait("#unlink-dialog").await;
    app.screenshot("unlink-dialog").await;
    app.click("#confirm-unlink").await;
    app.wait("#link-work-order").await;
    app.until("the unlinked system note", || async {
        app.js(
            "return [...document.querySelectorAll('.note.system .note-body')]
                 .some(e => e.textContent.includes(arguments[0]) && e.textContent.endsWith('unlinked'));",
            vec![Value::from(number.clone())],
        )
        .await
        .as_bool()
        .filter(|b| *b)
    })
    .await;
    open_conversation(&app, conversation).await;
    app.select("#assignee", "").await;
    app.wait_text(
        "button[data-filter=\"unassigned\"] .count",
        "Unassigned back",
        |t| t == unassigned.to_string(),
    )
    .await;
    app.quit().await;
}

/// THR-5, VOI-7, VOI-8, VOI-6: the call card opens the call page; Mark resolved takes the row
/// out of Unread; Reassign moves the call to another customer's conversation.
#[tokio::test(flavor = "multi_thread")]
async fn call_page_resolves_and_reassigns_a_call() {
    let stack = Stack::start().await;
    let token = stack.token(DESK).await;
    let (c, call) = stack
        .find_item(
            &token,
            |c| c["unread_count"] == 0 && c["unresolved_calls"] == 1 && !c["customer_id"].is_null(),
            |i| i["type"] == "call" && i["resolved"] == false && i["outcome"] != "answered",
        )
        .await;
    let (conversation, call_id) = (id(&c), id(&call));
    let app = signed_in(&stack, "calls", DESK).await;
    app.go("/messages?range=all_time").await;
    let counts = server_counts(&stack, &token, "all_time").await;
    wait_badges(&app, &counts).await;
    let unread = counts["unread"].as_u64().unwrap();
    open_conversation(&app, conversation).await;
    app.click(&format!(".open-call[data-call-id=\"{call_id}\"]"))
        .await;
    app.wait(&format!("#call[data-call-id=\"{call_id}\"]"))
        .await;
    app.screenshots("call-page").await;
    app.click("#mark-resolved").await;
    app.wait("#resolved").await;
    let row = stack
        .get(&token, &format!("/conversations/{conversation}"))
        .await;
    assert_eq!(row["unresolved_calls"], 0);

    let other = stack.get(&token, "/customers").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] != c["customer_id"])
        .unwrap()
        .clone();
    app.click("#reassign").await;
    app.click("#move-to-customer").await;
    app.fill("#customer-search", other["name"].as_str().unwrap())
        .await;
    let option = format!(".customer-option[data-customer-id=\"{}\"]", id(&other));
    app.click(&option).await;
    app.fill("#reassign-reason", "Spouse calling from her phone")
        .await;
    app.screenshots("reassign-dialog").await;
    app.click("#confirm-reassign").await;
    app.wait("#call-moved").await;
    let moved = stack.get(&token, &format!("/calls/{call_id}")).await;
    assert_ne!(moved["conversation_id"], conversation);
    let destination = stack
        .get(
            &token,
            &format!("/conversations/{}", moved["conversation_id"]),
        )
        .await;
    assert_eq!(destination["customer_id"], other["id"]);

    // Back in the inbox the Unread badge has dropped by one (VOI-7).
    app.go("/messages?range=all_time").await;
    app.wait_text("button[data-filter=\"unread\"] .count", "Unread - 1", |t| {
        t == (unread - 1).to_string()
    })
    .await;
    app.quit().await;
}

/// SET-1: the manager creates, edits and deletes quick messages and templates; a new quick
/// message is offered in the composer at once.
#[tokio::test(flavor = "multi_thread")]
async fn settings_manage_quick_messages_and_templates() {
    let stack = Stack::start().await;
    let token = stack.token(MANAGER).await;
    let app = signed_in(&stack, "settings", MANAGER).await;
    app.click("#tab-settings").await;
    app.click("#new-quick-message").await;
    app.fill("#qm-name", "tyres").await;
    app.fill("#qm-body", "Your new tyres are fitted.").await;
    app.click("#save-quick-message").await;
    app.until("the new quick message", || async {
        app.text("#quick-messages")
            .await
            .filter(|t| t.contains("Your new tyres are fitted."))
    })
    .await;
    app.click("#new-template").await;
    app.fill("#tpl-name", "tyres_fitted").await;
    app.fill("#tpl-body", "Hi {{1}}, your tyres are fitted.")
        .await;
    app.click("#save-template").await;
    app.until("the new template", || async {
        app.text("#templates")
            .await
            .filter(|t| t.contains("tyres_fitted"))
    })
    .await;
    app.screenshots("settings").await;
    let templates = stack.get(&token, "/templates").await;
    assert!(templates["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "tyres_fitted" && t["param_count"] == 1));

    let quick = stack.get(&token, "/quick-messages").await;
    let tyres = quick["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "tyres")
        .unwrap()
        .clone();
    let c = stack
        .find_conversation(&token, |d| d["reply_channels"][0] == "sms")
        .await;
    open_conversation(&app, id(&c)).await;
    app.fill("#composer-text", "/tyr").await;
    app.click(".quick-message-option[data-name=\"tyres\"]")
        .await;
    app.until("the quick message inserted", || async {
        app.value("#composer-text")
            .await
            .filter(|v| v == "Your new tyres are fitted.")
    })
    .await;
    app.fill("#composer-text", "").await;

    app.click("#tab-settings").await;
    app.click(&format!(
        ".quick-message[data-id=\"{}\"] .delete",
        id(&tyres)
    ))
    .await;
    app.click("#confirm-delete").await;
    app.wait_gone(&format!(".quick-message[data-id=\"{}\"]", id(&tyres)))
        .await;
    let quick = stack.get(&token, "/quick-messages").await;
    assert!(!quick["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|q| q["name"] == "tyres"));
    app.quit().await;
}

/// LST-7, THR-3: "Copy link" gives the view's `garage-inbox://` link; launching the app again
/// with it hands the link to the running app (single instance), which opens that thread; the
/// window's size and position are remembered, and a half-written reply survives a restart.
#[tokio::test(flavor = "multi_thread")]
async fn deep_link_opens_the_thread_in_the_running_app() {
    let stack = Stack::start().await;
    let token = stack.token(DESK).await;
    // Two conversations that can be answered (a withheld caller has no composer).
    let all: Vec<Value> = stack
        .conversations(&token)
        .await
        .into_iter()
        .filter(|c| c["withheld"] == false)
        .collect();
    let (first, second) = (id(&all[0]), id(&all[1]));
    let app = signed_in(&stack, "deep-link", DESK).await;
    open_conversation(&app, first).await;
    app.click("#copy-link").await;
    let copied = app
        .wait_text("#link-copied", "the copied link", |t| {
            t.contains("garage-inbox://")
        })
        .await;
    let link = copied.trim_start_matches("Link copied: ").to_string();
    assert!(link.starts_with("garage-inbox://messages?"), "{link}");
    assert!(link.contains(&format!("conversation={first}")), "{link}");
    app.screenshot("link-copied").await;

    open_conversation(&app, second).await;
    let mut second = Command::new(bins::app())
        .arg(&link)
        .env("GARAGE_INBOX_DATA_DIR", &app.data_dir)
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let status = eventually("the second launch to exit", Duration::from_secs(20), || {
        let exited = second.try_wait().unwrap();
        async move { exited }
    })
    .await;
    assert!(status.success(), "the second launch hands over and exits");
    app.wait(&format!("#thread[data-conversation-id=\"{first}\"]"))
        .await;
    assert!(app.url().await.contains(&format!("conversation={first}")));
    app.screenshots("opened-by-link").await;

    // Nothing typed is lost: the draft survives the app closing.
    app.fill("#composer-text", "Half-written reply about the brakes")
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let dir = app.data_dir.clone();
    app.quit().await;
    eventually(
        "the window state saved",
        Duration::from_secs(10),
        || async { dir.join("window-state.json").exists().then_some(()) },
    )
    .await;
    let app = App::launch(&dir, "deep-link-restart").await;
    app.wait("#tab-inbox").await;
    open_conversation(&app, first).await;
    app.until("the draft restored", || async {
        app.value("#composer-text")
            .await
            .filter(|v| v == "Half-written reply about the brakes")
    })
    .await;
    app.quit().await;
}
