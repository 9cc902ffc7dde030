//! Which conversation an inbound message or call joins (RTE-1 … RTE-3, VOI-1 … VOI-3): the
//! customer's, else the unknown number's, else a new one for a withheld caller.

use chrono::{DateTime, Utc};
use inbox_core::routing::route;
use inbox_core::{Channel, ContextBadge, Id, WorkOrderStatus};
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{load_work_order, title};
use super::{fts_kind, fts_put, ms, system_note};
use crate::store::search::indexed_phone_forms;
use crate::store::StoreResult;

#[derive(Debug, Clone)]
pub(crate) enum Party {
    Customer(Id),
    Number(String),
    Withheld,
}

/// The customer a number belongs to in this organisation, if any.
pub(crate) fn customer_by_number(
    tx: &Connection,
    org: Id,
    e164: &str,
) -> rusqlite::Result<Option<Id>> {
    tx.prepare_cached("SELECT customer_id FROM customer_phones WHERE org_id = ?1 AND e164 = ?2 ORDER BY customer_id LIMIT 1")?
        .query_row(params![org, e164], |r| r.get(0))
        .optional()
}

pub(crate) fn party_for(
    tx: &Connection,
    org: Id,
    customer_id: Option<Id>,
    number: Option<&str>,
) -> rusqlite::Result<Party> {
    if let Some(c) = customer_id {
        return Ok(Party::Customer(c));
    }
    match number {
        Some(n) => Ok(match customer_by_number(tx, org, n)? {
            Some(c) => Party::Customer(c),
            None => Party::Number(n.to_string()),
        }),
        None => Ok(Party::Withheld),
    }
}

/// The text the search box finds a conversation by: the customer's name and numbers, or the
/// caller's number (LST-2).
pub(crate) fn title_search_text(tx: &Connection, conversation_id: Id) -> rusqlite::Result<String> {
    let (name, customer, number): (Option<String>, Option<Id>, Option<String>) = tx
        .prepare_cached(
            "SELECT cu.name, c.customer_id, c.caller_number FROM conversations c
             LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.id = ?1",
        )?
        .query_row([conversation_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let mut numbers: Vec<String> = match customer {
        Some(cid) => tx
            .prepare_cached("SELECT e164 FROM customer_phones WHERE customer_id = ?1")?
            .query_map([cid], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?,
        None => Vec::new(),
    };
    numbers.extend(number);
    let mut text = name.unwrap_or_default();
    for n in numbers {
        text.push(' ');
        text.push_str(&indexed_phone_forms(&n));
    }
    Ok(text)
}

/// Finds or creates the party's conversation; returns (id, created).
pub(crate) fn conversation_for(
    tx: &Connection,
    org: Id,
    party: &Party,
    channel: Channel,
    at: DateTime<Utc>,
) -> rusqlite::Result<(Id, bool)> {
    let existing = match party {
        Party::Customer(c) => tx
            .prepare_cached("SELECT id FROM conversations WHERE org_id = ?1 AND customer_id = ?2")?
            .query_row(params![org, c], |r| r.get(0))
            .optional()?,
        Party::Number(n) => tx
            .prepare_cached(
                "SELECT id FROM conversations WHERE org_id = ?1 AND customer_id IS NULL AND withheld = 0 AND caller_number = ?2",
            )?
            .query_row(params![org, n], |r| r.get(0))
            .optional()?,
        Party::Withheld => None,
    };
    if let Some(id) = existing {
        return Ok((id, false));
    }
    let (customer, number, withheld, badge) = match party {
        Party::Customer(c) => (Some(*c), None, false, ContextBadge::General),
        Party::Number(n) => (None, Some(n.as_str()), false, ContextBadge::Unknown),
        Party::Withheld => (None, None, true, ContextBadge::Unknown),
    };
    tx.prepare_cached(
        "INSERT INTO conversations (org_id, customer_id, caller_number, withheld, context_badge, last_channel, last_activity_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    )?
    .execute(params![org, customer, number, withheld, badge.as_str(), channel.as_str(), ms(at)])?;
    let id = tx.last_insert_rowid();
    let text = title_search_text(tx, id)?;
    fts_put(tx, fts_kind::TITLE, id, org, id, &text)?;
    Ok((id, true))
}

/// Applies RTE-1 … RTE-3 to a conversation that is not linked yet: badge, auto-link with a system
/// message, or the "pick a work order" prompt.
pub(crate) fn apply_routing(
    tx: &Connection,
    org: Id,
    conversation_id: Id,
    text: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let (customer, linked): (Option<Id>, Option<Id>) = tx
        .prepare_cached("SELECT customer_id, work_order_id FROM conversations WHERE id = ?1")?
        .query_row([conversation_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if linked.is_some() {
        return Ok(());
    }
    let active: Vec<Id> = match customer {
        Some(c) => tx
            .prepare_cached(
                "SELECT id FROM work_orders WHERE customer_id = ?1 AND status = ?2 ORDER BY id",
            )?
            .query_map(params![c, WorkOrderStatus::Active.as_str()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?,
        None => Vec::new(),
    };
    let r = route(customer.is_some(), &active, text);
    tx.prepare_cached("UPDATE conversations SET context_badge = ?2, needs_work_order_pick = ?3, work_order_id = ?4 WHERE id = ?1")?
        .execute(params![conversation_id, r.badge.as_str(), r.needs_work_order_pick, r.link_work_order])?;
    if let Some(wo) = r.link_work_order {
        let wo = load_work_order(tx, org, wo)?;
        let body = format!(
            "Work order {} ({}) linked automatically",
            wo.number, wo.vehicle_registration
        );
        system_note(tx, org, conversation_id, &body, None, at)?;
    }
    Ok(())
}

/// The name shown as the sender of an inbound message.
pub(crate) fn sender_name(tx: &Connection, party: &Party) -> rusqlite::Result<String> {
    Ok(match party {
        Party::Customer(c) => tx
            .prepare_cached("SELECT name FROM customers WHERE id = ?1")?
            .query_row([c], |r| r.get(0))
            .optional()?
            .unwrap_or_else(|| "Customer".to_string()),
        Party::Number(n) => title(None, Some(n), false),
        Party::Withheld => title(None, None, true),
    })
}
