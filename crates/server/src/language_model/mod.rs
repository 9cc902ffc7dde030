//! An organisation's optional language model (issue 16, AIA-1): an OpenAI-compatible
//! chat-completions endpoint (Ollama, a hosted model) that an Owner configures. It refines the
//! intent the local classifier gave each inbound message, and writes one-line summaries of
//! voicemails and of long threads into the thread as notes. It never writes to a customer.
//!
//! It runs after the fact: webhooks are answered and messages stored with the local label
//! first; a worker follows the store's change announcements and, per organisation, claims what
//! arrived since its cursor (so several server instances never call the model twice for one
//! message). Every call has a hard deadline ([`client::DEADLINE`]); a timeout, an error, a
//! refusal or an answer that is not a label leaves the local label in place. Messages older
//! than [`STALE`] when their turn comes (a model down for a while, a restart) keep the local
//! label too: a late refinement would only move counters nobody is looking at.

pub mod client;
mod worker;

pub use worker::{start, LONG_THREAD, STALE, THREAD_TAKE};
