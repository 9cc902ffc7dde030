//! The sync protocol (`GET /api/v1/sync?since=N`, protocol version 1): the change events the
//! server appends to each organisation's log and the frames of the WebSocket that carries them.
//! Every event is a full snapshot of what changed, so applying one is an idempotent upsert.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{
    Call, ConversationSummary, Customer, Id, Message, Note, Organisation, QuickMessage, StaffRef,
    ThreadItem, WhatsappTemplate, WorkOrder,
};

pub const PROTOCOL_VERSION: u32 = 1;

/// What changed. Serialised with `type` and `data` beside the event's `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Change {
    /// A conversation's row: preview, counts, assignment, badge, link.
    Conversation(ConversationSummary),
    Message(Message),
    /// Every inbound message of the conversation up to now was read (THR-7).
    MessagesRead {
        conversation_id: Id,
        read_at: DateTime<Utc>,
    },
    Call(Call),
    Note(Note),
    Customer(Customer),
    WorkOrder(WorkOrder),
    QuickMessage(QuickMessage),
    QuickMessageDeleted {
        id: Id,
    },
    Template(WhatsappTemplate),
    TemplateDeleted {
        id: Id,
    },
    Staff(StaffRef),
    /// The organisation's settings the desktop follows: its name, time zone and AI switch.
    Organisation(Organisation),
    /// What these users may do changed (a role edited, a role given, a user disabled): their
    /// desktops re-read `GET /me`, so tabs appear or vanish without a restart (ACC-2).
    Access {
        user_ids: Vec<Id>,
    },
    /// An event of a type this version does not know (sent by a newer server): skipped, its
    /// `seq` kept, so an older desktop never stalls on it. Never sent.
    #[serde(skip)]
    Unsupported,
}

impl Change {
    /// Every `type` this version reads.
    pub const TYPES: [&'static str; 15] = [
        "conversation",
        "message",
        "messages_read",
        "call",
        "note",
        "customer",
        "work_order",
        "quick_message",
        "quick_message_deleted",
        "template",
        "template_deleted",
        "staff",
        "organisation",
        "access",
        "unsupported",
    ];

    pub fn type_name(&self) -> &'static str {
        match self {
            Change::Conversation(_) => "conversation",
            Change::Message(_) => "message",
            Change::MessagesRead { .. } => "messages_read",
            Change::Call(_) => "call",
            Change::Note(_) => "note",
            Change::Customer(_) => "customer",
            Change::WorkOrder(_) => "work_order",
            Change::QuickMessage(_) => "quick_message",
            Change::QuickMessageDeleted { .. } => "quick_message_deleted",
            Change::Template(_) => "template",
            Change::TemplateDeleted { .. } => "template_deleted",
            Change::Staff(_) => "staff",
            Change::Organisation(_) => "organisation",
            Change::Access { .. } => "access",
            Change::Unsupported => "unsupported",
        }
    }
}

/// One entry of an organisation's log: sequence numbers start at 1 and have no gaps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub seq: i64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub change: Change,
}

impl Change {
    /// The ids a stub names: the changed object's own id and, for thread items, its
    /// conversation's.
    pub fn ids(&self) -> StubIds {
        let (id, conversation_id) = match self {
            Change::Conversation(c) => (Some(c.id), Some(c.id)),
            Change::Message(m) => (Some(m.id), Some(m.conversation_id)),
            Change::MessagesRead {
                conversation_id, ..
            } => (None, Some(*conversation_id)),
            Change::Call(c) => (Some(c.id), Some(c.conversation_id)),
            Change::Note(n) => (Some(n.id), Some(n.conversation_id)),
            Change::Customer(c) => (Some(c.id), None),
            Change::WorkOrder(w) => (Some(w.id), None),
            Change::QuickMessage(q) => (Some(q.id), None),
            Change::QuickMessageDeleted { id } | Change::TemplateDeleted { id } => {
                (Some(*id), None)
            }
            Change::Template(t) => (Some(t.id), None),
            Change::Staff(s) => (Some(s.id), None),
            Change::Organisation(o) => (Some(o.id), None),
            Change::Access { .. } | Change::Unsupported => (None, None),
        };
        StubIds {
            id,
            conversation_id,
        }
    }
}

