//! PostgreSQL rows read through the shared column accessors of `store::rows`.

use sqlx::postgres::PgRow;
use sqlx::Row;

use crate::store::rows::Cols;

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
