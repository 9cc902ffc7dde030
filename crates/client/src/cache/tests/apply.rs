//! Applying events: idempotence, skipping, atomicity, what `Applied` reports, outbox
//! reconciliation, reference data, and the thread the events build.

use inbox_core::sync::Change;
use inbox_core::{
    Customer, DeliveryStatus, Direction, QuickMessage, TemplateUse, ThreadItem, WhatsappTemplate,
    WorkOrder, WorkOrderStatus,
};

use super::*;
use crate::cache::{CacheError, OutboxEntry, OutboxState};

fn batch(log: &mut Log) -> Vec<Event> {
    vec![
        log.ev(Change::Conversation(summary(1, "Sam Driver", t(0, 9)))),
        log.ev(Change::Message(message(
            10,
            1,
            Direction::Inbound,
            "Is my car ready?",
            t(0, 9),
        ))),
        log.ev(Change::Call(call(20, 1, t(0, 10), Some("call me back")))),
        log.ev(Change::Note(note(30, 1, "promised 4pm", t(0, 11)))),
        log.ev(Change::Conversation(summary(1, "Sam Driver", t(0, 11)))),
    ]
}

#[test]
fn dsk3_applying_the_same_batch_twice_changes_nothing() {
    let mut c = cache();
    let events = batch(&mut Log::default());
    let first = c.apply_events(&events).unwrap();
    assert_eq!(first.cursor, 5);
    assert_eq!(first.skipped, 0);
    let before = dump(&c);
    let second = c.apply_events(&events).unwrap();
    assert_eq!(second.skipped, 5);
    assert_eq!(second.cursor, 5);
    assert!(second.conversations.is_empty() && second.messages.is_empty());
    assert_eq!(dump(&c), before);
}

#[test]
fn dsk3_events_at_or_below_the_cursor_are_skipped() {
    let mut c = cache();
    assert_eq!(c.cursor().unwrap(), None);
    let mut log = Log::default();
    let events = batch(&mut log);
    c.apply_events(&events[..3]).unwrap();
    assert_eq!(c.cursor().unwrap(), Some(3));
    // A reconnect replays from an older cursor: 2 and 3 are skipped, 4 and 5 applied.
    let applied = c.apply_events(&events[1..]).unwrap();
    assert_eq!(applied.skipped, 2);
    assert_eq!(applied.cursor, 5);
    assert_eq!(c.cursor().unwrap(), Some(5));
    // Out of order inside a batch: the older one is skipped too.
    let late = vec![log.ev(Change::Staff(staff(7))), events[0].clone()];
    assert_eq!(c.apply_events(&late).unwrap().skipped, 1);
    // An empty batch leaves a never-synced cache never-synced.
    let mut fresh = cache();
    assert_eq!(fresh.apply_events(&[]).unwrap().cursor, 0);
    assert_eq!(fresh.cursor().unwrap(), None);
}

#[test]
fn dsk3_cursor_and_data_commit_together_when_a_statement_fails() {
    let mut c = cache();
    let mut log = Log::default();
    c.apply_events(&[log.ev(Change::Staff(staff(1)))]).unwrap();
    let before = dump(&c);
    c.conn()
        .execute_batch(
            "CREATE TEMP TRIGGER fail BEFORE INSERT ON notes WHEN NEW.id = 666
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        )
        .unwrap();
    let mut changes: Vec<Change> = batch(&mut Log::default())
        .into_iter()
        .map(|e| e.change)
        .collect();
    changes.insert(3, Change::Note(note(666, 1, "boom", t(0, 10))));
    let events: Vec<_> = changes.into_iter().map(|ch| log.ev(ch)).collect();
    let err = c.apply_events(&events).unwrap_err();
    assert!(matches!(err, CacheError::Sqlite(_)), "{err}");
    assert_eq!(c.cursor().unwrap(), Some(1));
    assert_eq!(c.conversation(1).unwrap(), None);
    assert_eq!(dump(&c), before);

    c.conn().execute_batch("DROP TRIGGER fail").unwrap();
    assert_eq!(c.apply_events(&events).unwrap().cursor, log.seq);
    assert_eq!(c.thread(1, None, 10).unwrap().len(), 4);
}

