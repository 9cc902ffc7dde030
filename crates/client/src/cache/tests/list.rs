//! The local list: filters and counts (LST-4), range rules with any activity (LST-3, LST-9),
//! paging (LST-11), search (LST-2) and the unread badge.

use inbox_core::api::{ConversationPage, Counts, ListFilter, PAGE_SIZE};
use inbox_core::range::{self, RangePreset, UtcInterval};
use inbox_core::sync::Change;
use inbox_core::{Customer, Direction};

use super::*;
use crate::cache::{encode_list_cursor, parse_list_cursor, LocalQuery, LocalScope};

const ME: Id = 5;

fn interval(start: DateTime<Utc>, end: DateTime<Utc>) -> LocalScope {
    LocalScope::Range(UtcInterval {
        start: Some(start),
        end: Some(end),
    })
}

fn page(c: &Cache, scope: LocalScope, filter: ListFilter) -> ConversationPage {
    c.list(&LocalQuery {
        scope,
        filter,
        after: None,
        me: ME,
    })
    .unwrap()
}

fn ids(p: &ConversationPage) -> Vec<Id> {
    p.items.iter().map(|s| s.id).collect()
}

/// Conversation ids a search finds, all time, newest first.
pub(in crate::cache::tests) fn search_ids(c: &Cache, q: &str) -> Vec<Id> {
    ids(&page(c, LocalScope::Search(q.into()), ListFilter::All))
}

fn apply(c: &mut Cache, log: &mut Log, changes: Vec<Change>) {
    let events: Vec<_> = changes.into_iter().map(|ch| log.ev(ch)).collect();
    c.apply_events(&events).unwrap();
}

/// 1 unread+unassigned, 2 missed call+mine, 3 someone else's, 4 read+unassigned (all today);
/// 5 mine, read, 40 days old.
fn inbox() -> Cache {
    let mut c = cache();
    let mut rows = vec![
        summary(1, "One", t(0, 9)),
        summary(2, "Two", t(0, 10)),
        summary(3, "Three", t(0, 11)),
        summary(4, "Four", t(0, 12)),
        summary(5, "Five", t(-40, 12)),
    ];
    rows[0].unread_count = 2;
    rows[1].unresolved_calls = 1;
    rows[1].assignee = Some(staff(ME));
    rows[2].assignee = Some(staff(6));
    rows[4].assignee = Some(staff(ME));
    apply(
        &mut c,
        &mut Log::default(),
        rows.into_iter().map(Change::Conversation).collect(),
    );
    c
}

#[test]
fn lst4_every_filter_selects_its_rows_and_counts_ignore_the_filter() {
    let c = inbox();
    let today = interval(t(0, 0), t(1, 0));
    let want = Counts {
        all: 4,
        unread: 2,
        unassigned: 2,
        mine: 1,
    };
    for (filter, rows) in [
        (ListFilter::All, vec![4, 3, 2, 1]),
        (ListFilter::Unread, vec![2, 1]),
        (ListFilter::Unassigned, vec![4, 1]),
        (ListFilter::Mine, vec![2]),
    ] {
        let p = page(&c, today.clone(), filter);
        assert_eq!(ids(&p), rows, "{filter:?}");
        assert_eq!(p.counts, want, "{filter:?}");
        assert_eq!(p.next_cursor, None);
    }
    let all_time = page(
        &c,
        LocalScope::Range(UtcInterval::UNBOUNDED),
        ListFilter::Mine,
    );
    assert_eq!(ids(&all_time), vec![2, 5]);
    assert_eq!(all_time.counts.all, 5);
    assert_eq!(all_time.counts.mine, 2);
    assert_eq!(c.unread_conversations().unwrap(), 2);
}

