//! `GET /api/v1/analytics`: the answer's shape, and how it is built from summed counters.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::rollup::{epoch_day, from_epoch_day, Metric};
use crate::intent::Intent;
use crate::range::{resolve, RangeError, RangePreset};
use crate::{Channel, Id};

/// `GET /api/v1/analytics` query: `range`, `from` and `to` exactly as for the conversation list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalyticsQuery {
    #[serde(default)]
    pub range: RangePreset,
    /// Inclusive local dates of a custom range.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl AnalyticsQuery {
    /// The inclusive local dates the range covers at `now` in `tz`; `None` as the first date
    /// for All time (it starts at the organisation's first counted day).
    pub fn dates(
        &self,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> Result<(Option<NaiveDate>, NaiveDate), RangeError> {
        let custom = self.from.zip(self.to);
        let interval = resolve(self.range, custom, now, tz)?;
        let local = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
        let today = local(now);
        let last = interval
            .end
            .map(|e| local(e - chrono::TimeDelta::milliseconds(1)))
            .unwrap_or(today);
        Ok((interval.start.map(local), last))
    }
}

/// How the day-by-day series are grouped: by day up to two months, by week up to a year, by
/// month beyond, so a chart never has more than ~60 bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    pub fn for_days(days: i64) -> Granularity {
        match days {
            ..=62 => Granularity::Day,
            63..=366 => Granularity::Week,
            _ => Granularity::Month,
        }
    }

    /// The first day of the period holding `date`.
    pub fn start(self, date: NaiveDate) -> NaiveDate {
        match self {
            Granularity::Day => date,
            Granularity::Week => date
                .checked_sub_days(Days::new(u64::from(date.weekday().num_days_from_monday())))
                .unwrap_or(date),
            Granularity::Month => date.with_day(1).unwrap_or(date),
        }
    }

    fn next(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Granularity::Day => start.checked_add_days(Days::new(1)),
            Granularity::Week => start.checked_add_days(Days::new(7)),
            Granularity::Month => start.checked_add_months(Months::new(1)),
        }
    }
}

/// Counts per channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelCounts {
    pub sms: i64,
    pub whatsapp: i64,
    pub portal: i64,
    pub voice: i64,
}

impl ChannelCounts {
    pub fn total(&self) -> i64 {
        self.sms + self.whatsapp + self.portal + self.voice
    }

    pub fn get(&self, channel: Channel) -> i64 {
        match channel {
            Channel::Sms => self.sms,
            Channel::Whatsapp => self.whatsapp,
            Channel::Portal => self.portal,
            Channel::Voice => self.voice,
        }
    }

    fn add(&mut self, channel: Channel, n: i64) {
        match channel {
            Channel::Sms => self.sms += n,
            Channel::Whatsapp => self.whatsapp += n,
            Channel::Portal => self.portal += n,
            Channel::Voice => self.voice += n,
        }
    }
}

/// One bar of the volume chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumePoint {
    pub start: NaiveDate,
    #[serde(flatten)]
    pub channels: ChannelCounts,
}

/// Inbound messages and calls (the customer got in touch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    pub points: Vec<VolumePoint>,
    pub by_channel: ChannelCounts,
    pub total: i64,
    /// The same number of days just before; None for All time.
    pub previous_total: Option<i64>,
    /// Percent change against the previous period; None without one or when it was 0.
    pub change_pct: Option<f64>,
}

/// How long customers waited for the first reply, in business minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseTimes {
    /// Customer messages answered (the first of each unanswered run).
    pub answered: i64,
    pub median_minutes: Option<i64>,
    pub p90_minutes: Option<i64>,
    /// Share (0–1) answered within an hour of business time.
    pub within_hour: Option<f64>,
}

/// One staff member's first responses (only for users with `messages.approve`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffResponse {
    /// None for replies no staff member wrote (imported history).
    pub staff_id: Option<Id>,
    pub name: String,
    #[serde(flatten)]
    pub times: ResponseTimes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calls {
    pub answered: i64,
    pub missed: i64,
    pub voicemail: i64,
    /// Missed calls and voicemails answered by a reply or a call to the same customer.
    pub callbacks: i64,
    pub callback_rate: Option<f64>,
    /// Business minutes from the missed call to the call-back.
    pub callback_median_minutes: Option<i64>,
}

/// A conversation whose last message is the customer's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingItem {
    pub conversation_id: Id,
    pub title: String,
    pub channel: Channel,
    /// The first unanswered message.
    pub since: DateTime<Utc>,
    pub preview: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub total: i64,
    /// Oldest first; at most [`WAITING_SHOWN`].
    pub items: Vec<WaitingItem>,
}

