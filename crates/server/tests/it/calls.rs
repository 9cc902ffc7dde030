//! Calls: resolving (VOI-7), reassigning (VOI-6), routing (VOI-1 … VOI-3).

use inbox_core::CallOutcome;
use inbox_server::store::NewCall;
use serde_json::json;

use crate::support::{conv::*, counts, now, Server};

fn call(from: Option<&str>, sid: &str, outcome: CallOutcome) -> NewCall {
    NewCall {
        from_number: from.map(str::to_string),
        provider_call_id: sid.into(),
        outcome,
        duration_secs: if outcome == CallOutcome::Answered {
            41
        } else {
            0
        },
        recording_url: None,
        recording_secs: None,
        transcript: None,
        at: now() - chrono::Duration::minutes(10),
    }
}

async fn first_call_id(c: &crate::support::Client, conversation: i64) -> i64 {
    let page = c
        .ok(&format!("/api/v1/conversations/{conversation}/messages"))
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "call")
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn voi7_mark_resolved_leaves_unread_and_decrements_the_badge() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let call_id = first_call_id(&c, UNKNOWN_CALLER).await;
    assert_eq!(counts(&c.ids("range=last_30_days").await.1).1, 2);
    let (status, resolved) = c
        .post(&format!("/api/v1/calls/{call_id}/resolve"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(resolved["resolved"], true);
    assert_eq!(counts(&c.ids("range=last_30_days").await.1).1, 1);
    assert_eq!(
        c.ids("range=last_30_days&filter=unread").await.0,
        vec![ALICE]
    );
    // Resolving twice changes nothing.
    let (status, _) = c
        .post(&format!("/api/v1/calls/{call_id}/resolve"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(counts(&c.ids("range=last_30_days").await.1).1, 1);
}

#[tokio::test]
async fn voi6_move_a_call_to_a_customer_and_detach_it_back() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let call_id = first_call_id(&c, UNKNOWN_CALLER).await;
    let eve = c.ok("/api/v1/customers?q=Evans").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let (status, moved) = c
        .post(&format!("/api/v1/calls/{call_id}/reassign"), json!({ "destination": { "to": "customer", "customer_id": eve }, "reason": "Eve's husband's phone" }))
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["from_conversation_id"], UNKNOWN_CALLER);
    assert_eq!(moved["to_conversation_id"], EVE);
    let eve_thread = c.ok(&format!("/api/v1/conversations/{EVE}/messages")).await;
    let kinds: Vec<_> = eve_thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        vec!["note", "call", "message"],
        "newest first: the system note, the call, Eve's SMS"
    );
    assert!(eve_thread["items"][0]["body"]
        .as_str()
        .unwrap()
        .contains("moved here from 07700 900555"));
    // The unresolved call's Unread now belongs to Eve's conversation.
    let (unread, _) = c.ids("range=all_time&filter=unread").await;
    assert!(
        unread.contains(&EVE) && !unread.contains(&UNKNOWN_CALLER),
        "{unread:?}"
    );
    // Detach to anonymous: back to the thread keyed on the caller's number.
    let (status, back) = c
        .post(
            &format!("/api/v1/calls/{call_id}/reassign"),
            json!({ "destination": { "to": "anonymous" } }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(back["to_conversation_id"], UNKNOWN_CALLER);
    let (status, _) = c
        .post(
            &format!("/api/v1/calls/{call_id}/reassign"),
            json!({ "destination": { "to": "anonymous" } }),
        )
        .await;
    assert_eq!(status, 409, "already there");
    let (status, _) = c
        .post(
            &format!("/api/v1/calls/{call_id}/reassign"),
            json!({ "destination": { "to": "customer", "customer_id": 999_999 } }),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = c
        .post(
            &format!("/api/v1/calls/{call_id}/reassign"),
            json!({ "destination": { "to": "nowhere" } }),
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn voi1_voi2_voi3_calls_join_customer_and_number_threads_and_withheld_calls_stand_alone() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let known = s
        .store
        .ingest_call(
            1,
            call(
                Some(crate::support::ALICE_PHONE),
                "CA1",
                CallOutcome::Answered,
            ),
        )
        .await
        .unwrap();
    assert_eq!(known.conversation_id, ALICE);
    let alice = c.ok(&format!("/api/v1/conversations/{ALICE}")).await;
    assert_eq!(alice["preview"], "Voice call - 41s - ended");
    assert_eq!(alice["last_channel"], "voice");
    let repeat = s
        .store
        .ingest_call(
            1,
            call(
                Some(crate::support::UNKNOWN_PHONE),
                "CA2",
                CallOutcome::Missed,
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        repeat.conversation_id, UNKNOWN_CALLER,
        "repeat calls from one unknown number stay together"
    );
    let w1 = s
        .store
        .ingest_call(1, call(None, "CA3", CallOutcome::Missed))
        .await
        .unwrap();
    let w2 = s
        .store
        .ingest_call(1, call(None, "CA4", CallOutcome::Missed))
        .await
        .unwrap();
    assert_ne!(
        w1.conversation_id, w2.conversation_id,
        "withheld calls each get a thread"
    );
    let dup = s
        .store
        .ingest_call(1, call(None, "CA4", CallOutcome::Missed))
        .await
        .unwrap();
    assert_eq!(
        (dup.created, dup.conversation_id),
        (false, w2.conversation_id)
    );
}
