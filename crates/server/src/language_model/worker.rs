//! The worker that takes each organisation's new messages and voicemails to its model.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use inbox_core::{Direction, Id};
use tokio::sync::broadcast::error::RecvError;

use super::client::{ModelClient, ModelError, TEXT_MAX};
use crate::clock::Clock;
use crate::store::language_model::{ModelEndpoint, SummaryOf};
use crate::store::{Store, StoreResult};

/// Work claimed at once: small, so a slow model holds few messages back from another instance.
const BATCH: u32 = 8;
/// Past this age a message or voicemail keeps what it has.
pub const STALE: chrono::Duration = chrono::Duration::hours(1);
/// A thread is summarised once this many messages arrived since its last summary.
pub const LONG_THREAD: u32 = 12;
/// The latest messages a thread summary reads.
pub const THREAD_TAKE: u32 = 30;
/// Calls in a row that fail to connect or time out before the rest of a batch is skipped.
const FAILURES_BEFORE_SKIP: u32 = 2;

/// Per organisation with a drain running: whether news came in while it ran.
type Running = Arc<Mutex<HashMap<Id, bool>>>;

struct Worker {
    store: Arc<Store>,
    clock: Clock,
    client: ModelClient,
    running: Running,
}

/// Starts the worker: it drains every organisation with a model at once (work left by a
/// restart), then each organisation the store announces; it stops when the announcements end.
pub fn start(store: Arc<Store>, clock: Clock) {
    let mut changes = store.changes();
    let worker = Arc::new(Worker {
        store,
        clock,
        client: ModelClient::default(),
        running: Arc::default(),
    });
    tokio::spawn(async move {
        worker.wake_all().await;
        loop {
            match changes.recv().await {
                Ok(org) => worker.wake(org),
                // Announcements were missed: look at every organisation with a model.
                Err(RecvError::Lagged(_)) => worker.wake_all().await,
                Err(RecvError::Closed) => return,
            }
        }
    });
}

/// Takes an organisation out of the running map if its drain ends by a panic.
struct Draining {
    running: Running,
    org: Id,
    armed: bool,
}

impl Drop for Draining {
    fn drop(&mut self) {
        if self.armed {
            if let Ok(mut r) = self.running.lock() {
                r.remove(&self.org);
            }
        }
    }
}

impl Worker {
    async fn wake_all(self: &Arc<Self>) {
        match self.store.model_organisations().await {
            Ok(orgs) => orgs.into_iter().for_each(|org| self.wake(org)),
            Err(e) => {
                tracing::warn!(error = %e, "could not list the organisations with a language model")
            }
        }
    }

    /// One drain per organisation at a time; news during a drain runs it once more after.
    fn wake(self: &Arc<Self>, org: Id) {
        {
            let Ok(mut r) = self.running.lock() else {
                return;
            };
            if let Some(again) = r.get_mut(&org) {
                *again = true;
                return;
            }
            r.insert(org, false);
        }
        let worker = Arc::clone(self);
        tokio::spawn(async move {
            let mut guard = Draining {
                running: Arc::clone(&worker.running),
                org,
                armed: true,
            };
            loop {
                if let Err(e) = worker.drain(org).await {
                    tracing::warn!(org, error = %e, "language model work could not be read or stored");
                }
                let Ok(mut r) = worker.running.lock() else {
                    return;
                };
                if r.get(&org) == Some(&true) {
                    r.insert(org, false);
                    continue;
                }
                // Removed under the same lock a wake-up checks: none is lost.
                r.remove(&org);
                guard.armed = false;
                return;
            }
        });
    }

