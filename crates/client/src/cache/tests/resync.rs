//! Snapshot resync, sign-out wipe (ACC-3), settings, the outbox table (DSK-5) and bulk loads.

use inbox_core::api::ListFilter;
use inbox_core::range::UtcInterval;
use inbox_core::sync::{Change, Snapshot};
use inbox_core::{Direction, QuickMessage, ThreadItem};

use super::list::search_ids;
use super::*;
use crate::cache::{LocalQuery, LocalScope, OutboxEntry, OutboxState};

fn entry(client_id: &str, minute: i64) -> OutboxEntry {
    OutboxEntry {
        client_id: client_id.into(),
        conversation_id: 1,
        body: Some("On our way".into()),
        template: None,
        channel: None,
        created_at: t(0, 9) + Duration::minutes(minute),
        state: OutboxState::Queued,
        files: Vec::new(),
    }
}

fn quick(id: Id) -> QuickMessage {
    QuickMessage {
        id,
        name: format!("q{id}"),
        body: "b".into(),
    }
}

/// A cache with two synced conversations, threads, reference data, a setting and an outbox entry.
fn used() -> Cache {
    let mut c = cache();
    let mut log = Log::default();
    let events: Vec<_> = [
        Change::Conversation(summary(1, "Sam Driver", t(0, 9))),
        Change::Conversation(summary(2, "Alex Smith", t(0, 8))),
        Change::Message(message(10, 2, Direction::Inbound, "brake pads", t(0, 8))),
        Change::Note(note(11, 1, "n", t(0, 9))),
        Change::QuickMessage(quick(1)),
        Change::Staff(staff(1)),
    ]
    .into_iter()
    .map(|ch| log.ev(ch))
    .collect();
    c.apply_events(&events).unwrap();
    c.set_setting("range", "today").unwrap();
    c.outbox_add(&entry("a", 0)).unwrap();
    c
}

fn all_ids(c: &Cache) -> Vec<Id> {
    c.list(&LocalQuery {
        scope: LocalScope::Range(UtcInterval::UNBOUNDED),
        filter: ListFilter::All,
        after: None,
        me: 1,
    })
    .unwrap()
    .items
    .iter()
    .map(|s| s.id)
    .collect()
}

#[test]
fn dsk3_snapshot_resync_wipes_then_rebuilds_but_keeps_settings_and_outbox() {
    let mut c = used();
    let first = Snapshot {
        seq: 50,
        customers: vec![],
        conversations: vec![
            summary(2, "Alex Smith", t(0, 10)),
            summary(3, "Kim Lee", t(0, 7)),
        ],
        next_after: Some(3),
        items: vec![ThreadItem::Message(message(
            40,
            3,
            Direction::Inbound,
            "tyre quote",
            t(0, 7),
        ))],
        quick_messages: vec![quick(9)],
        templates: vec![],
        staff: vec![staff(8)],
    };
    c.apply_snapshot_page(&first, true, false).unwrap();
    // Interrupted here, the next start must resync again.
    assert_eq!(c.cursor().unwrap(), None);
    // Read later, so its seq is newer: the cursor still resumes from the first page's.
    let last = Snapshot {
        seq: 57,
        conversations: vec![summary(4, "Jo Bloggs", t(0, 6))],
        next_after: None,
        items: vec![],
        customers: vec![],
        quick_messages: vec![],
        templates: vec![],
        staff: vec![],
    };
    c.apply_snapshot_page(&last, false, true).unwrap();
    assert_eq!(c.cursor().unwrap(), Some(50));
    assert_eq!(all_ids(&c), vec![2, 3, 4]);
    assert_eq!(c.thread(2, None, 10).unwrap(), vec![]);
    assert_eq!(c.thread(1, None, 10).unwrap(), vec![]);
    assert_eq!(c.quick_messages().unwrap(), vec![quick(9)]);
    assert_eq!(c.staff().unwrap(), vec![staff(8)]);
    assert_eq!(search_ids(&c, "brake"), Vec::<Id>::new());
    assert_eq!(search_ids(&c, "sam"), Vec::<Id>::new());
    assert_eq!(search_ids(&c, "kim"), vec![3]);
    assert_eq!(search_ids(&c, "tyre"), vec![3]);
    assert_eq!(c.thread(3, None, 10).unwrap().len(), 1);
    assert_eq!(c.setting("range").unwrap().as_deref(), Some("today"));
    assert_eq!(c.outbox_pending().unwrap(), vec![entry("a", 0)]);
    // Events after the snapshot's seq apply on top of it.
    let mut log = Log { seq: 50 };
    let applied = c
        .apply_events(&[log.ev(Change::Conversation(summary(5, "New", t(0, 11))))])
        .unwrap();
    assert_eq!(applied.cursor, 51);
    assert_eq!(all_ids(&c), vec![5, 2, 3, 4]);
}

