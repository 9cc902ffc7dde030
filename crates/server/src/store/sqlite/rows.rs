//! Rows to domain types: the SELECT lists and their mappers, shared by every query that returns
//! conversations, messages, calls or notes.

use inbox_core::{
    phone, Call, CallOutcome, Channel, ContextBadge, ConversationSummary, DeliveryStatus,
    Direction, Id, Message, Note, NoteKind, StaffRef, TemplateUse, WorkOrder, WorkOrderRef,
    WorkOrderStatus,
};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row};

use super::from_ms;
use crate::store::dataset::call_summary;
use crate::store::StoreResult;

pub(crate) fn parse<T>(s: String, col: usize, f: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    f(&s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            col,
            Type::Text,
            format!("unexpected value {s:?}").into(),
        )
    })
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
           c.context_badge, c.work_order_id, w.number, c.needs_work_order_pick
    FROM conversations c
    LEFT JOIN customers cu ON cu.id = c.customer_id
    LEFT JOIN users u ON u.id = c.assignee_id
    LEFT JOIN work_orders w ON w.id = c.work_order_id";

pub(crate) fn summary(r: &Row) -> rusqlite::Result<ConversationSummary> {
    let caller: Option<String> = r.get(3)?;
    let withheld: bool = r.get(4)?;
    Ok(ConversationSummary {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        title: title(r.get(2)?, caller.as_deref(), withheld),
        caller_number: caller,
        withheld,
        preview: r.get(5)?,
        last_channel: parse(r.get(6)?, 6, Channel::parse)?,
        last_activity_at: from_ms(r.get(7)?),
        unread_count: r.get(8)?,
        unresolved_calls: r.get(9)?,
        assignee: staff(r.get(10)?, r.get(11)?),
        context_badge: parse(r.get(12)?, 12, ContextBadge::parse)?,
        work_order: match (r.get::<_, Option<Id>>(13)?, r.get::<_, Option<String>>(14)?) {
            (Some(id), Some(number)) => Some(WorkOrderRef { id, number }),
            _ => None,
        },
        needs_work_order_pick: r.get(15)?,
    })
}

pub(crate) fn load_summary(
    conn: &Connection,
    org_id: Id,
    id: Id,
) -> StoreResult<ConversationSummary> {
    let sql = format!("{SUMMARY_SELECT} WHERE c.id = ?1 AND c.org_id = ?2");
    super::found(conn.prepare_cached(&sql)?.query_row([id, org_id], summary))
}

pub(crate) const MESSAGE_SELECT: &str = "
    SELECT m.id, m.conversation_id, m.direction, m.channel, m.body, m.template_name,
           m.template_params, m.status, m.author_id, u.name, m.sender_name, m.client_id, m.error,
           m.created_at, m.updated_at, m.read_at
    FROM messages m LEFT JOIN users u ON u.id = m.author_id";

pub(crate) fn message(r: &Row) -> rusqlite::Result<Message> {
    let template = match r.get::<_, Option<String>>(5)? {
        Some(name) => {
            let params: Option<String> = r.get(6)?;
            let params = params
                .and_then(|p| serde_json::from_str::<Vec<String>>(&p).ok())
                .unwrap_or_default();
            Some(TemplateUse { name, params })
        }
        None => None,
    };
    Ok(Message {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        direction: parse(r.get(2)?, 2, Direction::parse)?,
        channel: parse(r.get(3)?, 3, Channel::parse)?,
        body: r.get(4)?,
        template,
        status: parse(r.get(7)?, 7, DeliveryStatus::parse)?,
        author: staff(r.get(8)?, r.get(9)?),
        sender_name: r.get(10)?,
        client_id: r.get(11)?,
        error: r.get(12)?,
        created_at: from_ms(r.get(13)?),
        updated_at: from_ms(r.get(14)?),
        read_at: r.get::<_, Option<i64>>(15)?.map(from_ms),
    })
}

pub(crate) fn load_message(conn: &Connection, org_id: Id, id: Id) -> StoreResult<Message> {
    let sql = format!("{MESSAGE_SELECT} WHERE m.id = ?1 AND m.org_id = ?2");
    super::found(conn.prepare_cached(&sql)?.query_row([id, org_id], message))
}