#[test]
fn lst9_a_conversation_with_activity_inside_the_range_is_in_it() {
    let mut c = cache();
    let mut log = Log::default();
    apply(
        &mut c,
        &mut log,
        vec![
            // Active yesterday and again today.
            Change::Message(message(1, 1, Direction::Inbound, "a", t(-1, 10))),
            Change::Conversation(summary(1, "Both days", t(0, 10))),
            // Only today.
            Change::Conversation(summary(2, "Today only", t(0, 11))),
            // Last active two days ago.
            Change::Conversation(summary(3, "Before", t(-2, 11))),
            // Its row moved on yesterday, then again today.
            Change::Conversation(summary(4, "Row history", t(-1, 12))),
            Change::Conversation(summary(4, "Row history", t(0, 12))),
        ],
    );
    let yesterday = page(&c, interval(t(-1, 0), t(0, 0)), ListFilter::All);
    assert_eq!(ids(&yesterday), vec![4, 1]);
    assert_eq!(yesterday.counts.all, 2);
    let today = page(&c, interval(t(0, 0), t(1, 0)), ListFilter::All);
    assert_eq!(ids(&today), vec![4, 2, 1]);
    // The start bound alone: last activity decides.
    let since = LocalScope::Range(UtcInterval {
        start: Some(t(-1, 0)),
        end: None,
    });
    assert_eq!(ids(&page(&c, since, ListFilter::All)), vec![4, 2, 1]);
    // The end bound alone: anything with activity before it.
    let until = LocalScope::Range(UtcInterval {
        start: None,
        end: Some(t(0, 0)),
    });
    assert_eq!(ids(&page(&c, until, ListFilter::All)), vec![4, 1, 3]);
}

#[test]
fn lst9_an_old_conversation_with_a_new_note_today_is_in_today() {
    let mut c = cache();
    let mut log = Log::default();
    apply(
        &mut c,
        &mut log,
        vec![Change::Conversation(summary(1, "Old", t(-60, 9)))],
    );
    let now = t(0, 15);
    let today = range::resolve(
        RangePreset::Today,
        None,
        now,
        range::parse_time_zone("Europe/London").unwrap(),
    )
    .unwrap();
    assert_eq!(
        ids(&page(&c, LocalScope::Range(today), ListFilter::All)),
        Vec::<Id>::new()
    );
    // The note alone already counts; the server's row event that follows agrees.
    apply(
        &mut c,
        &mut log,
        vec![Change::Note(note(1, 1, "rang", t(0, 14)))],
    );
    assert_eq!(
        ids(&page(&c, LocalScope::Range(today), ListFilter::All)),
        vec![1]
    );
    let mut row = summary(1, "Old", t(0, 14));
    row.preview = "rang".into();
    apply(&mut c, &mut log, vec![Change::Conversation(row)]);
    let p = page(&c, LocalScope::Range(today), ListFilter::All);
    assert_eq!(ids(&p), vec![1]);
    assert_eq!(p.counts.all, 1);
}

#[test]
fn lst11_paging_past_50_visits_every_row_once_in_order() {
    let mut c = cache();
    let mut log = Log::default();
    // 130 rows; every three share an instant, so ties are broken by id.
    let rows: Vec<_> = (1..=130)
        .map(|id| {
            let mut s = summary(id, "x", t(0, 0) + Duration::minutes(id / 3));
            if id % 2 == 0 {
                s.assignee = Some(staff(ME));
            }
            Change::Conversation(s)
        })
        .collect();
    apply(&mut c, &mut log, rows);
    for (filter, total) in [(ListFilter::All, 130), (ListFilter::Mine, 65)] {
        let mut seen: Vec<ConversationSummary> = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let p = c
                .list(&LocalQuery {
                    scope: LocalScope::Range(UtcInterval::UNBOUNDED),
                    filter,
                    after,
                    me: ME,
                })
                .unwrap();
            pages += 1;
            assert!(p.items.len() <= PAGE_SIZE);
            seen.extend(p.items);
            match p.next_cursor {
                Some(cursor) => after = Some(parse_list_cursor(&cursor).unwrap()),
                None => break,
            }
        }
        assert_eq!(seen.len(), total, "{filter:?}");
        assert_eq!(pages, total.div_ceil(PAGE_SIZE), "{filter:?}");
        let keys: Vec<_> = seen.iter().map(|s| (s.last_activity_at, s.id)).collect();
        let mut sorted = keys.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        sorted.dedup();
        assert_eq!(keys, sorted, "{filter:?}: newest first, no repeats");
    }
}

