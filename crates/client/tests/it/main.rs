//! The desktop engine against a real `inbox-server` process on loopback (issue 4): initial sync,
//! live events to two clients, server restarts, a client killed mid-apply, offline reads, the
//! outbox, resync from a snapshot, revoked sessions; the thread's other actions (issue 7); and
//! (issue 13) sign-in and sync over TLS, and what the desktop keeps between launches.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up step should fail the test loudly

mod support;

mod actions;
mod crash;
mod https;
mod offline;
mod session;
mod sync;
mod tls_proxy;
