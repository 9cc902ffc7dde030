//! The dispatcher: hands queued replies to their provider (issue 5, CMP-4). Portal replies are
//! delivered at once; SMS goes through Twilio, WhatsApp through the Cloud API. Transient failures
//! (timeouts, 5xx, rate limits) are retried with backoff; permanent ones mark the message failed
//! with the provider's reason. The queue lives in the database, so a restart loses nothing, and a
//! lease keeps two dispatchers from sending one message.

use std::sync::Arc;
use std::time::Duration;

use inbox_core::{CapabilitySet, Channel, DeliveryStatus};

use crate::clock::Clock;
use crate::providers::twilio::TwilioSender;
use crate::providers::whatsapp::{Content, WhatsappSender};
use crate::providers::{Accepted, ProviderConfig, SendError};
use crate::store::{Actor, OutboundJob, Store};

/// Attempts before a message that keeps failing transiently is marked failed.
pub const MAX_ATTEMPTS: u32 = 8;
/// How long a claimed message is reserved for the sender that claimed it.
const LEASE: Duration = Duration::from_secs(120);

pub struct Dispatcher {
    store: Arc<dyn Store>,
    config: ProviderConfig,
    clock: Clock,
    twilio: TwilioSender,
    whatsapp: WhatsappSender,
    /// Base delay of the retry backoff (doubles per attempt, capped at 15 minutes).
    pub retry_base: Duration,
}

impl Dispatcher {
    pub fn new(store: Arc<dyn Store>, config: ProviderConfig, clock: Clock) -> Dispatcher {
        Dispatcher {
            twilio: TwilioSender::new(&config.twilio_api_base),
            whatsapp: WhatsappSender::new(&config.whatsapp_api_base),
            store,
            config,
            clock,
            retry_base: Duration::from_secs(5),
        }
    }

    /// Runs until the process ends: wakes on every committed change and at least every second.
    pub fn start(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        let mut changes = self.store.changes();
        tokio::spawn(async move {
            loop {
                if let Err(e) = self.run_once().await {
                    tracing::warn!(error = %e, "dispatcher pass failed; retrying");
                }
                tokio::select! {
                    _ = changes.recv() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        })
    }

    /// One pass over what is due; returns how many messages it handled.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let lease = now + chrono::Duration::from_std(LEASE)?;
        let jobs = self.store.claim_outbound(now, lease, 20).await?;
        let n = jobs.len();
        for job in jobs {
            let id = job.message.id;
            match self.send(&job).await {
                Ok((provider, accepted)) => {
                    let status = initial_status(&accepted.status);
                    self.store
                        .outbound_accepted(
                            id,
                            provider,
                            &accepted.provider_id,
                            status,
                            self.clock.now(),
                        )
                        .await?;
                }
                Err(e) if e.transient && job.attempts + 1 < MAX_ATTEMPTS => {
                    let next =
                        self.clock.now() + chrono::Duration::from_std(self.backoff(job.attempts))?;
                    tracing::info!(message_id = id, attempt = job.attempts + 1, reason = %e.reason, "send failed; retrying later");
                    self.store.outbound_retry_later(id, next, &e.reason).await?;
                }
                Err(e) => {
                    let reason = if e.transient {
                        format!("gave up after {MAX_ATTEMPTS} attempts: {}", e.reason)
                    } else {
                        e.reason
                    };
                    tracing::info!(message_id = id, %reason, "send failed for good");
                    self.store
                        .outbound_failed(id, &reason, self.clock.now())
                        .await?;
                }
            }
        }
        Ok(n)
    }

    fn backoff(&self, attempts: u32) -> Duration {
        self.retry_base
            .saturating_mul(1 << attempts.min(10))
            .min(Duration::from_secs(900))
    }

    async fn send(&self, job: &OutboundJob) -> Result<(&'static str, Accepted), SendError> {
        let m = &job.message;
        let permanent = |reason: &str| SendError {
            transient: false,
            reason: reason.to_string(),
        };
        match m.channel {
            // The portal reads from our own database: the reply is there the moment it is stored.
            Channel::Portal => Ok((
                "portal",
                Accepted {
                    provider_id: format!("portal-{}", m.id),
                    status: "delivered".into(),
                },
            )),
            Channel::Voice => Err(permanent(
                "a caller cannot be answered on the voice channel; reply by SMS",
            )),
            Channel::Sms => {
                let to = job
                    .to_number
                    .as_deref()
                    .ok_or_else(|| permanent("this conversation has no number to text"))?;
                let account = self
                    .store
                    .twilio_account_of(job.org_id)
                    .await
                    .map_err(store_error)?;
                let account = account.ok_or_else(|| {
                    permanent("SMS is not set up for this garage (no Twilio account)")
                })?;
                let callback = self.config.url("/webhooks/twilio/status");
                Ok((
                    "twilio",
                    self.twilio.send(&account, to, &m.body, &callback).await?,
                ))
            }
            Channel::Whatsapp => {
                let to = job
                    .to_number
                    .as_deref()
                    .ok_or_else(|| permanent("this conversation has no WhatsApp number"))?;
                let account = self
                    .store
                    .whatsapp_account_of(job.org_id)
                    .await
                    .map_err(store_error)?;
                let account =
                    account.ok_or_else(|| permanent("WhatsApp is not set up for this garage"))?;
                let accepted = match &m.template {
                    Some(t) => {
                        let language = self.template_language(job, &t.name).await?;
                        self.whatsapp
                            .send(
                                &account,
                                to,
                                Content::Template {
                                    template: t,
                                    language: &language,
                                },
                            )
                            .await?
                    }
                    None => {
                        self.whatsapp
                            .send(&account, to, Content::Text(&m.body))
                            .await?
                    }
                };
                Ok(("whatsapp", accepted))
            }
        }
    }

    async fn template_language(&self, job: &OutboundJob, name: &str) -> Result<String, SendError> {
        // Templates are read with the organisation's scope only.
        let actor = Actor {
            org_id: job.org_id,
            user_id: 0,
            capabilities: CapabilitySet::default(),
            time_zone: chrono_tz::Europe::London,
        };
        let templates = self.store.templates(&actor).await.map_err(store_error)?;
        templates
            .into_iter()
            .find(|t| t.name == name)
            .map(|t| t.language)
            .ok_or_else(|| SendError {
                transient: false,
                reason: format!("the template {name:?} no longer exists"),
            })
    }
}

fn store_error(e: crate::store::StoreError) -> SendError {
    SendError {
        transient: true,
        reason: format!("database: {e}"),
    }
}

/// The provider's word at acceptance as our status: sent or delivered move forward, anything
/// else (queued, accepted) stays pending until a callback says more.
fn initial_status(word: &str) -> DeliveryStatus {
    match word {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        _ => DeliveryStatus::Pending,
    }
}
