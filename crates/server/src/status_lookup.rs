//! Replies whose provider answers never came (issue 13). Twilio posts a send's progress once and
//! does not retry, so a callback that met a server being restarted is gone. Two cases:
//!
//! - A reply Twilio took (we have its `MessageSid`) pending with nothing heard for a while
//!   (`quiet`): the server asks Twilio where it stands (the Messages lookup) and applies the
//!   answer as if the callback had come.
//! - A reply left `unknown` without a `MessageSid` (the server stopped while handing it over,
//!   and Twilio's callbacks carrying our reference were lost too): the server reads Twilio's
//!   list of messages to that number. One message with exactly that text, sent since, that no
//!   other reply already owns, is this one: its `MessageSid` is recorded and its status applied.
//!   No message at all to that number since then, in a list that holds everything Twilio has
//!   for it, means Twilio never took it: the reply is `failed` ("not sent"), and staff may send
//!   it again. Anything else (a text Twilio may have re-encoded, two alike) stays `unknown`.
//!
//! Meta redelivers its status webhooks itself, and they carry our reference, so WhatsApp needs
//! neither. Replies older than `LOOK_BACK` are left as they are.
//!
//! Each pass reads the next page of each kind (`(updated_at, id)` order, wrapping round at the
//! end), so replies Twilio cannot settle yet never hold back newer ones; and a reply asked about
//! without a settled answer is asked again only after a back-off that doubles up to an hour.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use inbox_core::providers::status::{error_reason, from_twilio};
use inbox_core::providers::twilio_webhook::TwilioMessageStatus;
use inbox_core::providers::Provider;
use inbox_core::Id;

use crate::clock::Clock;
use crate::providers::twilio::{Listed, TwilioSender};
use crate::providers::SEND_TIMEOUT;
use crate::store::{Awaiting, AwaitingAt, QuietPage, Store, UnlinkedReply};

/// Replies sent longer ago than this are not looked up any more (three days).
pub const LOOK_BACK_SECS: u64 = 3 * 24 * 3600;
const LOOK_BACK: chrono::Duration = chrono::Duration::days(3);
/// Replies read in one pass at most, of each kind.
const PASS: usize = 50;
/// The longest wait before a reply without a settled answer is asked about again.
const MOST_BACK_OFF: Duration = Duration::from_secs(3600);
/// Messages read from Twilio's list for one number.
const LIST_PAGE: usize = 100;
/// How far before our own record of a send Twilio's may be dated (clocks differ).
const CLOCK_SLACK: chrono::Duration = chrono::Duration::minutes(2);
/// Why an `unknown` reply Twilio has no record of is `failed`.
pub const NOT_TAKEN: &str =
    "Not sent: Twilio has no record of this reply (the server stopped while handing it over). You can send it again.";

/// Where the passes over one kind of reply are: the last reply read, and when each reply asked
/// about without a settled answer may be asked again (kept for the replies met since the last
/// wrap).
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

impl Pages {
    /// Whether the reply may be asked about now (never asked, or its back-off is over).
    fn due(&mut self, message_id: Id, now: DateTime<Utc>) -> bool {
        match self.asked.get_mut(&message_id) {
            Some(asked) => {
                asked.met = true;
                asked.again_at <= now
            }
            None => true,
        }
    }

    fn unanswered(&mut self, message_id: Id, now: DateTime<Utc>, quiet: Duration) {
        let asked = self.asked.entry(message_id).or_insert(Asked {
            times: 0,
            again_at: now,
            met: true,
        });
        asked.times = asked.times.saturating_add(1);
        let wait = quiet
            .saturating_mul(1 << asked.times.min(16))
            .min(MOST_BACK_OFF);
        asked.again_at =
            now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
        asked.met = true;
    }

    /// After a page of `read` replies: on to the next page, or from the start again (forgetting
    /// replies no longer waiting) when this one was the last.
    fn turn(&mut self, read: usize, last: Option<AwaitingAt>) {
        match last {
            Some(last) if read == PASS => self.after = Some(last),
            _ => {
                self.after = None;
                self.asked.retain(|_, a| std::mem::take(&mut a.met));
            }
        }
    }
}

pub struct StatusLookup {
    store: Arc<Store>,
    twilio: TwilioSender,
    clock: Clock,
    /// How long a reply stays pending (or unknown) with nothing heard before Twilio is asked.
    pub quiet: Duration,
    pending: Mutex<Pages>,
    unknown: Mutex<Pages>,
}

