//! The statement layer under the store's transaction scripts (issue 15): one SQL text for both
//! databases, run through a handful of methods each backend implements.
//!
//! - SQL is written once, in PostgreSQL's placeholder style (`$1`, `$2`, …) and in the dialect
//!   both databases accept: `RETURNING`, `ON CONFLICT`, `true`/`false`, `greatest`/`least`
//!   (SQLite gets PostgreSQL's versions as functions, see `sqlite::db`), `CAST(x AS bigint)`
//!   rather than `x::bigint`. SQLite reads `$n` as `?n`.
//! - Values are bound as [`Arg`]s, typed even when null, because PostgreSQL types a parameter
//!   from what it is told.
//! - Rows are read through [`Row`], the shared column accessors of `rows.rs`.
//! - What is truly one database's own (full-text indexing, announcing a commit) is a method of
//!   [`WriteTx`], written per backend.
//!
//! Methods are `async` for PostgreSQL. SQLite's never wait: its scripts run on a blocking thread
//! through [`now`].

use std::future::Future;
use std::task::{Context, Poll, Waker};

use chrono::{DateTime, Utc};
use inbox_core::Id;

use super::postgres::PgTx;
use super::rows::Cols;
use super::sqlite::db::Lite;
use super::{StoreError, StoreResult};
use sqlx::PgConnection;

/// One value bound to a statement's placeholder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Arg<'a> {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<&'a str>),
    Bool(bool),
    /// A BLOB on SQLite, a BYTEA on PostgreSQL (token hashes).
    Bytes(&'a [u8]),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl From<u32> for Arg<'_> {
    fn from(v: u32) -> Self {
        Arg::Int(Some(i64::from(v)))
    }
}

impl From<Option<u32>> for Arg<'_> {
    fn from(v: Option<u32>) -> Self {
        Arg::Int(v.map(i64::from))
    }
}

impl From<f64> for Arg<'_> {
    fn from(v: f64) -> Self {
        Arg::Real(Some(v))
    }
}

impl From<Option<f64>> for Arg<'_> {
    fn from(v: Option<f64>) -> Self {
        Arg::Real(v)
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Bytes(v)
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Arg<'a> {
    fn from(v: &'a [u8; N]) -> Self {
        Arg::Bytes(v)
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref())
    }
}

/// The arguments of a statement, in placeholder order: `args![org, name, at]`.
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        &[$($crate::store::db::Arg::from($v)),*]
    };
}
pub(crate) use args;

/// A row as the scripts read it: the shared accessors, failing with the store's error.
pub(crate) type Row<'a> = dyn Cols<Error = StoreError> + 'a;

/// A backend's row seen as a [`Row`].
pub(crate) struct Cells<'a, R: ?Sized>(pub &'a R);

impl<R: Cols + ?Sized> Cols for Cells<'_, R>
where
    StoreError: From<R::Error>,
{
    type Error = StoreError;
    fn int(&self, i: usize) -> StoreResult<i64> {
        Ok(self.0.int(i)?)
    }
    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        Ok(self.0.opt_int(i)?)
    }
    fn text(&self, i: usize) -> StoreResult<String> {
        Ok(self.0.text(i)?)
    }
    fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        Ok(self.0.opt_text(i)?)
    }
    fn flag(&self, i: usize) -> StoreResult<bool> {
        Ok(self.0.flag(i)?)
    }
    fn opt_real(&self, i: usize) -> StoreResult<Option<f64>> {
        Ok(self.0.opt_real(i)?)
    }
    fn bad(&self, i: usize, value: String) -> StoreError {
        self.0.bad(i, value).into()
    }
}

/// Which database a script runs on, for the few statements each writes its own way (full-text
/// search, `ILIKE`, JSON): `match db.dialect()` next to each other, never a second script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `LIKE` without case, escaped with a backslash (`rules::like_pattern`): SQLite's `LIKE`
    /// already ignores ASCII case, PostgreSQL's `ILIKE` does.
    pub(crate) fn ilike(self) -> &'static str {
        match self {
            Dialect::Sqlite => "LIKE",
            Dialect::Postgres => "ILIKE",
        }
    }
}

/// Statements on a connection or inside a transaction. Every future is `Send`, so a script
/// written once over any backend can be awaited on the server's tasks.
pub(crate) trait Db: Send {
    fn dialect(&self) -> Dialect;

    /// Runs a statement; how many rows it changed.
    fn exec(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Every row the query returns, mapped.
    fn all<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        map: impl FnMut(&Row) -> StoreResult<T> + Send,
    ) -> impl Future<Output = StoreResult<Vec<T>>> + Send;

