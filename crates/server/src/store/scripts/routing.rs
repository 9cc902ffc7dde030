//! Which conversation an inbound message or call joins (RTE-1 … RTE-3, VOI-1 … VOI-3): the
//! customer's, else the unknown number's, else a new one for a withheld caller.

use chrono::{DateTime, Utc};
use inbox_core::routing::route;
use inbox_core::{Channel, ContextBadge, Id, WorkOrderStatus};

use super::{index, load, system_note};
use crate::store::db::{args, Db, WriteTx};
use crate::store::rows::{fts_kind, ms, title};
use crate::store::search::indexed_phone_forms;
use crate::store::StoreResult;

#[derive(Debug, Clone)]
pub(crate) enum Party {
    Customer(Id),
    Number(String),
    Withheld,
}

/// The customer a number belongs to in this organisation, if any.
pub(crate) async fn customer_by_number(
    db: &mut impl Db,
    org: Id,
    e164: &str,
) -> StoreResult<Option<Id>> {
    db.opt(
        "SELECT customer_id FROM customer_phones WHERE org_id = $1 AND e164 = $2 ORDER BY customer_id LIMIT 1",
        args![org, e164],
        |r| r.int(0),
    )
    .await
}

pub(crate) async fn party_for(
    db: &mut impl Db,
    org: Id,
    customer: Option<Id>,
    number: Option<&str>,
) -> StoreResult<Party> {
    if let Some(c) = customer {
        return Ok(Party::Customer(c));
    }
    let Some(n) = number else {
        return Ok(Party::Withheld);
    };
    Ok(match customer_by_number(db, org, n).await? {
        Some(c) => Party::Customer(c),
        None => Party::Number(n.to_string()),
    })
}

/// The text the search box finds a conversation by: the customer's name and numbers, or the
/// caller's number (LST-2).
pub(crate) async fn title_search_text(db: &mut impl Db, conversation: Id) -> StoreResult<String> {
    let (name, customer, number) = db
        .one(
            "SELECT cu.name, c.customer_id, c.caller_number FROM conversations c
             LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1",
            args![conversation],
            |r| Ok((r.opt_text(0)?, r.opt_int(1)?, r.opt_text(2)?)),
        )
        .await?;
    let mut numbers = match customer {
        Some(c) => {
            db.all(
                "SELECT e164 FROM customer_phones WHERE customer_id = $1",
                args![c],
                |r| r.text(0),
            )
            .await?
        }
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
pub(crate) async fn conversation_for(
    db: &mut impl WriteTx,
    org: Id,
    party: &Party,
    channel: Channel,
    at: DateTime<Utc>,
) -> StoreResult<(Id, bool)> {
    let existing = match party {
        Party::Customer(c) => {
            db.opt(
                "SELECT id FROM conversations WHERE org_id = $1 AND customer_id = $2",
                args![org, *c],
                |r| r.int(0),
            )
            .await?
        }
        Party::Number(n) => {
            db.opt(
                "SELECT id FROM conversations WHERE org_id = $1 AND customer_id IS NULL AND NOT withheld AND caller_number = $2",
                args![org, n],
                |r| r.int(0),
            )
            .await?
        }
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
    let id = db
        .int(
            "INSERT INTO conversations (org_id, customer_id, caller_number, withheld, context_badge, last_channel, last_activity_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            args![org, customer, number, withheld, badge.as_str(), channel.as_str(), ms(at)],
        )
        .await?;
    let text = title_search_text(db, id).await?;
    index(db, fts_kind::TITLE, id, org, id, &text).await?;
    Ok((id, true))
}

/// Applies RTE-1 … RTE-3 to a conversation that is not linked yet: badge, auto-link with a system
/// message, or the "pick a work order" prompt.
pub(crate) async fn apply_routing(
    db: &mut impl WriteTx,
    org: Id,
    conversation: Id,
    text: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let (customer, linked) = db
        .one(
            "SELECT customer_id, work_order_id FROM conversations WHERE id = $1",
            args![conversation],
            |r| Ok((r.opt_int(0)?, r.opt_int(1)?)),
        )
        .await?;
    if linked.is_some() {
        return Ok(());
    }
    let active = match customer {
        Some(c) => {
            db.all(
                "SELECT id FROM work_orders WHERE customer_id = $1 AND status = $2 ORDER BY id",
                args![c, WorkOrderStatus::Active.as_str()],
                |r| r.int(0),
            )
            .await?
        }
        None => Vec::new(),
    };
    let r = route(customer.is_some(), &active, text);
    db.exec(
        "UPDATE conversations SET context_badge = $2, needs_work_order_pick = $3, work_order_id = $4 WHERE id = $1",
        args![conversation, r.badge.as_str(), r.needs_work_order_pick, r.link_work_order],
    )
    .await?;
    if let Some(wo) = r.link_work_order {
        let wo = load::work_order(db, org, wo).await?;
        let body = format!(
            "Work order {} ({}) linked automatically",
            wo.number, wo.vehicle_registration
        );
        system_note(db, org, conversation, &body, None, at).await?;
    }
    Ok(())
}

/// The name shown as the sender of an inbound message.
pub(crate) async fn sender_name(db: &mut impl Db, party: &Party) -> StoreResult<String> {
    Ok(match party {
        Party::Customer(c) => db
            .opt("SELECT name FROM customers WHERE id = $1", args![*c], |r| {
                r.text(0)
            })
            .await?
            .unwrap_or_else(|| "Customer".to_string()),
        Party::Number(n) => title(None, Some(n), false),
        Party::Withheld => title(None, None, true),
    })
}
