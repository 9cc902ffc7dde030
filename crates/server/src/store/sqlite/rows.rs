//! SQLite rows read through the shared column accessors of `store::rows`.

use rusqlite::types::Type;

crate::store::rows::cols_through!(rusqlite::Row<'_>, rusqlite::Error, get, |i, why: String| {
    rusqlite::Error::FromSqlConversionFailure(i, Type::Text, why.into())
});
