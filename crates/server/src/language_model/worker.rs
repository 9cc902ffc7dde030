//! The worker that takes each organisation's new messages and voicemails to its model.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use inbox_core::{Direction, Id};
use tokio::sync::broadcast::error::RecvError;

use super::client::{ModelClient, ModelError};
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

/// Per organisation: whether a drain is running, and whether news came in while it was.
type Running = Arc<Mutex<HashMap<Id, bool>>>;

/// Starts the worker; it stops when the store's announcements end.
pub fn start(store: Arc<dyn Store>, clock: Clock) {
    let mut changes = store.changes();
    let running: Running = Arc::default();
    let client = Arc::new(ModelClient::default());
    tokio::spawn(async move {
        loop {
            let org = match changes.recv().await {
                Ok(org) => org,
                // Missed announcements: the next one drains everything since the cursor.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            };
            {
                let Ok(mut r) = running.lock() else { return };
                if let Some(again) = r.get_mut(&org) {
                    *again = true;
                    continue;
                }
                r.insert(org, false);
            }
            let (store, clock, client, running) = (
                Arc::clone(&store),
                clock.clone(),
                Arc::clone(&client),
                Arc::clone(&running),
            );
            tokio::spawn(async move {
                loop {
                    if let Err(e) = drain(store.as_ref(), &clock, &client, org).await {
                        tracing::warn!(org, error = %e, "language model work could not be read or stored");
                    }
                    let Ok(mut r) = running.lock() else { return };
                    if r.get(&org) == Some(&true) {
                        r.insert(org, false);
                        continue;
                    }
                    r.remove(&org);
                    return;
                }
            });
        }
    });
}

/// Gives the model everything the organisation has waiting.
async fn drain(store: &dyn Store, clock: &Clock, client: &ModelClient, org: Id) -> StoreResult<()> {
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
            threads.insert(m.conversation_id);
            if clock.now() - m.at > STALE || calls.skipping() {
                continue;
            }
            if let Some(intent) = calls.note(org, client.intent(&endpoint, &m.body).await) {
                store.refine_intent(org, m.id, intent, clock.now()).await?;
            }
        }
        for v in work.voicemails {
            if clock.now() - v.at > STALE || calls.skipping() {
                continue;
            }
            if let Some(text) = calls.note(org, client.summary(&endpoint, &v.transcript).await) {
                store
                    .add_summary(
                        org,
                        v.conversation_id,
                        SummaryOf::Voicemail,
                        &text,
                        clock.now(),
                    )
                    .await?;
            }
        }
        for conversation in threads {
            if calls.skipping() {
                break;
            }
            summarise_thread(
                store,
                clock,
                client,
                &endpoint,
                &mut calls,
                org,
                conversation,
            )
            .await?;
        }
    }
}

async fn summarise_thread(
    store: &dyn Store,
    clock: &Clock,
    client: &ModelClient,
    endpoint: &ModelEndpoint,
    calls: &mut Calls,
    org: Id,
    conversation: Id,
) -> StoreResult<()> {
    let Some(thread) = store
        .thread_to_summarise(org, conversation, LONG_THREAD, THREAD_TAKE)
        .await?
    else {
        return Ok(());
    };
    let text = thread
        .lines
        .iter()
        .map(|(d, body)| {
            let who = match d {
                Direction::Inbound => "Customer",
                Direction::Outbound => "Garage",
            };
            format!("{who}: {body}")
        })
        .collect::<Vec<_>>()
        .join("\n");
    if let Some(summary) = calls.note(org, client.summary(endpoint, &text).await) {
        let of = SummaryOf::Thread {
            through: thread.through,
        };
        store
            .add_summary(org, conversation, of, &summary, clock.now())
            .await?;
    }
    Ok(())
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
