//! AIA-1: the analytics rules, with figures worked out by hand.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;

use super::report::{build, Granularity, Inputs};
use super::rollup::{accumulate, apply, epoch_day, minutes_bucket, Counters, Fact};
use super::*;
use crate::intent::Intent;
use crate::{CallOutcome, Channel, Direction};

fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    London
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .map(|x| x.with_timezone(&Utc))
        .unwrap_or_default()
}

fn clock() -> OrgClock {
    OrgClock {
        tz: London,
        hours: OpeningHours::default(),
    }
}

#[test]
fn aia1_business_time_counts_only_opening_hours() {
    let h = OpeningHours::default();
    // Friday 17:25 → Monday 08:10 (2026-11-27 is a Friday): 5 minutes before closing, Saturday
    // morning's four hours, 10 minutes on Monday.
    let s = h.business_seconds(t(2026, 11, 27, 17, 25), t(2026, 11, 30, 8, 10), London);
    assert_eq!(s, (5 + 240 + 10) * 60);
    // Saturday morning counts; Sunday does not.
    let s = h.business_seconds(t(2026, 11, 28, 12, 0), t(2026, 11, 30, 8, 1), London);
    assert_eq!(s, 31 * 60);
    // Within one open day, and backwards.
    assert_eq!(
        h.business_seconds(t(2026, 12, 1, 9, 0), t(2026, 12, 1, 9, 42), London),
        42 * 60
    );
    assert_eq!(
        h.business_seconds(t(2026, 12, 1, 9, 42), t(2026, 12, 1, 9, 0), London),
        0
    );
    // Across the clocks going back (2026-10-25, a Sunday, closed): Friday 17:00 → Monday 09:00.
    assert_eq!(
        h.business_seconds(t(2026, 10, 23, 17, 0), t(2026, 10, 26, 9, 0), London),
        (30 + 4 * 60 + 60) * 60
    );
    // Weeks apart: the whole weeks between count the week's 46.5 hours each, and the result
    // is the same as counting every day.
    let (from, to) = (t(2026, 1, 5, 9, 0), t(2026, 3, 20, 10, 0));
    let day_by_day = {
        let mut total = 0;
        let mut at = from;
        while at < to {
            let next = (at + chrono::TimeDelta::days(1)).min(to);
            total += h.business_seconds(at, next, London);
            at = next;
        }
        total
    };
    assert_eq!(h.business_seconds(from, to, London), day_by_day);
}

#[test]
fn aia1_opening_hours_are_checked() {
    let mut h = OpeningHours::default();
    assert!(h.validate().is_ok());
    h.days[0] = Some(DayHours {
        open: chrono::NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default(),
        close: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
    });
    assert!(h.validate().unwrap_err().to_string().contains("Monday"));
    let closed = OpeningHours { days: [None; 7] };
    assert!(closed.validate().is_err());
}

#[test]
fn aia1_buckets_are_exact_for_two_hours_then_coarser() {
    assert_eq!(minutes_bucket(-3), 0);
    assert_eq!(minutes_bucket(59), 59);
    assert_eq!(minutes_bucket(119), 119);
    assert_eq!(minutes_bucket(134), 120);
    assert_eq!(minutes_bucket(1530), 1500);
    assert_eq!(minutes_bucket(20_000), 18_720);
}

/// A morning at the front desk, applied write by write.
fn morning() -> (Counters, ConversationState) {
    let c = clock();
    let mut state = ConversationState::default();
    let mut counters = Counters::new();
    let facts = [
        Fact::Inbound {
            at: t(2026, 12, 1, 9, 0),
            channel: Channel::Sms,
            intent: Some(Intent::StatusInquiry),
            corrected: false,
        },
        // A second text before anyone answers: the wait runs from the first.
        Fact::Inbound {
            at: t(2026, 12, 1, 9, 5),
            channel: Channel::Whatsapp,
            intent: Some(Intent::Continuation),
            corrected: false,
        },
        Fact::Reply {
            at: t(2026, 12, 1, 9, 12),
            staff: Some(7),
        },
        // Nothing awaits: a second reply is not a first response.
        Fact::Reply {
            at: t(2026, 12, 1, 9, 20),
            staff: Some(8),
        },
        Fact::Call {
            started_at: t(2026, 12, 1, 10, 0),
            direction: Direction::Inbound,
            before: None,
            after: CallOutcome::InProgress,
        },
        Fact::Call {
            started_at: t(2026, 12, 1, 10, 0),
            direction: Direction::Inbound,
            before: Some(CallOutcome::InProgress),
            after: CallOutcome::Voicemail,
        },
        Fact::Relabel {
            at: t(2026, 12, 1, 9, 5),
            before: Some(Intent::Continuation),
            after: Intent::BookingRequest,
            corrected_before: false,
            corrected_after: true,
        },
        Fact::Reply {
            at: t(2026, 12, 1, 10, 30),
            staff: Some(8),
        },
        Fact::Decision {
            written_at: t(2026, 12, 1, 10, 30),
            decided_at: t(2026, 12, 1, 10, 34),
            approved: true,
        },
    ];
    for f in &facts {
        accumulate(&mut counters, apply(&c, &mut state, f));
    }
    (counters, state)
}

