//! Which conversation an inbound message or call joins (RTE-1 … RTE-3, VOI-1 … VOI-3): the
//! customer's, else the unknown number's, else a new one for a withheld caller.

use chrono::{DateTime, Utc};
use inbox_core::routing::route;
use inbox_core::{Channel, ContextBadge, Id, WorkOrderStatus};
use sqlx::PgConnection;

use super::rows::{load_work_order, title};
use super::{fts_kind, search_put, system_note, Tx};
use crate::store::rows::ms;
use crate::store::search::indexed_phone_forms;
use crate::store::StoreResult;

#[derive(Debug, Clone)]
pub(crate) enum Party {
    Customer(Id),
    Number(String),
    Withheld,
}

pub(crate) async fn party_for(
    c: &mut PgConnection,
    org: Id,
    customer_id: Option<Id>,
    number: Option<&str>,
) -> StoreResult<Party> {
    if let Some(id) = customer_id {
        return Ok(Party::Customer(id));
    }
    let Some(n) = number else {
        return Ok(Party::Withheld);
    };
    let customer: Option<Id> = sqlx::query_scalar(
        "SELECT customer_id FROM customer_phones WHERE org_id = $1 AND e164 = $2 ORDER BY customer_id LIMIT 1",
    )
    .bind(org)
    .bind(n)
    .fetch_optional(c)
    .await?;
    Ok(match customer {
        Some(id) => Party::Customer(id),
        None => Party::Number(n.to_string()),
    })
}

/// The text the search box finds a conversation by: the customer's name and numbers, or the
/// caller's number (LST-2).
pub(crate) async fn title_search_text(
    c: &mut PgConnection,
    conversation_id: Id,
) -> StoreResult<String> {
    let (name, customer, number): (Option<String>, Option<Id>, Option<String>) = sqlx::query_as(
        "SELECT cu.name, c.customer_id, c.caller_number FROM conversations c
         LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1",
    )
    .bind(conversation_id)
    .fetch_one(&mut *c)
    .await?;
    let mut numbers: Vec<String> = match customer {
        Some(cid) => {
            sqlx::query_scalar("SELECT e164 FROM customer_phones WHERE customer_id = $1")
                .bind(cid)
                .fetch_all(&mut *c)
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
    c: &mut PgConnection,
    org: Id,
    party: &Party,
    channel: Channel,
    at: DateTime<Utc>,
) -> StoreResult<(Id, bool)> {
    let existing: Option<Id> = match party {
        Party::Customer(id) => {
            sqlx::query_scalar("SELECT id FROM conversations WHERE org_id = $1 AND customer_id = $2")
                .bind(org)
                .bind(id)
                .fetch_optional(&mut *c)
                .await?
        }
        Party::Number(n) => sqlx::query_scalar(
            "SELECT id FROM conversations WHERE org_id = $1 AND customer_id IS NULL AND NOT withheld AND caller_number = $2",
        )
        .bind(org)
        .bind(n)
        .fetch_optional(&mut *c)
        .await?,
        Party::Withheld => None,
    };
    if let Some(id) = existing {
        return Ok((id, false));
    }
    let (customer, number, withheld, badge) = match party {
        Party::Customer(id) => (Some(*id), None, false, ContextBadge::General),
        Party::Number(n) => (None, Some(n.as_str()), false, ContextBadge::Unknown),
        Party::Withheld => (None, None, true, ContextBadge::Unknown),
    };
    let id: Id = sqlx::query_scalar(
        "INSERT INTO conversations (org_id, customer_id, caller_number, withheld, context_badge, last_channel, last_activity_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(org)
    .bind(customer)
    .bind(number)
    .bind(withheld)
    .bind(badge.as_str())
    .bind(channel.as_str())
    .bind(ms(at))
    .fetch_one(&mut *c)
    .await?;
    let text = title_search_text(c, id).await?;
    search_put(c, fts_kind::TITLE, id, org, id, &text).await?;
    Ok((id, true))
}

/// Applies RTE-1 … RTE-3 to a conversation that is not linked yet: badge, auto-link with a system
/// message, or the "pick a work order" prompt.
pub(crate) async fn apply_routing(
    tx: &mut Tx,
    org: Id,
    conversation_id: Id,
    text: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let (customer, linked): (Option<Id>, Option<Id>) =
        sqlx::query_as("SELECT customer_id, work_order_id FROM conversations WHERE id = $1")
            .bind(conversation_id)
            .fetch_one(&mut **tx)
            .await?;
    if linked.is_some() {
        return Ok(());
    }
    let active: Vec<Id> = match customer {
        Some(cid) => {
            sqlx::query_scalar(
                "SELECT id FROM work_orders WHERE customer_id = $1 AND status = $2 ORDER BY id",
            )
            .bind(cid)
            .bind(WorkOrderStatus::Active.as_str())
            .fetch_all(&mut **tx)
            .await?
        }
        None => Vec::new(),
    };
    let r = route(customer.is_some(), &active, text);
    sqlx::query(
        "UPDATE conversations SET context_badge = $2, needs_work_order_pick = $3, work_order_id = $4 WHERE id = $1",
    )
    .bind(conversation_id)
    .bind(r.badge.as_str())
    .bind(r.needs_work_order_pick)
    .bind(r.link_work_order)
    .execute(&mut **tx)
    .await?;
    if let Some(wo) = r.link_work_order {
        let wo = load_work_order(tx, org, wo).await?;
        let body = format!(
            "Work order {} ({}) linked automatically",
            wo.number, wo.vehicle_registration
        );
        system_note(tx, org, conversation_id, &body, None, at).await?;
    }
    Ok(())
}

/// The name shown as the sender of an inbound message.
pub(crate) async fn sender_name(c: &mut PgConnection, party: &Party) -> StoreResult<String> {
    Ok(match party {
        Party::Customer(id) => sqlx::query_scalar("SELECT name FROM customers WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await?
            .unwrap_or_else(|| "Customer".to_string()),
        Party::Number(n) => title(None, Some(n), false),
        Party::Withheld => title(None, None, true),
    })
}
