//! The dispatcher: hands queued replies to their provider (issue 5, CMP-4), each exactly once
//! or else marked `unknown` (issue 13). Portal replies are delivered at once; SMS goes through
//! Twilio, WhatsApp through the Cloud API.
//!
//! Each message is claimed on its own, leased for longer than one provider call can take, under
//! a fencing token that every result must carry. "Sending" is recorded in the database before
//! the call, so a dispatcher that dies (or stalls past its lease) mid-call leaves a message that
//! the next claimer marks `unknown` instead of sending again. Failures the provider answered
//! (5xx, rate limits, no connection at all) are retried with backoff; permanent ones mark the
//! message failed with the provider's reason; an answer that never came or could not be read
//! marks it `unknown`. Twilio sends carry our reference in their status callback URL, so the
//! provider's callbacks settle an unknown message.

use std::sync::Arc;
use std::time::Duration;

use inbox_core::media::{self, Attachment, AttachmentStatus};
use inbox_core::providers::Provider;
use inbox_core::{
    CapabilitySet, Channel, DeliveryStatus, TemplateHeader, TemplateUse, WhatsappTemplate,
};

use crate::clock::Clock;
use crate::media::links::{self, CUSTOMER_LINK, PROVIDER_LINK};
use crate::media::Blobs;
use crate::providers::twilio::TwilioSender;
use crate::providers::whatsapp::{self, Content, HeaderMedia, WhatsappSender};
use crate::providers::{Accepted, ProviderConfig, SendError, SEND_TIMEOUT};
use crate::store::{Actor, OutboundJob, Store, TwilioAccount, WhatsappAccount};

/// Attempts before a message that keeps failing transiently is marked failed.
pub const MAX_ATTEMPTS: u32 = 8;
/// How long a claimed message is reserved for the sender that claimed it: several times the
/// longest provider call (`SEND_TIMEOUT`), since one claim is one message.
const LEASE: Duration = Duration::from_secs(120);
/// Messages one pass handles at most (each claimed on its own).
const PASS: usize = 20;
/// Tries at recording a provider's answer before leaving it to the lease (the message then
/// becomes `unknown`, and a status callback can still settle it).
const RECORD_TRIES: u32 = 3;

pub struct Dispatcher {
    store: Arc<Store>,
    config: ProviderConfig,
    clock: Clock,
    twilio: TwilioSender,
    whatsapp: WhatsappSender,
    /// Where replies' files are read from (issue 17); None: a reply with files cannot go out
    /// on WhatsApp, which needs the bytes.
    blobs: Option<Arc<Blobs>>,
    /// Base delay of the retry backoff (doubles per attempt, capped at 15 minutes).
    pub retry_base: Duration,
    /// How long a claim lasts; tests shorten it.
    pub lease: Duration,
    /// Pause between tries at recording a result.
    pub record_pause: Duration,
}

/// A send, resolved from the job before the provider is called.
enum Outgoing {
    Portal,
    Sms {
        account: TwilioAccount,
        to: String,
    },
    Whatsapp {
        account: WhatsappAccount,
        to: String,
        /// The template used and, as the organisation has it now, its language and header.
        template: Option<(TemplateUse, WhatsappTemplate)>,
    },
}

impl Dispatcher {
    pub fn new(store: Arc<Store>, config: ProviderConfig, clock: Clock) -> Dispatcher {
        Dispatcher {
            twilio: TwilioSender::new(&config.twilio_api_base, SEND_TIMEOUT),
            whatsapp: WhatsappSender::new(&config.whatsapp_api_base, SEND_TIMEOUT),
            store,
            config,
            clock,
            blobs: None,
            retry_base: Duration::from_secs(5),
            lease: LEASE,
            record_pause: Duration::from_millis(500),
        }
    }

    /// How long one provider call may take before its outcome counts as unknown.
    pub fn with_send_timeout(mut self, timeout: Duration) -> Dispatcher {
        self.twilio = TwilioSender::new(&self.config.twilio_api_base, timeout);
        self.whatsapp = WhatsappSender::new(&self.config.whatsapp_api_base, timeout);
        self
    }

    /// Reads replies' files from `blobs`.
    pub fn with_blobs(mut self, blobs: Arc<Blobs>) -> Dispatcher {
        self.blobs = Some(blobs);
        self
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

    /// One pass over what is due, one claim per message; returns how many it handled.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let mut handled = std::collections::HashSet::new();
        while handled.len() < PASS {
            let now = self.clock.now();
            let lease = now + chrono::Duration::from_std(self.lease)?;
            let Some(job) = self.store.claim_outbound(now, lease, 1).await?.pop() else {
                break;
            };
            if !handled.insert(job.message.id) {
                // Due again already (its backoff has passed within this pass): it waits for the
                // next pass, due as it was, and this claim does not count as an attempt.
                self.store
                    .outbound_release(job.message.id, job.claim, now)
                    .await?;
                break;
            }
            self.handle(job).await?;
        }
        Ok(handled.len())
    }

