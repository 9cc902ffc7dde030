//! The conversation list: ranges, filters, counts, search, paging (LST-2 … LST-11).

use crate::support::{conv::*, counts, user, Server, ALICE_PHONE};
use inbox_core::providers::Provider;

const ALL_IDS: i64 = 7 + OLD_COUNT;

/// (all, unread, unassigned, mine)
type Counts = (u64, u64, u64, u64);

#[tokio::test]
async fn lst4_every_range_and_filter_counts_match_the_fixture() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    // (range, expected ids newest first, (all, unread, unassigned, mine))
    let cases: &[(&str, &[i64], Counts)] = &[
        ("today", &[DAN, ALICE], (2, 1, 0, 2)),
        ("this_week", &[DAN, ALICE, BOB], (3, 1, 1, 2)),
        ("this_month", &[DAN, ALICE, BOB, CAROL], (4, 1, 1, 2)),
        (
            "last_30_days",
            &[DAN, ALICE, BOB, CAROL, UNKNOWN_CALLER],
            (5, 2, 2, 2),
        ),
    ];
    for (range, ids, expected) in cases {
        let (got, cs) = c.ids(&format!("range={range}")).await;
        assert_eq!(&got, ids, "{range}");
        assert_eq!(counts(&cs), *expected, "{range}");
    }
    let (got, cs) = c.ids("range=all_time").await;
    assert_eq!(counts(&cs), (ALL_IDS as u64, 2, 4 + OLD_COUNT as u64, 2));
    assert_eq!(
        &got[..7],
        &[DAN, ALICE, BOB, CAROL, UNKNOWN_CALLER, EVE, WITHHELD]
    );

    let (unread, _) = c.ids("range=last_30_days&filter=unread").await;
    assert_eq!(
        unread,
        vec![ALICE, UNKNOWN_CALLER],
        "VOI-7: an unresolved call counts as unread"
    );
    let (unassigned, _) = c.ids("range=last_30_days&filter=unassigned").await;
    assert_eq!(unassigned, vec![BOB, UNKNOWN_CALLER]);
    let (mine, _) = c.ids("range=all_time&filter=mine").await;
    assert_eq!(mine, vec![DAN, ALICE]);
    let manager = s.login("manager@fixture.test").await;
    let (mine, cs) = manager.ids("range=all_time&filter=mine").await;
    assert_eq!(mine, vec![CAROL]);
    assert_eq!(counts(&cs).3, 1, "Mine is per user");
}

#[tokio::test]
async fn lst6_default_range_is_last_30_days() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    assert_eq!(
        c.ids("").await,
        c.ids("range=last_30_days&filter=all").await
    );
}

#[tokio::test]
async fn lst9_any_activity_old_thread_with_new_note_is_today_and_custom_ranges_probe_history() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let (today, _) = c.ids("range=today").await;
    assert!(
        today.contains(&DAN),
        "Dan's thread is 90 days old but has a note today"
    );
    // Custom ranges are inclusive local dates; Dan also had activity in March.
    let (march, cs) = c.ids("range=custom&from=2026-03-01&to=2026-03-31").await;
    assert_eq!(march, vec![DAN]);
    assert_eq!(counts(&cs), (1, 0, 0, 1));
    let (june_first_week, _) = c.ids("range=custom&from=2026-06-01&to=2026-06-07").await;
    assert_eq!(june_first_week, vec![CAROL]);
    let (may, _) = c.ids("range=custom&from=2026-05-01&to=2026-05-31").await;
    assert_eq!(may, vec![UNKNOWN_CALLER, EVE]);
    // A single day: 6 June holds nothing, 7 June holds Carol's exchange.
    assert_eq!(
        c.ids("range=custom&from=2026-06-06&to=2026-06-06").await.0,
        Vec::<i64>::new()
    );
    assert_eq!(
        c.ids("range=custom&from=2026-06-07&to=2026-06-07").await.0,
        vec![CAROL]
    );
}

#[tokio::test]
async fn lst9_new_inbound_activity_moves_a_conversation_into_today() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    assert!(!c.ids("range=today").await.0.contains(&EVE));
    s.store
        .ingest_message(
            1,
            inbox_server::store::NewInbound {
                attachments: Vec::new(),
                uploads: Vec::new(),
                channel: inbox_core::Channel::Sms,
                from_number: Some("+447700900105".into()),
                customer_id: None,
                body: "Hello again".into(),
                provider: Provider::Twilio,
                provider_id: "SM0001".into(),
                at: crate::support::now() - chrono::Duration::minutes(5),
            },
        )
        .await
        .unwrap();
    let (today, cs) = c.ids("range=today").await;
    assert_eq!(
        today,
        vec![EVE, DAN, ALICE],
        "LST-12: new activity bubbles to the top"
    );
    assert_eq!(counts(&cs), (3, 2, 1, 2));
}