    /// The query's first row, mapped, if any.
    fn opt<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        map: impl FnOnce(&Row) -> StoreResult<T> + Send,
    ) -> impl Future<Output = StoreResult<Option<T>>> + Send;

    /// The query's first row, mapped; `NotFound` when there is none (an id that is not the
    /// organisation's).
    fn one<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        map: impl FnOnce(&Row) -> StoreResult<T> + Send,
    ) -> impl Future<Output = StoreResult<T>> + Send {
        async move { self.opt(sql, args, map).await?.ok_or(StoreError::NotFound) }
    }

    /// The first column of the first row, as an integer (`RETURNING id`, a count).
    fn int(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> impl Future<Output = StoreResult<i64>> + Send {
        self.one(sql, args, |r| r.int(0))
    }

    /// Whether the query finds a row.
    fn any(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> impl Future<Output = StoreResult<bool>> + Send {
        async move { Ok(self.opt(sql, args, |_| Ok(())).await?.is_some()) }
    }

    /// `Conflict` with the `taken` message when the query finds a row (a name in use).
    fn free(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        taken: impl FnOnce() -> String + Send,
    ) -> impl Future<Output = StoreResult<()>> + Send {
        async move {
            match self.any(sql, args).await? {
                true => Err(StoreError::Conflict(taken())),
                false => Ok(()),
            }
        }
    }

    /// `NotFound` unless the query finds a row.
    fn exists(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> impl Future<Output = StoreResult<()>> + Send {
        self.one(sql, args, |_| Ok(()))
    }
}

/// A write transaction: what only it can do, and what each database does its own way.
pub(crate) trait WriteTx: Db {
    /// Takes the organisation's write lock for the rest of the transaction, so its writers queue
    /// (PostgreSQL; SQLite's one writer holds the whole database already).
    fn lock(&mut self, org: Id) -> impl Future<Output = StoreResult<()>> + Send;

    /// Notes that the organisation's log grew, so it is announced once the transaction commits
    /// (PostgreSQL also tells the other instances, delivered at commit).
    fn touch(&mut self, org: Id) -> impl Future<Output = StoreResult<()>> + Send;

    /// Indexes (or re-indexes) a searchable text under `doc` (`source_id * 4 + kind`); empty
    /// text removes it.
    fn index_text(
        &mut self,
        doc: i64,
        org: Id,
        conversation: Id,
        text: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Tells every server, once the transaction commits, that the user's sessions ended, so
    /// their sockets close (the other end: `sqlite/session_ends.rs`, `postgres/listen.rs`).
    fn sessions_ended(
        &mut self,
        user: Id,
        at: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// The connection a script reads on, whichever database is under it: borrowed from the backend
/// for the script's run.
pub(crate) enum Conn<'c> {
    Lite(&'c mut Lite),
    Pg(&'c mut PgConnection),
}

/// The write transaction a script runs in, whichever database is under it.
pub(crate) enum Tx<'c> {
    Lite(&'c mut Lite),
    Pg(&'c mut PgTx),
}

/// `$call` on the connection under `$conn`, whichever database it is.
macro_rules! on {
    ($conn:expr, |$c:ident| $call:expr) => {
        match $conn {
            Self::Lite($c) => $call,
            Self::Pg($c) => $call,
        }
    };
}

/// Both connection types read and write through the one under them.
macro_rules! statements_on {
    ($ty:ident) => {
        impl Db for $ty<'_> {
            fn dialect(&self) -> Dialect {
                on!(self, |c| c.dialect())
            }

            async fn exec(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64> {
                on!(self, |c| c.exec(sql, args).await)
            }

            async fn all<T: Send>(
                &mut self,
                sql: &str,
                args: &[Arg<'_>],
                map: impl FnMut(&Row) -> StoreResult<T> + Send,
            ) -> StoreResult<Vec<T>> {
                on!(self, |c| c.all(sql, args, map).await)
            }

            async fn opt<T: Send>(
                &mut self,
                sql: &str,
                args: &[Arg<'_>],
                map: impl FnOnce(&Row) -> StoreResult<T> + Send,
            ) -> StoreResult<Option<T>> {
                on!(self, |c| c.opt(sql, args, map).await)
            }
        }
    };
}
statements_on!(Conn);
statements_on!(Tx);

impl WriteTx for Tx<'_> {
    async fn lock(&mut self, org: Id) -> StoreResult<()> {
        on!(self, |c| c.lock(org).await)
    }

    async fn touch(&mut self, org: Id) -> StoreResult<()> {
        on!(self, |c| c.touch(org).await)
    }

    async fn index_text(
        &mut self,
        doc: i64,
        org: Id,
        conversation: Id,
        text: &str,
    ) -> StoreResult<()> {
        on!(self, |c| c.index_text(doc, org, conversation, text).await)
    }

    async fn sessions_ended(&mut self, user: Id, at: DateTime<Utc>) -> StoreResult<()> {
        on!(self, |c| c.sessions_ended(user, at).await)
    }
}

/// Runs a script whose every step is ready at once (SQLite's, on a blocking thread).
pub(crate) fn now<T>(script: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
    let mut script = std::pin::pin!(script);
    match script
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => Err(StoreError::Internal(anyhow::anyhow!(
            "a SQLite statement waited, which it never should"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_that_never_waits_runs_now() {
        assert_eq!(now(async { Ok(7) }).unwrap(), 7);
    }

    #[test]
    fn a_script_that_waits_is_an_error_not_a_hang() {
        let waits = async {
            std::future::pending::<()>().await;
            Ok(())
        };
        assert!(matches!(now(waits), Err(StoreError::Internal(_))));
    }

    #[test]
    fn args_keep_their_type_when_null() {
        let none: Option<&str> = None;
        let list: &[Arg] = args![1i64, none, Option::<i64>::None, true];
        assert_eq!(
            list,
            &[
                Arg::Int(Some(1)),
                Arg::Text(None),
                Arg::Int(None),
                Arg::Bool(true)
            ]
        );
    }
}
