//! Rows to domain types, written once for every database: the SELECT lists (plain SQL that both
//! SQLite and PostgreSQL accept) and mappers over a row's columns by position. Each backend
//! implements [`Cols`] for its row type; times are milliseconds since the epoch in both schemas.
//! The rules that derive or check what is written are in `rules.rs`.

use inbox_core::{
    phone, Call, CallOutcome, Channel, ContextBadge, ConversationSummary, DeliveryStatus,
    Direction, Id, Message, Note, NoteKind, StaffRef, TemplateUse, WorkOrder, WorkOrderRef,
    WorkOrderStatus,
};

use inbox_core::intent::{Intent, MessageIntent};

use crate::store::dataset::call_summary;

/// Typed access to a row's columns by position.
pub(crate) trait Cols {
    type Error;
    fn int(&self, i: usize) -> Result<i64, Self::Error>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, Self::Error>;
    fn text(&self, i: usize) -> Result<String, Self::Error>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, Self::Error>;
    fn flag(&self, i: usize) -> Result<bool, Self::Error>;
    fn opt_real(&self, i: usize) -> Result<Option<f64>, Self::Error>;
    /// The error for a column whose value the domain does not know.
    fn bad(&self, i: usize, value: String) -> Self::Error;

    fn count(&self, i: usize) -> Result<u32, Self::Error> {
        let v = self.int(i)?;
        u32::try_from(v).map_err(|_| self.bad(i, v.to_string()))
    }

    fn opt_count(&self, i: usize) -> Result<Option<u32>, Self::Error> {
        match self.opt_int(i)? {
            Some(v) => u32::try_from(v)
                .map(Some)
                .map_err(|_| self.bad(i, v.to_string())),
            None => Ok(None),
        }
    }

    fn time(&self, i: usize) -> Result<chrono::DateTime<chrono::Utc>, Self::Error> {
        Ok(from_ms(self.int(i)?))
    }
}

/// Implements [`Cols`] for a database's row type through its typed getter (`get`, `try_get`)
/// and the error it reports for an unknown value.
macro_rules! cols_through {
    ($row:ty, $error:ty, $get:ident, $bad:expr) => {
        impl $crate::store::rows::Cols for $row {
            type Error = $error;
            fn int(&self, i: usize) -> Result<i64, $error> {
                self.$get(i)
            }
            fn opt_int(&self, i: usize) -> Result<Option<i64>, $error> {
                self.$get(i)
            }
            fn text(&self, i: usize) -> Result<String, $error> {
                self.$get(i)
            }
            fn opt_text(&self, i: usize) -> Result<Option<String>, $error> {
                self.$get(i)
            }
            fn flag(&self, i: usize) -> Result<bool, $error> {
                self.$get(i)
            }
            fn opt_real(&self, i: usize) -> Result<Option<f64>, $error> {
                self.$get(i)
            }
            fn bad(&self, i: usize, value: String) -> $error {
                $bad(i, format!("unexpected value {value:?}"))
            }
        }
    };
}
pub(crate) use cols_through;

/// A text column parsed into a domain value; an unknown value is the row's error.
pub(crate) fn parsed<R: Cols + ?Sized, T>(
    r: &R,
    i: usize,
    f: fn(&str) -> Option<T>,
) -> Result<T, R::Error> {
    let s = r.text(i)?;
    f(&s).ok_or_else(|| r.bad(i, s))
}