    async fn handle(&self, job: OutboundJob) -> anyhow::Result<()> {
        let (id, claim) = (job.message.id, job.claim);
        let result = match self.resolve(&job).await {
            Err(e) => Err(e),
            Ok(outgoing) => {
                // Durably "sending" before the provider hears of it: if this process dies or
                // stalls past its lease from here on, the message becomes unknown, never resent.
                if !self
                    .store
                    .outbound_sending(id, claim, self.clock.now())
                    .await?
                {
                    tracing::info!(message_id = id, "claim lost before sending; not sent");
                    return Ok(());
                }
                self.deliver(&job, outgoing).await
            }
        };
        match result {
            Ok((provider, accepted)) => self.record_accepted(&job, provider, &accepted).await,
            Err(e) if e.maybe_accepted => {
                tracing::warn!(message_id = id, reason = %e.reason, "send outcome unknown; not retried");
                self.store
                    .outbound_unknown(id, claim, &e.reason, self.clock.now())
                    .await?;
                Ok(())
            }
            Err(e) if e.transient && job.attempts + 1 < MAX_ATTEMPTS => {
                let next =
                    self.clock.now() + chrono::Duration::from_std(self.backoff(job.attempts))?;
                tracing::info!(message_id = id, attempt = job.attempts + 1, reason = %e.reason, "send failed; retrying later");
                self.store
                    .outbound_retry_later(id, claim, next, &e.reason)
                    .await?;
                Ok(())
            }
            Err(e) => {
                let reason = if e.transient {
                    format!("gave up after {MAX_ATTEMPTS} attempts: {}", e.reason)
                } else {
                    e.reason
                };
                tracing::info!(message_id = id, %reason, "send failed for good");
                self.store
                    .outbound_failed(id, claim, &reason, self.clock.now())
                    .await?;
                Ok(())
            }
        }
    }

    /// Records an acceptance, trying a few times: the provider has the message, so losing this
    /// answer would leave it `unknown`.
    async fn record_accepted(
        &self,
        job: &OutboundJob,
        provider: Provider,
        accepted: &Accepted,
    ) -> anyhow::Result<()> {
        let status = initial_status(&accepted.status);
        let mut tries = 0;
        loop {
            tries += 1;
            match self
                .store
                .outbound_accepted(
                    job.message.id,
                    job.claim,
                    provider,
                    &accepted.provider_id,
                    status,
                    self.clock.now(),
                )
                .await
            {
                Ok(()) => return Ok(()),
                Err(e) if tries < RECORD_TRIES => {
                    tracing::warn!(message_id = job.message.id, error = %e, "could not record an accepted send; trying again");
                    tokio::time::sleep(self.record_pause).await;
                }
                Err(e) => {
                    tracing::error!(message_id = job.message.id, provider_id = %accepted.provider_id, error = %e,
                        "could not record an accepted send; it will show as unknown until the provider's callback settles it");
                    return Err(e.into());
                }
            }
        }
    }

    fn backoff(&self, attempts: u32) -> Duration {
        self.retry_base
            .saturating_mul(1 << attempts.min(10))
            .min(Duration::from_secs(900))
    }

    /// Everything a send needs, read before the provider is called.
    async fn resolve(&self, job: &OutboundJob) -> Result<Outgoing, SendError> {
        let m = &job.message;
        match m.channel {
            Channel::Portal => Ok(Outgoing::Portal),
            Channel::Voice => Err(SendError::permanent(
                "a caller cannot be answered on the voice channel; reply by SMS",
            )),
            Channel::Sms => {
                let to = job.to_number.clone().ok_or_else(|| {
                    SendError::permanent("this conversation has no number to text")
                })?;
                let account = self
                    .store
                    .twilio_account_of(job.org_id)
                    .await
                    .map_err(store_error)?
                    .ok_or_else(|| {
                        SendError::permanent(
                            "SMS is not set up for this garage (no Twilio account)",
                        )
                    })?;
                Ok(Outgoing::Sms { account, to })
            }
            Channel::Whatsapp => {
                let to = job.to_number.clone().ok_or_else(|| {
                    SendError::permanent("this conversation has no WhatsApp number")
                })?;
                let account = self
                    .store
                    .whatsapp_account_of(job.org_id)
                    .await
                    .map_err(store_error)?
                    .ok_or_else(|| {
                        SendError::permanent("WhatsApp is not set up for this garage")
                    })?;
                let template = match &m.template {
                    Some(t) => Some((t.clone(), self.template_named(job, &t.name).await?)),
                    None => None,
                };
                Ok(Outgoing::Whatsapp {
                    account,
                    to,
                    template,
                })
            }
        }
    }

