//! Date-range presets for the inbox list (LST-3, LST-9), resolved in the organisation's time
//! zone into a half-open UTC interval.

use chrono::{
    DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

/// The zone used when an organisation has not chosen one (the product is for UK garages).
pub const DEFAULT_TIME_ZONE: &str = "Europe/London";

/// A date-range filter as the user picks it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RangePreset {
    AllTime,
    Today,
    ThisWeek,
    ThisMonth,
    // serde's snake_case would spell this `last30_days`; the wire name has an underscore before
    // the digits so it matches `as_str`.
    #[default]
    #[serde(rename = "last_30_days")]
    Last30Days,
    Custom,
}

impl RangePreset {
    /// Every preset, in the order the picker shows them.
    pub const ALL: [RangePreset; 6] = [
        RangePreset::AllTime,
        RangePreset::Today,
        RangePreset::ThisWeek,
        RangePreset::ThisMonth,
        RangePreset::Last30Days,
        RangePreset::Custom,
    ];

    /// The label shown in the picker.
    pub fn label(self) -> &'static str {
        match self {
            RangePreset::AllTime => "All time",
            RangePreset::Today => "Today",
            RangePreset::ThisWeek => "This week",
            RangePreset::ThisMonth => "This month",
            RangePreset::Last30Days => "Last 30 days",
            RangePreset::Custom => "Custom…",
        }
    }

    /// The wire name (also used in URLs and the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            RangePreset::AllTime => "all_time",
            RangePreset::Today => "today",
            RangePreset::ThisWeek => "this_week",
            RangePreset::ThisMonth => "this_month",
            RangePreset::Last30Days => "last_30_days",
            RangePreset::Custom => "custom",
        }
    }

    /// Parses a wire name; surrounding whitespace and ASCII case are forgiven because the value
    /// often arrives from a hand-edited URL.
    pub fn parse(s: &str) -> Option<RangePreset> {
        let s = s.trim();
        RangePreset::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }
}

/// Half-open [start, end) in UTC; None = unbounded on that side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UtcInterval {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

impl UtcInterval {
    /// No bound on either side: everything is inside.
    pub const UNBOUNDED: UtcInterval = UtcInterval {
        start: None,
        end: None,
    };

    /// Whether `t` lies in [start, end).
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| s <= t) && self.end.is_none_or(|e| t < e)
    }
}

/// Why a range could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("a custom date range needs both a start date and an end date")]
    MissingCustomDates,
    #[error("the custom date range ends before it starts")]
    EndBeforeStart,
    #[error("unknown time zone {0:?}: expected an IANA name such as \"Europe/London\"")]
    UnknownTimeZone(String),
}

/// Parses an IANA time-zone name such as "Europe/London".
pub fn parse_time_zone(name: &str) -> Result<Tz, RangeError> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| RangeError::UnknownTimeZone(name.to_string()))
}