/// What Twilio's list says of an `unknown` reply.
#[derive(Debug, PartialEq)]
enum Verdict<'a> {
    /// This listed message is the reply.
    Sent(&'a Listed),
    /// Twilio has sent nothing to the number since: the reply was never taken.
    NotTaken,
    /// Cannot tell (two alike, a text that differs, a list that may not hold everything).
    Unsure,
}

/// Reads Twilio's list of messages to the reply's number. `known` are the listed ids other
/// replies already own; `complete` says the list holds everything Twilio has for that number.
fn verdict<'a>(
    reply: &UnlinkedReply,
    listed: &'a [Listed],
    known: &[String],
    complete: bool,
) -> Verdict<'a> {
    let since = reply.created_at - CLOCK_SLACK;
    let candidates: Vec<&Listed> = listed
        .iter()
        .filter(|m| m.direction.starts_with("outbound"))
        .filter(|m| !known.contains(&m.sid))
        .filter(|m| m.created().is_none_or(|at| at >= since))
        .collect();
    let alike: Vec<&Listed> = candidates
        .iter()
        .copied()
        .filter(|m| m.body == reply.body)
        .collect();
    match (alike.as_slice(), candidates.is_empty()) {
        ([one], _) => Verdict::Sent(one),
        ([], true) if complete => Verdict::NotTaken,
        _ => Verdict::Unsure,
    }
}

fn lock(pages: &Mutex<Pages>) -> anyhow::Result<std::sync::MutexGuard<'_, Pages>> {
    pages
        .lock()
        .map_err(|_| anyhow::anyhow!("status lookup state poisoned"))
}

