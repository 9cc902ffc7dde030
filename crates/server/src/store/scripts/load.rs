//! Reading one domain object by id, scoped by organisation: NotFound for an id that is not the
//! organisation's.

use inbox_core::{Call, ConversationSummary, Customer, Id, Message, Note, WorkOrder};

use crate::store::db::{args, Db};
use crate::store::rows::{
    self, title, CALL_SELECT, MESSAGE_SELECT, NOTE_SELECT, SUMMARY_SELECT, WORK_ORDER_SELECT,
};
use crate::store::StoreResult;

pub(crate) async fn summary(db: &mut impl Db, org: Id, id: Id) -> StoreResult<ConversationSummary> {
    let sql = format!("{SUMMARY_SELECT} WHERE c.id = $1 AND c.org_id = $2");
    db.one(&sql, args![id, org], |r| rows::summary(r)).await
}

pub(crate) async fn message(db: &mut impl Db, org: Id, id: Id) -> StoreResult<Message> {
    let sql = format!("{MESSAGE_SELECT} WHERE m.id = $1 AND m.org_id = $2");
    db.one(&sql, args![id, org], |r| rows::message(r)).await
}

pub(crate) async fn call(db: &mut impl Db, org: Id, id: Id) -> StoreResult<Call> {
    let sql = format!("{CALL_SELECT} WHERE id = $1 AND org_id = $2");
    db.one(&sql, args![id, org], |r| rows::call(r)).await
}

pub(crate) async fn work_order(db: &mut impl Db, org: Id, id: Id) -> StoreResult<WorkOrder> {
    let sql = format!("{WORK_ORDER_SELECT} WHERE w.id = $1 AND w.org_id = $2");
    db.one(&sql, args![id, org], |r| rows::work_order(r)).await
}

/// A note by id (the caller has scoped it already).
pub(crate) async fn note(db: &mut impl Db, id: Id) -> StoreResult<Note> {
    let sql = format!("{NOTE_SELECT} WHERE n.id = $1");
    db.one(&sql, args![id], |r| rows::note(r)).await
}

pub(crate) async fn customer(db: &mut impl Db, org: Id, id: Id) -> StoreResult<Customer> {
    let (name, email) = db
        .one(
            "SELECT name, email FROM customers WHERE id = $1 AND org_id = $2",
            args![id, org],
            |r| Ok((r.text(0)?, r.opt_text(1)?)),
        )
        .await?;
    let phones = db
        .all(
            "SELECT e164 FROM customer_phones WHERE customer_id = $1 ORDER BY position, e164 COLLATE \"C\"",
            args![id],
            |r| r.text(0),
        )
        .await?;
    Ok(Customer {
        id,
        name,
        phones,
        email,
    })
}

/// The customer's name for message bubbles, or the number.
pub(crate) async fn party_name(db: &mut impl Db, conversation: Id) -> StoreResult<String> {
    let row = db
        .opt(
            "SELECT cu.name, c.caller_number, c.withheld FROM conversations c
             LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1",
            args![conversation],
            |r| Ok((r.opt_text(0)?, r.opt_text(1)?, r.flag(2)?)),
        )
        .await?;
    Ok(match row {
        Some((name, number, withheld)) => title(name, number.as_deref(), withheld),
        None => "Unknown".to_string(),
    })
}