/// Resolves a preset at `now` into the UTC interval it covers in `tz`.
///
/// `custom` holds inclusive local dates (from, to) and is only read for [`RangePreset::Custom`].
pub fn resolve(
    preset: RangePreset,
    custom: Option<(NaiveDate, NaiveDate)>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<UtcInterval, RangeError> {
    let today = now.with_timezone(&tz).date_naive();
    let interval = match preset {
        RangePreset::AllTime => UtcInterval::UNBOUNDED,
        RangePreset::Today => local_days(Some(today), today.succ_opt(), tz),
        RangePreset::ThisWeek => {
            let back = u64::from(today.weekday().num_days_from_monday());
            let monday = today.checked_sub_days(Days::new(back));
            let next_monday = monday.and_then(|m| m.checked_add_days(Days::new(7)));
            local_days(monday, next_monday, tz)
        }
        RangePreset::ThisMonth => {
            let first = today.with_day(1);
            let next_first = first.and_then(|f| f.checked_add_months(Months::new(1)));
            local_days(first, next_first, tz)
        }
        RangePreset::Last30Days => {
            local_days(today.checked_sub_days(Days::new(29)), today.succ_opt(), tz)
        }
        RangePreset::Custom => {
            let (from, to) = custom.ok_or(RangeError::MissingCustomDates)?;
            if to < from {
                return Err(RangeError::EndBeforeStart);
            }
            local_days(Some(from), to.succ_opt(), tz)
        }
    };
    Ok(interval)
}

/// [first 00:00, end_exclusive 00:00) in `tz`. A date that falls off chrono's calendar leaves
/// that side unbounded, which is what "from the beginning/until the end of time" means anyway.
fn local_days(first: Option<NaiveDate>, end_exclusive: Option<NaiveDate>, tz: Tz) -> UtcInterval {
    UtcInterval {
        start: first.map(|d| start_of_local_day(d, tz)),
        end: end_exclusive.map(|d| start_of_local_day(d, tz)),
    }
}

/// The first instant of `date` in `tz`.
///
/// Usually local midnight, but a DST change can skip midnight (America/Sao_Paulo 2018-11-04,
/// America/Havana each March) — then the day starts at the first local time that exists after
/// 00:00 — or repeat it (Havana each November), in which case the earlier midnight is the start.
pub fn start_of_local_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    match tz.from_local_datetime(&midnight).earliest() {
        Some(t) => t.with_timezone(&Utc),
        None => first_instant_at_or_after(midnight, tz),
    }
}

