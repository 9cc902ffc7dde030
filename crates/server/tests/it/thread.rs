//! Threads: interleaving, paging back, notes, work-order links (THR-4 … THR-8, SDB-3).

use inbox_core::providers::Provider;
use serde_json::json;

use crate::support::{conv::*, Server};

#[tokio::test]
async fn thr6_thread_pages_newest_first_and_pages_back_without_gaps() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let first = c
        .ok(&format!("/api/v1/conversations/{CAROL}/messages"))
        .await;
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert_eq!(items[0]["body"], "Carol message 54", "newest first");
    let before = first["next_cursor"].as_str().unwrap();
    let older = c
        .ok(&format!(
            "/api/v1/conversations/{CAROL}/messages?before={before}"
        ))
        .await;
    let rest = older["items"].as_array().unwrap();
    assert_eq!(rest.len(), 5);
    assert_eq!(
        rest[4]["body"],
        "Could you quote for brake pads on the Golf?"
    );
    assert!(older["next_cursor"].is_null());
    // THR-4: direction and sender on every bubble.
    assert_eq!(items[0]["type"], "message");
    assert_eq!(items[0]["direction"], "inbound");
    assert_eq!(items[0]["sender_name"], "Carol Cole");
    assert_eq!(items[1]["direction"], "outbound");
    assert_eq!(items[1]["author"]["name"], "Manager");
    let (status, _) = c
        .get(&format!(
            "/api/v1/conversations/{CAROL}/messages?before=garbage"
        ))
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn thr5_thr8_calls_and_notes_interleave_with_messages() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let (status, note) = c
        .post(
            &format!("/api/v1/conversations/{UNKNOWN_CALLER}/notes"),
            json!({ "body": "  Rang back, no answer  " }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(note["body"], "Rang back, no answer");
    assert_eq!(note["kind"], "note");
    let page = c
        .ok(&format!("/api/v1/conversations/{UNKNOWN_CALLER}/messages"))
        .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["type"], "note");
    assert_eq!(items[0]["author"]["name"], "Front desk");
    assert_eq!(items[1]["type"], "call");
    assert_eq!(items[1]["outcome"], "missed");
    assert_eq!(items[1]["summary"], "Missed call");
    let withheld = c
        .ok(&format!("/api/v1/conversations/{WITHHELD}/messages"))
        .await;
    assert_eq!(withheld["items"][0]["summary"], "Voicemail - 0:38");
    assert_eq!(
        withheld["items"][0]["transcript"],
        "Hello, my windscreen is cracked, please call me"
    );
    let (status, body) = c
        .post(
            &format!("/api/v1/conversations/{UNKNOWN_CALLER}/notes"),
            json!({ "body": "   " }),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (422, Some("invalid"))
    );
}

#[tokio::test]
async fn thr2_conversation_detail_has_header_and_sidebar_data() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let bob = c.ok(&format!("/api/v1/conversations/{BOB}")).await;
    assert_eq!(bob["title"], "Bob Brown");
    assert_eq!(bob["customer"]["phones"][0], "+447700900102");
    assert_eq!(bob["last_channel"], "whatsapp");
    assert_eq!(
        bob["whatsapp_window"]["state"], "expired",
        "the last WhatsApp message was two days ago"
    );
    assert_eq!(bob["reply_channels"], json!(["whatsapp", "sms", "portal"]));
    let caller = c
        .ok(&format!("/api/v1/conversations/{UNKNOWN_CALLER}"))
        .await;
    assert_eq!(caller["title"], "07700 900555");
    assert_eq!(caller["context_badge"], "unknown");
    assert_eq!(
        caller["reply_channels"][0], "sms",
        "VOI-5: voice threads reply by SMS"
    );
    let withheld = c.ok(&format!("/api/v1/conversations/{WITHHELD}")).await;
    assert_eq!(withheld["title"], "Withheld number");
    assert_eq!(withheld["reply_channels"], json!([]));
}

