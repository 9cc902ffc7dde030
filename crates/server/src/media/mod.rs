//! Photos, documents and voice notes (issue 17): files the providers' webhooks name are fetched
//! after the webhook is answered, through a durable queue (pending attachment rows) with
//! retries, checked against the product's limits, stored once per content, and given a
//! thumbnail when they are photos.

pub mod blobs;
pub mod fetch;
pub mod keep;
pub mod links;
pub mod thumbnail;
mod worker;

pub use blobs::Blobs;
pub use worker::start;