#[test]
fn dsk3_an_event_the_cache_cannot_store_rolls_back_the_whole_batch() {
    let mut c = cache();
    let mut log = Log::default();
    let mut changes: Vec<Change> = batch(&mut Log::default())
        .into_iter()
        .map(|e| e.change)
        .collect();
    let bad = message(11, 1 << 40, Direction::Inbound, "x", t(0, 9));
    changes.insert(2, Change::Message(bad));
    let events: Vec<_> = changes.into_iter().map(|ch| log.ev(ch)).collect();
    assert!(matches!(
        c.apply_events(&events),
        Err(CacheError::IdOutOfRange(id)) if id == 1 << 40
    ));
    assert_eq!(c.cursor().unwrap(), None);
    assert_eq!(c.thread(1, None, 10).unwrap(), vec![]);
}

#[test]
fn dsk4_new_inbound_and_new_calls_are_reported_on_first_insert_only() {
    let mut c = cache();
    let mut log = Log::default();
    let inbound = message(10, 1, Direction::Inbound, "hello", t(0, 9));
    let outbound = message(11, 1, Direction::Outbound, "hi back", t(0, 10));
    let missed = call(20, 2, t(0, 11), None);
    let applied = c
        .apply_events(&[
            log.ev(Change::Message(inbound.clone())),
            log.ev(Change::Message(outbound.clone())),
            log.ev(Change::Call(missed.clone())),
        ])
        .unwrap();
    assert_eq!(applied.new_inbound, vec![inbound.clone()]);
    assert_eq!(applied.new_calls, vec![missed.clone()]);
    assert_eq!(applied.messages, vec![inbound.clone(), outbound]);
    assert_eq!(applied.conversations, vec![1, 2]);

    // Status updates of the same message and call are not news.
    let mut read = inbound;
    read.status = DeliveryStatus::Read;
    let mut resolved = missed;
    resolved.resolved = true;
    let again = c
        .apply_events(&[
            log.ev(Change::Message(read.clone())),
            log.ev(Change::Call(resolved)),
        ])
        .unwrap();
    assert!(again.new_inbound.is_empty() && again.new_calls.is_empty());
    assert_eq!(again.messages, vec![read]);
}

#[test]
fn lst12_conversations_are_reported_once_in_order_of_first_touch() {
    let mut c = cache();
    let mut log = Log::default();
    let applied = c
        .apply_events(&[
            log.ev(Change::Note(note(1, 3, "a", t(0, 1)))),
            log.ev(Change::Conversation(summary(1, "One", t(0, 2)))),
            log.ev(Change::MessagesRead {
                conversation_id: 3,
                read_at: t(0, 3),
            }),
            log.ev(Change::Staff(staff(4))),
            log.ev(Change::Conversation(summary(2, "Two", t(0, 2)))),
            log.ev(Change::Conversation(summary(1, "One", t(0, 4)))),
        ])
        .unwrap();
    assert_eq!(applied.conversations, vec![3, 1, 2]);
}

#[test]
fn thr7_messages_read_marks_unread_inbound_messages_only() {
    let mut c = cache();
    let mut log = Log::default();
    let unread = message(1, 1, Direction::Inbound, "a", t(0, 1));
    let mut earlier = message(2, 1, Direction::Inbound, "b", t(0, 2));
    earlier.read_at = Some(t(0, 3));
    let outbound = message(3, 1, Direction::Outbound, "c", t(0, 4));
    let elsewhere = message(4, 2, Direction::Inbound, "d", t(0, 5));
    let read_at = t(0, 6) + Duration::milliseconds(123);
    c.apply_events(&[
        log.ev(Change::Message(unread.clone())),
        log.ev(Change::Message(earlier.clone())),
        log.ev(Change::Message(outbound.clone())),
        log.ev(Change::Message(elsewhere.clone())),
        log.ev(Change::MessagesRead {
            conversation_id: 1,
            read_at,
        }),
    ])
    .unwrap();
    let mut want = unread;
    want.read_at = Some(read_at);
    let thread = c.thread(1, None, 10).unwrap();
    assert_eq!(
        thread,
        vec![
            ThreadItem::Message(outbound),
            ThreadItem::Message(earlier),
            ThreadItem::Message(want),
        ]
    );
    assert_eq!(
        c.thread(2, None, 10).unwrap(),
        vec![ThreadItem::Message(elsewhere)]
    );
}

fn entry(client_id: &str, conversation_id: Id, minute: i64) -> OutboxEntry {
    OutboxEntry {
        client_id: client_id.into(),
        conversation_id,
        body: Some("On our way".into()),
        template: None,
        channel: Some(Channel::Sms),
        created_at: t(0, 9) + Duration::minutes(minute),
        state: OutboxState::Queued,
        files: Vec::new(),
    }
}