/// Finds the UTC instant at which local time first reaches `local`, for a `local` that falls in
/// a DST gap.
fn first_instant_at_or_after(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    // Gaps are normally an hour; Pacific/Apia skipped a whole day in 2011. Three days of search
    // covers every gap in the tz database with room to spare.
    const SEARCH_HOURS: i64 = 72;

    let mut before: Option<DateTime<Tz>> = None;
    let mut after: Option<DateTime<Tz>> = None;
    for h in 1..=SEARCH_HOURS {
        let step = TimeDelta::hours(h);
        if before.is_none() {
            before = local
                .checked_sub_signed(step)
                .and_then(|l| tz.from_local_datetime(&l).latest());
        }
        if after.is_none() {
            after = local
                .checked_add_signed(step)
                .and_then(|l| tz.from_local_datetime(&l).earliest());
        }
        if before.is_some() && after.is_some() {
            break;
        }
    }

    let (Some(before), Some(after)) = (before, after) else {
        // Only reachable at the far edges of chrono's calendar, where no real data lives.
        return local.and_utc();
    };

    // Local time runs forward across a gap, so bisecting on whole seconds (every offset in the
    // tz database is a whole number of seconds) finds the transition instant exactly.
    let reaches = |ts: i64| {
        DateTime::from_timestamp(ts, 0).is_some_and(|t| t.with_timezone(&tz).naive_local() >= local)
    };
    let (mut lo, mut hi) = (before.timestamp(), after.timestamp());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reaches(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    DateTime::from_timestamp(hi, 0).unwrap_or_else(|| after.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Timelike, Weekday};
    use proptest::prelude::*;

    fn london() -> Tz {
        parse_time_zone(DEFAULT_TIME_ZONE).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse::<DateTime<Utc>>().unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn interval(start: &str, end: &str) -> UtcInterval {
        UtcInterval {
            start: Some(utc(start)),
            end: Some(utc(end)),
        }
    }

    fn length_hours(i: UtcInterval) -> i64 {
        (i.end.unwrap() - i.start.unwrap()).num_hours()
    }

    // --- presets -------------------------------------------------------------------------

    #[test]
    fn lst3_presets_are_listed_in_display_order_with_labels() {
        let labels: Vec<_> = RangePreset::ALL.iter().map(|p| p.label()).collect();
        assert_eq!(
            labels,
            [
                "All time",
                "Today",
                "This week",
                "This month",
                "Last 30 days",
                "Custom…"
            ]
        );
        assert!(RangePreset::Custom.label().ends_with('\u{2026}'));
    }

    #[test]
    fn lst3_default_preset_is_last_30_days() {
        assert_eq!(RangePreset::default(), RangePreset::Last30Days);
    }

    #[test]
    fn lst3_wire_names_round_trip_through_parse() {
        let names: Vec<_> = RangePreset::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "all_time",
                "today",
                "this_week",
                "this_month",
                "last_30_days",
                "custom"
            ]
        );
        for p in RangePreset::ALL {
            assert_eq!(RangePreset::parse(p.as_str()), Some(p));
        }
    }

    #[test]
    fn lst3_parse_forgives_case_and_whitespace_but_not_unknown_names() {
        assert_eq!(
            RangePreset::parse(" This_Week "),
            Some(RangePreset::ThisWeek)
        );
        assert_eq!(
            RangePreset::parse("LAST_30_DAYS"),
            Some(RangePreset::Last30Days)
        );
        assert_eq!(RangePreset::parse("last30_days"), None);
        assert_eq!(RangePreset::parse("yesterday"), None);
        assert_eq!(RangePreset::parse(""), None);
    }

    #[test]
    fn lst3_serde_uses_the_wire_names() {
        for p in RangePreset::ALL {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
            let back: RangePreset = serde_json::from_str(&json).unwrap();
            assert_eq!(back, p);
        }
    }

    // --- time zones ----------------------------------------------------------------------

    #[test]
    fn lst3_parse_time_zone_accepts_iana_names() {
        assert_eq!(
            parse_time_zone("Europe/London"),
            Ok(chrono_tz::Europe::London)
        );
        assert_eq!(
            parse_time_zone(" America/New_York "),
            Ok(chrono_tz::America::New_York)
        );
    }

    #[test]
    fn lst3_parse_time_zone_rejects_unknown_names_with_a_clear_message() {
        let err = parse_time_zone("Mars/Olympus_Mons").unwrap_err();
        assert_eq!(err, RangeError::UnknownTimeZone("Mars/Olympus_Mons".into()));
        assert!(err.to_string().contains("Mars/Olympus_Mons"));
        assert!(err.to_string().contains("Europe/London"));
        assert!(parse_time_zone("").is_err());
    }

    // --- interval ------------------------------------------------------------------------

    #[test]
    fn lst3_interval_is_half_open() {
        let i = interval("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
        assert!(i.contains(utc("2026-01-01T00:00:00Z")));
        assert!(i.contains(utc("2026-01-01T23:59:59.999999999Z")));
        assert!(!i.contains(utc("2026-01-02T00:00:00Z")));
        assert!(!i.contains(utc("2025-12-31T23:59:59Z")));
    }

    #[test]
    fn lst3_unbounded_interval_contains_everything() {
        assert!(UtcInterval::UNBOUNDED.contains(DateTime::<Utc>::MIN_UTC));
        assert!(UtcInterval::UNBOUNDED.contains(DateTime::<Utc>::MAX_UTC));
        let open_end = UtcInterval {
            start: Some(utc("2026-01-01T00:00:00Z")),
            end: None,
        };
        assert!(open_end.contains(DateTime::<Utc>::MAX_UTC));
        assert!(!open_end.contains(utc("2025-01-01T00:00:00Z")));
    }

    // --- resolving in London -------------------------------------------------------------

    #[test]
    fn lst3_all_time_is_unbounded_and_ignores_custom_dates() {
        let now = utc("2026-05-05T12:00:00Z");
        let custom = Some((date(2026, 1, 1), date(2026, 1, 2)));
        assert_eq!(
            resolve(RangePreset::AllTime, custom, now, london()),
            Ok(UtcInterval::UNBOUNDED)
        );
    }

    #[test]
    fn lst3_today_in_winter_is_midnight_to_midnight_gmt() {
        let got = resolve(
            RangePreset::Today,
            None,
            utc("2026-01-15T09:30:00Z"),
            london(),
        );
        assert_eq!(
            got,
            Ok(interval("2026-01-15T00:00:00Z", "2026-01-16T00:00:00Z"))
        );
    }

    #[test]
    fn lst3_today_in_summer_starts_at_2300_utc_the_day_before() {
        let got = resolve(
            RangePreset::Today,
            None,
            utc("2026-07-15T09:30:00Z"),
            london(),
        );
        assert_eq!(
            got,
            Ok(interval("2026-07-14T23:00:00Z", "2026-07-15T23:00:00Z"))
        );
    }

    #[test]
    fn lst3_today_uses_the_local_date_not_the_utc_date() {
        // 23:30 UTC on 1 June is 00:30 on 2 June in London.
        let got = resolve(
            RangePreset::Today,
            None,
            utc("2026-06-01T23:30:00Z"),
            london(),
        );
        assert_eq!(
            got,
            Ok(interval("2026-06-01T23:00:00Z", "2026-06-02T23:00:00Z"))
        );
    }

    #[test]
    fn lst3_today_on_spring_forward_sunday_is_23_hours_long() {
        // Clocks go forward at 01:00 GMT on Sunday 29 March 2026.
        for now in [
            "2026-03-29T00:30:00Z",
            "2026-03-29T12:00:00Z",
            "2026-03-29T22:59:59Z",
        ] {
            let got = resolve(RangePreset::Today, None, utc(now), london()).unwrap();
            assert_eq!(
                got,
                interval("2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z"),
                "{now}"
            );
            assert_eq!(length_hours(got), 23);
        }
    }

    #[test]
    fn lst3_today_on_fall_back_sunday_is_25_hours_long() {
        // Clocks go back at 01:00 GMT (02:00 BST) on Sunday 25 October 2026.
        for now in [
            "2026-10-24T23:00:00Z",
            "2026-10-25T00:30:00Z",
            "2026-10-25T01:30:00Z",
            "2026-10-25T23:59:59Z",
        ] {
            let got = resolve(RangePreset::Today, None, utc(now), london()).unwrap();
            assert_eq!(
                got,
                interval("2026-10-24T23:00:00Z", "2026-10-26T00:00:00Z"),
                "{now}"
            );
            assert_eq!(length_hours(got), 25);
        }
    }

    #[test]
    fn lst3_days_either_side_of_dst_changes_are_24_hours_and_adjacent() {
        let tz = london();
        let sat = resolve(RangePreset::Today, None, utc("2026-03-28T12:00:00Z"), tz).unwrap();
        let sun = resolve(RangePreset::Today, None, utc("2026-03-29T12:00:00Z"), tz).unwrap();
        let mon = resolve(RangePreset::Today, None, utc("2026-03-30T12:00:00Z"), tz).unwrap();
        assert_eq!(length_hours(sat), 24);
        assert_eq!(length_hours(mon), 24);
        assert_eq!(sat.end, sun.start);
        assert_eq!(sun.end, mon.start);
    }

    #[test]
    fn lst3_this_week_starts_monday_in_london() {
        // Wednesday 14 January 2026.
        let got = resolve(
            RangePreset::ThisWeek,
            None,
            utc("2026-01-14T15:00:00Z"),
            london(),
        );
        assert_eq!(
            got,
            Ok(interval("2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z"))
        );
    }

    #[test]
    fn lst3_this_week_on_a_monday_starts_that_monday() {
        let got = resolve(
            RangePreset::ThisWeek,
            None,
            utc("2026-01-12T00:00:00Z"),
            london(),
        );
        assert_eq!(
            got,
            Ok(interval("2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z"))
        );
    }

    #[test]
    fn lst3_this_week_on_sunday_still_belongs_to_the_week_that_began_monday() {
        let got = resolve(
            RangePreset::ThisWeek,
            None,
            utc("2026-01-18T23:59:59Z"),
            london(),
        );
        assert_eq!(
            got,
            Ok(interval("2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z"))
        );
    }

    #[test]
    fn lst3_this_week_spanning_spring_forward_is_167_hours() {
        // Sunday 29 March 2026 is the last day of the week that began Monday 23 March (GMT);
        // the next Monday starts in BST.
        let got = resolve(
            RangePreset::ThisWeek,
            None,
            utc("2026-03-29T12:00:00Z"),
            london(),
        )
        .unwrap();
        assert_eq!(
            got,
            interval("2026-03-23T00:00:00Z", "2026-03-29T23:00:00Z")
        );
        assert_eq!(length_hours(got), 7 * 24 - 1);
    }

    #[test]
    fn lst3_this_week_spanning_fall_back_is_169_hours() {
        let got = resolve(
            RangePreset::ThisWeek,
            None,
            utc("2026-10-21T12:00:00Z"),
            london(),
        )
        .unwrap();
        assert_eq!(
            got,
            interval("2026-10-18T23:00:00Z", "2026-10-26T00:00:00Z")
        );
        assert_eq!(length_hours(got), 7 * 24 + 1);
    }

    #[test]
    fn lst3_this_month_runs_from_the_first_to_the_next_first() {
        let got = resolve(
            RangePreset::ThisMonth,
            None,
            utc("2026-03-15T12:00:00Z"),
            london(),
        );
        // 1 March is GMT, 1 April is BST.
        assert_eq!(
            got,
            Ok(interval("2026-03-01T00:00:00Z", "2026-03-31T23:00:00Z"))
        );
    }

    #[test]
    fn lst3_this_month_in_december_ends_on_the_first_of_january() {
        let got = resolve(
            RangePreset::ThisMonth,
            None,
            utc("2026-12-31T23:59:59Z"),
            london(),
        );
        assert_eq!(
            got,
            Ok(interval("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn lst3_this_month_uses_the_local_month_at_month_end() {
        // 23:30 UTC on 30 April is already 1 May in London.
        let got = resolve(
            RangePreset::ThisMonth,
            None,
            utc("2026-04-30T23:30:00Z"),
            london(),
        );
        assert_eq!(
            got,
            Ok(interval("2026-04-30T23:00:00Z", "2026-05-31T23:00:00Z"))
        );
    }

    #[test]
    fn lst3_this_month_february_in_a_leap_year_has_29_days() {
        let got = resolve(
            RangePreset::ThisMonth,
            None,
            utc("2028-02-10T12:00:00Z"),
            london(),
        )
        .unwrap();
        assert_eq!(
            got,
            interval("2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z")
        );
        assert_eq!(length_hours(got), 29 * 24);
    }

    #[test]
    fn lst3_last_30_days_includes_today_and_the_29_days_before() {
        // 10 April 2026 (BST); 29 days earlier is 12 March (GMT).
        let got = resolve(
            RangePreset::Last30Days,
            None,
            utc("2026-04-10T12:00:00Z"),
            london(),
        );
        assert_eq!(
            got,
            Ok(interval("2026-03-12T00:00:00Z", "2026-04-10T23:00:00Z"))
        );
        // 30 days less the hour lost to spring forward.
        assert_eq!(length_hours(got.unwrap()), 30 * 24 - 1);
    }

    #[test]
    fn lst3_last_30_days_across_fall_back_is_an_hour_longer() {
        let got = resolve(
            RangePreset::Last30Days,
            None,
            utc("2026-11-05T12:00:00Z"),
            london(),
        )
        .unwrap();
        assert_eq!(
            got,
            interval("2026-10-06T23:00:00Z", "2026-11-06T00:00:00Z")
        );
        assert_eq!(length_hours(got), 30 * 24 + 1);
    }

    // --- custom ranges -------------------------------------------------------------------

    #[test]
    fn lst9_custom_range_includes_both_end_dates() {
        let custom = Some((date(2026, 10, 24), date(2026, 10, 25)));
        let got = resolve(
            RangePreset::Custom,
            custom,
            utc("2027-01-01T00:00:00Z"),
            london(),
        );
        assert_eq!(
            got,
            Ok(interval("2026-10-23T23:00:00Z", "2026-10-26T00:00:00Z"))
        );
    }

    #[test]
    fn lst9_custom_range_of_one_day_equals_today_on_that_day() {
        let d = date(2026, 3, 29);
        let custom = resolve(
            RangePreset::Custom,
            Some((d, d)),
            utc("2030-01-01T00:00:00Z"),
            london(),
        );
        let today = resolve(
            RangePreset::Today,
            None,
            utc("2026-03-29T10:00:00Z"),
            london(),
        );
        assert_eq!(custom, today);
        assert_eq!(length_hours(custom.unwrap()), 23);
    }

    #[test]
    fn lst9_custom_range_without_dates_is_an_error() {
        let got = resolve(
            RangePreset::Custom,
            None,
            utc("2026-01-01T00:00:00Z"),
            london(),
        );
        assert_eq!(got, Err(RangeError::MissingCustomDates));
        assert!(RangeError::MissingCustomDates
            .to_string()
            .contains("start date"));
    }

    #[test]
    fn lst9_custom_range_ending_before_it_starts_is_an_error() {
        let custom = Some((date(2026, 5, 2), date(2026, 5, 1)));
        let got = resolve(
            RangePreset::Custom,
            custom,
            utc("2026-01-01T00:00:00Z"),
            london(),
        );
        assert_eq!(got, Err(RangeError::EndBeforeStart));
        assert!(RangeError::EndBeforeStart
            .to_string()
            .contains("ends before it starts"));
    }

    #[test]
    fn lst9_custom_dates_are_ignored_by_fixed_presets() {
        let now = utc("2026-01-15T09:30:00Z");
        let custom = Some((date(2020, 1, 1), date(2020, 1, 31)));
        for p in [
            RangePreset::Today,
            RangePreset::ThisWeek,
            RangePreset::ThisMonth,
            RangePreset::Last30Days,
        ] {
            assert_eq!(
                resolve(p, custom, now, london()),
                resolve(p, None, now, london())
            );
        }
    }

    #[test]
    fn lst9_custom_range_at_the_end_of_the_calendar_is_open_ended() {
        let custom = Some((NaiveDate::MAX, NaiveDate::MAX));
        let got = resolve(
            RangePreset::Custom,
            custom,
            utc("2026-01-01T00:00:00Z"),
            london(),
        )
        .unwrap();
        assert!(got.start.is_some());
        assert_eq!(got.end, None);
    }

    // --- other zones ---------------------------------------------------------------------

    #[test]
    fn lst3_today_in_new_york_is_offset_by_five_hours_in_winter() {
        let ny = parse_time_zone("America/New_York").unwrap();
        let got = resolve(RangePreset::Today, None, utc("2026-01-15T03:00:00Z"), ny);
        // 03:00 UTC is still 14 January in New York.
        assert_eq!(
            got,
            Ok(interval("2026-01-14T05:00:00Z", "2026-01-15T05:00:00Z"))
        );
    }

    #[test]
    fn lst3_day_without_midnight_starts_at_first_valid_time_in_sao_paulo() {
        // 2018-11-04: clocks jumped from 00:00 to 01:00 (-03:00 to -02:00).
        let sp = chrono_tz::America::Sao_Paulo;
        assert_eq!(
            start_of_local_day(date(2018, 11, 4), sp),
            utc("2018-11-04T03:00:00Z")
        );
        let got = resolve(RangePreset::Today, None, utc("2018-11-04T15:00:00Z"), sp).unwrap();
        assert_eq!(
            got,
            interval("2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z")
        );
        assert_eq!(length_hours(got), 23);
        let local_start = got.start.unwrap().with_timezone(&sp);
        assert_eq!(
            (local_start.date_naive(), local_start.hour()),
            (date(2018, 11, 4), 1)
        );
    }

    #[test]
    fn lst3_day_without_midnight_starts_at_first_valid_time_in_havana() {
        // Cuba springs forward at 00:00 (-05:00 to -04:00) on 10 March 2024.
        let havana = chrono_tz::America::Havana;
        assert_eq!(
            start_of_local_day(date(2024, 3, 10), havana),
            utc("2024-03-10T05:00:00Z")
        );
        // The previous day still ends where this one starts.
        let sat = resolve(
            RangePreset::Today,
            None,
            utc("2024-03-09T17:00:00Z"),
            havana,
        )
        .unwrap();
        assert_eq!(sat.end, Some(utc("2024-03-10T05:00:00Z")));
    }

    #[test]
    fn lst3_repeated_midnight_uses_the_earlier_one_in_havana() {
        // Cuba falls back at 01:00 (-04:00 to -05:00) on 3 November 2024, so 00:00-00:59 occurs
        // twice; the day starts at the first midnight.
        let havana = chrono_tz::America::Havana;
        assert_eq!(
            start_of_local_day(date(2024, 11, 3), havana),
            utc("2024-11-03T04:00:00Z")
        );
        let got = resolve(
            RangePreset::Today,
            None,
            utc("2024-11-03T12:00:00Z"),
            havana,
        )
        .unwrap();
        assert_eq!(
            got,
            interval("2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z")
        );
        assert_eq!(length_hours(got), 25);
    }

    #[test]
    fn lst3_a_skipped_calendar_day_has_no_length() {
        // Samoa skipped Friday 30 December 2011 when it crossed the date line.
        let apia = chrono_tz::Pacific::Apia;
        let skipped = start_of_local_day(date(2011, 12, 30), apia);
        assert_eq!(skipped, start_of_local_day(date(2011, 12, 31), apia));
        assert_eq!(skipped, utc("2011-12-30T10:00:00Z"));
        // Thursday runs straight into Saturday.
        let thu = resolve(RangePreset::Today, None, utc("2011-12-29T12:00:00Z"), apia).unwrap();
        assert_eq!(thu.end, Some(skipped));
    }

    #[test]
    fn lst3_this_week_in_sydney_starts_on_local_monday() {
        // 20:00 UTC on Sunday 11 January 2026 is Monday 07:00 in Sydney (+11).
        let syd = chrono_tz::Australia::Sydney;
        let got = resolve(
            RangePreset::ThisWeek,
            None,
            utc("2026-01-11T20:00:00Z"),
            syd,
        );
        assert_eq!(
            got,
            Ok(interval("2026-01-11T13:00:00Z", "2026-01-18T13:00:00Z"))
        );
    }

    // --- properties ----------------------------------------------------------------------

    fn zones() -> impl Strategy<Value = Tz> {
        proptest::sample::select(vec![
            chrono_tz::Europe::London,
            chrono_tz::America::New_York,
            chrono_tz::Australia::Sydney,
            chrono_tz::Pacific::Chatham,
            chrono_tz::America::Sao_Paulo,
        ])
    }

    fn instants() -> impl Strategy<Value = DateTime<Utc>> {
        // 1971..2099, with sub-second precision so boundaries are not all whole seconds.
        (31_536_000i64..4_070_908_800i64, 0u32..1_000_000_000u32)
            .prop_map(|(s, ns)| DateTime::from_timestamp(s, ns).unwrap())
    }

    const BOUNDED: [RangePreset; 4] = [
        RangePreset::Today,
        RangePreset::ThisWeek,
        RangePreset::ThisMonth,
        RangePreset::Last30Days,
    ];

    proptest! {
        #[test]
        fn lst3_prop_now_is_inside_every_bounded_preset(now in instants(), tz in zones()) {
            for p in BOUNDED {
                let i = resolve(p, None, now, tz).unwrap();
                prop_assert!(i.contains(now), "{p:?} {i:?} does not contain {now}");
                prop_assert!(i.start.unwrap() < i.end.unwrap(), "{p:?} {i:?}");
            }
        }

        #[test]
        fn lst3_prop_today_starts_on_the_local_date_of_now(now in instants(), tz in zones()) {
            let i = resolve(RangePreset::Today, None, now, tz).unwrap();
            let today = now.with_timezone(&tz).date_naive();
            let start = i.start.unwrap();
            let end = i.end.unwrap();
            prop_assert_eq!(start.with_timezone(&tz).date_naive(), today);
            // The instant before the start belongs to an earlier day, and the end is tomorrow.
            let before = start - TimeDelta::nanoseconds(1);
            prop_assert!(before.with_timezone(&tz).date_naive() < today);
            prop_assert!(end.with_timezone(&tz).date_naive() > today);
            prop_assert!((end - start).num_hours() >= 22 && (end - start).num_hours() <= 26);
        }

        #[test]
        fn lst3_prop_week_starts_on_a_monday(now in instants(), tz in zones()) {
            let i = resolve(RangePreset::ThisWeek, None, now, tz).unwrap();
            let start = i.start.unwrap().with_timezone(&tz);
            let end = i.end.unwrap().with_timezone(&tz);
            prop_assert_eq!(start.weekday(), Weekday::Mon);
            prop_assert_eq!(end.weekday(), Weekday::Mon);
            prop_assert_eq!((end.date_naive() - start.date_naive()).num_days(), 7);
        }

        #[test]
        fn lst3_prop_month_starts_on_the_first(now in instants(), tz in zones()) {
            let i = resolve(RangePreset::ThisMonth, None, now, tz).unwrap();
            let start = i.start.unwrap().with_timezone(&tz);
            let local_now = now.with_timezone(&tz);
            prop_assert_eq!(start.day(), 1);
            prop_assert_eq!((start.year(), start.month()), (local_now.year(), local_now.month()));
        }

        #[test]
        fn lst3_prop_last_30_days_covers_exactly_30_local_dates(now in instants(), tz in zones()) {
            let i = resolve(RangePreset::Last30Days, None, now, tz).unwrap();
            let first = i.start.unwrap().with_timezone(&tz).date_naive();
            let today = now.with_timezone(&tz).date_naive();
            prop_assert_eq!((today - first).num_days(), 29);
        }

        #[test]
        fn lst3_prop_consecutive_days_tile_without_gap_or_overlap(now in instants(), tz in zones()) {
            let day = resolve(RangePreset::Today, None, now, tz).unwrap();
            let end = day.end.unwrap();
            // "Today" seen from the first instant of tomorrow starts where today ended...
            let next = resolve(RangePreset::Today, None, end, tz).unwrap();
            prop_assert_eq!(next.start, Some(end));
            // ...and the last instant of today is still today.
            let last = end - TimeDelta::nanoseconds(1);
            prop_assert_eq!(resolve(RangePreset::Today, None, last, tz).unwrap(), day);
        }

        #[test]
        fn lst9_prop_adjacent_custom_ranges_tile(now in instants(), tz in zones(), len in 0u64..40) {
            let from = now.with_timezone(&tz).date_naive();
            let to = from + Days::new(len);
            let after = to + Days::new(1);
            let a = resolve(RangePreset::Custom, Some((from, to)), now, tz).unwrap();
            let b = resolve(RangePreset::Custom, Some((after, after)), now, tz).unwrap();
            prop_assert_eq!(a.end, b.start);
            prop_assert!(a.start < a.end);
        }

        #[test]
        fn lst3_prop_start_of_local_day_is_a_local_time_on_that_date(now in instants(), tz in zones()) {
            let d = now.with_timezone(&tz).date_naive();
            let start = start_of_local_day(d, tz).with_timezone(&tz);
            prop_assert_eq!(start.date_naive(), d);
            // Only a DST gap at midnight can push the start past 00:00, and never by more than
            // the gap itself.
            prop_assert!(start.hour() <= 1);
        }
    }
}
