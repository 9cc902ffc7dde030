//! Property tests (DSK-3): any sequence of events applied twice, in any batching, or replayed
//! from any earlier cursor, leaves the cache exactly as applying it once.

use inbox_core::sync::Change;
use inbox_core::{Customer, Direction, QuickMessage, WhatsappTemplate};
use proptest::prelude::*;

use super::*;
use crate::cache::{OutboxEntry, OutboxState};

const WORDS: [&str; 4] = ["brake", "clutch", "tyre", "MOT"];

fn at(day: i64, hour: u32) -> DateTime<Utc> {
    t(day, hour)
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (
            1..4i64,
            -3..1i64,
            0..24u32,
            0..3u32,
            prop::option::of(5..7i64),
            any::<bool>()
        )
            .prop_map(|(id, day, hour, unread, assignee, anon)| {
                let mut s = summary(
                    id,
                    if anon { "07700 900123" } else { "Sam Driver" },
                    at(day, hour),
                );
                s.unread_count = unread;
                s.assignee = assignee.map(staff);
                s.customer_id = (!anon).then_some(9);
                s.caller_number = anon.then(|| "+447700900123".to_string());
                Change::Conversation(s)
            }),
        (
            1..6i64,
            1..4i64,
            any::<bool>(),
            0..4usize,
            0..24u32,
            0..3u32,
            prop::option::of(0..3u8)
        )
            .prop_map(|(id, conv, inbound, word, hour, later, client)| {
                let dir = if inbound {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                };
                let mut m = message(id, conv, dir, WORDS[word], at(-1, hour));
                m.updated_at = m.created_at + Duration::minutes(i64::from(later));
                m.client_id = client.map(|c| format!("c{c}"));
                Change::Message(m)
            }),
        (1..4i64, 0..24u32).prop_map(|(conversation_id, hour)| Change::MessagesRead {
            conversation_id,
            read_at: at(0, hour),
        }),
        (1..3i64, 1..4i64, prop::option::of(0..4usize), any::<bool>()).prop_map(
            |(id, conv, word, resolved)| {
                let mut c = call(id, conv, at(-2, 9), word.map(|w| WORDS[w]));
                c.resolved = resolved;
                Change::Call(c)
            }
        ),
        (1..3i64, 1..4i64, 0..24u32).prop_map(|(id, conv, hour)| Change::Note(note(
            id,
            conv,
            "n",
            at(0, hour)
        ))),
        prop::sample::select(vec!["+447700900123", "+441632960123"]).prop_map(
            |p| Change::Customer(Customer {
                id: 9,
                name: "Sam Driver".into(),
                phones: vec![p.to_string()],
                email: None,
            })
        ),
        (1..3i64, any::<bool>()).prop_map(|(id, delete)| if delete {
            Change::QuickMessageDeleted { id }
        } else {
            Change::QuickMessage(QuickMessage {
                id,
                name: format!("q{id}"),
                body: "b".into(),
            })
        }),
        (1..3i64, any::<bool>()).prop_map(|(id, delete)| if delete {
            Change::TemplateDeleted { id }
        } else {
            Change::Template(WhatsappTemplate {
                id,
                name: format!("t{id}"),
                language: "en".into(),
                body: "b".into(),
                param_count: 0,
                header: None,
            })
        }),
        (5..7i64).prop_map(|id| Change::Staff(staff(id))),
    ]
}

fn events() -> impl Strategy<Value = Vec<Event>> {
    prop::collection::vec(change(), 1..40).prop_map(|changes| {
        let mut log = Log::default();
        changes.into_iter().map(|c| log.ev(c)).collect()
    })
}