#[test]
fn dsk5_the_servers_copy_replaces_the_outbox_entry_with_its_client_id() {
    let mut c = cache();
    c.outbox_add(&entry("a", 1, 0)).unwrap();
    c.outbox_add(&entry("b", 1, 1)).unwrap();
    let mut sent = message(10, 1, Direction::Outbound, "On our way", t(0, 9));
    sent.client_id = Some("a".into());
    sent.status = DeliveryStatus::Pending;
    let mut log = Log::default();
    let applied = c
        .apply_events(&[log.ev(Change::Message(sent.clone()))])
        .unwrap();
    assert_eq!(applied.messages, vec![sent.clone()]);
    assert!(applied.new_inbound.is_empty());
    let left: Vec<_> = c
        .outbox_all(1)
        .unwrap()
        .into_iter()
        .map(|e| e.client_id)
        .collect();
    assert_eq!(left, vec!["b"]);
    assert_eq!(
        c.thread(1, None, 5).unwrap(),
        vec![ThreadItem::Message(sent)]
    );
}

#[test]
fn dsk5_a_failed_batch_keeps_the_outbox_entry() {
    let mut c = cache();
    c.outbox_add(&entry("a", 1, 0)).unwrap();
    let mut sent = message(10, 1, Direction::Outbound, "On our way", t(0, 9));
    sent.client_id = Some("a".into());
    let mut log = Log::default();
    let bad = note(1, -5, "x", t(0, 9));
    c.conn()
        .execute_batch(
            "CREATE TEMP TRIGGER fail BEFORE INSERT ON notes
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        )
        .unwrap();
    let events = [log.ev(Change::Message(sent)), log.ev(Change::Note(bad))];
    assert!(c.apply_events(&events).is_err());
    assert_eq!(c.outbox_pending().unwrap(), vec![entry("a", 1, 0)]);
}

#[test]
fn reads_return_exactly_the_structs_that_went_in() {
    let mut c = cache();
    let mut log = Log::default();
    let mut m = message(10, 1, Direction::Outbound, "Your MOT is due", t(0, 9));
    m.channel = Channel::Whatsapp;
    m.template = Some(TemplateUse {
        name: "mot_reminder".into(),
        params: vec!["Sam".into(), "AB12 CDE".into()],
    });
    m.author = Some(staff(3));
    m.client_id = Some("c-1".into());
    m.error = Some("provider said \"no\" — ünïcode".into());
    m.created_at += Duration::nanoseconds(123_456_789);
    m.updated_at = m.created_at + Duration::seconds(5);
    let mut s = summary(1, "Sam Driver", m.updated_at);
    s.assignee = Some(staff(3));
    s.customer_id = Some(77);
    s.unread_count = 2;
    s.work_order = Some(inbox_core::WorkOrderRef {
        id: 5,
        number: "WO-5".into(),
    });
    c.apply_events(&[
        log.ev(Change::Message(m.clone())),
        log.ev(Change::Conversation(s.clone())),
    ])
    .unwrap();
    assert_eq!(c.conversation(1).unwrap(), Some(s));
    assert_eq!(c.thread(1, None, 1).unwrap(), vec![ThreadItem::Message(m)]);
    assert_eq!(c.conversation(2).unwrap(), None);
}

#[test]
fn set1_reference_data_follows_its_events() {
    let mut c = cache();
    let mut log = Log::default();
    let q = |id, name: &str| QuickMessage {
        id,
        name: name.into(),
        body: format!("{name} body"),
    };
    let template = WhatsappTemplate {
        id: 1,
        name: "mot_reminder".into(),
        language: "en_GB".into(),
        body: "Hi {{1}}".into(),
        param_count: 1,
        header: None,
    };
    let customer = Customer {
        id: 9,
        name: "Sam Driver".into(),
        phones: vec!["+447700900123".into()],
        email: None,
    };
    let wo = WorkOrder {
        id: 4,
        number: "WO-4".into(),
        status: WorkOrderStatus::Active,
        vehicle_registration: "AB12 CDE".into(),
        description: "Brakes".into(),
        customer_id: 9,
        customer_name: "Sam Driver".into(),
    };
    c.apply_events(&[
        log.ev(Change::QuickMessage(q(1, "ready"))),
        log.ev(Change::QuickMessage(q(2, "Booked"))),
        log.ev(Change::QuickMessage(q(3, "delay"))),
        log.ev(Change::QuickMessageDeleted { id: 3 }),
        log.ev(Change::Template(template.clone())),
        log.ev(Change::Staff(staff(2))),
        log.ev(Change::Staff(StaffRef {
            id: 1,
            name: "Alex".into(),
        })),
        log.ev(Change::Customer(customer.clone())),
        log.ev(Change::WorkOrder(wo.clone())),
    ])
    .unwrap();
    assert_eq!(
        c.quick_messages().unwrap(),
        vec![q(2, "Booked"), q(1, "ready")]
    );
    assert_eq!(c.templates().unwrap(), vec![template]);
    let names: Vec<_> = c.staff().unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, vec!["Alex", "Staff 2"]);
    assert_eq!(c.customer(9).unwrap(), Some(customer));
    assert_eq!(c.work_order(4).unwrap(), Some(wo));
}

