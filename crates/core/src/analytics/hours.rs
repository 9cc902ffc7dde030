//! Opening hours, and the time between two instants counted only while the garage is open: a
//! text at 17:55 on a Friday answered at 08:10 on Monday waited 15 business minutes, not 62
//! hours (first-response and call-back times, AIA-1).

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::range::start_of_local_day;

/// One day's opening, local times, `open < close`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHours {
    pub open: NaiveTime,
    pub close: NaiveTime,
}

/// The week's opening hours, Monday first; `None` is a closed day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningHours {
    pub days: [Option<DayHours>; 7],
}

/// Longest wait measured day by day; anything longer is counted as this (a reply a year late is
/// an outlier either way, and the walk stays bounded).
const LONGEST_WALK_DAYS: u64 = 400;

fn at(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

impl Default for OpeningHours {
    /// A typical UK independent garage: weekdays 08:00–17:30, Saturday mornings 08:30–12:30.
    fn default() -> Self {
        let weekday = Some(DayHours {
            open: at(8, 0),
            close: at(17, 30),
        });
        let saturday = Some(DayHours {
            open: at(8, 30),
            close: at(12, 30),
        });
        OpeningHours {
            days: [weekday, weekday, weekday, weekday, weekday, saturday, None],
        }
    }
}

/// Why opening hours were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("{0}: the garage must open before it closes")]
    CloseBeforeOpen(&'static str),
    #[error("the garage must be open on at least one day")]
    NeverOpen,
}

const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl OpeningHours {
    /// Checks hours an admin entered.
    pub fn validate(&self) -> Result<(), HoursError> {
        for (day, hours) in DAY_NAMES.iter().zip(self.days) {
            if let Some(h) = hours {
                if h.open >= h.close {
                    return Err(HoursError::CloseBeforeOpen(day));
                }
            }
        }
        if self.days.iter().all(Option::is_none) {
            return Err(HoursError::NeverOpen);
        }
        Ok(())
    }

    /// Seconds of `[from, to)` that fall within opening hours in `tz`; 0 when `to <= from`.
    ///
    /// Waits of weeks (a reply long after the message) count their first and last week day by
    /// day and the whole weeks between by the week's opening time, so the cost stays flat.
    pub fn business_seconds(&self, from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> i64 {
        if to <= from {
            return 0;
        }
        let first = from.with_timezone(&tz).date_naive();
        let last = to.with_timezone(&tz).date_naive();
        let span = (last - first).num_days();
        if span > 21 {
            let weeks = (span - 14) / 7;
            let skip_from = first.checked_add_days(Days::new(7));
            let skip_to = skip_from.and_then(|d| d.checked_add_days(Days::new(7 * weeks as u64)));
            if let (Some(a), Some(b)) = (skip_from, skip_to) {
                let (a, b) = (start_of_local_day(a, tz), start_of_local_day(b, tz));
                return self.walk(from, a, tz) + weeks * self.week_seconds() + self.walk(b, to, tz);
            }
        }
        self.walk(from, to, tz)
    }

    /// Opening seconds in a week, by the clock on the wall.
    fn week_seconds(&self) -> i64 {
        self.days
            .iter()
            .flatten()
            .map(|h| (h.close - h.open).num_seconds())
            .sum()
    }

    /// `business_seconds` one day at a time.
    fn walk(&self, from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> i64 {
        if to <= from {
            return 0;
        }
        let first = from.with_timezone(&tz).date_naive();
        let last = to.with_timezone(&tz).date_naive();
        let mut total = 0;
        let mut day = first;
        for _ in 0..LONGEST_WALK_DAYS {
            if let Some((open, close)) = self.open_interval(day, tz) {
                let start = open.max(from);
                let end = close.min(to);
                if end > start {
                    total += (end - start).num_seconds();
                }
            }
            if day >= last {
                break;
            }
            match day.checked_add_days(Days::new(1)) {
                Some(next) => day = next,
                None => break,
            }
        }
        total
    }

    /// The UTC instants `day` opens and closes, if it opens. A DST gap at opening time moves
    /// it to the first local time that exists.
    fn open_interval(&self, day: NaiveDate, tz: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let hours = self.days[day.weekday().num_days_from_monday() as usize]?;
        let local = |t: NaiveTime| match tz.from_local_datetime(&day.and_time(t)).earliest() {
            Some(x) => x.with_timezone(&Utc),
            // In a DST gap: an hour later always exists.
            None => start_of_local_day(day, tz) + (t - NaiveTime::MIN),
        };
        Some((local(hours.open), local(hours.close)))
    }
}
