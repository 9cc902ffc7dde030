//! The desktop engine against a real `inbox-server` process on loopback (issue 4): initial sync,
//! live events to two clients, server restarts, a client killed mid-apply, offline reads, the
//! outbox, resync from a snapshot, revoked sessions; and the thread's other actions (issue 7).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up step should fail the test loudly

mod support;

mod actions;
mod crash;
mod offline;
mod sync;