#[test]
fn lst11_list_cursors_round_trip_and_reject_garbage() {
    let at = t(0, 9) + Duration::milliseconds(5);
    let s = encode_list_cursor(at, 42);
    assert_eq!(s, format!("{}:42", at.timestamp_millis()));
    assert_eq!(parse_list_cursor(&s), Some((at, 42)));
    for bad in ["", "12", "x:1", "1:y", "1:2:3"] {
        assert_eq!(parse_list_cursor(bad), None, "{bad:?}");
    }
}

fn searchable() -> Cache {
    let mut c = cache();
    let mut log = Log::default();
    let mut anon = summary(2, "07700 900456", t(-90, 9));
    anon.caller_number = Some("+447700900456".into());
    let mut known = summary(1, "Sam Driver", t(0, 9));
    known.customer_id = Some(9);
    apply(
        &mut c,
        &mut log,
        vec![
            Change::Customer(Customer {
                id: 9,
                name: "Sam Driver".into(),
                phones: vec!["+447700900123".into(), "+14155552671".into()],
                email: None,
            }),
            Change::Conversation(known),
            Change::Conversation(anon),
            Change::Conversation(summary(3, "Alex Smith", t(-1, 9))),
            Change::Message(message(
                10,
                3,
                Direction::Inbound,
                "The brake pads are squealing",
                t(-1, 9),
            )),
            Change::Call(call(20, 2, t(-90, 9), Some("Calling about the exhaust"))),
        ],
    );
    c
}

#[test]
fn lst2_search_finds_names_by_word_prefix() {
    let c = searchable();
    assert_eq!(search_ids(&c, "sam"), vec![1]);
    assert_eq!(search_ids(&c, "  DRIV "), vec![1]);
    assert_eq!(search_ids(&c, "smith alex"), vec![3]);
    assert_eq!(search_ids(&c, "sam smith"), Vec::<Id>::new());
}

#[test]
fn lst2_search_finds_numbers_in_any_formatting() {
    let c = searchable();
    for q in [
        "07700 900123",
        "07700900123",
        "+44 7700 900123",
        "447700900123",
        "(07700) 900-123",
        "0044 7700 900123",
        "+1 415-555-2671",
    ] {
        assert_eq!(search_ids(&c, q), vec![1], "{q:?}");
    }
    for q in ["07700 900456", "+447700900456", "7700900456"] {
        assert_eq!(search_ids(&c, q), vec![2], "{q:?}");
    }
    assert_eq!(search_ids(&c, "07700 9004"), vec![2]);
    assert_eq!(search_ids(&c, "07700 900"), vec![1, 2]);
}

#[test]
fn lst2_search_finds_message_and_transcript_words_over_all_time() {
    let c = searchable();
    assert_eq!(search_ids(&c, "squeal"), vec![3]);
    assert_eq!(search_ids(&c, "brake pads"), vec![3]);
    assert_eq!(
        search_ids(&c, "exhaust"),
        vec![2],
        "90 days old: search ignores the range"
    );
    assert_eq!(search_ids(&c, "gearbox"), Vec::<Id>::new());
    let p = page(
        &c,
        LocalScope::Search("exhaust".into()),
        ListFilter::Unassigned,
    );
    assert_eq!(
        p.counts,
        Counts {
            all: 1,
            unread: 0,
            unassigned: 1,
            mine: 0
        }
    );
}

#[test]
fn lst2_search_follows_edits_customers_and_blank_text() {
    let mut c = searchable();
    // Events go on from the cache's cursor: a hole would be refused (DSK-3).
    let mut log = Log {
        seq: c.cursor().unwrap().unwrap_or(0),
    };
    let mut edited = message(10, 3, Direction::Inbound, "Clutch slipping", t(-1, 9));
    edited.updated_at = t(-1, 10);
    apply(
        &mut c,
        &mut log,
        vec![
            Change::Message(edited),
            Change::Customer(Customer {
                id: 9,
                name: "Sam Driver".into(),
                phones: vec!["+441632960123".into()],
                email: None,
            }),
        ],
    );
    assert_eq!(search_ids(&c, "brake"), Vec::<Id>::new());
    assert_eq!(search_ids(&c, "clutch"), vec![3]);
    assert_eq!(search_ids(&c, "07700 900123"), Vec::<Id>::new());
    assert_eq!(search_ids(&c, "01632 960123"), vec![1]);
    // Nothing to search for: every conversation, as an unbounded range.
    assert_eq!(search_ids(&c, " ?! "), vec![1, 3, 2]);
}