    /// The provider call itself.
    async fn deliver(
        &self,
        job: &OutboundJob,
        outgoing: Outgoing,
    ) -> Result<(Provider, Accepted), SendError> {
        let m = &job.message;
        match outgoing {
            // The portal reads from our own database: the reply is there the moment it is stored.
            Outgoing::Portal => Ok((
                Provider::Portal,
                Accepted {
                    provider_id: format!("portal-{}", m.id),
                    status: "delivered".into(),
                },
            )),
            Outgoing::Sms { account, to } => {
                // Our reference rides on the callback URL (Twilio signs it with the query), so
                // a callback settles a send whose answer was lost.
                let callback = self
                    .config
                    .url(&format!("/webhooks/twilio/status?message={}", m.id));
                let files = ready_files(m);
                let (body, media) = if files.is_empty() {
                    (m.body.clone(), Vec::new())
                } else if mms_reaches(&to) {
                    let urls = files.iter().map(|a| self.link(a, PROVIDER_LINK));
                    (m.body.clone(), urls.collect())
                } else {
                    // Twilio sends MMS only in the US, Canada and Australia: elsewhere the
                    // text carries a short-lived link to each file.
                    let lines = files.iter().map(|a| {
                        let label =
                            media::preview(&[(a.content_type.clone(), a.file_name.clone())]);
                        format!("{label}: {}", self.link(a, CUSTOMER_LINK))
                    });
                    let lines: Vec<String> = lines.collect();
                    let body = [m.body.trim()]
                        .into_iter()
                        .filter(|b| !b.is_empty())
                        .map(str::to_string)
                        .chain(lines)
                        .collect::<Vec<_>>()
                        .join("\n");
                    (body, Vec::new())
                };
                Ok((
                    Provider::Twilio,
                    self.twilio
                        .send(&account, &to, &body, &media, &callback)
                        .await?,
                ))
            }
            Outgoing::Whatsapp {
                account,
                to,
                template,
            } => {
                // A media header's file is uploaded first, exactly as a plain reply's files are.
                let header = match &template {
                    Some((_, found)) => self.template_header(job, &account, found).await?,
                    None => None,
                };
                let content = match &template {
                    Some((t, found)) => Content::Template {
                        template: t,
                        language: &found.language,
                        header: header.as_ref().map(|(kind, a, id)| HeaderMedia {
                            kind: *kind,
                            id,
                            file_name: &a.file_name,
                        }),
                    },
                    None if !ready_files(m).is_empty() => {
                        return Ok((
                            Provider::Whatsapp,
                            self.whatsapp_files(job, &account, &to).await?,
                        ));
                    }
                    None => Content::Text(&m.body),
                };
                Ok((
                    Provider::Whatsapp,
                    self.whatsapp
                        .send(&account, &to, content, Some(m.id))
                        .await?,
                ))
            }
        }
    }

    /// The public URL of a signed link to a reply's file, working for `ttl`.
    fn link(&self, a: &Attachment, ttl: chrono::Duration) -> String {
        let token = links::sign(&self.store.link_key(), a.id, self.clock.now() + ttl);
        self.config.url(&format!("/m/{token}"))
    }