/// How many waiting conversations the answer lists.
pub const WAITING_SHOWN: u32 = 50;

/// Inbound contacts per weekday (Monday first) and local hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusiestHours {
    pub cells: Vec<Vec<i64>>,
    pub max: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentCount {
    pub label: Intent,
    pub count: i64,
}

/// One bar of the intent trend: counts in [`Intent::ALL`] order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentPoint {
    pub start: NaiveDate,
    pub counts: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intents {
    pub total: i64,
    /// Largest first.
    pub mix: Vec<IntentCount>,
    pub trend: Vec<IntentPoint>,
    /// Messages whose intent staff changed: the classifier's errors.
    pub corrected: i64,
    pub error_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approvals {
    pub approved: i64,
    pub rejected: i64,
    pub median_minutes_to_approve: Option<i64>,
}

/// The whole answer (AIA-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analytics {
    /// Inclusive local dates covered.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub granularity: Granularity,
    pub volume: Volume,
    pub first_response: ResponseTimes,
    /// Present only for users with `messages.approve`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_by_staff: Option<Vec<StaffResponse>>,
    pub calls: Calls,
    pub waiting: Waiting,
    pub busiest_hours: BusiestHours,
    pub intents: Intents,
    pub approvals: Approvals,
}

/// What the store read for a report.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Day by day: `Metric::Inbound` and `Metric::Intent` rows `(day, metric, key, n)`.
    pub daily: Vec<(i64, Metric, String, i64)>,
    /// Every other metric summed over the range: `(metric, key, n)`.
    pub totals: Vec<(Metric, String, i64)>,
    /// Inbound total of the period before, when there is one.
    pub previous_total: Option<i64>,
    pub waiting: Waiting,
    /// Names for per-staff figures; `None` leaves them out (the caller may not see them).
    pub staff: Option<HashMap<Id, String>>,
}

/// Nearest-rank percentile of bucketed durations.
fn percentile(buckets: &BTreeMap<i64, i64>, p: f64) -> Option<i64> {
    let n: i64 = buckets.values().sum();
    if n == 0 {
        return None;
    }
    let rank = ((p * n as f64).ceil() as i64).max(1);
    let mut seen = 0;
    buckets.iter().find_map(|(minutes, count)| {
        seen += count;
        (seen >= rank).then_some(*minutes)
    })
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn response_times(buckets: &BTreeMap<i64, i64>) -> ResponseTimes {
    let answered = buckets.values().sum();
    let within: i64 = buckets.range(..60).map(|(_, n)| n).sum();
    ResponseTimes {
        answered,
        median_minutes: percentile(buckets, 0.5),
        p90_minutes: percentile(buckets, 0.9),
        within_hour: ratio(within, answered),
    }
}

/// Periods from `from` to `to` at `g`, each with its first day.
fn periods(from: NaiveDate, to: NaiveDate, g: Granularity) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut start = g.start(from);
    while start <= to {
        out.push(start);
        match g.next(start) {
            Some(next) => start = next,
            None => break,
        }
    }
    out
}

