//! The download queue's worker: claims due downloads, fetches, checks, stores, and records how
//! each ended; a failure that may pass is retried with backoff, then given up as failed, shown
//! in the thread as "could not be downloaded".

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use inbox_core::media::{Refused, MESSAGE_MAX};
use tokio::sync::broadcast::error::RecvError;

use super::fetch::{FetchError, Fetched, Fetcher};
use super::keep::{keep, NotKept};
use super::Blobs;
use crate::clock::Clock;
use crate::providers::ProviderConfig;
use crate::store::media::{backoff, Download, Downloaded, MediaSource, ATTEMPTS_MAX, UPLOAD_KEPT};
use crate::store::Store;

/// Downloads in flight at once.
const PARALLEL: u32 = 4;
/// How often uploads that no message took are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// How often the queue is looked at without news (retries coming due).
const TICK: Duration = Duration::from_secs(2);

struct Worker {
    store: Arc<Store>,
    clock: Clock,
    blobs: Arc<Blobs>,
    fetcher: Fetcher,
    whatsapp_api_base: String,
}

/// Starts the worker; it stops when the store's announcements end.
pub fn start(store: Arc<Store>, clock: Clock, blobs: Arc<Blobs>, providers: &ProviderConfig) {
    let mut changes = store.changes();
    let worker = Arc::new(Worker {
        store,
        clock,
        blobs,
        fetcher: Fetcher::new(providers),
        whatsapp_api_base: providers.whatsapp_api_base.clone(),
    });
    tokio::spawn(async move {
        let mut swept: Option<std::time::Instant> = None;
        loop {
            if swept.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
                worker.sweep_uploads().await;
                swept = Some(std::time::Instant::now());
            }
            worker.drain().await;
            tokio::select! {
                r = changes.recv() => if matches!(r, Err(RecvError::Closed)) { return },
                () = tokio::time::sleep(TICK) => {}
            }
        }
    });
}

impl Worker {
    /// Forgets uploads no message took within a day, and deletes their files unless another
    /// attachment holds the same file.
    async fn sweep_uploads(&self) {
        let before = self.clock.now() - UPLOAD_KEPT;
        match self.store.sweep_uploads(before).await {
            Ok(orphans) => {
                for sha in orphans {
                    if let Err(e) = self.blobs.delete(&sha).await {
                        tracing::warn!(error = %e, "an unsent upload's file could not be deleted");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not sweep unsent uploads"),
        }
    }

    async fn drain(self: &Arc<Self>) {
        loop {
            let due = match self.store.claim_downloads(self.clock.now(), PARALLEL).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the media download queue");
                    return;
                }
            };
            if due.is_empty() {
                return;
            }
            join_all(due.into_iter().map(|d| {
                let worker = Arc::clone(self);
                async move { worker.download(d).await }
            }))
            .await;
        }
    }

    async fn download(&self, d: Download) {
        // Claimed again and again without an end (the process died on it): given up.
        if d.attempts > ATTEMPTS_MAX {
            let error = "Could not be downloaded: it failed too many times".to_string();
            let _ = self
                .store
                .finish_download(
                    d.id,
                    d.attempts,
                    Downloaded::Failed { error },
                    self.clock.now(),
                )
                .await;
            return;
        }
        let outcome = match self.fetch(&d).await {
            Ok(f) => self.keep(&d, f).await,
            Err(e) if e.transient && d.attempts < ATTEMPTS_MAX => Downloaded::Retry {
                error: e.reason,
                at: self.clock.now() + backoff(d.attempts),
            },
            // Over the limit is a refusal, said as the other refusals are.
            Err(e) if e.reason == Refused::TooLarge.to_string() => {
                Downloaded::Failed { error: e.reason }
            }
            Err(e) => Downloaded::Failed {
                error: format!("Could not be downloaded: {}", e.reason),
            },
        };
        if let Downloaded::Retry { error, .. } | Downloaded::Failed { error } = &outcome {
            tracing::warn!(attachment = d.id, org = d.org_id, attempts = d.attempts, %error, "a media download did not succeed");
        }
        if let Err(e) = self
            .store
            .finish_download(d.id, d.attempts, outcome, self.clock.now())
            .await
        {
            // The claim runs out and the download is tried again.
            tracing::warn!(attachment = d.id, error = %e, "could not record a media download");
        }
    }

    async fn fetch(&self, d: &Download) -> Result<Fetched, FetchError> {
        let unconfigured = || FetchError {
            reason: "the provider account is not configured".into(),
            transient: false,
        };
        let store_error = |e: crate::store::StoreError| FetchError {
            reason: e.to_string(),
            transient: true,
        };
        match d.source {
            MediaSource::Twilio => {
                let a = self
                    .store
                    .twilio_account_of(d.org_id)
                    .await
                    .map_err(store_error)?
                    .ok_or_else(unconfigured)?;
                self.fetcher
                    .twilio(&d.source_ref, &a.account_sid, &a.auth_token)
                    .await
            }
            MediaSource::Whatsapp => {
                let a = self
                    .store
                    .whatsapp_account_of(d.org_id)
                    .await
                    .map_err(store_error)?
                    .filter(|a| !a.access_token.is_empty())
                    .ok_or_else(unconfigured)?;
                self.fetcher
                    .whatsapp(&self.whatsapp_api_base, &d.source_ref, &a.access_token)
                    .await
            }
        }
    }

    /// Checks a fetched file against the limits and stores it.
    async fn keep(&self, d: &Download, f: Fetched) -> Downloaded {
        let claimed = f.content_type.unwrap_or_else(|| d.content_type.clone());
        if d.message_bytes + f.bytes.len() as u64 > MESSAGE_MAX {
            return Downloaded::Failed {
                error: Refused::MessageTooLarge.to_string(),
            };
        }
        match keep(&self.blobs, f.bytes, &claimed).await {
            Ok(k) => Downloaded::Ready {
                sha256: k.sha256,
                size: k.size,
                content_type: k.content_type,
                has_thumbnail: k.has_thumbnail,
            },
            Err(NotKept::Refused(r)) => Downloaded::Failed {
                error: r.to_string(),
            },
            // A full disk passes: keep the download queued, as for any passing failure.
            Err(e @ NotKept::Storage(_)) if d.attempts < ATTEMPTS_MAX => Downloaded::Retry {
                error: e.to_string(),
                at: self.clock.now() + backoff(d.attempts),
            },
            Err(NotKept::Storage(e)) => Downloaded::Failed {
                error: format!("Could not be stored: {e}"),
            },
        }
    }
}
