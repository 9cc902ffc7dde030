//! The outbox sender (DSK-5): replies are stored locally first (shown as pending at once), then
//! posted with their idempotency key whenever the server is reachable. A reply is never lost (it
//! stays in the cache until the server has it) and never doubled (the server answers a repeated
//! key with the message it already has). A refusal is kept with its reason for the UI.

use std::sync::Arc;
use std::time::Duration;

use inbox_core::api::ComposeRequest;
use inbox_core::ThreadItem;

use crate::api::ApiError;
use crate::cache::OutboxState;
use crate::connection::Backoff;
use crate::engine::{Shared, Update};

pub(crate) async fn run(shared: Arc<Shared>) {
    let mut backoff = Backoff::new(shared.config.backoff_min, shared.config.backoff_max);
    let mut wait = Duration::ZERO;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shared.outbox_wake.notified() => {}
            _ = shared.stopped() => return,
        }
        match drain(&shared).await {
            Ok(()) => {
                backoff.reset();
                // Nothing pending: sleep until woken (a new reply, or the connection returning).
                wait = Duration::from_secs(3600);
            }
            Err(Stop::SignedOut) => return,
            Err(Stop::Unreachable) => wait = backoff.next_delay(&mut rand::thread_rng()),
        }
    }
}

enum Stop {
    Unreachable,
    SignedOut,
}

/// Posts every queued reply, oldest first.
async fn drain(shared: &Arc<Shared>) -> Result<(), Stop> {
    let pending = shared
        .cache(|c| c.outbox_pending())
        .await
        .map_err(|_| Stop::Unreachable)?;
    for entry in pending {
        let req = ComposeRequest {
            client_id: entry.client_id.clone(),
            body: entry.body.clone(),
            template: entry.template.clone(),
            channel: entry.channel,
        };
        let client_id = entry.client_id.clone();
        match shared.api.compose(entry.conversation_id, &req).await {
            Ok(message) => {
                // The server's copy replaces the local one now; its event later changes nothing.
                let cid = client_id.clone();
                shared
                    .cache(move |c| {
                        c.store_thread_items(&[ThreadItem::Message(message)])?;
                        c.outbox_remove(&cid)
                    })
                    .await
                    .map_err(|_| Stop::Unreachable)?;
            }
            Err(e @ (ApiError::Refused { .. } | ApiError::Address(_))) => {
                let reason = match e {
                    ApiError::Refused { message, .. } => message,
                    other => other.to_string(),
                };
                let state = OutboxState::Refused { reason };
                shared
                    .cache(move |c| c.outbox_set_state(&client_id, &state))
                    .await
                    .map_err(|_| Stop::Unreachable)?;
            }
            Err(ApiError::Unauthorized(_)) => return Err(Stop::SignedOut),
            Err(ApiError::Unreachable(reason) | ApiError::Failed(reason)) => {
                tracing::debug!(%reason, "outbox waits for the server");
                return Err(Stop::Unreachable);
            }
        }
        shared.publish(Update::Outbox {
            conversation_id: entry.conversation_id,
        });
    }
    Ok(())
}
