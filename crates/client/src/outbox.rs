//! The outbox sender (DSK-5): replies are stored locally first (shown as pending at once), then
//! posted with their idempotency key whenever the server is reachable. A reply is never lost (it
//! stays in the cache until the server has it) and never doubled (the server answers a repeated
//! key with the message it already has). A refusal is kept with its reason for the UI.

use std::sync::Arc;
use std::time::Duration;

use inbox_core::api::ComposeRequest;
use inbox_core::desktop::OutboxEntry;
use inbox_core::{Id, ThreadItem};

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
        let client_id = entry.client_id.clone();
        let result = match upload_files(shared, &entry).await {
            Ok(attachments) => {
                let req = ComposeRequest {
                    client_id: entry.client_id.clone(),
                    body: entry.body.clone(),
                    template: entry.template.clone(),
                    channel: entry.channel,
                    attachments,
                };
                shared.api.compose(entry.conversation_id, &req).await
            }
            Err(e) => Err(e),
        };
        match result {
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
            // An upload the server forgot (a reply held offline for more than a day): its
            // files go up again on the next pass, once.
            Err(ApiError::Refused { ref message, .. })
                if message.contains("is not a file you uploaded")
                    && entry.files.iter().any(|f| f.uploaded.is_some()) =>
            {
                let cid = client_id.clone();
                shared
                    .cache(move |c| c.outbox_files_reupload(&cid))
                    .await
                    .map_err(|_| Stop::Unreachable)?;
                return Err(Stop::Unreachable);
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

/// Uploads the entry's files not yet on the server (each once: its id is kept as soon as the
/// server has it), and returns every file's attachment id in order.
async fn upload_files(shared: &Arc<Shared>, entry: &OutboxEntry) -> Result<Vec<Id>, ApiError> {
    let mut ids = Vec::with_capacity(entry.files.len());
    for (position, f) in entry.files.iter().enumerate() {
        if let Some(id) = f.uploaded {
            ids.push(id);
            continue;
        }
        let cid = entry.client_id.clone();
        let bytes = shared
            .cache(move |c| c.outbox_file(&cid, position))
            .await
            .map_err(|e| ApiError::Failed(format!("reading a queued file: {e}")))?
            .ok_or_else(|| ApiError::Failed(format!("{} is no longer queued", f.file_name)))?;
        let uploaded = shared
            .api
            .upload(bytes.clone(), &f.content_type, &f.file_name)
            .await?;
        // The file is this desktop's already: kept under its attachment id (the reply's file
        // keeps the upload's id), so the thread shows it at once and offline.
        let file = crate::files::File {
            bytes,
            content_type: uploaded.content_type.clone(),
        };
        let (files, id) = (Arc::clone(&shared.files), uploaded.id);
        let _ = tokio::task::spawn_blocking(move || {
            files.put(id, crate::files::Variant::Original, &file)
        })
        .await;
        let (cid, id) = (entry.client_id.clone(), uploaded.id);
        shared
            .cache(move |c| c.outbox_file_uploaded(&cid, position, id))
            .await
            .map_err(|e| ApiError::Failed(format!("recording an upload: {e}")))?;
        ids.push(id);
    }
    Ok(ids)
}
