//! The garage's customers at work: at a random (Poisson) pace, events chosen by
//! [`crate::events::plan`] are played against the server — signed Twilio and Meta webhooks, and
//! portal posts with the customer's token.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinSet;

use crate::calls::{self, CallPlan};
use crate::events::{plan, Channels, Event, WhatsappMessage};
use crate::media::File;
use crate::meta_payloads::{inbound_notification, Business, Content, Inbound};
use crate::random;
use crate::state::Sim;
use crate::summary::Organisation;
use crate::texts;
use crate::twilio_payloads::{inbound_message, media_url, Media};

/// A WhatsApp file as Meta announces it: a media id the simulator serves, and a digest.
fn media(
    rng: &mut StdRng,
    file: File,
    caption: &Option<String>,
    filename: Option<&String>,
) -> Content {
    Content::Media {
        file,
        media_id: file.whatsapp_id(rng),
        sha256: format!(
            "{:016x}{:016x}{:016x}{:016x}",
            rng.gen::<u64>(),
            rng.gen::<u64>(),
            rng.gen::<u64>(),
            rng.gen::<u64>()
        ),
        caption: caption.clone(),
        filename: filename.cloned(),
    }
}

/// Plays customer events for one organisation.
#[derive(Clone)]
pub struct Customers {
    sim: Arc<Sim>,
    org: Organisation,
}

impl Customers {
    pub fn new(sim: Arc<Sim>) -> anyhow::Result<Customers> {
        let org = sim.summary.org(sim.config.org_index)?.clone();
        Ok(Customers { sim, org })
    }

    pub fn channels(&self) -> Channels {
        Channels {
            twilio: self.org.garage_number().is_some(),
            whatsapp: self.org.whatsapp.is_some() && self.sim.poster.has_app_secret(),
            portal: self.org.portal.len(),
        }
    }

    /// An inbound SMS (an MMS when it carries a file) to the garage's number.
    pub async fn sms(&self, rng: &mut StdRng, from: &str, body: &str, file: Option<File>) -> bool {
        let (Some(account), Some(to)) = (self.org.twilio.as_ref(), self.org.garage_number()) else {
            return false;
        };
        let sid = random::sid(rng, if file.is_some() { "MM" } else { "SM" });
        let media: Vec<Media> = file
            .map(|f| Media {
                url: media_url(
                    self.sim.config.media_base.as_deref(),
                    &account.account_sid,
                    &sid,
                    &f.mark(&random::sid(rng, "ME")),
                ),
                content_type: f.content_type().to_string(),
            })
            .into_iter()
            .collect();
        let params = inbound_message(&account.account_sid, &sid, from, to, body, &media);
        let a = self
            .sim
            .poster
            .twilio(
                &self.sim.poster.public("/webhooks/twilio/sms"),
                &params,
                &account.auth_token,
            )
            .await;
        tracing::info!(kind = if file.is_some() { "mms" } else { "sms" }, %from, %sid, http = a.status, text = %body, "customer texted");
        a.ok()
    }

