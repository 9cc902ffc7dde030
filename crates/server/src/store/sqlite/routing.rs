//! Routing is written once for both databases (`store::scripts::routing`); these call it from
//! a SQLite transaction's closure.

use inbox_core::Id;
use rusqlite::Connection;

use super::db::Lite;
use crate::store::db::now;
use crate::store::scripts::routing as shared;
use crate::store::StoreResult;

pub(crate) fn title_search_text(tx: &Connection, conversation: Id) -> StoreResult<String> {
    now(shared::title_search_text(&mut Lite::new(tx), conversation))
}