pub(crate) fn ms(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(v: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(v).unwrap_or_default()
}

fn staff(id: Option<Id>, name: Option<String>) -> Option<StaffRef> {
    Some(StaffRef {
        id: id?,
        name: name?,
    })
}

/// The list's name for a conversation (LST-10).
pub(crate) fn title(
    customer_name: Option<String>,
    caller_number: Option<&str>,
    withheld: bool,
) -> String {
    match (customer_name, caller_number) {
        (Some(name), _) => name,
        (None, Some(n)) if !withheld => phone::display(n),
        _ => "Withheld number".to_string(),
    }
}

pub(crate) const SUMMARY_SELECT: &str = "
    SELECT c.id, c.customer_id, cu.name, c.caller_number, c.withheld, c.preview, c.last_channel,
           c.last_activity_at, c.unread_count, c.unresolved_calls, c.assignee_id, u.name,
           c.context_badge, c.work_order_id, w.number, c.needs_work_order_pick,
           CASE WHEN (SELECT o.ai_enabled FROM organisations o WHERE o.id = c.org_id) THEN
               (SELECT coalesce(m.intent_correction, m.intent) FROM messages m
                WHERE m.conversation_id = c.id AND m.direction = 'inbound'
                ORDER BY m.created_at DESC, m.id DESC LIMIT 1)
           END
    FROM conversations c
    LEFT JOIN customers cu ON cu.id = c.customer_id
    LEFT JOIN users u ON u.id = c.assignee_id
    LEFT JOIN work_orders w ON w.id = c.work_order_id";

pub(crate) fn summary<R: Cols + ?Sized>(r: &R) -> Result<ConversationSummary, R::Error> {
    let caller = r.opt_text(3)?;
    let withheld = r.flag(4)?;
    Ok(ConversationSummary {
        id: r.int(0)?,
        customer_id: r.opt_int(1)?,
        title: title(r.opt_text(2)?, caller.as_deref(), withheld),
        caller_number: caller,
        withheld,
        preview: r.text(5)?,
        last_channel: parsed(r, 6, Channel::parse)?,
        last_activity_at: r.time(7)?,
        unread_count: r.count(8)?,
        unresolved_calls: r.count(9)?,
        assignee: staff(r.opt_int(10)?, r.opt_text(11)?),
        context_badge: parsed(r, 12, ContextBadge::parse)?,
        work_order: match (r.opt_int(13)?, r.opt_text(14)?) {
            (Some(id), Some(number)) => Some(WorkOrderRef { id, number }),
            _ => None,
        },
        needs_work_order_pick: r.flag(15)?,
        intent: r
            .opt_text(16)?
            .as_deref()
            .and_then(inbox_core::intent::Intent::parse),
    })
}

pub(crate) const MESSAGE_SELECT: &str = "
    SELECT m.id, m.conversation_id, m.direction, m.channel, m.body, m.template_name,
           m.template_params, m.status, m.author_id, u.name, m.sender_name, m.client_id, m.error,
           m.created_at, m.updated_at, m.read_at,
           CASE WHEN o.ai_enabled THEN coalesce(m.intent_correction, m.intent) END,
           m.intent_confidence, m.intent_correction IS NOT NULL, m.attachments
    FROM messages m
    JOIN organisations o ON o.id = m.org_id
    LEFT JOIN users u ON u.id = m.author_id";

pub(crate) fn message<R: Cols + ?Sized>(r: &R) -> Result<Message, R::Error> {
    let template = match r.opt_text(5)? {
        Some(name) => {
            let params = r
                .opt_text(6)?
                .and_then(|p| serde_json::from_str::<Vec<String>>(&p).ok())
                .unwrap_or_default();
            Some(TemplateUse { name, params })
        }
        None => None,
    };
    Ok(Message {
        id: r.int(0)?,
        conversation_id: r.int(1)?,
        direction: parsed(r, 2, Direction::parse)?,
        channel: parsed(r, 3, Channel::parse)?,
        body: r.text(4)?,
        template,
        status: parsed(r, 7, DeliveryStatus::parse)?,
        author: staff(r.opt_int(8)?, r.opt_text(9)?),
        sender_name: r.text(10)?,
        client_id: r.opt_text(11)?,
        error: r.opt_text(12)?,
        created_at: r.time(13)?,
        updated_at: r.time(14)?,
        read_at: r.opt_int(15)?.map(from_ms),
        intent: match r.opt_text(16)? {
            Some(label) => {
                let label = Intent::parse(&label).ok_or_else(|| r.bad(16, label))?;
                Some(if r.flag(18)? {
                    MessageIntent::corrected(label)
                } else {
                    MessageIntent {
                        label,
                        confidence: r.opt_real(17)?.unwrap_or_default() as f32,
                        corrected: false,
                    }
                })
            }
            None => None,
        },
        attachments: {
            let json = r.text(19)?;
            serde_json::from_str(&json).map_err(|_| r.bad(19, json))?
        },
    })
}

pub(crate) const CALL_SELECT: &str = "
    SELECT id, conversation_id, direction, outcome, from_number, duration_secs, recording_url,
           recording_secs, transcript, resolved, started_at
    FROM calls";

pub(crate) fn call<R: Cols + ?Sized>(r: &R) -> Result<Call, R::Error> {
    let outcome = parsed(r, 3, CallOutcome::parse)?;
    let duration_secs = r.count(5)?;
    let recording_secs = r.opt_count(7)?;
    Ok(Call {
        id: r.int(0)?,
        conversation_id: r.int(1)?,
        direction: parsed(r, 2, Direction::parse)?,
        outcome,
        from_number: r.opt_text(4)?,
        duration_secs,
        recording_url: r.opt_text(6)?,
        recording_secs,
        transcript: r.opt_text(8)?,
        resolved: r.flag(9)?,
        started_at: r.time(10)?,
        summary: call_summary(outcome, duration_secs, recording_secs),
    })
}

pub(crate) const NOTE_SELECT: &str = "
    SELECT n.id, n.conversation_id, n.kind, n.body, n.author_id, u.name, n.created_at
    FROM notes n LEFT JOIN users u ON u.id = n.author_id";

pub(crate) fn note<R: Cols + ?Sized>(r: &R) -> Result<Note, R::Error> {
    Ok(Note {
        id: r.int(0)?,
        conversation_id: r.int(1)?,
        kind: parsed(r, 2, NoteKind::parse)?,
        body: r.text(3)?,
        author: staff(r.opt_int(4)?, r.opt_text(5)?),
        created_at: r.time(6)?,
    })
}

pub(crate) const WORK_ORDER_SELECT: &str = "
    SELECT w.id, w.number, w.status, w.vehicle_registration, w.description, w.customer_id, cu.name
    FROM work_orders w JOIN customers cu ON cu.id = w.customer_id";

pub(crate) fn work_order<R: Cols + ?Sized>(r: &R) -> Result<WorkOrder, R::Error> {
    Ok(WorkOrder {
        id: r.int(0)?,
        number: r.text(1)?,
        status: parsed(r, 2, WorkOrderStatus::parse)?,
        vehicle_registration: r.text(3)?,
        description: r.text(4)?,
        customer_id: r.int(5)?,
        customer_name: r.text(6)?,
    })
}

/// A template's `header` column (CMP-2); the column's CHECK admits only the two kinds.
pub(crate) fn template_header(raw: Option<String>) -> Option<inbox_core::TemplateHeader> {
    raw.as_deref().and_then(inbox_core::TemplateHeader::parse)
}

/// The `data` of a change as the log stores it (the `type` has its own column).
pub(crate) fn event_data(change: &inbox_core::sync::Change) -> serde_json::Result<String> {
    Ok(match serde_json::to_value(change)? {
        serde_json::Value::Object(mut m) => m.remove("data").unwrap_or(serde_json::Value::Null),
        _ => serde_json::Value::Null,
    }
    .to_string())
}

/// An event read back from the log.
pub(crate) fn decode_event(
    seq: i64,
    type_name: &str,
    data: &str,
    at: i64,
) -> crate::store::StoreResult<inbox_core::sync::Event> {
    let value = serde_json::json!({ "type": type_name, "data": serde_json::from_str::<serde_json::Value>(data)? });
    let change: inbox_core::sync::Change = serde_json::from_value(value)?;
    Ok(inbox_core::sync::Event {
        seq,
        at: from_ms(at),
        change,
    })
}

/// Kinds of activity (LST-9): what happened on a conversation at an instant.
pub(crate) mod activity_kind {
    pub const MESSAGE: &str = "message";
    pub const STATUS: &str = "status";
    pub const NOTE: &str = "note";
    pub const CALL: &str = "call";
    pub const CALL_STATUS: &str = "call_status";
}

/// Search rows: rowid = source id * 4 + kind.
pub(crate) mod fts_kind {
    pub const MESSAGE: i64 = 0;
    pub const CALL: i64 = 1;
    pub const TITLE: i64 = 2;
}