    /// An inbound WhatsApp message to the garage's WhatsApp number.
    pub async fn whatsapp(
        &self,
        rng: &mut StdRng,
        from: &str,
        name: &str,
        message: &WhatsappMessage,
    ) -> bool {
        let Some(wa) = self.org.whatsapp.as_ref() else {
            return false;
        };
        let wa_id = random::wa_id(from);
        let display = self
            .org
            .garage_number()
            .map(random::wa_id)
            .unwrap_or_else(|| "15550001234".into());
        let business = Business {
            phone_number_id: wa.phone_number_id.clone(),
            display_phone_number: display.clone(),
        };
        let content = match message {
            WhatsappMessage::Text(t) => Content::Text(t.clone()),
            WhatsappMessage::Photo { caption } => media(rng, File::Photo, caption, None),
            WhatsappMessage::Document { filename, caption } => {
                media(rng, File::Pdf, caption, Some(filename))
            }
            WhatsappMessage::VoiceNote => media(rng, File::VoiceNote, &None, None),
            WhatsappMessage::Button(i) => {
                let (id, title) = texts::BUTTONS
                    .get(*i)
                    .copied()
                    .unwrap_or(("call_me", "Please call me"));
                Content::Button {
                    id: id.into(),
                    title: title.into(),
                    context_id: random::wamid(rng, &display),
                }
            }
        };
        let inbound = Inbound {
            id: random::wamid(rng, &wa_id),
            wa_id,
            profile_name: name.to_string(),
            timestamp: chrono::Utc::now().timestamp(),
            content,
        };
        let a = self
            .sim
            .poster
            .meta(&inbound_notification(&business, &inbound))
            .await;
        tracing::info!(kind = "whatsapp", %from, id = %inbound.id, http = a.status, message = ?message, "customer messaged on WhatsApp");
        a.ok()
    }

    /// A portal message by the `index`th portal customer.
    pub async fn portal(&self, rng: &mut StdRng, index: usize, body: &str) -> bool {
        let Some(p) = self.org.portal.get(index) else {
            return false;
        };
        let client_id = format!("sim-{:016x}", rng.gen::<u64>());
        let a = self.sim.poster.portal(&p.token, body, &client_id).await;
        tracing::info!(kind = "portal", customer_id = p.customer_id, http = a.status, text = %body, "customer wrote in the portal");
        a.ok()
    }

    /// A call to the garage's number.
    pub async fn call(
        &self,
        rng: &mut StdRng,
        from: &str,
        plan: &CallPlan,
    ) -> Option<calls::CallReport> {
        let (Some(account), Some(to)) = (self.org.twilio.as_ref(), self.org.garage_number()) else {
            return None;
        };
        let report = calls::play(&self.sim, account, to, from, plan, rng).await;
        tracing::info!(kind = "call", %from, call_sid = %report.call_sid, outcome = report.outcome, accepted = report.all_accepted, "customer called");
        Some(report)
    }

    /// Plays one event; true if the server accepted every request of it.
    pub async fn play(&self, event: &Event, rng: &mut StdRng) -> bool {
        match event {
            Event::Sms { from, body, media } => self.sms(rng, from, body, *media).await,
            Event::Whatsapp {
                from,
                name,
                message,
            } => self.whatsapp(rng, from, name, message).await,
            Event::Portal { index, body } => self.portal(rng, *index, body).await,
            Event::Call { from, plan } => self
                .call(rng, from, plan)
                .await
                .is_some_and(|r| r.all_accepted),
        }
    }

    /// Events at `rate` per second until `max_events` (then waits for the calls in flight) or
    /// forever. Each event runs as its own task, since calls take a while.
    pub async fn run(self) {
        let channels = self.channels();
        let config = &self.sim.config;
        if !self.sim.poster.has_app_secret() && self.org.whatsapp.is_some() {
            tracing::warn!("no Meta app secret (--app-secret / INBOX_WHATSAPP_APP_SECRET): customers will not use WhatsApp");
        }
        tracing::info!(organisation = %self.org.name, rate = config.rate, seed = config.seed, ?channels, "customers start");
        let mut rng = StdRng::seed_from_u64(config.seed);
        let mut tasks = JoinSet::new();
        let mut n = 0u64;
        while config.max_events.is_none_or(|max| n < max) {
            tokio::time::sleep(random::interarrival(&mut rng, config.rate)).await;
            let Some(event) = plan(&mut rng, channels) else {
                tracing::warn!("this organisation has no Twilio number, WhatsApp number or portal customer: no customers to play");
                return;
            };
            let mut event_rng = StdRng::seed_from_u64(rng.gen());
            let me = self.clone();
            tasks.spawn(async move { me.play(&event, &mut event_rng).await });
            n += 1;
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
        tracing::info!(events = n, "customers done");
    }
}