    /// A WhatsApp reply with files: each file is uploaded to the Cloud API's media endpoint,
    /// then sent as its own message, the text as the first file's caption where WhatsApp takes
    /// one (else as a text before them). The first send is the reply's provider id; once it is
    /// accepted, a later part that fails leaves the reply `unknown` rather than sending it all
    /// again.
    async fn whatsapp_files(
        &self,
        job: &OutboundJob,
        account: &WhatsappAccount,
        to: &str,
    ) -> Result<Accepted, SendError> {
        let m = &job.message;
        let uploaded = self.upload_files(job, account, ready_files(m)).await?;
        let caption_fits = |a: &Attachment| {
            !m.body.trim().is_empty()
                && m.body.chars().count() <= whatsapp::CAPTION_MAX
                && whatsapp::media_kind(&a.content_type) != "audio"
        };
        let text_first =
            !m.body.trim().is_empty() && !uploaded.first().is_some_and(|(a, _)| caption_fits(a));
        let mut parts: Vec<Content<'_>> = Vec::new();
        if text_first {
            parts.push(Content::Text(&m.body));
        }
        for (i, (a, id)) in uploaded.iter().enumerate() {
            let caption = (i == 0 && !text_first && caption_fits(a)).then_some(m.body.as_str());
            parts.push(Content::Media {
                kind: whatsapp::media_kind(&a.content_type),
                id,
                caption,
                file_name: &a.file_name,
            });
        }
        let total = parts.len();
        let mut first: Option<Accepted> = None;
        for (i, part) in parts.into_iter().enumerate() {
            // Only the first part carries our reference: its statuses are the reply's.
            let reference = (i == 0).then_some(m.id);
            match self.whatsapp.send(account, to, part, reference).await {
                Ok(a) => {
                    first.get_or_insert(a);
                }
                Err(e) if first.is_none() => return Err(e),
                Err(e) => {
                    return Err(SendError::ambiguous(format!(
                        "WhatsApp took {i} of the {total} parts of this reply, then refused: {}",
                        e.reason
                    )))
                }
            }
        }
        first.ok_or_else(|| SendError::permanent("nothing to send"))
    }

    /// Uploads each file to the Cloud API's media endpoint, returning it with its media id.
    async fn upload_files<'m>(
        &self,
        job: &OutboundJob,
        account: &WhatsappAccount,
        files: Vec<&'m Attachment>,
    ) -> Result<Vec<(&'m Attachment, String)>, SendError> {
        let blobs = self.blobs.as_ref().ok_or_else(|| {
            SendError::permanent("this server keeps no files, so the photo cannot be sent")
        })?;
        let mut uploaded = Vec::with_capacity(files.len());
        for a in files {
            let stored = self
                .store
                .attachment(job.org_id, a.id)
                .await
                .map_err(store_error)?
                .and_then(|s| s.sha256)
                .ok_or_else(|| SendError::permanent(format!("{} was removed", a.file_name)))?;
            let bytes = blobs.get(&stored).await.map_err(|e| {
                SendError::transient(format!("reading {} failed: {e}", a.file_name))
            })?;
            let id = self
                .whatsapp
                .upload_media(account, bytes, &a.content_type, &a.file_name)
                .await?;
            uploaded.push((a, id));
        }
        Ok(uploaded)
    }

    /// CMP-2: a template with a media header goes with its one file, uploaded; one without
    /// goes with none. Compose checked both, but the template (or the file) may have changed
    /// since, and a reply must not go out without the file it names, nor with one dropped.
    async fn template_header<'m>(
        &self,
        job: &'m OutboundJob,
        account: &WhatsappAccount,
        template: &WhatsappTemplate,
    ) -> Result<Option<(TemplateHeader, &'m Attachment, String)>, SendError> {
        let files = ready_files(&job.message);
        let types: Vec<&str> = files.iter().map(|a| a.content_type.as_str()).collect();
        inbox_core::compose::check_template_files(template, &types)
            .map_err(|e| SendError::permanent(e.to_string()))?;
        let Some(kind) = template.header else {
            return Ok(None);
        };
        let mut uploaded = self.upload_files(job, account, files).await?;
        let (a, id) = uploaded
            .pop()
            .ok_or_else(|| SendError::permanent("the template's file is missing"))?;
        Ok(Some((kind, a, id)))
    }

    async fn template_named(
        &self,
        job: &OutboundJob,
        name: &str,
    ) -> Result<WhatsappTemplate, SendError> {
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
            .ok_or_else(|| SendError::permanent(format!("the template {name:?} no longer exists")))
    }
}

/// The files of a reply that can go out (a removed one cannot).
fn ready_files(m: &inbox_core::Message) -> Vec<&Attachment> {
    m.attachments
        .iter()
        .filter(|a| a.status == AttachmentStatus::Ready)
        .collect()
}

/// Characters a file's link line takes in an SMS (`Photo: <base>/m/<token>` and a newline).
pub fn link_line_len(content_type: &str, file_name: &str, public_url_chars: usize) -> usize {
    let label = media::preview(&[(content_type.to_string(), file_name.to_string())]);
    label.chars().count() + ": ".len() + public_url_chars + "/m/".len() + LINK_TOKEN_CHARS + 1
}

/// Characters of a link's token (32 bytes, base64 without padding).
const LINK_TOKEN_CHARS: usize = 43;

/// Whether Twilio delivers MMS to this number: the US and Canada (+1) and Australia (+61).
fn mms_reaches(to: &str) -> bool {
    to.starts_with("+1") || to.starts_with("+61")
}

fn store_error(e: crate::store::StoreError) -> SendError {
    SendError::transient(format!("database: {e}"))
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