impl StatusLookup {
    pub fn new(
        store: Arc<Store>,
        twilio_api_base: &str,
        clock: Clock,
        quiet: Duration,
    ) -> StatusLookup {
        StatusLookup {
            store,
            twilio: TwilioSender::new(twilio_api_base, SEND_TIMEOUT),
            clock,
            quiet,
            pending: Mutex::default(),
            unknown: Mutex::default(),
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

    /// One pass over each kind; returns how many replies it settled. A reply that cannot be
    /// looked up (its organisation's Twilio settings unreadable, Twilio unreachable) is logged
    /// and left for a later pass; the others go on.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        Ok(self.pending_pass().await? + self.unknown_pass().await?)
    }

    /// The replies of a pass: quiet for `quiet`, sent within `LOOK_BACK`, `PASS` of them.
    fn page(&self, now: DateTime<Utc>, after: Option<AwaitingAt>) -> anyhow::Result<QuietPage> {
        Ok(QuietPage {
            quiet_since: now - chrono::Duration::from_std(self.quiet)?,
            sent_after: now - LOOK_BACK,
            after,
            limit: PASS,
        })
    }

    async fn pending_pass(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let after = lock(&self.pending)?.after;
        let page = self
            .store
            .awaiting_status(Provider::Twilio, self.page(now, after)?)
            .await?;
        let mut settled = 0;
        for waiting in &page {
            if !lock(&self.pending)?.due(waiting.at.message_id, now) {
                continue;
            }
            match self.look_up(waiting).await {
                Ok(true) => settled += 1,
                answer => {
                    if let Err(e) = answer {
                        tracing::warn!(message_id = waiting.at.message_id, sid = %waiting.provider_id, error = %e, "looking up a reply's status failed; asking again later");
                    }
                    lock(&self.pending)?.unanswered(waiting.at.message_id, now, self.quiet);
                }
            }
        }
        lock(&self.pending)?.turn(page.len(), page.last().map(|w| w.at));
        Ok(settled)
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
        self.apply(org, sid, &looked.status, looked.error_code.as_deref())
            .await
    }

    /// Applies a status Twilio reported as a callback would; true when it is one that settles.
    async fn apply(
        &self,
        org: Id,
        sid: &str,
        status: &str,
        error_code: Option<&str>,
    ) -> anyhow::Result<bool> {
        let Some(settled) = from_twilio(&TwilioMessageStatus::parse(status)) else {
            return Ok(false);
        };
        let reason = error_code.map(|c| error_reason(Provider::Twilio, c, None));
        self.store
            .apply_delivery_status(
                org,
                Provider::Twilio,
                sid,
                settled,
                reason,
                self.clock.now(),
            )
            .await?;
        tracing::info!(%sid, status, "a reply's lost status settled by lookup");
        Ok(true)
    }

    async fn unknown_pass(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let after = lock(&self.unknown)?.after;
        let page = self
            .store
            .unknown_unlinked("sms", self.page(now, after)?)
            .await?;
        let mut settled = 0;
        for reply in &page {
            let id = reply.at.message_id;
            if !lock(&self.unknown)?.due(id, now) {
                continue;
            }
            match self.reconcile(reply).await {
                Ok(true) => settled += 1,
                answer => {
                    if let Err(e) = answer {
                        tracing::warn!(message_id = id, error = %e, "reading Twilio's list for an unknown reply failed; asking again later");
                    }
                    lock(&self.unknown)?.unanswered(id, now, self.quiet);
                }
            }
        }
        lock(&self.unknown)?.turn(page.len(), page.last().map(|r| r.at));
        Ok(settled)
    }

    /// Reads Twilio's list for one `unknown` reply and settles it when the list is clear.
    async fn reconcile(&self, reply: &UnlinkedReply) -> anyhow::Result<bool> {
        let (org, id) = (reply.org_id, reply.at.message_id);
        let (Some(account), Some(to)) = (self.store.twilio_account_of(org).await?, &reply.to)
        else {
            return Ok(false);
        };
        let page = match self.twilio.list_to(&account, to, LIST_PAGE).await {
            Ok(p) => p,
            Err(e) => {
                tracing::info!(message_id = id, reason = %e.reason, "Twilio's message list failed; asking again later");
                return Ok(false);
            }
        };
        let sids: Vec<String> = page.messages.iter().map(|m| m.sid.clone()).collect();
        let known = self
            .store
            .known_provider_ids(org, Provider::Twilio, &sids)
            .await?;
        let complete = page.next_page_uri.is_none() && page.messages.len() < LIST_PAGE;
        match verdict(reply, &page.messages, &known, complete) {
            Verdict::Sent(m) => {
                let linked = self
                    .store
                    .link_provider_id(org, id, Provider::Twilio, &m.sid, self.clock.now())
                    .await?;
                if linked {
                    tracing::info!(message_id = id, sid = %m.sid, "an unknown reply found in Twilio's list");
                    self.apply(org, &m.sid, &m.status, m.error_code.as_deref())
                        .await?;
                }
                Ok(linked)
            }
            Verdict::NotTaken => {
                let failed = self
                    .store
                    .unknown_not_taken(org, id, NOT_TAKEN, self.clock.now())
                    .await?;
                if failed {
                    tracing::info!(
                        message_id = id,
                        "an unknown reply Twilio never took is failed (may be sent again)"
                    );
                }
                Ok(failed)
            }
            Verdict::Unsure => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn listed(sid: &str, body: &str, minutes_after: i64) -> Listed {
        let at = base() + chrono::Duration::minutes(minutes_after);
        Listed {
            sid: sid.into(),
            body: body.into(),
            status: "delivered".into(),
            error_code: None,
            direction: "outbound-api".into(),
            date_created: at.to_rfc2822(),
        }
    }

    fn base() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn reply(body: &str) -> UnlinkedReply {
        UnlinkedReply {
            org_id: 1,
            body: body.into(),
            to: Some("+447700900001".into()),
            created_at: base(),
            at: AwaitingAt {
                updated_at_ms: 0,
                message_id: 7,
            },
        }
    }

    #[test]
    fn one_message_with_the_text_sent_since_is_the_reply() {
        let list = [
            listed("SM2", "Ready at four", 0),
            listed("SM1", "Ready at four", -60),
        ];
        assert_eq!(
            verdict(&reply("Ready at four"), &list, &[], true),
            Verdict::Sent(&list[0]),
            "the older one was sent before this reply existed"
        );
    }

    #[test]
    fn a_message_another_reply_owns_or_two_alike_settle_nothing() {
        let list = [
            listed("SM2", "Ready at four", 1),
            listed("SM1", "Ready at four", 0),
        ];
        assert_eq!(
            verdict(&reply("Ready at four"), &list, &[], true),
            Verdict::Unsure
        );
        assert_eq!(
            verdict(&reply("Ready at four"), &list, &["SM2".into()], true),
            Verdict::Sent(&list[1])
        );
    }

    #[test]
    fn nothing_sent_since_in_a_complete_list_means_never_taken() {
        let old = [listed("SM1", "Earlier", -60)];
        assert_eq!(
            verdict(&reply("Ready at four"), &old, &[], true),
            Verdict::NotTaken
        );
        assert_eq!(
            verdict(&reply("Ready at four"), &old, &[], false),
            Verdict::Unsure,
            "a list that may not hold everything proves nothing"
        );
        assert_eq!(
            verdict(&reply("Ready at four"), &[], &[], true),
            Verdict::NotTaken
        );
    }

    #[test]
    fn another_text_sent_since_may_be_this_one_re_encoded() {
        let list = [listed("SM3", "Ready at four - smart quotes", 1)];
        assert_eq!(
            verdict(&reply("Ready at four"), &list, &[], true),
            Verdict::Unsure
        );
    }
}