#[test]
fn acc3_wipe_empties_everything_but_keeps_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite");
    let mut c = Cache::open(&path).unwrap();
    let empty = dump(&c);
    let mut log = Log::default();
    c.apply_events(&[
        log.ev(Change::Conversation(summary(1, "Sam Driver", t(0, 9)))),
        log.ev(Change::Message(message(
            10,
            1,
            Direction::Inbound,
            "hi",
            t(0, 9),
        ))),
    ])
    .unwrap();
    c.set_setting("range", "today").unwrap();
    c.outbox_add(&entry("a", 0)).unwrap();
    c.wipe().unwrap();
    assert_eq!(dump(&c), empty);
    assert_eq!(c.cursor().unwrap(), None);
    assert_eq!(c.setting("range").unwrap(), None);
    assert!(c.outbox_pending().unwrap().is_empty());
    assert!(all_ids(&c).is_empty());
    assert_eq!(search_ids(&c, "sam"), Vec::<Id>::new());
    drop(c);
    assert!(path.exists());
    let reopened = Cache::open(&path).unwrap();
    assert_eq!(dump(&reopened), empty);
}

#[test]
fn lst7_settings_are_stored_replaced_and_removed() {
    let mut c = cache();
    assert_eq!(c.setting("range").unwrap(), None);
    c.set_setting("range", "today").unwrap();
    c.set_setting("range", "this_week").unwrap();
    assert_eq!(c.setting("range").unwrap().as_deref(), Some("this_week"));
    c.remove_setting("range").unwrap();
    assert_eq!(c.setting("range").unwrap(), None);
}

#[test]
fn dsk5_outbox_keeps_entries_in_order_and_ignores_duplicates() {
    let mut c = cache();
    c.outbox_add(&entry("b", 2)).unwrap();
    c.outbox_add(&entry("a", 1)).unwrap();
    let mut dup = entry("a", 5);
    dup.body = Some("changed".into());
    c.outbox_add(&dup).unwrap();
    let mut other = entry("c", 0);
    other.conversation_id = 2;
    c.outbox_add(&other).unwrap();
    assert_eq!(c.outbox_all(1).unwrap(), vec![entry("a", 1), entry("b", 2)]);
    let pending: Vec<_> = c
        .outbox_pending()
        .unwrap()
        .into_iter()
        .map(|e| e.client_id)
        .collect();
    assert_eq!(pending, vec!["c", "a", "b"]);

    let refused = OutboxState::Refused {
        reason: "outside the WhatsApp window".into(),
    };
    c.outbox_set_state("a", &refused).unwrap();
    c.outbox_set_state("b", &OutboxState::Accepted { message_id: 77 })
        .unwrap();
    c.outbox_set_state("gone", &OutboxState::Queued).unwrap();
    let pending: Vec<_> = c
        .outbox_pending()
        .unwrap()
        .into_iter()
        .map(|e| e.client_id)
        .collect();
    assert_eq!(pending, vec!["c"]);
    let states: Vec<_> = c
        .outbox_all(1)
        .unwrap()
        .into_iter()
        .map(|e| e.state)
        .collect();
    assert_eq!(
        states,
        vec![refused, OutboxState::Accepted { message_id: 77 }]
    );
    c.outbox_set_state("a", &OutboxState::Queued).unwrap();
    assert_eq!(c.outbox_pending().unwrap().len(), 2);
    c.outbox_remove("a").unwrap();
    assert_eq!(c.outbox_all(1).unwrap().len(), 1);
    let wire = serde_json::to_value(OutboxState::Refused { reason: "r".into() }).unwrap();
    assert_eq!(
        wire,
        serde_json::json!({ "state": "refused", "reason": "r" })
    );
}

#[test]
fn dsk2_a_bulk_load_equals_storing_row_by_row() {
    let mut anon = vec![
        summary(1, "Sam Driver", t(0, 9)),
        summary(2, "07700 900123", t(0, 8)),
    ];
    anon[1].caller_number = Some("+447700900123".into());
    let items = vec![
        ThreadItem::Message(message(10, 1, Direction::Inbound, "brake pads", t(0, 9))),
        ThreadItem::Call(call(11, 2, t(0, 8), Some("exhaust rattle"))),
        ThreadItem::Note(note(12, 2, "n", t(0, 8))),
        ThreadItem::Message(message(13, 2, Direction::Outbound, "", t(0, 7))),
    ];
    let mut bulk = cache();
    let changes = anon
        .iter()
        .cloned()
        .map(Change::Conversation)
        .chain(items.iter().cloned().map(|i| match i {
            ThreadItem::Message(m) => Change::Message(m),
            ThreadItem::Call(c) => Change::Call(c),
            ThreadItem::Note(n) => Change::Note(n),
        }));
    bulk.bulk_load(changes).unwrap();
    let mut by_row = cache();
    let page = Snapshot {
        seq: 1,
        conversations: anon,
        next_after: None,
        items: vec![],
        customers: vec![],
        quick_messages: vec![],
        templates: vec![],
        staff: vec![],
    };
    by_row.apply_snapshot_page(&page, true, false).unwrap();
    by_row.store_thread_items(&items).unwrap();
    assert_eq!(bulk.cursor().unwrap(), None);
    // The row-by-row cache is mid-resync; apart from that bookkeeping the two are identical.
    let without_meta = |c: &Cache| -> Vec<String> {
        dump(c)
            .into_iter()
            .filter(|r| !r.starts_with("Text(\"meta\")|Text(\"resync"))
            .collect()
    };
    assert_eq!(without_meta(&bulk), without_meta(&by_row));
    assert_eq!(search_ids(&bulk, "exhaust"), vec![2]);
    assert_eq!(search_ids(&bulk, "07700900123"), vec![2]);
    assert_eq!(bulk.thread(2, None, 10).unwrap().len(), 3);
}