#[test]
fn set1_a_deleted_template_leaves_the_cache_and_its_name_can_return() {
    let mut c = cache();
    let mut log = Log::default();
    let t = |id, name: &str, language: &str| WhatsappTemplate {
        id,
        name: name.into(),
        language: language.into(),
        body: "Hi {{1}}".into(),
        param_count: 1,
        header: None,
    };
    c.apply_events(&[
        log.ev(Change::Template(t(1, "vehicle_ready", "en_GB"))),
        log.ev(Change::Template(t(2, "vehicle_ready", "en"))),
        log.ev(Change::Template(t(3, "mot_reminder", "en_GB"))),
        log.ev(Change::TemplateDeleted { id: 1 }),
        // Deleting what the cache never held (or already dropped) is harmless.
        log.ev(Change::TemplateDeleted { id: 1 }),
        log.ev(Change::TemplateDeleted { id: 99 }),
        // The same name and language under a new id, as the server allows after a delete.
        log.ev(Change::Template(t(4, "vehicle_ready", "en_GB"))),
    ])
    .unwrap();
    assert_eq!(
        c.templates().unwrap(),
        vec![
            t(3, "mot_reminder", "en_GB"),
            t(2, "vehicle_ready", "en"),
            t(4, "vehicle_ready", "en_GB"),
        ]
    );
}

#[test]
fn voi6_a_moved_call_leaves_its_old_thread_and_search() {
    let mut c = cache();
    let mut log = Log::default();
    let first = call(20, 1, t(0, 9), Some("gearbox noise"));
    c.apply_events(&[
        log.ev(Change::Conversation(summary(1, "Anonymous", t(0, 9)))),
        log.ev(Change::Conversation(summary(2, "Sam Driver", t(-3, 9)))),
        log.ev(Change::Call(first.clone())),
    ])
    .unwrap();
    let mut moved = first;
    moved.conversation_id = 2;
    let applied = c
        .apply_events(&[log.ev(Change::Call(moved.clone()))])
        .unwrap();
    assert_eq!(applied.conversations, vec![1, 2]);
    assert!(applied.new_calls.is_empty());
    assert_eq!(c.thread(1, None, 10).unwrap(), vec![]);
    assert_eq!(
        c.thread(2, None, 10).unwrap(),
        vec![ThreadItem::Call(moved)]
    );
    let found = super::list::search_ids(&c, "gearbox");
    assert_eq!(found, vec![2]);
}

#[test]
fn lst12_a_thread_item_moves_its_conversation_forward_until_the_row_follows() {
    let mut c = cache();
    let mut log = Log::default();
    c.apply_events(&[log.ev(Change::Conversation(summary(1, "Sam", t(-40, 9))))])
        .unwrap();
    c.apply_events(&[log.ev(Change::Note(note(1, 1, "chased parts", t(0, 9))))])
        .unwrap();
    assert_eq!(
        c.conversation(1).unwrap().unwrap().last_activity_at,
        t(0, 9)
    );
}

#[test]
fn thr6_thread_pages_newest_first_with_ties_by_kind_then_id() {
    let mut c = cache();
    let mut log = Log::default();
    let same = t(0, 9);
    let events: Vec<_> = [
        Change::Note(note(5, 1, "n", same)),
        Change::Call(call(6, 1, same, None)),
        Change::Message(message(8, 1, Direction::Inbound, "m8", same)),
        Change::Message(message(7, 1, Direction::Inbound, "m7", same)),
        Change::Message(message(9, 1, Direction::Inbound, "old", t(0, 8))),
    ]
    .into_iter()
    .map(|ch| log.ev(ch))
    .collect();
    c.apply_events(&events).unwrap();
    let keys = |items: &[ThreadItem]| -> Vec<(u8, Id)> {
        items
            .iter()
            .map(|i| {
                let (_, k, id) = crate::cache::thread_key(i);
                (k, id)
            })
            .collect()
    };
    let first = c.thread(1, None, 3).unwrap();
    assert_eq!(keys(&first), vec![(2, 5), (1, 6), (0, 8)]);
    let before = crate::cache::thread_key(first.last().unwrap());
    let rest = c.thread(1, Some(before), 3).unwrap();
    assert_eq!(keys(&rest), vec![(0, 7), (0, 9)]);
}

