//! Routing is written once for both databases (`store::scripts::routing`); these call it from
//! a SQLite transaction's closure.

use chrono::{DateTime, Utc};
use inbox_core::{Channel, Id};
use rusqlite::Connection;

use super::db::Lite;
use crate::store::db::now;
use crate::store::scripts::routing as shared;
pub(crate) use crate::store::scripts::routing::Party;
use crate::store::StoreResult;

pub(crate) fn party_for(
    tx: &Connection,
    org: Id,
    customer: Option<Id>,
    number: Option<&str>,
) -> StoreResult<Party> {
    now(shared::party_for(&mut Lite::new(tx), org, customer, number))
}

pub(crate) fn conversation_for(
    tx: &Connection,
    org: Id,
    party: &Party,
    channel: Channel,
    at: DateTime<Utc>,
) -> StoreResult<(Id, bool)> {
    now(shared::conversation_for(
        &mut Lite::new(tx),
        org,
        party,
        channel,
        at,
    ))
}

pub(crate) fn apply_routing(
    tx: &Connection,
    org: Id,
    conversation: Id,
    text: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    now(shared::apply_routing(
        &mut Lite::new(tx),
        org,
        conversation,
        text,
        at,
    ))
}