#[tokio::test]
async fn sdb3_link_and_unlink_a_work_order_write_system_messages() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let found = c.ok("/api/v1/work-orders?q=ab12").await;
    let wo = found["items"][0]["id"].as_i64().unwrap();
    assert_eq!(found["items"][0]["number"], "WO-1");
    let (status, detail) = c
        .put(
            &format!("/api/v1/conversations/{BOB}/work-order"),
            json!({ "work_order_id": wo }),
        )
        .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["work_order"]["number"], "WO-1");
    assert_eq!(
        detail["linked_work_order"]["vehicle_registration"],
        "AB12 CDE"
    );
    // The raw body must not repeat a key (a flattened summary once did): it parses as the type.
    let raw = reqwest::Client::new()
        .get(format!("{}/api/v1/conversations/{BOB}", s.base))
        .bearer_auth(c.token.as_deref().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(raw.matches("\"work_order\":").count(), 1, "{raw}");
    let typed: inbox_core::ConversationDetail = serde_json::from_str(&raw).unwrap();
    assert_eq!(typed.linked_work_order.unwrap().number, "WO-1");
    let thread = c.ok(&format!("/api/v1/conversations/{BOB}/messages")).await;
    assert_eq!(thread["items"][0]["kind"], "system");
    assert_eq!(
        thread["items"][0]["body"],
        "Work order WO-1 (AB12 CDE) linked"
    );
    let (status, detail) = c
        .delete(&format!("/api/v1/conversations/{BOB}/work-order"))
        .await;
    assert_eq!(status, 200);
    assert!(detail["work_order"].is_null());
    let thread = c.ok(&format!("/api/v1/conversations/{BOB}/messages")).await;
    assert_eq!(
        thread["items"][0]["body"],
        "Work order WO-1 (AB12 CDE) unlinked"
    );
    let (status, _) = c
        .delete(&format!("/api/v1/conversations/{BOB}/work-order"))
        .await;
    assert_eq!(status, 409, "nothing left to unlink");
    let (status, _) = c
        .put(
            &format!("/api/v1/conversations/{BOB}/work-order"),
            json!({ "work_order_id": 999_999 }),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn rte2_rte3_inbound_routing_links_one_work_order_or_asks_to_pick() {
    use inbox_server::store::NewInbound;
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let msg = |from: &str, id: &str| NewInbound {
        attachments: Vec::new(),
        uploads: Vec::new(),
        channel: inbox_core::Channel::Sms,
        from_number: Some(from.into()),
        customer_id: None,
        body: "Is it ready?".into(),
        provider: Provider::Twilio,
        provider_id: id.into(),
        at: crate::support::now(),
    };
    // Bob has exactly one active work order (WO-1): auto-linked with a system message.
    let r = s
        .store
        .ingest_message(1, msg("+447700900102", "SM-a"))
        .await
        .unwrap();
    assert_eq!(r.conversation_id, BOB);
    let bob = c.ok(&format!("/api/v1/conversations/{BOB}")).await;
    assert_eq!(bob["work_order"]["number"], "WO-1");
    assert_eq!(
        bob["last_channel"], "sms",
        "CMP-5: the channel follows the customer"
    );
    // A repeated provider id changes nothing.
    let again = s
        .store
        .ingest_message(1, msg("+447700900102", "SM-a"))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(
        c.ok(&format!("/api/v1/conversations/{BOB}")).await["unread_count"],
        1
    );
    // An unknown number starts its own Unassigned conversation with the Unknown badge.
    let r = s
        .store
        .ingest_message(1, msg("+447700900777", "SM-b"))
        .await
        .unwrap();
    let unknown = c
        .ok(&format!("/api/v1/conversations/{}", r.conversation_id))
        .await;
    assert_eq!(
        (
            unknown["context_badge"].as_str(),
            unknown["assignee"].is_null()
        ),
        (Some("unknown"), true)
    );
    // The same number again joins it.
    let r2 = s
        .store
        .ingest_message(1, msg("+447700900777", "SM-c"))
        .await
        .unwrap();
    assert_eq!(r2.conversation_id, r.conversation_id);
}