#[test]
fn thr6_fetched_pages_fill_gaps_but_never_undo_newer_events() {
    let mut c = cache();
    let mut log = Log::default();
    let mut delivered = message(1, 1, Direction::Outbound, "hi", t(0, 9));
    delivered.updated_at = t(0, 10);
    let mut stale = delivered.clone();
    stale.status = DeliveryStatus::Sent;
    stale.updated_at = t(0, 9);
    let resolved = inbox_core::Call {
        resolved: true,
        ..call(2, 1, t(0, 8), None)
    };
    c.apply_events(&[
        log.ev(Change::Message(delivered.clone())),
        log.ev(Change::Call(resolved.clone())),
    ])
    .unwrap();
    let older = message(3, 1, Direction::Inbound, "earlier", t(0, 7));
    c.store_thread_items(&[
        ThreadItem::Message(stale),
        ThreadItem::Call(call(2, 1, t(0, 8), None)),
        ThreadItem::Message(older.clone()),
    ])
    .unwrap();
    assert_eq!(
        c.thread(1, None, 10).unwrap(),
        vec![
            ThreadItem::Message(delivered.clone()),
            ThreadItem::Call(resolved),
            ThreadItem::Message(older),
        ]
    );
    // A fetched copy that is newer than the cache's (the cache is behind) is taken.
    let mut read = delivered;
    read.status = DeliveryStatus::Read;
    read.updated_at = t(0, 11);
    c.store_thread_items(&[ThreadItem::Message(read.clone())])
        .unwrap();
    assert_eq!(
        c.thread(1, None, 1).unwrap(),
        vec![ThreadItem::Message(read)]
    );
    assert_eq!(c.cursor().unwrap(), Some(2));
}

#[test]
fn thr2_the_whatsapp_window_starts_from_the_latest_inbound_whatsapp_message() {
    let mut c = cache();
    let mut log = Log::default();
    let whatsapp = |id, direction, at| Message {
        channel: Channel::Whatsapp,
        ..message(id, 1, direction, "hi", at)
    };
    c.apply_events(&[log.ev(Change::Conversation(summary(1, "Sam Driver", t(0, 9))))])
        .unwrap();
    assert_eq!(c.channel_activity(1, Channel::Whatsapp).unwrap(), None);
    c.apply_events(&[
        log.ev(Change::Message(message(
            9,
            1,
            Direction::Inbound,
            "sms",
            t(0, 12),
        ))),
        log.ev(Change::Message(whatsapp(10, Direction::Outbound, t(0, 9)))),
    ])
    .unwrap();
    assert_eq!(
        c.channel_activity(1, Channel::Whatsapp).unwrap(),
        Some(None),
        "WhatsApp used, but the customer never wrote on it"
    );
    c.apply_events(&[
        log.ev(Change::Message(whatsapp(11, Direction::Inbound, t(0, 10)))),
        log.ev(Change::Message(whatsapp(12, Direction::Inbound, t(0, 11)))),
        log.ev(Change::Message(whatsapp(13, Direction::Outbound, t(0, 13)))),
    ])
    .unwrap();
    assert_eq!(
        c.channel_activity(1, Channel::Whatsapp).unwrap(),
        Some(Some(t(0, 11)))
    );
}

#[test]
fn dsk3_a_hole_in_the_log_is_refused_not_skipped() {
    let mut c = cache();
    let mut log = Log::default();
    let events = batch(&mut log);
    c.apply_events(&events[..2]).unwrap();
    let before = dump(&c);
    let err = c.apply_events(&events[3..]).unwrap_err();
    assert!(
        matches!(
            err,
            CacheError::Gap {
                expected: 3,
                got: 4
            }
        ),
        "{err}"
    );
    assert_eq!(
        c.cursor().unwrap(),
        Some(2),
        "the cursor does not pass the hole"
    );
    assert_eq!(dump(&c), before, "nothing of the batch is applied");
    assert_eq!(c.apply_events(&events[2..]).unwrap().cursor, 5);
}
