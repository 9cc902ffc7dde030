//! The sync protocol (`GET /api/v1/sync?since=N`, protocol version 1): the change events the
//! server appends to each organisation's log and the frames of the WebSocket that carries them.
//! Every event is a full snapshot of what changed, so applying one is an idempotent upsert.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{
    Call, ConversationSummary, Customer, Id, Message, Note, QuickMessage, StaffRef, ThreadItem,
    WhatsappTemplate, WorkOrder,
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
}

impl Change {
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

/// Frames the server sends. Events are frames of their own `type` with a `seq`; the control
/// frames below have no `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // frames are decoded one at a time, never stored in bulk
pub enum ServerFrame {
    Event(Event),
    Control(Control),
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
}
