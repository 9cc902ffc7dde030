//! The Analytics tab's figures (issue 16, AIA-1) against a week built by hand, where every
//! number is known: volume, first response in business time, calls and call-backs, busiest
//! hours, intents and their corrections, the approval queue; who sees per-staff figures; the
//! counters kept on each write equal a rebuild from history.

use chrono::{DateTime, TimeZone, Utc};
use inbox_core::providers::Provider;
use inbox_core::{CallOutcome, Capability, CapabilitySet, Channel, Id};
use inbox_server::store::{Actor, NewCall, NewInbound, NewOutbound};
use serde_json::{json, Value};

use crate::support::*;

const WEEK: &str = "/api/v1/analytics?range=custom&from=2025-03-03&to=2025-03-09";

/// London local time in the week of Monday 3 March 2025 (GMT).
fn at(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz::Europe::London
        .with_ymd_and_hms(2025, 3, day, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn actor(user_id: Id, caps: &[Capability]) -> Actor {
    Actor {
        org_id: 1,
        user_id,
        capabilities: CapabilitySet::new(caps.iter().copied()),
        time_zone: chrono_tz::Europe::London,
    }
}

async fn text(
    s: &Server,
    from: &str,
    channel: Channel,
    body: &str,
    when: DateTime<Utc>,
) -> (Id, Id) {
    let id = format!("SM-analytics-{}", when.timestamp());
    let got = s
        .store
        .ingest_message(
            1,
            NewInbound {
                attachments: Vec::new(),
                uploads: Vec::new(),
                channel,
                from_number: Some(from.into()),
                customer_id: None,
                body: body.into(),
                provider: Provider::Twilio,
                provider_id: format!("{id}-{from}"),
                at: when,
            },
        )
        .await
        .unwrap();
    (got.conversation_id, got.item_id)
}

async fn reply(s: &Server, who: Id, conversation: Id, when: DateTime<Utc>, gated: bool) -> Id {
    let caps: &[Capability] = if gated {
        &[Capability::MessagesView, Capability::MessagesSendGated]
    } else {
        &[Capability::MessagesView, Capability::MessagesSend]
    };
    let (m, _) = s
        .store
        .create_outbound(
            &actor(who, caps),
            conversation,
            NewOutbound {
                client_id: format!("analytics-{}", when.timestamp()),
                channel: Channel::Sms,
                body: "Thanks, we'll be in touch".into(),
                template: None,
                needs_approval: gated,
                attachments: Vec::new(),
            },
            when,
        )
        .await
        .unwrap();
    m.id
}

async fn call(s: &Server, from: &str, outcome: CallOutcome, when: DateTime<Utc>) -> Id {
    s.store
        .ingest_call(
            1,
            NewCall {
                from_number: Some(from.into()),
                provider_call_id: format!("CA-analytics-{}", when.timestamp()),
                outcome,
                duration_secs: 30,
                recording_url: None,
                recording_secs: None,
                transcript: None,
                at: when,
            },
        )
        .await
        .unwrap()
        .conversation_id
}

/// The week, written as live traffic would write it. Returns (the first conversation, its
/// first message, the conversation still waiting).
async fn the_week(s: &Server) -> (Id, Id, Id) {
    let manager = actor(
        user::MANAGER,
        &[Capability::MessagesView, Capability::MessagesApprove],
    );
    // Monday 09:00, answered by the front desk at 09:20: 20 minutes.
    let (a, a_msg) = text(
        s,
        "+447700900701",
        Channel::Sms,
        "Is my Golf ready yet?",
        at(3, 9, 0),
    )
    .await;
    reply(s, user::FRONTDESK, a, at(3, 9, 20), false).await;
    // Monday 17:20 (ten minutes before closing), answered Tuesday 08:30: 40 business minutes.
    let (b, _) = text(
        s,
        "+447700900702",
        Channel::Whatsapp,
        "can i book an mot",
        at(3, 17, 20),
    )
    .await;
    reply(s, user::MANAGER, b, at(4, 8, 30), false).await;
    // Tuesday: two texts, one answer 90 minutes after the first.
    let (c, _) = text(
        s,
        "+447700900703",
        Channel::Sms,
        "How much for front pads?",
        at(4, 10, 0),
    )
    .await;
    text(
        s,
        "+447700900703",
        Channel::Sms,
        "Ford Focus 2016",
        at(4, 10, 5),
    )
    .await;
    reply(s, user::FRONTDESK, c, at(4, 11, 30), false).await;
    // Wednesday: a missed call, called back by text 45 minutes later.
    let d = call(s, "+447700900704", CallOutcome::Missed, at(5, 9, 0)).await;
    reply(s, user::FRONTDESK, d, at(5, 9, 45), false).await;
    // Thursday: a voicemail nobody returns, and an answered call.
    call(s, "+447700900705", CallOutcome::Voicemail, at(6, 14, 0)).await;
    call(s, "+447700900706", CallOutcome::Answered, at(6, 15, 0)).await;
    // Friday: the trainee's two replies; one approved after 12 minutes, one rejected.
    let first = reply(s, user::TRAINEE, a, at(7, 10, 0), true).await;
    let second = reply(s, user::TRAINEE, a, at(7, 10, 1), true).await;
    s.store
        .approve(&manager, first, at(7, 10, 12))
        .await
        .unwrap();
    s.store
        .reject(&manager, second, "Wrong price", at(7, 10, 30))
        .await
        .unwrap();
    // Friday 16:00: a text nobody has answered.
    let (g, _) = text(
        s,
        "+447700900707",
        Channel::Sms,
        "Hello?? anyone there",
        at(7, 16, 0),
    )
    .await;
    (a, a_msg, g)
}

async fn ai_on(s: &Server) {
    let owner = s.login("owner@fixture.test").await;
    let (status, body) = owner
        .put("/api/v1/settings/ai", json!({ "enabled": true }))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn aia1_analytics_figures_match_a_week_built_by_hand() {
    let s = Server::start().await;
    ai_on(&s).await;
    let (conversation, message, waiting) = the_week(&s).await;
    let manager = s.login("manager@fixture.test").await;
    let r = manager.ok(WEEK).await;

    assert_eq!(
        (r["from"].as_str(), r["to"].as_str()),
        (Some("2025-03-03"), Some("2025-03-09"))
    );
    assert_eq!(r["granularity"], "day");
    let v = &r["volume"];
    assert_eq!(v["total"], 8, "{v}");
    assert_eq!(
        v["by_channel"],
        json!({ "sms": 4, "whatsapp": 1, "portal": 0, "voice": 3 })
    );
    assert_eq!(v["points"].as_array().unwrap().len(), 7);
    assert_eq!(
        v["points"][0],
        json!({ "start": "2025-03-03", "sms": 1, "whatsapp": 1, "portal": 0, "voice": 0 })
    );
    assert_eq!(v["previous_total"], 0);
    assert_eq!(v["change_pct"], Value::Null);

    // 20, 40 and 90 business minutes.
    assert_eq!(
        r["first_response"],
        json!({ "answered": 3, "median_minutes": 40, "p90_minutes": 90, "within_hour": 2.0 / 3.0 })
    );
    let staff = r["first_response_by_staff"].as_array().unwrap();
    assert_eq!(staff.len(), 2, "{staff:?}");
    assert_eq!(staff[0]["name"], "Front desk");
    assert_eq!(staff[0]["staff_id"], user::FRONTDESK);
    assert_eq!(
        (
            staff[0]["answered"].as_i64(),
            staff[0]["median_minutes"].as_i64()
        ),
        (Some(2), Some(20))
    );
    assert_eq!(
        (
            staff[1]["name"].as_str(),
            staff[1]["median_minutes"].as_i64()
        ),
        (Some("Manager"), Some(40))
    );

    assert_eq!(
        r["calls"],
        json!({ "answered": 1, "missed": 1, "voicemail": 1, "callbacks": 1,
                "callback_rate": 0.5, "callback_median_minutes": 45 })
    );
    assert_eq!(
        r["approvals"],
        json!({ "approved": 1, "rejected": 1, "median_minutes_to_approve": 12 })
    );

    let cells = &r["busiest_hours"]["cells"];
    let cell = |d: usize, h: usize| cells[d][h].as_i64().unwrap();
    assert_eq!(
        (
            cell(0, 9),
            cell(0, 17),
            cell(1, 10),
            cell(2, 9),
            cell(3, 14),
            cell(3, 15),
            cell(4, 16)
        ),
        (1, 1, 2, 1, 1, 1, 1)
    );
    let all: i64 = cells
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|c| c.as_i64().unwrap())
        .sum();
    assert_eq!(all, 8);
    assert_eq!(r["busiest_hours"]["max"], 2);

    // Five texts, each with the intent its thread shows.
    let i = &r["intents"];
    assert_eq!(i["total"], 5, "{i}");
    assert_eq!(
        (i["corrected"].as_i64(), i["error_rate"].as_f64()),
        (Some(0), Some(0.0))
    );

    // The unanswered Friday text waits; the answered ones do not.
    let items = r["waiting"]["items"].as_array().unwrap();
    assert!(
        items.iter().any(|w| w["conversation_id"] == waiting),
        "{items:?}"
    );
    assert!(items
        .iter()
        .all(|w| w["since"].is_string() && w["title"].is_string()));

    // A correction counts as the classifier's error; correcting it back undoes that.
    let original = manager
        .thread_items(conversation)
        .await
        .into_iter()
        .find(|m| m["id"] == message)
        .unwrap()["intent"]["label"]
        .clone();
    assert!(original.is_string(), "{original}");
    let other = if original == "spam" {
        "booking_request"
    } else {
        "spam"
    };
    let (status, corrected) = manager
        .put(
            &format!("/api/v1/messages/{message}/intent"),
            json!({ "label": other }),
        )
        .await;
    assert_eq!(status, 200, "{corrected}");
    let r2 = manager.ok(WEEK).await;
    assert_eq!(
        (
            r2["intents"]["corrected"].as_i64(),
            r2["intents"]["error_rate"].as_f64()
        ),
        (Some(1), Some(0.2))
    );
    assert_eq!(r2["intents"]["total"], 5);
    let (status, back) = manager
        .put(
            &format!("/api/v1/messages/{message}/intent"),
            json!({ "label": original }),
        )
        .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["intent"]["label"], original);
    assert_eq!(manager.ok(WEEK).await["intents"]["corrected"], 0);

    // What live writes counted is what a rebuild from history counts.
    let before = manager.ok(WEEK).await;
    let all_time = manager.ok("/api/v1/analytics?range=all_time").await;
    s.store.rebuild_analytics(1).await.unwrap();
    assert_eq!(manager.ok(WEEK).await, before);
    assert_eq!(
        manager.ok("/api/v1/analytics?range=all_time").await,
        all_time
    );
}

#[tokio::test]
async fn aia1_analytics_need_ai_on_and_show_per_staff_figures_only_to_managers() {
    let s = Server::start().await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let (status, body) = frontdesk.get(WEEK).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("AI is off"));

    ai_on(&s).await;
    the_week(&s).await;
    let r = frontdesk.ok(WEEK).await;
    assert_eq!(r["first_response"]["answered"], 3);
    assert!(r.get("first_response_by_staff").is_none(), "{r}");
    for key in [
        "volume",
        "first_response",
        "calls",
        "waiting",
        "busiest_hours",
        "intents",
    ] {
        assert!(r.get(key).is_some(), "{key} missing");
    }
    let (status, _) = s.login("mechanic@fixture.test").await.get(WEEK).await;
    assert_eq!(status, 403);

    // `range`, `from` and `to` as for the conversation list.
    for (query, want) in [
        ("range=custom", 422),
        ("range=custom&from=2025-03-09&to=2025-03-03", 422),
        ("range=yesterday", 422),
        ("range=custom&from=2025-13-01&to=2025-03-09", 422),
        ("range=today", 200),
        ("range=this_week", 200),
        ("range=this_month", 200),
        ("range=last_30_days", 200),
        ("", 200),
    ] {
        let (status, body) = frontdesk.get(&format!("/api/v1/analytics?{query}")).await;
        assert_eq!(status.as_u16(), want, "{query}: {body}");
    }
    // Last 30 days by default, in the organisation's zone, ending today (17 June 2026).
    let r = frontdesk.ok("/api/v1/analytics").await;
    assert_eq!(
        (r["from"].as_str(), r["to"].as_str()),
        (Some("2026-05-19"), Some("2026-06-17"))
    );
    // All time starts at the first day anything was counted: the week above.
    let r = frontdesk.ok("/api/v1/analytics?range=all_time").await;
    assert_eq!(r["from"], "2025-03-03");
    assert_eq!(r["granularity"], "month");
    assert_eq!(r["volume"]["previous_total"], Value::Null);

    // Another organisation sees none of it.
    s.db.execute("UPDATE organisations SET ai_enabled = true WHERE id = 2")
        .await;
    let other = s.login("frontdesk@other.test").await;
    let r = other.ok(WEEK).await;
    assert_eq!(r["volume"]["total"], 0);
    assert_eq!(r["first_response"]["answered"], 0);
    assert!(r["waiting"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|w| !w["title"].as_str().unwrap().starts_with("07700 9007")));
}