    /// Gives the model everything the organisation has waiting.
    async fn drain(&self, org: Id) -> StoreResult<()> {
        let (store, clock, client) = (self.store.as_ref(), &self.clock, &self.client);
        loop {
            let Some(endpoint) = store.language_model(org).await? else {
                return Ok(());
            };
            let work = store.claim_model_work(org, BATCH).await?;
            if work.is_empty() {
                return Ok(());
            }
            let mut calls = Calls::default();
            let mut threads = BTreeSet::new();
            for m in work.messages {
                if clock.now() - m.at > STALE || calls.skipping() {
                    continue;
                }
                threads.insert(m.conversation_id);
                if let Some(intent) = calls.note(org, client.intent(&endpoint, &m.body).await) {
                    store.refine_intent(org, m.id, intent, clock.now()).await?;
                }
            }
            for v in work.voicemails {
                if clock.now() - v.at > STALE || calls.skipping() {
                    continue;
                }
                if let Some(text) = calls.note(org, client.summary(&endpoint, &v.transcript).await)
                {
                    let (conversation, now) = (v.conversation_id, clock.now());
                    store
                        .add_summary(org, conversation, SummaryOf::Voicemail, &text, now)
                        .await?;
                }
            }
            for conversation in threads {
                if calls.skipping() {
                    break;
                }
                self.summarise_thread(&endpoint, &mut calls, org, conversation)
                    .await?;
            }
        }
    }

    async fn summarise_thread(
        &self,
        endpoint: &ModelEndpoint,
        calls: &mut Calls,
        org: Id,
        conversation: Id,
    ) -> StoreResult<()> {
        let Some(thread) = self
            .store
            .claim_thread(org, conversation, LONG_THREAD, THREAD_TAKE)
            .await?
        else {
            return Ok(());
        };
        let lines: Vec<String> = thread
            .lines
            .iter()
            .map(|(d, body)| {
                let who = match d {
                    Direction::Inbound => "Customer",
                    Direction::Outbound => "Garage",
                };
                format!("{who}: {body}")
            })
            .collect();
        let text = latest_within(&lines, TEXT_MAX);
        if let Some(summary) = calls.note(org, self.client.summary(endpoint, &text).await) {
            self.store
                .add_summary(
                    org,
                    conversation,
                    SummaryOf::Thread,
                    &summary,
                    self.clock.now(),
                )
                .await?;
        }
        Ok(())
    }
}

/// The newest lines that fit in `max` characters, oldest first (the newest alone if it does
/// not fit; the client cuts it).
fn latest_within(lines: &[String], max: usize) -> String {
    let mut total = 0;
    let mut from = lines.len();
    for (i, line) in lines.iter().enumerate().rev() {
        total += line.chars().count() + 1;
        if total > max && from < lines.len() {
            break;
        }
        from = i;
    }
    lines[from..].join("\n")
}

/// Outcomes of one batch's calls: an endpoint that is down costs its deadline once or twice,
/// not once per message.
#[derive(Default)]
struct Calls {
    down_in_a_row: u32,
}

impl Calls {
    fn skipping(&self) -> bool {
        self.down_in_a_row >= FAILURES_BEFORE_SKIP
    }

    fn note<T>(&mut self, org: Id, r: Result<T, ModelError>) -> Option<T> {
        match r {
            Ok(v) => {
                self.down_in_a_row = 0;
                Some(v)
            }
            Err(e) => {
                if matches!(e, ModelError::Timeout | ModelError::Unreachable(_)) {
                    self.down_in_a_row += 1;
                } else {
                    self.down_in_a_row = 0;
                }
                tracing::warn!(org, error = %e, "the language model's answer was not used; the local one stands");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aia1_a_thread_keeps_its_newest_lines_within_the_limit() {
        let lines: Vec<String> = ["old one", "middle", "newest"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(latest_within(&lines, 100), "old one\nmiddle\nnewest");
        assert_eq!(latest_within(&lines, 15), "middle\nnewest");
        assert_eq!(latest_within(&lines, 3), "newest", "the newest alone");
        assert_eq!(latest_within(&[], 10), "");
    }

    #[test]
    fn aia1_two_dead_calls_in_a_row_skip_the_rest_of_a_batch_and_one_answer_resets() {
        let mut c = Calls::default();
        assert!(c.note::<()>(1, Err(ModelError::Timeout)).is_none());
        assert!(!c.skipping());
        c.note::<()>(1, Err(ModelError::Garbage("x".into())));
        c.note::<()>(1, Err(ModelError::Unreachable("x".into())));
        assert!(!c.skipping(), "garbage is an answer: the endpoint is up");
        c.note::<()>(1, Err(ModelError::Timeout));
        assert!(c.skipping());
        assert_eq!(c.note(1, Ok(3)), Some(3));
        assert!(!c.skipping());
    }
}
