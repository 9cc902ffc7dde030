//! The Analytics tab's charts, drawn as SVG from the report alone (no remote content, nothing
//! but classes for colour, so the CSP stays strict). Each scales to its container's width; every
//! bar and cell carries a `<title>` with its figures, read aloud and shown on hover.

use chrono::NaiveDate;
use inbox_core::analytics::report::{
    BusiestHours, Granularity, IntentCount, IntentPoint, VolumePoint,
};
use inbox_core::intent::Intent;
use inbox_core::Channel;
use yew::prelude::*;

use crate::format::channel_label;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 36.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 8.0;

/// Channels stacked bottom to top.
pub const STACK: [Channel; 4] = [
    Channel::Sms,
    Channel::Whatsapp,
    Channel::Portal,
    Channel::Voice,
];

/// A period's start as its axis label.
pub fn period_label(start: NaiveDate, g: Granularity) -> String {
    match g {
        Granularity::Day => start.format("%a %-d %b").to_string(),
        Granularity::Week => format!("w/c {}", start.format("%-d %b")),
        Granularity::Month => start.format("%b %Y").to_string(),
    }
}

/// A round number at or above `max` for the value axis.
fn axis_max(max: i64) -> i64 {
    let max = max.max(1);
    let step = 10_i64.pow((max as f64).log10().floor().max(0.0) as u32);
    (max + step - 1) / step * step
}

/// One segment of a stacked bar: (colour class, value, its part of the title).
type Segment = (&'static str, i64, String);

/// One stacked bar per period, labelled by the period.
fn stacked_bars(id: &'static str, label: &str, bars: Vec<(String, Vec<Segment>)>) -> Html {
    let max = bars
        .iter()
        .map(|(_, segs)| segs.iter().map(|s| s.1).sum::<i64>())
        .max()
        .unwrap_or(0);
    let top = axis_max(max) as f64;
    let plot_w = WIDTH - LEFT - 4.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = bars.len().max(1) as f64;
    let slot = plot_w / n;
    let bar_w = (slot * 0.72).max(1.0);
    let y = |v: f64| TOP + plot_h - v / top * plot_h;
    let first = bars.first().map(|b| b.0.clone()).unwrap_or_default();
    let last = bars.last().map(|b| b.0.clone()).unwrap_or_default();
    html! {
        <svg id={id} class="chart" viewBox={format!("0 0 {WIDTH} {HEIGHT}")} role="img" aria-label={label.to_string()}>
            <line class="axis" x1={LEFT.to_string()} y1={y(0.0).to_string()} x2={(WIDTH - 4.0).to_string()} y2={y(0.0).to_string()} />
            <line class="grid" x1={LEFT.to_string()} y1={y(top / 2.0).to_string()} x2={(WIDTH - 4.0).to_string()} y2={y(top / 2.0).to_string()} />
            <text class="tick" x={(LEFT - 6.0).to_string()} y={(y(top) + 4.0).to_string()} text-anchor="end">{ top as i64 }</text>
            <text class="tick" x={(LEFT - 6.0).to_string()} y={(y(top / 2.0) + 4.0).to_string()} text-anchor="end">{ (top / 2.0) as i64 }</text>
            <text class="tick" x={(LEFT - 6.0).to_string()} y={(y(0.0) + 4.0).to_string()} text-anchor="end">{ "0" }</text>
            { for bars.iter().enumerate().map(|(i, (period, segs))| {
                let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
                let total: i64 = segs.iter().map(|s| s.1).sum();
                let parts: Vec<String> = segs.iter().filter(|s| s.1 > 0).map(|s| s.2.clone()).collect();
                let title = if parts.is_empty() { format!("{period}: none") } else { format!("{period}: {}", parts.join(", ")) };
                let mut base = 0.0;
                html! {
                    <g class="bar" data-total={total.to_string()}>
                        <title>{ title }</title>
                        { for segs.iter().filter(|s| s.1 > 0).map(|(class, v, _)| {
                            let (y0, y1) = (y(base), y(base + *v as f64));
                            base += *v as f64;
                            html! { <rect class={*class} x={format!("{x:.1}")} y={format!("{y1:.1}")}
                                width={format!("{bar_w:.1}")} height={format!("{:.1}", (y0 - y1).max(0.5))} /> }
                        }) }
                    </g>
                }
            }) }
            <text class="tick" x={LEFT.to_string()} y={(HEIGHT - 6.0).to_string()}>{ first }</text>
            <text class="tick" x={(WIDTH - 4.0).to_string()} y={(HEIGHT - 6.0).to_string()} text-anchor="end">{ last }</text>
        </svg>
    }
}

/// Inbound volume per channel per period, stacked.
pub fn volume_chart(points: &[VolumePoint], g: Granularity) -> Html {
    let bars = points
        .iter()
        .map(|p| {
            let segs = STACK
                .iter()
                .map(|c| {
                    let v = p.channels.get(*c);
                    (channel_class(*c), v, format!("{v} {}", channel_label(*c)))
                })
                .collect();
            (period_label(p.start, g), segs)
        })
        .collect();
    stacked_bars(
        "volume-chart",
        "Inbound messages and calls per channel",
        bars,
    )
}

/// The intent mix per period, stacked.
pub fn intent_trend_chart(points: &[IntentPoint], g: Granularity) -> Html {
    let bars = points
        .iter()
        .map(|p| {
            let segs = Intent::ALL
                .iter()
                .zip(&p.counts)
                .enumerate()
                .map(|(i, (intent, v))| (INTENT_CLASSES[i], *v, format!("{v} {}", intent.label())))
                .collect();
            (period_label(p.start, g), segs)
        })
        .collect();
    stacked_bars("intent-trend", "Intents per period", bars)
}

pub const INTENT_CLASSES: [&str; 8] = [
    "intent-0", "intent-1", "intent-2", "intent-3", "intent-4", "intent-5", "intent-6", "intent-7",
];

/// The colour class of an intent (its place in `Intent::ALL`).
pub fn intent_class(label: Intent) -> &'static str {
    let i = Intent::ALL.iter().position(|x| *x == label).unwrap_or(7);
    INTENT_CLASSES[i]
}