/// An event too large for one frame, sent in its place (same `seq`, `at` and `type`; no
/// `data`). The client fetches the whole event with `GET /api/v1/sync/events/{seq}` and applies
/// it exactly as if it had come whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventStub {
    pub seq: i64,
    pub at: DateTime<Utc>,
    #[serde(rename = "type")]
    pub kind: String,
    pub stub: StubIds,
}

/// What a stub's event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StubIds {
    pub id: Option<Id>,
    pub conversation_id: Option<Id>,
}

impl EventStub {
    pub fn of(event: &Event) -> EventStub {
        EventStub {
            seq: event.seq,
            at: event.at,
            kind: event.change.type_name().to_string(),
            stub: event.change.ids(),
        }
    }
}

/// Events whose frame would be larger than this many bytes go out as an [`EventStub`]. Well
/// below the server's 1 MiB write limit per socket, so no event can break a connection.
pub const STUB_OVER: usize = 256 * 1024;

/// Frames the server sends. Events are frames of their own `type` with a `seq` (whole, or as a
/// stub carrying a `stub` field instead of `data`); the control frames below have no `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // frames are decoded one at a time, never stored in bulk
pub enum ServerFrame {
    /// First: only a stub has a `stub` field.
    Stub(EventStub),
    Event(Event),
    Control(Control),
}

impl ServerFrame {
    /// Reads a frame. An event whose `type` this version does not know (a newer server's)
    /// becomes [`Change::Unsupported`] with its `seq` and `at`, to be skipped; a known type with
    /// unreadable data is still an error.
    pub fn parse(text: &str) -> serde_json::Result<ServerFrame> {
        #[derive(Deserialize)]
        struct Unknown {
            seq: i64,
            at: DateTime<Utc>,
            #[serde(rename = "type")]
            kind: String,
        }
        let error = match serde_json::from_str::<ServerFrame>(text) {
            Ok(frame) => return Ok(frame),
            Err(e) => e,
        };
        match serde_json::from_str::<Unknown>(text) {
            Ok(u) if !Change::TYPES.contains(&u.kind.as_str()) => Ok(ServerFrame::Event(Event {
                seq: u.seq,
                at: u.at,
                change: Change::Unsupported,
            })),
            _ => Err(error),
        }
    }
}

