//! Daily counters, and the one set of rules that says which counters a write moves. The server
//! applies these rules to each write as it happens, keeping a conversation's small
//! [`ConversationState`] in its row, and replays them over stored history to rebuild the
//! counters (after an upgrade, an import, or a change of time zone or opening hours). Both
//! paths call [`apply`], so they cannot disagree.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

use super::hours::OpeningHours;
use crate::intent::Intent;
use crate::{CallOutcome, Channel, Direction, Id};

/// What a counter counts. The wire names are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Inbound messages and calls; key: the channel.
    Inbound,
    /// Inbound messages and calls; key: `"{weekday}:{hour}"`, Monday 0, local time.
    Hour,
    /// Inbound messages by intent; key: the label shown (after the threshold and corrections).
    Intent,
    /// Inbound messages whose intent a staff member changed; key: empty.
    IntentCorrected,
    /// A customer's first unanswered message and the reply to it, on the day it was asked;
    /// key: `"{staff id}:{business minutes bucket}"` (staff id 0: no author).
    FirstResponse,
    /// Inbound calls by outcome, on the day they started; key: the outcome.
    Call,
    /// A missed call or voicemail answered by a reply or a call to the same conversation, on
    /// the missed call's day; key: the business minutes bucket.
    Callback,
    /// Approval decisions on the day they were made; key: `approved` or `rejected`.
    Approval,
    /// Minutes from a reply being written to its approval; key: the minutes bucket.
    ApprovalTime,
}

impl Metric {
    pub const ALL: [Metric; 9] = [
        Metric::Inbound,
        Metric::Hour,
        Metric::Intent,
        Metric::IntentCorrected,
        Metric::FirstResponse,
        Metric::Call,
        Metric::Callback,
        Metric::Approval,
        Metric::ApprovalTime,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Inbound => "inbound",
            Metric::Hour => "hour",
            Metric::Intent => "intent",
            Metric::IntentCorrected => "intent_corrected",
            Metric::FirstResponse => "first_response",
            Metric::Call => "call",
            Metric::Callback => "callback",
            Metric::Approval => "approval",
            Metric::ApprovalTime => "approval_time",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// Days since 1970-01-01: how counters are keyed by day (an integer on both backends).
pub fn epoch_day(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - i64::from(EPOCH_FROM_CE)
}

/// The date of an [`epoch_day`].
pub fn from_epoch_day(day: i64) -> NaiveDate {
    i32::try_from(day + i64::from(EPOCH_FROM_CE))
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(NaiveDate::MIN)
}

/// `NaiveDate::from_ymd(1970, 1, 1).num_days_from_ce()`.
const EPOCH_FROM_CE: i32 = 719_163;

/// Durations are counted in buckets: exact minutes for the first two hours (where a garage's
/// targets live), then quarter hours to a day, hours to a week, and days. A bucket is named by
/// its first minute; medians read from buckets are exact to the bucket.
pub fn minutes_bucket(minutes: i64) -> i64 {
    let m = minutes.max(0);
    match m {
        0..120 => m,
        120..1440 => m - m % 15,
        1440..10080 => m - m % 60,
        _ => m - m % 1440,
    }
}

/// One change to one counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    pub day: i64,
    pub metric: Metric,
    pub key: String,
    pub n: i64,
}

/// What the rules remember about a conversation between writes (two columns of its row).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConversationState {
    /// The customer's first message not yet answered; `Some` puts it in "waiting now".
    pub awaiting_since: Option<DateTime<Utc>>,
    /// The first missed call or voicemail not yet called back.
    pub missed_call_at: Option<DateTime<Utc>>,
}

/// A write, as the counters see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// A customer's message arrived.
    Inbound {
        at: DateTime<Utc>,
        channel: Channel,
        intent: Option<Intent>,
        /// The shown intent is a staff member's, different from the classifier's.
        corrected: bool,
    },
    /// Staff wrote to the customer (any channel, any status).
    Reply {
        at: DateTime<Utc>,
        staff: Option<Id>,
    },
    /// A call, new or with a new outcome (`before` is None when new).
    Call {
        started_at: DateTime<Utc>,
        direction: Direction,
        before: Option<CallOutcome>,
        after: CallOutcome,
    },
    /// An inbound message's shown intent changed: classified late, or corrected.
    Relabel {
        at: DateTime<Utc>,
        before: Option<Intent>,
        after: Intent,
        corrected_before: bool,
        corrected_after: bool,
    },
    /// A reply in the Approval Queue was approved or rejected.
    Decision {
        written_at: DateTime<Utc>,
        decided_at: DateTime<Utc>,
        approved: bool,
    },
}

/// The organisation's calendar: its time zone and opening hours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrgClock {
    pub tz: Tz,
    pub hours: OpeningHours,
}

impl OrgClock {
    pub fn day(&self, at: DateTime<Utc>) -> i64 {
        epoch_day(at.with_timezone(&self.tz).date_naive())
    }

    fn business_minutes(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        self.hours.business_seconds(from, to, self.tz) / 60
    }
}

