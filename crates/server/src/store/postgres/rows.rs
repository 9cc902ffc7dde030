//! PostgreSQL rows to domain types through the shared mappers in `store::rows`, and the loaders
//! every aggregate uses.

use inbox_core::WorkOrder;
use sqlx::postgres::PgRow;
use sqlx::Row;

pub(crate) use crate::store::rows::WORK_ORDER_SELECT;
use crate::store::rows::{self as shared, Cols};
use crate::store::StoreResult;

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

pub(crate) use crate::store::scripts::load::{
    call as load_call, customer as load_customer, message as load_message, party_name,
    work_order as load_work_order,
};

/// Many rows of one SELECT list, mapped.
pub(crate) fn all<T>(rows: Vec<PgRow>, map: fn(&PgRow) -> sqlx::Result<T>) -> StoreResult<Vec<T>> {
    Ok(rows.iter().map(map).collect::<sqlx::Result<Vec<T>>>()?)
}

pub(crate) fn work_order(r: &PgRow) -> sqlx::Result<WorkOrder> {
    shared::work_order(r)
}