/// A cache with an outbox entry per client id the generator uses.
fn seeded() -> Cache {
    let mut c = cache();
    for n in 0..3 {
        c.outbox_add(&OutboxEntry {
            client_id: format!("c{n}"),
            conversation_id: 1,
            body: Some("b".into()),
            template: None,
            channel: None,
            created_at: at(0, n),
            state: OutboxState::Queued,
            files: Vec::new(),
        })
        .unwrap();
    }
    c.set_setting("range", "today").unwrap();
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn dsk3_applying_twice_or_replaying_from_any_cursor_equals_applying_once(
        events in events(),
        cuts in prop::collection::vec((0..40usize, 0..10usize), 0..8),
    ) {
        let mut once = seeded();
        let applied = once.apply_events(&events).unwrap();
        prop_assert_eq!(applied.cursor, events.len() as i64);
        let want = dump(&once);

        let again = once.apply_events(&events).unwrap();
        prop_assert_eq!(again.skipped, events.len());
        prop_assert_eq!(dump(&once), want.clone());

        // The same log in batches, each batch starting up to `back` events before the cursor
        // (a reconnect resuming from an older position) and applied twice.
        let mut bounds: Vec<usize> = cuts.iter().map(|(at, _)| at % (events.len() + 1)).collect();
        bounds.push(events.len());
        bounds.sort_unstable();
        let mut chunked = seeded();
        let mut done = 0usize;
        for (i, end) in bounds.iter().enumerate() {
            let back = cuts.get(i).map_or(0, |(_, b)| *b);
            let start = done.saturating_sub(back);
            let batch = &events[start..*end];
            let a = chunked.apply_events(batch).unwrap();
            prop_assert_eq!(a.skipped, done.min(*end).saturating_sub(start));
            chunked.apply_events(batch).unwrap();
            done = done.max(*end);
        }
        prop_assert_eq!(dump(&chunked), want);
        index_matches_rows(&once)?;
    }
}

/// The search index agrees with the rows: a word finds exactly the listed conversations whose
/// messages or call transcripts hold it — nothing stale after edits and moves. And the all-time
/// counts the triggers keep agree with counting the rows.
fn index_matches_rows(c: &Cache) -> Result<(), TestCaseError> {
    use inbox_core::api::ListFilter;
    use inbox_core::range::UtcInterval;
    // FTS5's own check of the index against its content (the rows, through `search_source`).
    c.conn()
        .execute(
            "INSERT INTO search (search, rank) VALUES ('integrity-check', 1)",
            [],
        )
        .unwrap();
    let counts = |interval| {
        c.list(&crate::cache::LocalQuery {
            scope: crate::cache::LocalScope::Range(interval),
            filter: ListFilter::All,
            after: None,
            me: 5,
        })
        .unwrap()
        .counts
    };
    let scanned = UtcInterval {
        start: Some(DateTime::<Utc>::MIN_UTC),
        end: None,
    };
    prop_assert_eq!(counts(UtcInterval::UNBOUNDED), counts(scanned));
    prop_assert_eq!(c.unread_conversations().unwrap(), counts(scanned).unread);
    // Every stored item is in its own conversation's thread exactly once.
    let stored: i64 = c
        .conn()
        .query_row(
            "SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM calls)
                  + (SELECT count(*) FROM notes)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut threaded = 0;
    for id in 1..4 {
        for item in c.thread(id, None, 1000).unwrap() {
            let (_, _, item_id) = crate::cache::thread_key(&item);
            let conversation = match &item {
                inbox_core::ThreadItem::Message(m) => m.conversation_id,
                inbox_core::ThreadItem::Call(call) => call.conversation_id,
                inbox_core::ThreadItem::Note(n) => n.conversation_id,
            };
            prop_assert_eq!(conversation, id, "item {}", item_id);
            threaded += 1;
        }
    }
    prop_assert_eq!(threaded, stored);
    for word in WORDS {
        let mut want = Vec::new();
        for id in 1..4 {
            if c.conversation(id).unwrap().is_none() {
                continue;
            }
            let holds = c
                .thread(id, None, 1000)
                .unwrap()
                .iter()
                .any(|item| match item {
                    inbox_core::ThreadItem::Message(m) => m.body == word,
                    inbox_core::ThreadItem::Call(call) => call.transcript.as_deref() == Some(word),
                    inbox_core::ThreadItem::Note(_) => false,
                });
            if holds {
                want.push(id);
            }
        }
        let mut got = super::list::search_ids(c, word);
        got.sort_unstable();
        prop_assert_eq!(got, want, "{}", word);
    }
    Ok(())
}