/// Counts the calls report under: answered, missed (missed, escalated or errored: nobody
/// spoke to the caller) and voicemail. `None` while the call is still going.
pub fn call_group(outcome: CallOutcome) -> Option<&'static str> {
    match outcome {
        CallOutcome::InProgress => None,
        CallOutcome::Answered => Some("answered"),
        CallOutcome::Voicemail => Some("voicemail"),
        CallOutcome::Missed | CallOutcome::Escalated | CallOutcome::Errored => Some("missed"),
    }
}

/// The counter changes one write makes, updating the conversation's state.
pub fn apply(clock: &OrgClock, state: &mut ConversationState, fact: &Fact) -> Vec<Delta> {
    let delta = |at: DateTime<Utc>, metric: Metric, key: String, n: i64| Delta {
        day: clock.day(at),
        metric,
        key,
        n,
    };
    let mut out = Vec::new();
    match *fact {
        Fact::Inbound {
            at,
            channel,
            intent,
            corrected,
        } => {
            out.extend(contact(clock, at, channel));
            if let Some(intent) = intent {
                out.push(delta(at, Metric::Intent, intent.as_str().into(), 1));
            }
            if corrected {
                out.push(delta(at, Metric::IntentCorrected, String::new(), 1));
            }
            state.awaiting_since = Some(state.awaiting_since.map_or(at, |s| s.min(at)));
        }
        Fact::Reply { at, staff } => {
            if let Some(asked) = state.awaiting_since.take() {
                let minutes = clock.business_minutes(asked, at);
                let key = format!("{}:{}", staff.unwrap_or(0), minutes_bucket(minutes));
                out.push(delta(asked, Metric::FirstResponse, key, 1));
            }
            out.extend(called_back(clock, state, at));
        }
        Fact::Call {
            started_at,
            direction,
            before,
            after,
        } => match direction {
            Direction::Inbound => {
                if before.is_none() {
                    out.extend(contact(clock, started_at, Channel::Voice));
                }
                let (was, now) = (before.and_then(call_group), call_group(after));
                if was != now {
                    if let Some(was) = was {
                        out.push(delta(started_at, Metric::Call, was.into(), -1));
                    }
                    if let Some(now) = now {
                        out.push(delta(started_at, Metric::Call, now.into(), 1));
                    }
                }
                if matches!(now, Some("missed" | "voicemail")) && was.is_none() {
                    state.missed_call_at = Some(
                        state
                            .missed_call_at
                            .map_or(started_at, |m| m.min(started_at)),
                    );
                }
            }
            Direction::Outbound => {
                if before.is_none() {
                    out.extend(called_back(clock, state, started_at));
                }
            }
        },
        Fact::Relabel {
            at,
            before,
            after,
            corrected_before,
            corrected_after,
        } => {
            if before != Some(after) {
                if let Some(before) = before {
                    out.push(delta(at, Metric::Intent, before.as_str().into(), -1));
                }
                out.push(delta(at, Metric::Intent, after.as_str().into(), 1));
            }
            let n = i64::from(corrected_after) - i64::from(corrected_before);
            if n != 0 {
                out.push(delta(at, Metric::IntentCorrected, String::new(), n));
            }
        }
        Fact::Decision {
            written_at,
            decided_at,
            approved,
        } => {
            let outcome = if approved { "approved" } else { "rejected" };
            out.push(delta(decided_at, Metric::Approval, outcome.into(), 1));
            if approved {
                let minutes = (decided_at - written_at).num_minutes();
                let key = minutes_bucket(minutes).to_string();
                out.push(delta(decided_at, Metric::ApprovalTime, key, 1));
            }
        }
    }
    out
}

/// A customer got in touch: the volume and the heat map.
fn contact(clock: &OrgClock, at: DateTime<Utc>, channel: Channel) -> [Delta; 2] {
    let local = at.with_timezone(&clock.tz);
    let day = epoch_day(local.date_naive());
    let cell = format!(
        "{}:{}",
        local.weekday().num_days_from_monday(),
        local.hour()
    );
    [
        Delta {
            day,
            metric: Metric::Inbound,
            key: channel.as_str().into(),
            n: 1,
        },
        Delta {
            day,
            metric: Metric::Hour,
            key: cell,
            n: 1,
        },
    ]
}

/// Staff got back to a customer whose call was missed.
fn called_back(
    clock: &OrgClock,
    state: &mut ConversationState,
    at: DateTime<Utc>,
) -> Option<Delta> {
    let missed = state.missed_call_at.filter(|m| *m <= at)?;
    state.missed_call_at = None;
    let minutes = clock.business_minutes(missed, at);
    Some(Delta {
        day: clock.day(missed),
        metric: Metric::Callback,
        key: minutes_bucket(minutes).to_string(),
        n: 1,
    })
}

/// Counters summed: what a rebuild writes, and what tests compare.
pub type Counters = HashMap<(i64, Metric, String), i64>;

/// Adds deltas into counters, dropping those that reach zero.
pub fn accumulate(counters: &mut Counters, deltas: impl IntoIterator<Item = Delta>) {
    use std::collections::hash_map::Entry;
    for d in deltas {
        match counters.entry((d.day, d.metric, d.key)) {
            Entry::Occupied(mut slot) => {
                *slot.get_mut() += d.n;
                if *slot.get() == 0 {
                    slot.remove();
                }
            }
            Entry::Vacant(slot) => {
                if d.n != 0 {
                    slot.insert(d.n);
                }
            }
        }
    }
}
