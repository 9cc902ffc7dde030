//! PostgreSQL rows read through the shared column accessors of `store::rows`.

use sqlx::Row;

crate::store::rows::cols_through!(
    sqlx::postgres::PgRow,
    sqlx::Error,
    try_get,
    |i: usize, why: String| sqlx::Error::ColumnDecode {
        index: i.to_string(),
        source: why.into(),
    }
);