#[test]
fn lst2_search_answers_alike_for_few_and_many_matches() {
    // 60 conversations: "brake" in every other one (a pass over the list index), "clutch" in one
    // (looked up by id); both pages, counts and paging must agree with the rows.
    let mut c = cache();
    let mut log = Log::default();
    let mut changes = Vec::new();
    for id in 1..=60 {
        let mut s = summary(
            id,
            &format!("Customer {id}"),
            t(0, 0) + Duration::minutes(id),
        );
        s.unread_count = u32::from(id % 3 == 0);
        if id % 4 == 0 {
            s.assignee = Some(staff(ME));
        }
        changes.push(Change::Conversation(s));
        let body = if id % 2 == 0 {
            "brake noise"
        } else {
            "all good"
        };
        changes.push(Change::Message(message(
            id,
            id,
            Direction::Inbound,
            body,
            t(0, 0),
        )));
    }
    changes.push(Change::Message(message(
        100,
        7,
        Direction::Inbound,
        "clutch",
        t(0, 0),
    )));
    apply(&mut c, &mut log, changes);

    let many = page(&c, LocalScope::Search("brake".into()), ListFilter::Unread);
    let want: Vec<Id> = (1..=60).rev().filter(|id| id % 6 == 0).collect();
    assert_eq!(ids(&many), want);
    assert_eq!(
        many.counts,
        Counts {
            all: 30,
            unread: 10,
            unassigned: 15,
            mine: 15
        }
    );
    let rare = page(&c, LocalScope::Search("clutch".into()), ListFilter::All);
    assert_eq!(ids(&rare), vec![7]);
    assert_eq!(rare.counts.all, 1);
    assert_eq!(rare.counts.unassigned, 1);
    // Paging a search past 50: keyset on the same order, no repeats.
    let scope = LocalScope::Search("customer".into());
    let first = page(&c, scope.clone(), ListFilter::All);
    assert_eq!(ids(&first), (11..=60).rev().collect::<Vec<Id>>());
    let after = parse_list_cursor(first.next_cursor.as_deref().unwrap());
    let second = c
        .list(&LocalQuery {
            scope,
            filter: ListFilter::All,
            after,
            me: ME,
        })
        .unwrap();
    assert_eq!(ids(&second), (1..=10).rev().collect::<Vec<Id>>());
    assert_eq!(second.next_cursor, None);
    assert_eq!(second.counts.all, 60);
}

/// Issue 17: a message is found by its files' names, and no longer once its file is renamed away.
#[test]
fn lst2_search_finds_messages_by_their_files_names() {
    let mut c = searchable();
    let mut log = Log {
        seq: c.cursor().unwrap().unwrap_or(0),
    };
    let mut with_file = message(11, 2, Direction::Inbound, "", t(-1, 9));
    with_file.attachments = vec![inbox_core::media::Attachment {
        id: 5,
        content_type: "application/pdf".into(),
        size: 1000,
        file_name: "V5C-logbook.pdf".into(),
        status: inbox_core::media::AttachmentStatus::Ready,
        error: None,
    }];
    apply(&mut c, &mut log, vec![Change::Message(with_file.clone())]);
    assert_eq!(search_ids(&c, "logbook"), vec![2]);
    // The same message again, its file now called something else: the old name is gone.
    with_file.attachments[0].file_name = "document-1.pdf".into();
    with_file.updated_at = t(-1, 10);
    apply(&mut c, &mut log, vec![Change::Message(with_file)]);
    assert_eq!(search_ids(&c, "logbook"), Vec::<Id>::new());
    assert_eq!(search_ids(&c, "document"), vec![2]);
}
