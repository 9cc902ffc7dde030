//! The Analytics tab's CSV export: every table of the report, one after another, each under a
//! title line, so a manager can open it in a spreadsheet (AIA-1).

use std::fmt::Write;

use super::report::Analytics;
use crate::intent::Intent;

/// Quotes a field when it holds a comma, quote or line break (RFC 4180). Text a customer wrote
/// that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading
/// apostrophe, so opening the export never runs it.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn share(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_default()
}

/// The whole report as CSV.
pub fn csv(a: &Analytics) -> String {
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let row: Vec<String> = cells.iter().map(|c| field(c)).collect();
        let _ = writeln!(out, "{}", row.join(","));
    };
    let s = |v: &str| v.to_string();
    line(&[
        s("Garage Inbox analytics"),
        a.from.to_string(),
        a.to.to_string(),
    ]);
    line(&[]);
    line(&[s("Inbound volume")]);
    line(&[
        s("Period from"),
        s("SMS"),
        s("WhatsApp"),
        s("Portal"),
        s("Voice"),
        s("Total"),
    ]);
    for p in &a.volume.points {
        let c = p.channels;
        line(&[
            p.start.to_string(),
            c.sms.to_string(),
            c.whatsapp.to_string(),
            c.portal.to_string(),
            c.voice.to_string(),
            c.total().to_string(),
        ]);
    }
    line(&[s("Total"), a.volume.total.to_string()]);
    line(&[s("Previous period"), opt(a.volume.previous_total)]);
    line(&[]);
    line(&[s("First response (business minutes)")]);
    line(&[
        s("Staff"),
        s("Answered"),
        s("Median"),
        s("90th percentile"),
        s("Within 1 hour"),
    ]);
    let f = &a.first_response;
    line(&[
        s("Everyone"),
        f.answered.to_string(),
        opt(f.median_minutes),
        opt(f.p90_minutes),
        share(f.within_hour),
    ]);
    for r in a.first_response_by_staff.iter().flatten() {
        line(&[
            r.name.clone(),
            r.times.answered.to_string(),
            opt(r.times.median_minutes),
            opt(r.times.p90_minutes),
            share(r.times.within_hour),
        ]);
    }
    line(&[]);
    let c = &a.calls;
    line(&[s("Calls")]);
    line(&[
        s("Answered"),
        s("Missed"),
        s("Voicemail"),
        s("Call-backs"),
        s("Call-back rate"),
        s("Median minutes to call back"),
    ]);
    line(&[
        c.answered.to_string(),
        c.missed.to_string(),
        c.voicemail.to_string(),
        c.callbacks.to_string(),
        share(c.callback_rate),
        opt(c.callback_median_minutes),
    ]);
    line(&[]);
    line(&[s("Waiting now"), a.waiting.total.to_string()]);
    line(&[
        s("Conversation"),
        s("Channel"),
        s("Waiting since"),
        s("Last message"),
    ]);
    for w in &a.waiting.items {
        line(&[
            w.title.clone(),
            w.channel.to_string(),
            w.since.to_rfc3339(),
            w.preview.clone(),
        ]);
    }
    line(&[]);
    line(&[s("Busiest hours (inbound contacts)")]);
    let mut header = vec![s("Weekday")];
    header.extend((0..24).map(|h| format!("{h:02}:00")));
    line(&header);
    for (day, row) in ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        .iter()
        .zip(&a.busiest_hours.cells)
    {
        let mut cells = vec![s(day)];
        cells.extend(row.iter().map(i64::to_string));
        line(&cells);
    }
    line(&[]);
    line(&[s("Intents")]);
    line(&[s("Intent"), s("Messages")]);
    for m in &a.intents.mix {
        line(&[s(m.label.label()), m.count.to_string()]);
    }
    line(&[s("Corrected by staff"), a.intents.corrected.to_string()]);
    line(&[s("Error rate"), share(a.intents.error_rate)]);
    let mut header = vec![s("Period from")];
    header.extend(Intent::ALL.iter().map(|i| s(i.label())));
    line(&header);
    for p in &a.intents.trend {
        let mut cells = vec![p.start.to_string()];
        cells.extend(p.counts.iter().map(i64::to_string));
        line(&cells);
    }
    line(&[]);
    let ap = &a.approvals;
    line(&[s("Approval queue")]);
    line(&[s("Approved"), s("Rejected"), s("Median minutes to approve")]);
    line(&[
        ap.approved.to_string(),
        ap.rejected.to_string(),
        opt(ap.median_minutes_to_approve),
    ]);
    out
}
