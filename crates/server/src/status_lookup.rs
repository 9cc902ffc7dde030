//! Replies whose status callbacks never came (issue 13). Twilio posts a send's progress once and
//! does not retry, so a callback that met a server being restarted is gone, and the reply would
//! show "pending" for ever. Once a reply has been pending with nothing heard for a while
//! (`quiet`), the server asks Twilio where it stands (the Messages lookup) and applies the
//! answer as if the callback had come. Meta redelivers its status webhooks itself, so WhatsApp
//! needs no lookup; a reply still pending after `LOOK_BACK` is left as it is.
//!
//! Each pass reads the next page of waiting replies (`(updated_at, id)` order, wrapping round at
//! the end), so replies Twilio cannot settle yet never hold back newer ones; and a reply asked
//! about without a settled answer is asked again only after a back-off that doubles up to an hour.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use inbox_core::Id;

use inbox_core::providers::status::{error_reason, from_twilio};
use inbox_core::providers::twilio_webhook::TwilioMessageStatus;

use crate::clock::Clock;
use crate::providers::twilio::TwilioSender;
use crate::providers::SEND_TIMEOUT;
use crate::store::{Awaiting, AwaitingAt, Store};

/// Replies sent longer ago than this are not looked up any more (three days).
pub const LOOK_BACK_SECS: u64 = 3 * 24 * 3600;
const LOOK_BACK: chrono::Duration = chrono::Duration::days(3);
/// Replies read in one pass at most.
const PASS: usize = 50;
/// The longest wait before a reply without a settled answer is asked about again.
const MOST_BACK_OFF: Duration = Duration::from_secs(3600);

/// Where the passes are: the last reply read, and when each reply asked about without a settled
/// answer may be asked again (kept for the replies met since the last wrap).
#[derive(Default)]
struct Pages {
    after: Option<AwaitingAt>,
    asked: HashMap<Id, Asked>,
}

struct Asked {
    times: u32,
    again_at: DateTime<Utc>,
    /// Met in the current round through the pages (entries not met are dropped at the wrap).
    met: bool,
}

pub struct StatusLookup {
    store: Arc<dyn Store>,
    twilio: TwilioSender,
    clock: Clock,
    /// How long a reply stays pending with nothing heard before Twilio is asked.
    pub quiet: Duration,
    pages: Mutex<Pages>,
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
            pages: Mutex::default(),
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

    /// One pass; returns how many replies it settled. A reply that cannot be looked up (its
    /// organisation's Twilio settings unreadable, Twilio unreachable) is logged and left for a
    /// later pass; the others go on.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let after = self
            .pages
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .after;
        let page = self
            .store
            .awaiting_status(
                "twilio",
                now - chrono::Duration::from_std(self.quiet)?,
                now - LOOK_BACK,
                after,
                PASS,
            )
            .await?;
        let mut settled = 0;
        for waiting in &page {
            if !self.due(waiting, now) {
                continue;
            }
            match self.look_up(waiting).await {
                Ok(true) => settled += 1,
                Ok(false) => self.asked_without_answer(waiting, now),
                Err(e) => {
                    tracing::warn!(message_id = waiting.at.message_id, sid = %waiting.provider_id, error = %e, "looking up a reply's status failed; asking again later");
                    self.asked_without_answer(waiting, now);
                }
            }
        }
        let mut pages = self.pages.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        match page.last() {
            Some(last) if page.len() == PASS => pages.after = Some(last.at),
            _ => {
                // The end: from the start again, forgetting replies no longer waiting.
                pages.after = None;
                pages.asked.retain(|_, a| std::mem::take(&mut a.met));
            }
        }
        Ok(settled)
    }

    /// Whether the reply may be asked about now (never asked, or its back-off is over).
    fn due(&self, waiting: &Awaiting, now: DateTime<Utc>) -> bool {
        let Ok(mut pages) = self.pages.lock() else {
            return false;
        };
        match pages.asked.get_mut(&waiting.at.message_id) {
            Some(asked) => {
                asked.met = true;
                asked.again_at <= now
            }
            None => true,
        }
    }

    fn asked_without_answer(&self, waiting: &Awaiting, now: DateTime<Utc>) {
        let Ok(mut pages) = self.pages.lock() else {
            return;
        };
        let asked = pages.asked.entry(waiting.at.message_id).or_insert(Asked {
            times: 0,
            again_at: now,
            met: true,
        });
        asked.times = asked.times.saturating_add(1);
        let wait = self
            .quiet
            .saturating_mul(1 << asked.times.min(16))
            .min(MOST_BACK_OFF);
        asked.again_at =
            now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
        asked.met = true;
    }

    /// Asks Twilio about one reply and applies a settled answer; true when it settled.
    async fn look_up(&self, waiting: &Awaiting) -> anyhow::Result<bool> {
        let (org, sid) = (waiting.org_id, &waiting.provider_id);
        let Some(account) = self.store.twilio_account_of(org).await? else {
            return Ok(false);
        };
        let looked = match self.twilio.look_up(&account, sid).await {
            Ok(l) => l,
            Err(e) => {
                tracing::info!(message_id = waiting.at.message_id, %sid, reason = %e.reason, "Twilio lookup failed; asking again later");
                return Ok(false);
            }
        };
        let Some(status) = from_twilio(&TwilioMessageStatus::parse(&looked.status)) else {
            return Ok(false);
        };
        let reason = looked
            .error_code
            .as_deref()
            .map(|c| error_reason("twilio", c, None));
        self.store
            .apply_delivery_status(org, "twilio", sid, status, reason, self.clock.now())
            .await?;
        tracing::info!(message_id = waiting.at.message_id, %sid, status = %looked.status, "a reply's lost status settled by lookup");
        Ok(true)
    }
}
