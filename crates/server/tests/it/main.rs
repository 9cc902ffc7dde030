//! Server integration tests over real HTTP on a loopback port, one binary with a module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up step should fail the test loudly

mod support;

mod admin;
mod ai;
mod analytics;
mod auth;
mod calls;
mod catalog;
mod cli;
mod compose;
mod dispatch;
mod exactly_once;
mod group_commit;
mod instances;
mod isolation;
mod language_model;
mod limits;
mod list;
mod matrix;
mod media;
mod media_s3;
mod portal;
mod secrets;
mod sessions;
mod slow_clients;
mod spool;
mod staff;
mod sync;
mod template_media;
mod thread;
mod throttle;
mod updates;
mod uploads;
mod voice;
mod webhooks;