#[tokio::test]
async fn aia1_opening_hours_are_set_by_the_owner_and_the_figures_follow_them() {
    let s = Server::start().await;
    ai_on(&s).await;
    the_week(&s).await;
    let owner = s.login("owner@fixture.test").await;
    let hours = owner.ok("/api/v1/settings/hours").await;
    assert_eq!(
        hours["days"][0],
        json!({ "open": "08:00:00", "close": "17:30:00" })
    );
    assert_eq!(hours["days"][6], Value::Null);
    assert_eq!(owner.ok(WEEK).await["first_response"]["median_minutes"], 40);

    // Open till six on weekdays: Monday 17:20 → Tuesday 08:30 is now 40 + 30 minutes.
    let day = json!({ "open": "08:00:00", "close": "18:00:00" });
    let longer = json!({ "days": [day, day, day, day, day, null, null] });
    let manager = s.login("manager@fixture.test").await;
    let (status, _) = manager.put("/api/v1/settings/hours", longer.clone()).await;
    assert_eq!(status, 403);
    for bad in [
        json!({ "days": [{ "open": "18:00:00", "close": "08:00:00" }, null, null, null, null, null, null] }),
        json!({ "days": [null, null, null, null, null, null, null] }),
        json!({ "days": [day] }),
    ] {
        let (status, body) = owner.put("/api/v1/settings/hours", bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
    let (status, saved) = owner.put("/api/v1/settings/hours", longer.clone()).await;
    assert_eq!((status.as_u16(), saved), (200, longer.clone()));
    assert_eq!(manager.ok("/api/v1/settings/hours").await, longer);
    let r = owner.ok(WEEK).await;
    assert_eq!(
        r["first_response"]["median_minutes"], 70,
        "{}",
        r["first_response"]
    );
    let audit = owner.ok("/api/v1/audit").await;
    assert_eq!(audit["items"][0]["action"], "settings.hours");
}

#[tokio::test]
async fn aia1_a_missed_call_moved_to_a_customer_is_called_back_there() {
    let s = Server::start().await;
    ai_on(&s).await;
    // A missed call from an unknown number, moved to Alice's conversation, then answered there
    // by a reply: a call-back, counted as a rebuild from history would count it.
    // Today (17 June 2026): missed at 11:30, answered at noon, after everything else today.
    let unknown = call(
        &s,
        "+447700900801",
        CallOutcome::Missed,
        now() - chrono::Duration::minutes(30),
    )
    .await;
    let desk = s.login("frontdesk@fixture.test").await;
    let call_id = desk.thread_items(unknown).await[0]["id"].as_i64().unwrap();
    let (status, moved) = desk
        .post(
            &format!("/api/v1/calls/{call_id}/reassign"),
            json!({ "destination": { "to": "customer", "customer_id": 1 }, "reason": "Alice's work phone" }),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    let alice = moved["to_conversation_id"].as_i64().unwrap();
    reply(&s, user::FRONTDESK, alice, now(), false).await;
    let manager = s.login("manager@fixture.test").await;
    let today = "/api/v1/analytics?range=today";
    let live = manager.ok(today).await;
    assert_eq!(live["calls"]["callbacks"], 1, "{}", live["calls"]);
    assert_eq!(live["calls"]["callback_median_minutes"], 30);
    s.store.rebuild_analytics(1).await.unwrap();
    assert_eq!(manager.ok(today).await, live);
}