#[tokio::test]
async fn lst2_search_ignores_the_range_and_matches_names_numbers_text_and_transcripts() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let cases: &[(&str, &[i64])] = &[
        ("Evans", &[EVE]),
        ("eve", &[EVE]),
        ("dan dare", &[DAN]),
        ("07700 900555", &[UNKNOWN_CALLER]),
        ("+44 7700 900555", &[UNKNOWN_CALLER]),
        ("447700900555", &[UNKNOWN_CALLER]),
        ("(07700) 900-101", &[ALICE]),
        ("brake pads", &[CAROL]),
        ("windscreen", &[WITHHELD]),
        ("nothing-matches-this", &[]),
    ];
    for (q, ids) in cases {
        let q_enc: String = q
            .chars()
            .map(|ch| match ch {
                ' ' => "%20".to_string(),
                '+' => "%2B".to_string(),
                c => c.to_string(),
            })
            .collect();
        let (got, cs) = c.ids(&format!("range=today&q={q_enc}")).await;
        assert_eq!(&got, ids, "search {q:?}");
        assert_eq!(
            counts(&cs).0,
            ids.len() as u64,
            "counts follow the search: {q:?}"
        );
    }
    let _ = ALICE_PHONE;
}

#[tokio::test]
async fn lst11_pages_of_50_with_a_cursor_cover_everything_once() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let first = c.ok("/api/v1/conversations?range=all_time").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 50);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let second = c
        .ok(&format!(
            "/api/v1/conversations?range=all_time&cursor={cursor}"
        ))
        .await;
    let rest = second["items"].as_array().unwrap();
    assert_eq!(rest.len() as i64, ALL_IDS - 50);
    assert!(second["next_cursor"].is_null());
    let mut all: Vec<i64> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest)
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    let times: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest)
        .map(|c| c["last_activity_at"].as_str().unwrap().to_string())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first across pages"
    );
    all.sort();
    all.dedup();
    assert_eq!(all.len() as i64, ALL_IDS, "no row repeated or skipped");
}

#[tokio::test]
async fn thr7_mark_read_moves_the_unread_count() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    assert_eq!(counts(&c.ids("range=last_30_days").await.1).1, 2);
    let (status, summary) = c
        .post(
            &format!("/api/v1/conversations/{ALICE}/read"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(summary["unread_count"], 0);
    assert_eq!(counts(&c.ids("range=last_30_days").await.1).1, 1);
    // Read for everyone (THR-7), not just for the reader.
    let manager = s.login("manager@fixture.test").await;
    assert_eq!(
        manager.ids("range=last_30_days&filter=unread").await.0,
        vec![UNKNOWN_CALLER]
    );
}

#[tokio::test]
async fn sdb4_assignment_moves_mine_and_unassigned_counts() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let before = counts(&c.ids("range=last_30_days").await.1);
    let (status, summary) = c
        .put(
            &format!("/api/v1/conversations/{BOB}/assignee"),
            serde_json::json!({ "user_id": user::FRONTDESK }),
        )
        .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["assignee"]["id"], user::FRONTDESK);
    let after = counts(&c.ids("range=last_30_days").await.1);
    assert_eq!((after.2, after.3), (before.2 - 1, before.3 + 1));
    let (status, _) = c
        .put(
            &format!("/api/v1/conversations/{BOB}/assignee"),
            serde_json::json!({ "user_id": null }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(counts(&c.ids("range=last_30_days").await.1), before);
    // Someone of another organisation cannot be assigned.
    let (status, _) = c
        .put(
            &format!("/api/v1/conversations/{BOB}/assignee"),
            serde_json::json!({ "user_id": user::OTHER_FRONTDESK }),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn list_rejects_bad_parameters_with_reasons() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    for q in [
        "range=yesterday",
        "filter=starred",
        "range=custom",
        "range=custom&from=2026-06-10&to=2026-06-01",
        "range=custom&from=10/06/2026&to=2026-06-11",
        "cursor=bogus",
    ] {
        let (status, body) = c.get(&format!("/api/v1/conversations?{q}")).await;
        assert_eq!(status, 422, "{q}: {body}");
        assert_eq!(body["error"]["code"], "invalid", "{q}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
}
