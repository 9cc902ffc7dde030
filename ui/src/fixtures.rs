//! Test data: rows, thread items and outbox entries with only the fields a test cares about
//! spelled out. Times are minutes after 2025-06-11 09:00 UTC.

use chrono::{DateTime, Duration, Utc};
use inbox_core::desktop::{OutboxEntry, OutboxState, ThreadView};
use inbox_core::*;

pub fn at(minutes: i64) -> DateTime<Utc> {
    "2025-06-11T09:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(minutes)
}

pub fn row(id: Id, minutes: i64) -> ConversationSummary {
    ConversationSummary {
        id,
        title: format!("Customer {id}"),
        customer_id: Some(id * 10),
        caller_number: None,
        withheld: false,
        preview: format!("Preview {id}"),
        last_channel: Channel::Sms,
        last_activity_at: at(minutes),
        unread_count: 0,
        unresolved_calls: 0,
        assignee: None,
        context_badge: ContextBadge::General,
        work_order: None,
        needs_work_order_pick: false,
        intent: None,
    }
}

pub fn message(id: Id, minutes: i64, direction: Direction, status: DeliveryStatus) -> ThreadItem {
    ThreadItem::Message(Message {
        attachments: Vec::new(),
        id,
        conversation_id: 1,
        direction,
        channel: Channel::Whatsapp,
        body: format!("Message {id}"),
        template: None,
        status,
        author: None,
        sender_name: match direction {
            Direction::Inbound => "Dana Customer".into(),
            Direction::Outbound => "Sam Desk".into(),
        },
        client_id: None,
        error: None,
        created_at: at(minutes),
        updated_at: at(minutes),
        read_at: None,
        intent: None,
    })
}

pub fn note(id: Id, minutes: i64) -> ThreadItem {
    ThreadItem::Note(Note {
        id,
        conversation_id: 1,
        kind: NoteKind::Note,
        body: format!("Note {id}"),
        author: Some(StaffRef {
            id: 3,
            name: "Sam Desk".into(),
        }),
        created_at: at(minutes),
    })
}

pub fn call(id: Id, minutes: i64) -> ThreadItem {
    ThreadItem::Call(Call {
        id,
        conversation_id: 1,
        direction: Direction::Inbound,
        outcome: CallOutcome::Voicemail,
        from_number: Some("+447700900123".into()),
        duration_secs: 38,
        recording_url: Some("https://api.twilio.example/rec/RE1".into()),
        recording_secs: Some(38),
        transcript: Some("Hi, it's about the MOT on Friday.".into()),
        resolved: false,
        started_at: at(minutes),
        summary: "Voicemail - 0:38".into(),
    })
}

pub fn thread_view(items: Vec<ThreadItem>, has_more: bool) -> ThreadView {
    ThreadView {
        items,
        outbox: Vec::new(),
        has_more,
    }
}

pub fn outbox(client_id: &str, state: OutboxState) -> OutboxEntry {
    OutboxEntry {
        client_id: client_id.into(),
        conversation_id: 1,
        body: Some(format!("Reply {client_id}")),
        template: None,
        channel: Some(Channel::Sms),
        created_at: at(100),
        state,
        files: Vec::new(),
    }
}

/// A signed-in session with `caps`, in an organisation with AI on or off.
pub fn session(
    caps: Vec<inbox_core::Capability>,
    ai_enabled: bool,
) -> inbox_core::desktop::Session {
    inbox_core::desktop::Session {
        server: String::new(),
        user: inbox_core::User {
            id: 1,
            email: String::new(),
            name: "Sam".into(),
            role: "r".into(),
            capabilities: inbox_core::CapabilitySet::new(caps),
        },
        organisation: inbox_core::Organisation {
            id: 1,
            name: "G".into(),
            time_zone: "Europe/London".into(),
            ai_enabled,
        },
    }
}