pub fn channel_class(c: Channel) -> &'static str {
    match c {
        Channel::Sms => "fill-sms",
        Channel::Whatsapp => "fill-whatsapp",
        Channel::Portal => "fill-portal",
        Channel::Voice => "fill-voice",
    }
}

/// The intent mix as horizontal bars, largest first.
pub fn intent_mix_chart(mix: &[IntentCount]) -> Html {
    let shown: Vec<&IntentCount> = mix.iter().filter(|m| m.count > 0).collect();
    let max = shown.iter().map(|m| m.count).max().unwrap_or(1).max(1) as f64;
    let row = 26.0;
    let label_w = 170.0;
    let h = (row * shown.len() as f64).max(row);
    html! {
        <svg id="intent-mix" class="chart" viewBox={format!("0 0 {WIDTH} {h}")} role="img" aria-label="What customers asked for">
            { for shown.iter().enumerate().map(|(i, m)| {
                let y = row * i as f64;
                let w = (WIDTH - label_w - 50.0) * m.count as f64 / max;
                html! {
                    <g class="mix-row" data-intent={m.label.as_str()}>
                        <title>{ format!("{}: {}", m.label.label(), m.count) }</title>
                        <text class="label" x="0" y={format!("{:.1}", y + 17.0)}>{ m.label.label() }</text>
                        <rect class={intent_class(m.label)} x={label_w.to_string()} y={format!("{:.1}", y + 5.0)}
                            width={format!("{:.1}", w.max(1.0))} height="16" rx="2" />
                        <text class="value" x={format!("{:.1}", label_w + w + 6.0)} y={format!("{:.1}", y + 17.0)}>{ m.count }</text>
                    </g>
                }
            }) }
        </svg>
    }
}

pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Busiest hours: weekdays down, hours across; darker is busier.
pub fn heat_map(b: &BusiestHours) -> Html {
    let (left, top, cell_w, cell_h) = (40.0, 18.0, (WIDTH - 44.0) / 24.0, 22.0);
    let h = top + cell_h * 7.0 + 2.0;
    let max = b.max.max(1) as f64;
    html! {
        <svg id="heat-map" class="chart" viewBox={format!("0 0 {WIDTH} {h}")} role="img"
            aria-label="Busiest hours: inbound contacts by weekday and hour">
            { for [0usize, 6, 12, 18].iter().map(|hour| html! {
                <text class="tick" x={format!("{:.1}", left + cell_w * *hour as f64)} y="12">{ format!("{hour:02}:00") }</text>
            }) }
            { for b.cells.iter().enumerate().map(|(d, row)| html! {
                <g class="heat-row">
                    <text class="tick" x="0" y={format!("{:.1}", top + cell_h * d as f64 + 15.0)}>{ WEEKDAYS.get(d).copied().unwrap_or("") }</text>
                    { for row.iter().enumerate().map(|(hour, n)| {
                        // Five shades; zero stays the background.
                        let level = if *n == 0 { 0 } else { 1 + ((*n as f64 / max) * 4.0).round().clamp(0.0, 4.0) as u8 };
                        html! {
                            <rect class={format!("heat heat-{level}")} data-count={n.to_string()}
                                x={format!("{:.1}", left + cell_w * hour as f64)} y={format!("{:.1}", top + cell_h * d as f64)}
                                width={format!("{:.1}", cell_w - 2.0)} height={format!("{:.1}", cell_h - 2.0)} rx="2">
                                <title>{ format!("{} {hour:02}:00–{:02}:00: {n}", WEEKDAYS.get(d).copied().unwrap_or(""), hour + 1) }</title>
                            </rect>
                        }
                    }) }
                </g>
            }) }
        </svg>
    }
}

/// Calls as one bar split answered / missed / voicemail.
pub fn calls_bar(answered: i64, missed: i64, voicemail: i64) -> Html {
    let total = (answered + missed + voicemail).max(1) as f64;
    let mut x = 0.0;
    let parts = [
        ("call-answered", answered, "answered"),
        ("call-missed", missed, "missed"),
        ("call-voicemail", voicemail, "voicemail"),
    ];
    html! {
        <svg id="calls-bar" class="chart slim" viewBox={format!("0 0 {WIDTH} 22")} role="img"
            aria-label={format!("Calls: {answered} answered, {missed} missed, {voicemail} voicemail")}>
            { for parts.iter().filter(|p| p.1 > 0).map(|(class, n, what)| {
                let w = WIDTH * *n as f64 / total;
                let rect = html! {
                    <rect class={*class} x={format!("{x:.1}")} y="0" width={format!("{w:.1}")} height="22">
                        <title>{ format!("{n} {what}") }</title>
                    </rect>
                };
                x += w;
                rect
            }) }
        </svg>
    }
}
