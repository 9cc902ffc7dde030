//! Rows to domain types: the SELECT lists and their mappers, shared by every query that returns
//! conversations, messages, calls or notes.

use inbox_core::{Call, ConversationSummary, Id, Message, Note, WorkOrder};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row};

use crate::store::rows::{self as shared, Cols};
pub(crate) use crate::store::rows::{
    title, CALL_SELECT, MESSAGE_SELECT, NOTE_SELECT, SUMMARY_SELECT, WORK_ORDER_SELECT,
};
use crate::store::StoreResult;

impl Cols for Row<'_> {
    type Error = rusqlite::Error;
    fn int(&self, i: usize) -> rusqlite::Result<i64> {
        self.get(i)
    }
    fn opt_int(&self, i: usize) -> rusqlite::Result<Option<i64>> {
        self.get(i)
    }
    fn text(&self, i: usize) -> rusqlite::Result<String> {
        self.get(i)
    }
    fn opt_text(&self, i: usize) -> rusqlite::Result<Option<String>> {
        self.get(i)
    }
    fn flag(&self, i: usize) -> rusqlite::Result<bool> {
        self.get(i)
    }
    fn opt_real(&self, i: usize) -> rusqlite::Result<Option<f64>> {
        self.get(i)
    }
    fn bad(&self, i: usize, value: String) -> rusqlite::Error {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            Type::Text,
            format!("unexpected value {value:?}").into(),
        )
    }
}

pub(crate) fn summary(r: &Row) -> rusqlite::Result<ConversationSummary> {
    shared::summary(r)
}

pub(crate) fn message(r: &Row) -> rusqlite::Result<Message> {
    shared::message(r)
}

pub(crate) fn call(r: &Row) -> rusqlite::Result<Call> {
    shared::call(r)
}

pub(crate) fn note(r: &Row) -> rusqlite::Result<Note> {
    shared::note(r)
}

pub(crate) fn work_order(r: &Row) -> rusqlite::Result<WorkOrder> {
    shared::work_order(r)
}

pub(crate) fn load_summary(
    conn: &Connection,
    org_id: Id,
    id: Id,
) -> StoreResult<ConversationSummary> {
    let sql = format!("{SUMMARY_SELECT} WHERE c.id = ?1 AND c.org_id = ?2");
    super::found(conn.prepare_cached(&sql)?.query_row([id, org_id], summary))
}

pub(crate) fn load_message(conn: &Connection, org_id: Id, id: Id) -> StoreResult<Message> {
    let sql = format!("{MESSAGE_SELECT} WHERE m.id = ?1 AND m.org_id = ?2");
    super::found(conn.prepare_cached(&sql)?.query_row([id, org_id], message))
}

pub(crate) fn load_call(conn: &Connection, org_id: Id, id: Id) -> StoreResult<Call> {
    let sql = format!("{CALL_SELECT} WHERE id = ?1 AND org_id = ?2");
    super::found(conn.prepare_cached(&sql)?.query_row([id, org_id], call))
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