pub(crate) const CALL_SELECT: &str = "
    SELECT id, conversation_id, direction, outcome, from_number, duration_secs, recording_url,
           recording_secs, transcript, resolved, started_at
    FROM calls";

pub(crate) fn call(r: &Row) -> rusqlite::Result<Call> {
    let outcome = parse(r.get(3)?, 3, CallOutcome::parse)?;
    let duration_secs: u32 = r.get(5)?;
    let recording_secs: Option<u32> = r.get(7)?;
    Ok(Call {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        direction: parse(r.get(2)?, 2, Direction::parse)?,
        outcome,
        from_number: r.get(4)?,
        duration_secs,
        recording_url: r.get(6)?,
        recording_secs,
        transcript: r.get(8)?,
        resolved: r.get(9)?,
        started_at: from_ms(r.get(10)?),
        summary: call_summary(outcome, duration_secs, recording_secs),
    })
}

pub(crate) fn load_call(conn: &Connection, org_id: Id, id: Id) -> StoreResult<Call> {
    let sql = format!("{CALL_SELECT} WHERE id = ?1 AND org_id = ?2");
    super::found(conn.prepare_cached(&sql)?.query_row([id, org_id], call))
}

pub(crate) const NOTE_SELECT: &str = "
    SELECT n.id, n.conversation_id, n.kind, n.body, n.author_id, u.name, n.created_at
    FROM notes n LEFT JOIN users u ON u.id = n.author_id";

pub(crate) fn note(r: &Row) -> rusqlite::Result<Note> {
    Ok(Note {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        kind: parse(r.get(2)?, 2, NoteKind::parse)?,
        body: r.get(3)?,
        author: staff(r.get(4)?, r.get(5)?),
        created_at: from_ms(r.get(6)?),
    })
}

pub(crate) const WORK_ORDER_SELECT: &str = "
    SELECT w.id, w.number, w.status, w.vehicle_registration, w.description, w.customer_id, cu.name
    FROM work_orders w JOIN customers cu ON cu.id = w.customer_id";

pub(crate) fn work_order(r: &Row) -> rusqlite::Result<WorkOrder> {
    Ok(WorkOrder {
        id: r.get(0)?,
        number: r.get(1)?,
        status: parse(r.get(2)?, 2, WorkOrderStatus::parse)?,
        vehicle_registration: r.get(3)?,
        description: r.get(4)?,
        customer_id: r.get(5)?,
        customer_name: r.get(6)?,
    })
}

pub(crate) fn load_work_order(conn: &Connection, org_id: Id, id: Id) -> StoreResult<WorkOrder> {
    let sql = format!("{WORK_ORDER_SELECT} WHERE w.id = ?1 AND w.org_id = ?2");
    super::found(
        conn.prepare_cached(&sql)?
            .query_row([id, org_id], work_order),
    )
}

pub(crate) fn load_customer(
    conn: &Connection,
    org_id: Id,
    id: Id,
) -> StoreResult<inbox_core::Customer> {
    let (name, email) = super::found(
        conn.prepare_cached("SELECT name, email FROM customers WHERE id = ?1 AND org_id = ?2")?
            .query_row([id, org_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            }),
    )?;
    let phones = conn
        .prepare_cached(
            "SELECT e164 FROM customer_phones WHERE customer_id = ?1 ORDER BY position, e164",
        )?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(inbox_core::Customer {
        id,
        name,
        phones,
        email,
    })
}

/// The customer's name for message bubbles, or the number.
pub(crate) fn party_name(conn: &Connection, conversation_id: Id) -> StoreResult<String> {
    let row = conn
        .prepare_cached(
            "SELECT cu.name, c.caller_number, c.withheld FROM conversations c
             LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.id = ?1",
        )?
        .query_row([conversation_id], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })
        .optional()?;
    Ok(match row {
        Some((name, number, withheld)) => title(name, number.as_deref(), withheld),
        None => "Unknown".to_string(),
    })
}
