//! The statement layer on SQLite: shared SQL run through rusqlite's statement cache, with
//! PostgreSQL's `$n` placeholders read as `?n` and its `greatest`/`least` added as functions.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use inbox_core::Id;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params_from_iter, Connection, ToSql};

use crate::store::db::{args, Arg, Cells, Db, Dialect, Row, WriteTx};
use crate::store::rows::ms;
use crate::store::StoreResult;

/// A pooled connection the shared scripts run on, in a transaction or not. A transaction still
/// open when it is dropped (its script failed or panicked) is rolled back before the connection
/// goes back to the pool.
pub(crate) struct Lite {
    conn: Pooled,
    /// Organisations whose log grew in this transaction, announced after commit.
    touched: Vec<Id>,
}

pub(crate) type Pooled = r2d2::PooledConnection<r2d2_sqlite::SqliteConnectionManager>;

impl Lite {
    pub(crate) fn new(conn: Pooled) -> Lite {
        Lite {
            conn,
            touched: Vec::new(),
        }
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The organisations whose log grew, once each.
    pub(crate) fn take_touched(&mut self) -> Vec<Id> {
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        touched
    }
}

impl Drop for Lite {
    fn drop(&mut self) {
        if !self.conn.is_autocommit() {
            // Failing leaves the connection as it was; the next BEGIN would then fail loudly.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Arg::Int(Some(v)) => ValueRef::Integer(v),
            Arg::Real(Some(v)) => ValueRef::Real(v),
            Arg::Text(Some(v)) => ValueRef::Text(v.as_bytes()),
            Arg::Bool(v) => ValueRef::Integer(i64::from(v)),
            Arg::Bytes(v) => ValueRef::Blob(v),
            Arg::Int(None) | Arg::Real(None) | Arg::Text(None) => ValueRef::Null,
        }))
    }
}

/// PostgreSQL's `$n` placeholders as SQLite's `?n` (`$n` would be a name, numbered by first
/// appearance rather than by `n`).
pub(crate) fn placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

impl Db for Lite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn exec(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64> {
        let n = self
            .conn
            .prepare_cached(&placeholders(sql))?
            .execute(params_from_iter(args))?;
        Ok(n as u64)
    }

    async fn all<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        mut map: impl FnMut(&Row) -> StoreResult<T> + Send,
    ) -> StoreResult<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(&placeholders(sql))?;
        let mut rows = stmt.query(params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(map(&Cells(r))?);
        }
        Ok(out)
    }

    async fn opt<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        map: impl FnOnce(&Row) -> StoreResult<T> + Send,
    ) -> StoreResult<Option<T>> {
        let mut stmt = self.conn.prepare_cached(&placeholders(sql))?;
        let mut rows = stmt.query(params_from_iter(args))?;
        match rows.next()? {
            Some(r) => Ok(Some(map(&Cells(r))?)),
            None => Ok(None),
        }
    }
}

impl WriteTx for Lite {
    async fn lock(&mut self, _org: Id) -> StoreResult<()> {
        Ok(())
    }

    async fn touch(&mut self, org: Id) -> StoreResult<()> {
        self.touched.push(org);
        Ok(())
    }

    async fn index_text(
        &mut self,
        doc: i64,
        org: Id,
        conversation: Id,
        text: &str,
    ) -> StoreResult<()> {
        self.exec("DELETE FROM search_fts WHERE rowid = $1", &[doc.into()])
            .await?;
        if !text.trim().is_empty() {
            self.exec(
                "INSERT INTO search_fts (rowid, text, org_id, conversation_id) VALUES ($1, $2, $3, $4)",
                crate::store::db::args![doc, text, org, conversation],
            )
            .await?;
        }
        Ok(())
    }

    /// A row in `session_ends`, which every process polls; rows older than a day are read by
    /// everyone already.
    async fn sessions_ended(&mut self, user: Id, at: DateTime<Utc>) -> StoreResult<()> {
        let day_ago = ms(at - chrono::Duration::days(1));
        self.exec("DELETE FROM session_ends WHERE at < $1", args![day_ago])
            .await?;
        self.exec(
            "INSERT INTO session_ends (user_id, at) VALUES ($1, $2)",
            args![user, ms(at)],
        )
        .await?;
        Ok(())
    }
}

/// Adds PostgreSQL's `greatest` and `least` (nulls ignored; null only when every argument is)
/// and its `"C"` collation, so shared SQL can use them.
pub(crate) fn add_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("greatest", -1, flags, |ctx| pick(ctx, Ordering::Greater))?;
    conn.create_scalar_function("least", -1, flags, |ctx| pick(ctx, Ordering::Less))?;
    // PostgreSQL's byte order, which SQLite's default collation already is.
    conn.create_collation("C", |a: &str, b: &str| a.cmp(b))?;
    Ok(())
}

use std::cmp::Ordering;

fn pick(ctx: &Context, wanted: Ordering) -> rusqlite::Result<Value> {
    let mut best: Option<Value> = None;
    for i in 0..ctx.len() {
        let v: Value = ctx.get(i)?;
        if v == Value::Null {
            continue;
        }
        let better = match &best {
            None => true,
            Some(b) => compare(&v, b) == wanted,
        };
        if better {
            best = Some(v);
        }
    }
    Ok(best.unwrap_or(Value::Null))
}

/// SQLite's order across storage classes: numbers, then text, then blobs.
fn compare(a: &Value, b: &Value) -> Ordering {
    fn number(v: &Value) -> Option<f64> {
        match v {
            Value::Integer(i) => Some(*i as f64),
            Value::Real(r) => Some(*r),
            _ => None,
        }
    }
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => x.cmp(y),
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => match (a, b) {
                (Value::Text(x), Value::Text(y)) => x.cmp(y),
                (Value::Text(_), _) => Ordering::Less,
                (_, Value::Text(_)) => Ordering::Greater,
                _ => Ordering::Equal,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_question_marks() {
        assert_eq!(
            placeholders("UPDATE t SET a = $2 WHERE id = $1 AND b = '$x'"),
            "UPDATE t SET a = ?2 WHERE id = ?1 AND b = '$x'"
        );
        assert!(matches!(placeholders("SELECT 1"), Cow::Borrowed(_)));
    }

    #[test]
    fn greatest_and_least_ignore_nulls_as_postgres_does() {
        let conn = Connection::open_in_memory().unwrap();
        add_functions(&conn).unwrap();
        let row: (i64, i64, Option<i64>, f64) = conn
            .query_row(
                "SELECT greatest(3, NULL, 7), least(NULL, 5, 2), greatest(NULL, NULL), greatest(1, 2.5)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(row, (7, 2, None, 2.5));
    }
}
