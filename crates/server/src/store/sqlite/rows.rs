//! Rows to domain types: the SELECT lists and their mappers, shared by every query that returns
//! conversations, messages, calls or notes.

use inbox_core::{Call, Id, WorkOrder};
use rusqlite::types::Type;
use rusqlite::{Connection, Row};

use super::db::Lite;
use crate::store::db::now;
use crate::store::rows::Cols;
use crate::store::scripts::load;
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

pub(crate) fn load_call(conn: &Connection, org: Id, id: Id) -> StoreResult<Call> {
    now(load::call(&mut Lite::new(conn), org, id))
}

pub(crate) fn load_work_order(conn: &Connection, org: Id, id: Id) -> StoreResult<WorkOrder> {
    now(load::work_order(&mut Lite::new(conn), org, id))
}