impl Event {
    /// The event's frame: the whole event, or its stub when that would exceed [`STUB_OVER`].
    pub fn frame_json(&self) -> serde_json::Result<String> {
        let whole = serde_json::to_string(self)?;
        if whole.len() <= STUB_OVER {
            return Ok(whole);
        }
        serde_json::to_string(&EventStub::of(self))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Control {
    /// First frame: the protocol spoken and the log's newest sequence number.
    Hello { protocol: u32, head: i64 },
    /// Every event up to `seq` has been sent; what follows is live.
    CaughtUp { seq: i64 },
    /// The cursor is outside the retained log: rebuild from `GET /api/v1/sync/snapshot`, then
    /// reconnect with the snapshot's `seq`. The socket closes after this frame.
    ResyncRequired {
        reason: String,
        oldest_retained: i64,
        head: i64,
    },
    /// The server closes the socket after this frame: `session_expired`, `session_revoked`
    /// (an administrator ended the session), `too_slow`, `heartbeat_timeout`, `shutting_down`.
    Closing { reason: String },
}

/// Close codes (4000–4999 are the application's).
pub mod close_code {
    pub const RESYNC_REQUIRED: u16 = 4000;
    pub const SESSION_EXPIRED: u16 = 4001;
    pub const TOO_SLOW: u16 = 4002;
    pub const HEARTBEAT_TIMEOUT: u16 = 4003;
    pub const FORBIDDEN: u16 = 4004;
}

/// `GET /api/v1/sync/snapshot?after=<conversation id>`: the organisation's state for a client
/// rebuilding its cache. Page through conversations; `seq` is the log position the first page
/// was read at — reconnect with `since=seq` once all pages are in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub seq: i64,
    pub conversations: Vec<ConversationSummary>,
    /// Pass as `after` for the next page; None on the last page.
    pub next_after: Option<Id>,
    /// The newest thread items (up to a page) of each conversation in this page, so a new
    /// desktop can read recent threads offline at once (DSK-2).
    #[serde(default)]
    pub items: Vec<ThreadItem>,
    /// The customers of this page's conversations, with every phone number, so a search by any
    /// of them works at once.
    #[serde(default)]
    pub customers: Vec<Customer>,
    /// Reference data, on the first page only.
    pub quick_messages: Vec<QuickMessage>,
    pub templates: Vec<WhatsappTemplate>,
    pub staff: Vec<StaffRef>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::QuickMessage;

    #[test]
    fn events_carry_seq_type_and_data() {
        let e = Event {
            seq: 42,
            at: DateTime::from_timestamp(1_780_000_000, 0).unwrap(),
            change: Change::QuickMessage(QuickMessage {
                id: 1,
                name: "ready".into(),
                body: "Ready".into(),
            }),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["seq"], 42);
        assert_eq!(v["type"], "quick_message");
        assert_eq!(v["data"]["name"], "ready");
        let back: ServerFrame = serde_json::from_value(v).unwrap();
        assert_eq!(back, ServerFrame::Event(e));
    }

    #[test]
    fn an_event_of_a_type_a_newer_server_added_is_skipped_not_a_stall() {
        let newer = r#"{"seq":9,"at":"2026-12-03T08:00:00Z","type":"photo_album","data":{"id":1}}"#;
        assert!(serde_json::from_str::<ServerFrame>(newer).is_err());
        let ServerFrame::Event(e) = ServerFrame::parse(newer).unwrap() else {
            panic!("an event")
        };
        assert_eq!((e.seq, e.change), (9, Change::Unsupported));
        // A type this version knows, with data it cannot read, is still refused.
        let broken = r#"{"seq":9,"at":"2026-12-03T08:00:00Z","type":"message","data":{"id":"x"}}"#;
        assert!(ServerFrame::parse(broken).is_err());
        assert!(ServerFrame::parse("not json").is_err());
        // Every type this version sends is in the list it reads.
        let org = Change::Organisation(crate::model::Organisation {
            id: 1,
            name: "Demo Motors".into(),
            time_zone: "Europe/London".into(),
            ai_enabled: true,
        });
        assert!(Change::TYPES.contains(&org.type_name()));
        let frame = Event {
            seq: 3,
            at: DateTime::from_timestamp(1_780_000_000, 0).unwrap(),
            change: org,
        };
        assert_eq!(
            ServerFrame::parse(&frame.frame_json().unwrap()).unwrap(),
            ServerFrame::Event(frame)
        );
    }

    #[test]
    fn an_event_too_large_for_a_frame_goes_as_a_stub_with_its_seq_type_and_ids() {
        let small = Event {
            seq: 7,
            at: DateTime::from_timestamp(1_780_000_000, 0).unwrap(),
            change: Change::Note(crate::model::Note {
                id: 3,
                conversation_id: 9,
                kind: crate::model::NoteKind::Note,
                body: "short".into(),
                author: None,
                created_at: DateTime::from_timestamp(1_780_000_000, 0).unwrap(),
            }),
        };
        let json = small.frame_json().unwrap();
        assert_eq!(
            serde_json::from_str::<ServerFrame>(&json).unwrap(),
            ServerFrame::Event(small.clone())
        );
        let mut big = small;
        if let Change::Note(n) = &mut big.change {
            n.body = "x".repeat(STUB_OVER);
        }
        let json = big.frame_json().unwrap();
        assert!(json.len() < 200, "{json}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (v["seq"].as_i64(), v["type"].as_str()),
            (Some(7), Some("note"))
        );
        assert_eq!(
            v["stub"],
            serde_json::json!({ "id": 3, "conversation_id": 9 })
        );
        assert!(v.get("data").is_none());
        assert_eq!(
            serde_json::from_str::<ServerFrame>(&json).unwrap(),
            ServerFrame::Stub(EventStub::of(&big))
        );
    }

    #[test]
    fn control_frames_round_trip_without_seq() {
        let f = ServerFrame::Control(Control::ResyncRequired {
            reason: "cursor too old".into(),
            oldest_retained: 10,
            head: 99,
        });
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["type"], "resync_required");
        assert!(v.get("seq").is_none());
        assert_eq!(serde_json::from_value::<ServerFrame>(v).unwrap(), f);
        let d = serde_json::to_value(Change::QuickMessageDeleted { id: 3 }).unwrap();
        assert_eq!(
            d,
            serde_json::json!({ "type": "quick_message_deleted", "data": { "id": 3 } })
        );
        let d = Change::TemplateDeleted { id: 4 };
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(
            v,
            serde_json::json!({ "type": "template_deleted", "data": { "id": 4 } })
        );
        assert_eq!(d.type_name(), "template_deleted");
    }

