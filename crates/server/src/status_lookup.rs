//! Replies whose status callbacks never came (issue 13). Twilio posts a send's progress once and
//! does not retry, so a callback that met a server being restarted is gone, and the reply would
//! show "pending" for ever. Once a reply has been pending with nothing heard for a while
//! (`quiet`), the server asks Twilio where it stands (the Messages lookup) and applies the
//! answer as if the callback had come. Meta redelivers its status webhooks itself, so WhatsApp
//! needs no lookup; a reply still pending after `LOOK_BACK` is left as it is.

use std::sync::Arc;
use std::time::Duration;

use inbox_core::providers::status::{error_reason, from_twilio};
use inbox_core::providers::twilio_webhook::TwilioMessageStatus;

use crate::clock::Clock;
use crate::providers::twilio::TwilioSender;
use crate::providers::SEND_TIMEOUT;
use crate::store::Store;

/// Replies sent longer ago than this are not looked up any more.
const LOOK_BACK: chrono::Duration = chrono::Duration::days(3);
/// Lookups in one pass at most.
const PASS: usize = 50;

pub struct StatusLookup {
    store: Arc<dyn Store>,
    twilio: TwilioSender,
    clock: Clock,
    /// How long a reply stays pending with nothing heard before Twilio is asked.
    pub quiet: Duration,
}

impl StatusLookup {
    pub fn new(
        store: Arc<dyn Store>,
        twilio_api_base: &str,
        clock: Clock,
        quiet: Duration,
    ) -> StatusLookup {
        StatusLookup {
            store,
            twilio: TwilioSender::new(twilio_api_base, SEND_TIMEOUT),
            clock,
            quiet,
        }
    }

    /// Runs until the process ends, a pass every `quiet` (at least every 5 s, at most every
    /// minute).
    pub fn start(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        let every = self
            .quiet
            .clamp(Duration::from_secs(5), Duration::from_secs(60));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = self.run_once().await {
                    tracing::warn!(error = %e, "looking up unsettled replies failed; trying again later");
                }
            }
        })
    }

    /// One pass; returns how many replies it settled.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let waiting = self
            .store
            .awaiting_status(
                "twilio",
                now - chrono::Duration::from_std(self.quiet)?,
                now - LOOK_BACK,
                PASS,
            )
            .await?;
        let mut settled = 0;
        for (org, message_id, sid) in waiting {
            let Some(account) = self.store.twilio_account_of(org).await? else {
                continue;
            };
            let looked = match self.twilio.look_up(&account, &sid).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::info!(message_id, %sid, reason = %e.reason, "Twilio lookup failed; asking again later");
                    continue;
                }
            };
            let Some(status) = from_twilio(&TwilioMessageStatus::parse(&looked.status)) else {
                continue;
            };
            let reason = looked
                .error_code
                .as_deref()
                .map(|c| error_reason("twilio", c, None));
            self.store
                .apply_delivery_status(org, "twilio", &sid, status, reason, self.clock.now())
                .await?;
            tracing::info!(message_id, %sid, status = %looked.status, "a reply's lost status settled by lookup");
            settled += 1;
        }
        Ok(settled)
    }
}
