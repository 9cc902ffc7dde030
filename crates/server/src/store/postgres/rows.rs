//! PostgreSQL rows to domain types through the shared mappers in `store::rows`, and the loaders
//! every aggregate uses.

use inbox_core::{Call, ConversationSummary, Customer, Id, Message, Note, WorkOrder};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::store::rows::{self as shared, Cols};
pub(crate) use crate::store::rows::{
    title, CALL_SELECT, MESSAGE_SELECT, NOTE_SELECT, SUMMARY_SELECT, WORK_ORDER_SELECT,
};
use crate::store::{StoreError, StoreResult};

impl Cols for PgRow {
    type Error = sqlx::Error;
    fn int(&self, i: usize) -> sqlx::Result<i64> {
        self.try_get(i)
    }
    fn opt_int(&self, i: usize) -> sqlx::Result<Option<i64>> {
        self.try_get(i)
    }
    fn text(&self, i: usize) -> sqlx::Result<String> {
        self.try_get(i)
    }
    fn opt_text(&self, i: usize) -> sqlx::Result<Option<String>> {
        self.try_get(i)
    }
    fn flag(&self, i: usize) -> sqlx::Result<bool> {
        self.try_get(i)
    }
    fn opt_real(&self, i: usize) -> sqlx::Result<Option<f64>> {
        self.try_get(i)
    }
    fn bad(&self, i: usize, value: String) -> sqlx::Error {
        sqlx::Error::ColumnDecode {
            index: i.to_string(),
            source: format!("unexpected value {value:?}").into(),
        }
    }
}

/// Runs a query that takes two ids and maps its one row, NotFound when there is none.
macro_rules! load_by {
    ($name:ident, $ty:ty, $select:expr, $where:literal, $map:path) => {
        pub(crate) async fn $name(c: &mut PgConnection, org_id: Id, id: Id) -> StoreResult<$ty> {
            let sql = format!("{} {}", $select, $where);
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(org_id)
                .fetch_optional(c)
                .await?
                .ok_or(StoreError::NotFound)?;
            Ok($map(&row)?)
        }
    };
}

load_by!(
    load_summary,
    ConversationSummary,
    SUMMARY_SELECT,
    "WHERE c.id = $1 AND c.org_id = $2",
    shared::summary
);
load_by!(
    load_message,
    Message,
    MESSAGE_SELECT,
    "WHERE m.id = $1 AND m.org_id = $2",
    shared::message
);
load_by!(
    load_call,
    Call,
    CALL_SELECT,
    "WHERE id = $1 AND org_id = $2",
    shared::call
);
load_by!(
    load_work_order,
    WorkOrder,
    WORK_ORDER_SELECT,
    "WHERE w.id = $1 AND w.org_id = $2",
    shared::work_order
);

pub(crate) async fn load_note(c: &mut PgConnection, id: Id) -> StoreResult<Note> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{NOTE_SELECT} WHERE n.id = $1"
    )))
    .bind(id)
    .fetch_optional(c)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(shared::note(&row)?)
}

/// Many rows of one SELECT list, mapped.
pub(crate) fn all<T>(rows: Vec<PgRow>, map: fn(&PgRow) -> sqlx::Result<T>) -> StoreResult<Vec<T>> {
    Ok(rows.iter().map(map).collect::<sqlx::Result<Vec<T>>>()?)
}

pub(crate) fn summary(r: &PgRow) -> sqlx::Result<ConversationSummary> {
    shared::summary(r)
}

pub(crate) fn message(r: &PgRow) -> sqlx::Result<Message> {
    shared::message(r)
}

pub(crate) fn call(r: &PgRow) -> sqlx::Result<Call> {
    shared::call(r)
}

pub(crate) fn work_order(r: &PgRow) -> sqlx::Result<WorkOrder> {
    shared::work_order(r)
}

pub(crate) async fn load_customer(
    c: &mut PgConnection,
    org_id: Id,
    id: Id,
) -> StoreResult<Customer> {
    let (name, email): (String, Option<String>) =
        sqlx::query_as("SELECT name, email FROM customers WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut *c)
            .await?
            .ok_or(StoreError::NotFound)?;
    let phones: Vec<String> = sqlx::query_scalar(
        "SELECT e164 FROM customer_phones WHERE customer_id = $1 ORDER BY position, e164 COLLATE \"C\"",
    )
    .bind(id)
    .fetch_all(c)
    .await?;
    Ok(Customer {
        id,
        name,
        phones,
        email,
    })
}

/// The customer's name for message bubbles, or the number.
pub(crate) async fn party_name(c: &mut PgConnection, conversation_id: Id) -> StoreResult<String> {
    let row: Option<(Option<String>, Option<String>, bool)> = sqlx::query_as(
        "SELECT cu.name, c.caller_number, c.withheld FROM conversations c
         LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1",
    )
    .bind(conversation_id)
    .fetch_optional(c)
    .await?;
    Ok(match row {
        Some((name, number, withheld)) => title(name, number.as_deref(), withheld),
        None => "Unknown".to_string(),
    })
}
