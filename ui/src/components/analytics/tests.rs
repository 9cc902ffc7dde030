//! AIA-1: the Analytics tab renders its figures and SVG charts from the report alone.

use std::rc::Rc;

use chrono::{NaiveDate, TimeZone, Utc};
use inbox_core::analytics::report::{build, Inputs, Waiting, WaitingItem};
use inbox_core::analytics::rollup::{epoch_day, Metric};
use inbox_core::Channel;

use super::*;
use crate::components::test_render;

fn report(per_staff: bool) -> Analytics {
    let day = epoch_day(NaiveDate::from_ymd_opt(2026, 6, 16).unwrap());
    build(Inputs {
        from: NaiveDate::from_ymd_opt(2026, 6, 10).unwrap(),
        to: NaiveDate::from_ymd_opt(2026, 6, 16).unwrap(),
        daily: vec![
            (day, Metric::Inbound, "sms".into(), 5),
            (day, Metric::Inbound, "voice".into(), 2),
            (day, Metric::Intent, "status_inquiry".into(), 4),
            (day, Metric::Intent, "spam".into(), 1),
        ],
        totals: vec![
            (Metric::FirstResponse, "7:12".into(), 3),
            (Metric::FirstResponse, "8:75".into(), 1),
            (Metric::Hour, "1:9".into(), 6),
            (Metric::Hour, "1:14".into(), 1),
            (Metric::Call, "missed".into(), 2),
            (Metric::Callback, "30".into(), 1),
        ],
        previous_total: Some(5),
        waiting: Waiting {
            total: 1,
            items: vec![WaitingItem {
                conversation_id: 42,
                title: "Alice Able".into(),
                channel: Channel::Whatsapp,
                since: Utc.with_ymd_and_hms(2026, 6, 16, 9, 0, 0).unwrap(),
                preview: "Is it ready?".into(),
            }],
        },
        staff: per_staff.then(|| [(7, "Fran Desk".to_string())].into_iter().collect()),
    })
}

async fn render(a: Analytics) -> String {
    test_render::<Report>(ReportProps {
        analytics: Rc::new(a),
        clock: Clock::new(
            Utc.with_ymd_and_hms(2026, 6, 17, 11, 0, 0).unwrap(),
            "Europe/London",
        ),
    })
    .await
}

#[tokio::test]
async fn aia1_the_report_shows_its_figures_and_charts() {
    let html = render(report(true)).await;
    // Cards: contacts with the change, median first response, within an hour, call-backs.
    assert!(html.contains("+40% on the previous period"), "{html}");
    assert!(html.contains("12 min"));
    assert!(html.contains("75%"));
    assert!(html.contains("50%"));
    // The charts are inline SVG: seven volume bars, one heat cell per weekday and hour.
    for id in [
        "volume-chart",
        "heat-map",
        "intent-mix",
        "intent-trend",
        "calls-bar",
    ] {
        assert!(html.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    assert_eq!(html.matches(r#"class="bar""#).count(), 14);
    assert_eq!(html.matches(r#"class="heat heat-"#).count(), 7 * 24);
    assert_eq!(html.matches(r#"class="heat heat-5""#).count(), 1);
    assert!(html.contains(r#"data-count="6""#));
    assert!(html.contains("Tue 09:00–10:00: 6"));
    // The waiting customer is one click from the thread.
    assert!(html.contains("conversation=42"));
    assert!(html.contains("Alice Able"));
    // Managers see the per-staff table, with names.
    assert!(html.contains(r#"id="staff-table""#));
    assert!(html.contains("Fran Desk"));
    assert!(!html.contains("http"), "no remote content: {html}");
}

#[tokio::test]
async fn aia1_per_staff_figures_stay_hidden_without_them() {
    let html = render(report(false)).await;
    assert!(!html.contains("staff-table"));
    assert!(html.contains("stat-first-response"));
}

#[test]
fn aia1_a_custom_range_waits_for_both_dates() {
    let d = |day| NaiveDate::from_ymd_opt(2026, 6, day);
    assert_eq!(query(RangePreset::Custom, (d(1), None)), None);
    assert_eq!(query(RangePreset::Custom, (d(9), d(1))), None);
    assert!(query(RangePreset::Custom, (d(1), d(9))).is_some());
    assert_eq!(
        query(RangePreset::Today, (None, None)).map(|q| q.range),
        Some(RangePreset::Today)
    );
}