/// Builds the answer from the counters.
pub fn build(inputs: Inputs) -> Analytics {
    let days = (inputs.to - inputs.from).num_days() + 1;
    let granularity = Granularity::for_days(days);
    let starts = periods(inputs.from, inputs.to, granularity);
    let slot = |day: i64| {
        let start = granularity.start(from_epoch_day(day));
        starts.binary_search(&start).ok()
    };

    let mut volume: Vec<ChannelCounts> = vec![ChannelCounts::default(); starts.len()];
    let mut trend: Vec<Vec<i64>> = vec![vec![0; Intent::ALL.len()]; starts.len()];
    let mut by_channel = ChannelCounts::default();
    let mut intent_totals = [0i64; Intent::ALL.len()];
    for (day, metric, key, n) in &inputs.daily {
        let Some(i) = slot(*day) else { continue };
        match metric {
            Metric::Inbound => {
                if let Some(channel) = Channel::parse(key) {
                    volume[i].add(channel, *n);
                    by_channel.add(channel, *n);
                }
            }
            Metric::Intent => {
                if let Some(k) = Intent::ALL.iter().position(|x| x.as_str() == key) {
                    trend[i][k] += n;
                    intent_totals[k] += n;
                }
            }
            _ => {}
        }
    }

    let mut first_response = BTreeMap::new();
    let mut per_staff: BTreeMap<i64, BTreeMap<i64, i64>> = BTreeMap::new();
    let mut callbacks = BTreeMap::new();
    let mut approval_times = BTreeMap::new();
    let mut cells = vec![vec![0i64; 24]; 7];
    let (mut calls, mut approvals) = (HashMap::new(), HashMap::new());
    let mut corrected = 0;
    for (metric, key, n) in &inputs.totals {
        match metric {
            Metric::FirstResponse => {
                let Some((staff, bucket)) = key.split_once(':') else {
                    continue;
                };
                let (Ok(staff), Ok(bucket)) = (staff.parse::<i64>(), bucket.parse::<i64>()) else {
                    continue;
                };
                *first_response.entry(bucket).or_insert(0) += n;
                *per_staff
                    .entry(staff)
                    .or_default()
                    .entry(bucket)
                    .or_insert(0) += n;
            }
            Metric::Hour => {
                let Some((d, h)) = key.split_once(':') else {
                    continue;
                };
                if let (Ok(d), Ok(h)) = (d.parse::<usize>(), h.parse::<usize>()) {
                    if d < 7 && h < 24 {
                        cells[d][h] += n;
                    }
                }
            }
            Metric::Call => *calls.entry(key.as_str()).or_insert(0) += n,
            Metric::Callback => {
                if let Ok(b) = key.parse::<i64>() {
                    *callbacks.entry(b).or_insert(0) += n;
                }
            }
            Metric::Approval => *approvals.entry(key.as_str()).or_insert(0) += n,
            Metric::ApprovalTime => {
                if let Ok(b) = key.parse::<i64>() {
                    *approval_times.entry(b).or_insert(0) += n;
                }
            }
            Metric::IntentCorrected => corrected += n,
            Metric::Inbound | Metric::Intent => {}
        }
    }

    let total = by_channel.total();
    let change_pct = inputs
        .previous_total
        .filter(|p| *p > 0)
        .map(|p| (total - p) as f64 * 100.0 / p as f64);
    let first_response_by_staff = inputs.staff.as_ref().map(|names| {
        let mut rows: Vec<StaffResponse> = per_staff
            .iter()
            .map(|(id, buckets)| StaffResponse {
                staff_id: (*id != 0).then_some(*id),
                name: names
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| "No author (imported)".into()),
                times: response_times(buckets),
            })
            .collect();
        rows.sort_by(|a, b| {
            b.times
                .answered
                .cmp(&a.times.answered)
                .then(a.name.cmp(&b.name))
        });
        rows
    });
    let get = |m: &HashMap<&str, i64>, k: &str| m.get(k).copied().unwrap_or(0);
    let (missed, voicemail) = (get(&calls, "missed"), get(&calls, "voicemail"));
    let called_back: i64 = callbacks.values().sum();
    let intents_total: i64 = intent_totals.iter().sum();
    let mut mix: Vec<IntentCount> = Intent::ALL
        .iter()
        .zip(intent_totals)
        .map(|(label, count)| IntentCount {
            label: *label,
            count,
        })
        .collect();
    mix.sort_by_key(|m| std::cmp::Reverse(m.count));

    Analytics {
        from: inputs.from,
        to: inputs.to,
        granularity,
        volume: Volume {
            points: starts
                .iter()
                .zip(volume)
                .map(|(start, channels)| VolumePoint {
                    start: *start,
                    channels,
                })
                .collect(),
            by_channel,
            total,
            previous_total: inputs.previous_total,
            change_pct,
        },
        first_response: response_times(&first_response),
        first_response_by_staff,
        calls: Calls {
            answered: get(&calls, "answered"),
            missed,
            voicemail,
            callbacks: called_back,
            callback_rate: ratio(called_back, missed + voicemail),
            callback_median_minutes: percentile(&callbacks, 0.5),
        },
        waiting: inputs.waiting,
        busiest_hours: BusiestHours {
            max: cells.iter().flatten().copied().max().unwrap_or(0),
            cells,
        },
        intents: Intents {
            total: intents_total,
            mix,
            trend: starts
                .iter()
                .zip(trend)
                .map(|(start, counts)| IntentPoint {
                    start: *start,
                    counts,
                })
                .collect(),
            corrected,
            error_rate: ratio(corrected, intents_total),
        },
        approvals: Approvals {
            approved: get(&approvals, "approved"),
            rejected: get(&approvals, "rejected"),
            median_minutes_to_approve: percentile(&approval_times, 0.5),
        },
    }
}

/// The period just before `[from, to]`, the same number of days long.
/// As epoch days, inclusive.
pub fn previous_period(from: NaiveDate, to: NaiveDate) -> (i64, i64) {
    let days = (to - from).num_days() + 1;
    (epoch_day(from) - days, epoch_day(from) - 1)
}