    // Issue 13 fuzzing: frames come off the network, so any bytes parse to a frame or an
    // error, never a panic; every frame the server writes parses back to itself; a real frame
    // with one field changed still never panics. Cases: proptest's default (256), or
    // `PROPTEST_CASES` for a long run.
    use proptest::prelude::*;

    fn control() -> impl Strategy<Value = Control> {
        prop_oneof![
            (any::<u32>(), any::<i64>())
                .prop_map(|(protocol, head)| Control::Hello { protocol, head }),
            any::<i64>().prop_map(|seq| Control::CaughtUp { seq }),
            (any::<String>(), any::<i64>(), any::<i64>()).prop_map(
                |(reason, oldest_retained, head)| {
                    Control::ResyncRequired {
                        reason,
                        oldest_retained,
                        head,
                    }
                }
            ),
            any::<String>().prop_map(|reason| Control::Closing { reason }),
        ]
    }

    fn event() -> impl Strategy<Value = Event> {
        let change = prop_oneof![
            (any::<i64>(), any::<String>(), any::<String>())
                .prop_map(|(id, name, body)| Change::QuickMessage(QuickMessage { id, name, body })),
            any::<i64>().prop_map(|id| Change::QuickMessageDeleted { id }),
            any::<i64>().prop_map(|id| Change::TemplateDeleted { id }),
            (any::<i64>(), 0i64..253_402_300_799).prop_map(|(conversation_id, s)| {
                Change::MessagesRead {
                    conversation_id,
                    read_at: DateTime::from_timestamp(s, 0).unwrap(),
                }
            }),
        ];
        (any::<i64>(), 0i64..253_402_300_799_000, change).prop_map(|(seq, ms, change)| Event {
            seq,
            at: DateTime::from_timestamp_millis(ms).unwrap(),
            change,
        })
    }

    proptest! {
        #[test]
        fn prop_any_bytes_are_a_frame_or_an_error(raw in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = serde_json::from_slice::<ServerFrame>(&raw);
        }

        #[test]
        fn prop_every_written_frame_reads_back(
            frame in prop_oneof![control().prop_map(ServerFrame::Control), event().prop_map(ServerFrame::Event)],
        ) {
            let text = serde_json::to_string(&frame).unwrap();
            prop_assert_eq!(serde_json::from_str::<ServerFrame>(&text).unwrap(), frame);
        }

        #[test]
        fn prop_a_real_frame_with_one_field_changed_never_panics(
            e in event(),
            key in prop::sample::select(vec!["seq", "at", "type", "data", "protocol", "head", "reason"]),
            value in prop_oneof![
                Just(serde_json::Value::Null),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<f64>().prop_map(serde_json::Value::from),
                any::<String>().prop_map(serde_json::Value::from),
                Just(serde_json::json!({})),
                Just(serde_json::json!([1, "x"])),
            ],
        ) {
            let mut v = serde_json::to_value(&e).unwrap();
            v[key] = value;
            let _ = serde_json::from_value::<ServerFrame>(v.clone());
            let _ = serde_json::from_str::<ServerFrame>(&v.to_string());
        }
    }
}