#[test]
fn aia1_writes_move_the_counters_a_person_would_expect() {
    let (counters, state) = morning();
    let day = epoch_day(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default());
    let get = |m: Metric, k: &str| counters.get(&(day, m, k.to_string())).copied();
    assert_eq!(get(Metric::Inbound, "sms"), Some(1));
    assert_eq!(get(Metric::Inbound, "whatsapp"), Some(1));
    assert_eq!(get(Metric::Inbound, "voice"), Some(1));
    // 2026-12-01 is a Tuesday (1); both texts at 09:xx.
    assert_eq!(get(Metric::Hour, "1:9"), Some(2));
    assert_eq!(get(Metric::FirstResponse, "7:12"), Some(1));
    assert_eq!(get(Metric::FirstResponse, "8:8"), None);
    assert_eq!(get(Metric::Call, "voicemail"), Some(1));
    assert_eq!(get(Metric::Call, "answered"), None);
    // The voicemail at 10:00 was answered by the reply at 10:30.
    assert_eq!(get(Metric::Callback, "30"), Some(1));
    assert_eq!(get(Metric::Intent, "continuation"), None);
    assert_eq!(get(Metric::Intent, "booking_request"), Some(1));
    assert_eq!(get(Metric::IntentCorrected, ""), Some(1));
    assert_eq!(get(Metric::Approval, "approved"), Some(1));
    assert_eq!(get(Metric::ApprovalTime, "4"), Some(1));
    assert_eq!(state, ConversationState::default());
}

#[test]
fn aia1_the_report_reads_medians_and_shares_from_the_counters() {
    let day = epoch_day(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default());
    let from = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
    // Ten first responses: 5, 5, 10, 20, 30, 45, 59, 60, 90, 200 minutes.
    let mut totals = Vec::new();
    for (staff, m) in [
        (7, 5),
        (7, 5),
        (7, 10),
        (8, 20),
        (8, 30),
        (8, 45),
        (8, 59),
        (8, 60),
        (8, 90),
        (8, 200),
    ] {
        totals.push((
            Metric::FirstResponse,
            format!("{staff}:{}", minutes_bucket(m)),
            1,
        ));
    }
    totals.push((Metric::Call, "missed".into(), 3));
    totals.push((Metric::Call, "voicemail".into(), 1));
    totals.push((Metric::Callback, "12".into(), 2));
    let report = build(Inputs {
        from,
        to,
        daily: vec![
            (day, Metric::Inbound, "sms".into(), 6),
            (day - 1, Metric::Inbound, "portal".into(), 2),
            (day, Metric::Intent, "spam".into(), 1),
        ],
        totals,
        previous_total: Some(4),
        waiting: Default::default(),
        staff: Some([(7, "Fran".to_string())].into_iter().collect()),
    });
    assert_eq!(report.granularity, Granularity::Day);
    assert_eq!(report.volume.points.len(), 7);
    assert_eq!(report.volume.points[6].channels.sms, 6);
    assert_eq!(report.volume.points[5].channels.portal, 2);
    assert_eq!(report.volume.total, 8);
    assert_eq!(report.volume.change_pct, Some(100.0));
    let f = &report.first_response;
    assert_eq!(f.answered, 10);
    assert_eq!(f.median_minutes, Some(30));
    assert_eq!(f.p90_minutes, Some(90));
    assert_eq!(f.within_hour, Some(0.7));
    let staff = report.first_response_by_staff.unwrap_or_default();
    assert_eq!(staff[0].staff_id, Some(8));
    assert_eq!(staff[1].name, "Fran");
    assert_eq!(staff[1].times.median_minutes, Some(5));
    assert_eq!(report.calls.callback_rate, Some(0.5));
    assert_eq!(report.intents.mix[0].label, Intent::Spam);
    assert_eq!(report.intents.error_rate, Some(0.0));
}

#[test]
fn aia1_long_ranges_are_grouped_by_week_or_month() {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
    let inputs = |from, to| Inputs {
        from,
        to,
        ..Default::default()
    };
    let weeks = build(inputs(d(2026, 1, 1), d(2026, 6, 30)));
    assert_eq!(weeks.granularity, Granularity::Week);
    assert_eq!(weeks.volume.points[0].start, d(2025, 12, 29));
    let months = build(inputs(d(2024, 6, 15), d(2026, 12, 1)));
    assert_eq!(months.granularity, Granularity::Month);
    assert_eq!(months.volume.points.len(), 31);
    assert!(months.first_response_by_staff.is_none());
}

#[test]
fn aia1_csv_quotes_what_a_spreadsheet_would_split() {
    let mut report = build(Inputs {
        from: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default(),
        to: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default(),
        ..Default::default()
    });
    report.waiting.items.push(report::WaitingItem {
        conversation_id: 1,
        title: "Smith, \"Dave\"".into(),
        channel: Channel::Sms,
        since: t(2026, 12, 1, 9, 0),
        preview: "Is it ready,\nmate?".into(),
    });
    let text = csv::csv(&report);
    assert!(text.contains("\"Smith, \"\"Dave\"\"\",sms,"));
    assert!(text.contains("\"Is it ready,\nmate?\""));
    assert!(text.contains("Busiest hours"));
    // A customer's text never runs as a spreadsheet formula.
    report.waiting.items[0].preview = "=HYPERLINK(\"http://x\")".into();
    assert!(csv::csv(&report).contains("\"'=HYPERLINK(\"\"http://x\"\")\""));
}
