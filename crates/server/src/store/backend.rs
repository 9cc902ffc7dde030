//! What a database gives the store (issue 15): connections and transactions for the scripts,
//! and the channels its commits are announced on. Every `*Store` trait is implemented once, for
//! any [`Backend`], next to its scripts in `store::scripts`; `sqlite` and `postgres` implement
//! only this trait and the statement layer (`store::db`).
//!
//! A script is handed to the backend as a closure that returns it boxed ([`Script`]): SQLite runs
//! it to completion at once on its writer's blocking thread (`db::now`), PostgreSQL awaits it.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use inbox_core::Id;

use super::db::{Db, WriteTx};
use super::scripts::messages::Inbound;
use super::{Ingested, StoreResult};
use crate::secrets::SecretBox;

/// A transaction script, borrowing its connection for `'c`.
pub(crate) type Script<'c, T> = Pin<Box<dyn Future<Output = StoreResult<T>> + Send + 'c>>;

/// A database the store's scripts run on.
pub(crate) trait Backend: Send + Sync + 'static {
    /// A connection outside any transaction (each statement commits on its own).
    type Conn: Db;
    /// A write transaction.
    type Tx: WriteTx;

    /// Runs `f` on a pooled connection.
    fn read<T: Send + 'static>(
        &self,
        f: impl for<'c> FnOnce(&'c mut Self::Conn) -> Script<'c, T> + Send + 'static,
    ) -> impl Future<Output = StoreResult<T>> + Send;

    /// Runs `f` in one read-only transaction that sees one snapshot of the database, stopped
    /// with `StoreError::TimedOut` once `budget` (if any) has passed.
    fn read_snapshot<T: Send + 'static>(
        &self,
        budget: Option<Duration>,
        f: impl for<'c> FnOnce(&'c mut Self::Conn) -> Script<'c, T> + Send + 'static,
    ) -> impl Future<Output = StoreResult<T>> + Send;

    /// Runs a write of one statement: on PostgreSQL outside a transaction, on SQLite in its
    /// writer's turn.
    fn write_one<T: Send + 'static>(
        &self,
        f: impl for<'c> FnOnce(&'c mut Self::Conn) -> Script<'c, T> + Send + 'static,
    ) -> impl Future<Output = StoreResult<T>> + Send;

    /// Runs `f` in one write transaction, holding `lock`'s write lock from its start when
    /// given; commits if `f` succeeds, then announces the organisations whose log grew.
    fn write<T: Send + 'static>(
        &self,
        lock: Option<Id>,
        f: impl for<'c> FnOnce(&'c mut Self::Tx) -> Script<'c, T> + Send + 'static,
    ) -> impl Future<Output = StoreResult<T>> + Send;

    /// Stores an inbound message with whichever others are waiting, under one commit
    /// (`group_commit`).
    fn ingest_grouped(&self, job: Inbound) -> impl Future<Output = StoreResult<Ingested>> + Send;

    /// Seals provider secrets before they are stored.
    fn secret_box(&self) -> &SecretBox;

    /// Organisations whose log grew, after this process's commits and (PostgreSQL) other
    /// instances'.
    fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<Id>;

    /// Users whose sessions were ended, by any process.
    fn subscribe_session_ends(&self) -> tokio::sync::broadcast::Receiver<Id>;
}

/// A closure that hands its script to a [`Backend`], its captures moved into the script:
/// `self.read(script!(|c| scripts::x::load(c, org, &name)))`.
macro_rules! script {
    (|$db:ident| $body:expr) => {
        move |$db| Box::pin(async move { $body.await })
    };
}
pub(crate) use script;
