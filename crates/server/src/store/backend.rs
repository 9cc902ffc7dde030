//! What a database gives the store (issue 15): connections and transactions for the scripts,
//! and the channels its commits are announced on. The store's API is written once, as plain
//! methods of [`Store`] next to their scripts in `store::scripts`; `sqlite` and `postgres`
//! give only the ways to run a script that `Store` hands over here, and the statement layer
//! (`store::db`).
//!
//! A script is handed to the backend as a closure that returns it boxed ([`Script`]): SQLite runs
//! it to completion at once on its writer's blocking thread (`db::now`), PostgreSQL awaits it.
//! The script sees one connection type, [`Conn`] or [`Tx`], whichever database is under it, so
//! it is compiled once.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use inbox_core::Id;

use super::db::{Conn, Tx};
use super::postgres::PgStore;
use super::scripts::messages::Inbound;
use super::sqlite::SqliteStore;
use super::{Ingested, StoreResult};
use crate::secrets::SecretBox;

/// A transaction script, borrowing its connection for `'c`.
pub(crate) type Script<'c, T> = Pin<Box<dyn Future<Output = StoreResult<T>> + Send + 'c>>;

/// The store over the database its URL named (`store::open`). Handlers and the sync loop use
/// its methods, each scoped by the caller's organisation: an id that is not the organisation's
/// is `NotFound`, never data.
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl From<SqliteStore> for Store {
    fn from(store: SqliteStore) -> Store {
        Store::Sqlite(store)
    }
}

impl From<PgStore> for Store {
    fn from(store: PgStore) -> Store {
        Store::Postgres(store)
    }
}

/// `$call` on whichever backend the store is: `SqliteStore` and `PgStore` each have the methods
/// below, taking the same closures.
macro_rules! on {
    ($store:expr, |$b:ident| $call:expr) => {
        match $store {
            Store::Sqlite($b) => $call,
            Store::Postgres($b) => $call,
        }
    };
}

impl Store {
    /// Runs `f` on a pooled connection, outside any transaction (each statement commits on its
    /// own).
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl for<'c> FnOnce(Conn<'c>) -> Script<'c, T> + Send + 'static,
    ) -> StoreResult<T> {
        on!(self, |b| b.read(f).await)
    }

    /// Runs `f` in one read-only transaction that sees one snapshot of the database, stopped
    /// with `StoreError::TimedOut` once `budget` (if any) has passed.
    pub(crate) async fn read_snapshot<T: Send + 'static>(
        &self,
        budget: Option<Duration>,
        f: impl for<'c> FnOnce(Conn<'c>) -> Script<'c, T> + Send + 'static,
    ) -> StoreResult<T> {
        on!(self, |b| b.read_snapshot(budget, f).await)
    }

    /// Runs a write of one statement: on PostgreSQL outside a transaction, on SQLite in its
    /// writer's turn.
    pub(crate) async fn write_one<T: Send + 'static>(
        &self,
        f: impl for<'c> FnOnce(Conn<'c>) -> Script<'c, T> + Send + 'static,
    ) -> StoreResult<T> {
        on!(self, |b| b.write_one(f).await)
    }

    /// Runs `f` in one write transaction, holding `lock`'s write lock from its start when
    /// given; commits if `f` succeeds, then announces the organisations whose log grew.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        lock: Option<Id>,
        f: impl for<'c> FnOnce(Tx<'c>) -> Script<'c, T> + Send + 'static,
    ) -> StoreResult<T> {
        on!(self, |b| b.write(lock, f).await)
    }

    /// Stores an inbound message with whichever others are waiting, under one commit
    /// (`group_commit`).
    pub(crate) async fn ingest_grouped(&self, job: Inbound) -> StoreResult<Ingested> {
        on!(self, |b| b.ingest_grouped(job).await)
    }

    /// Seals provider secrets before they are stored.
    pub(crate) fn secret_box(&self) -> &SecretBox {
        on!(self, |b| b.secret_box())
    }

    /// Organisations whose log grew, after this process's commits and (PostgreSQL) other
    /// instances'.
    pub(crate) fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<Id> {
        on!(self, |b| b.subscribe_changes())
    }

    /// Users whose sessions were ended, by any process.
    pub(crate) fn subscribe_session_ends(&self) -> tokio::sync::broadcast::Receiver<Id> {
        on!(self, |b| b.subscribe_session_ends())
    }
}

/// A closure that hands its script to the store, its captures moved into the script:
/// `self.read(script!(|c| scripts::x::load(c, org, &name)))`. Inside, the name is the
/// connection, `&mut Conn` or `&mut Tx`.
macro_rules! script {
    (|$db:ident| $body:expr) => {
        move |mut $db| {
            Box::pin(async move {
                let $db = &mut $db;
                $body.await
            })
        }
    };
}
pub(crate) use script;
