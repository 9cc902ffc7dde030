//! How times, durations and the domain's enums read on screen. Times are shown in the
//! organisation's time zone (the one date ranges resolve in), not the workstation's.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use inbox_core::desktop::ConnectionState;
use inbox_core::range::{parse_time_zone, DEFAULT_TIME_ZONE};
use inbox_core::whatsapp::WindowState;
use inbox_core::{CallOutcome, Channel, ContextBadge, DeliveryStatus};

/// "Now" and the zone to read it in; components take it as a prop so they render the same
/// natively (tests) and in the webview.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

impl Clock {
    /// The organisation's zone, or the product default when its name is unknown.
    pub fn new(now: DateTime<Utc>, time_zone: &str) -> Clock {
        let tz = parse_time_zone(time_zone)
            .or_else(|_| parse_time_zone(DEFAULT_TIME_ZONE))
            .unwrap_or(Tz::UTC);
        Clock { now, tz }
    }

    fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.tz).date_naive()
    }

    /// A list row's time (LST-10): today "14:05", the last six days "Tue", this year "3 Jun",
    /// earlier "3 Jun 2023".
    pub fn row_time(&self, at: DateTime<Utc>) -> String {
        let local = at.with_timezone(&self.tz);
        let today = self.today();
        let date = local.date_naive();
        if date == today {
            local.format("%H:%M").to_string()
        } else if date < today && today.signed_duration_since(date) < Duration::days(7) {
            local.format("%a").to_string()
        } else if date.year() == today.year() {
            local.format("%-d %b").to_string()
        } else {
            local.format("%-d %b %Y").to_string()
        }
    }

    /// A thread item's time (THR-4): "14:05" today, otherwise with its date.
    pub fn item_time(&self, at: DateTime<Utc>) -> String {
        let local = at.with_timezone(&self.tz);
        let date = local.date_naive();
        if date == self.today() {
            local.format("%H:%M").to_string()
        } else if date.year() == self.today().year() {
            local.format("%-d %b, %H:%M").to_string()
        } else {
            local.format("%-d %b %Y, %H:%M").to_string()
        }
    }

    /// The full local time, for tooltips.
    pub fn full_time(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz)
            .format("%A %-d %B %Y, %H:%M")
            .to_string()
    }
}

/// A call's length: "41s", "3:07", "1:02:03".
pub fn duration(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else if m > 0 {
        format!("{m}:{s:02}")
    } else {
        format!("{s}s")
    }
}

/// A span of time left, coarse: "5h 12m", "12m", "less than a minute".
pub fn time_left(d: Duration) -> String {
    let mins = d.num_minutes();
    match (mins / 60, mins % 60) {
        (0, 0) => "less than a minute".to_string(),
        (0, m) => format!("{m}m"),
        (h, m) => format!("{h}h {m}m"),
    }
}

/// A local date as a person reads it: "3 Jun 2025".
pub fn date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

pub fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::Portal => "Portal",
        Channel::Whatsapp => "WhatsApp",
        Channel::Sms => "SMS",
        Channel::Voice => "Voice",
    }
}

/// The channel's icon, shipped in `ui/dist/icons/` (LST-10).
pub fn channel_icon(c: Channel) -> String {
    format!("icons/{}.svg", c.as_str())
}

pub fn status_label(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Pending => "Pending",
        DeliveryStatus::PendingApproval => "Pending approval",
        DeliveryStatus::Sent => "Sent",
        DeliveryStatus::Delivered => "Delivered",
        DeliveryStatus::Read => "Read",
        DeliveryStatus::Failed => "Failed",
        DeliveryStatus::Rejected => "Rejected",
        // No Retry beside it (only Failed has one): staff check with the customer first.
        DeliveryStatus::Unknown => "May have been sent — check before resending",
    }
}

/// The words beside a reply's pill (CMP-4): why it failed — the provider's reason as the server
/// stored it, already in plain words — or, when the provider gave none, what to check; why it
/// was rejected. None for every other status.
pub fn failure_text(status: DeliveryStatus, error: Option<&str>) -> Option<String> {
    let error = error.map(str::trim).filter(|e| !e.is_empty());
    match (status, error) {
        (DeliveryStatus::Failed, Some(reason)) => Some(format!("Not sent: {reason}")),
        (DeliveryStatus::Failed, None) => Some(
            "Not sent, and the provider gave no reason: check the customer's contact details"
                .to_string(),
        ),
        (DeliveryStatus::Rejected, Some(reason)) => Some(format!("Rejected: {reason}")),
        _ => None,
    }
}

pub fn outcome_label(o: CallOutcome) -> &'static str {
    match o {
        CallOutcome::InProgress => "In progress",
        CallOutcome::Answered => "Answered",
        CallOutcome::Missed => "Missed",
        CallOutcome::Voicemail => "Voicemail",
        CallOutcome::Escalated => "Escalated",
        CallOutcome::Errored => "Errored",
    }
}

pub fn context_label(c: ContextBadge) -> &'static str {
    match c {
        ContextBadge::General => "General",
        ContextBadge::Booking => "Booking",
        ContextBadge::Unknown => "Unknown",
    }
}

/// The `data-state` tag of a connection state (its serde tag).
pub fn connection_tag(s: &ConnectionState) -> &'static str {
    match s {
        ConnectionState::Connecting => "connecting",
        ConnectionState::CatchingUp => "catching_up",
        ConnectionState::Live => "live",
        ConnectionState::Reconnecting { .. } => "reconnecting",
        ConnectionState::Paused { .. } => "paused",
        ConnectionState::SignedOut { .. } => "signed_out",
    }
}

/// What the connection line says (RT-2, DSK-2).
pub fn connection_label(s: &ConnectionState) -> String {
    match s {
        ConnectionState::Connecting => "Connecting…".into(),
        ConnectionState::CatchingUp => "Updating…".into(),
        ConnectionState::Live => "Up to date".into(),
        ConnectionState::Reconnecting { retry_in_ms, .. } => {
            format!("Reconnecting in {}s…", retry_in_ms.div_ceil(1000))
        }
        ConnectionState::Paused { .. } => "Real-time updates paused".into(),
        ConnectionState::SignedOut { .. } => "Signed out".into(),
    }
}

/// The WhatsApp 24-hour window as the thread header shows it (THR-2): `(data-state, text)`.
pub fn window_label(w: &WindowState, now: DateTime<Utc>) -> (&'static str, String) {
    match w {
        WindowState::Open { closes_at } => (
            "open",
            format!(
                "WhatsApp window open · {} left",
                time_left(*closes_at - now)
            ),
        ),
        WindowState::Expired { .. } => (
            "expired",
            "WhatsApp window expired · templates only".to_string(),
        ),
        WindowState::NeverOpened => (
            "expired",
            "No WhatsApp window yet · templates only".to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unknown_send_tells_staff_to_check_before_resending() {
        assert_eq!(
            status_label(DeliveryStatus::Unknown),
            "May have been sent — check before resending"
        );
    }

    use super::*;

    #[test]
    fn cmp4_a_failed_reply_says_why_in_plain_words() {
        assert_eq!(
            failure_text(
                DeliveryStatus::Failed,
                Some("The number is not valid (Twilio 21211)")
            )
            .as_deref(),
            Some("Not sent: The number is not valid (Twilio 21211)")
        );
        let silent = failure_text(DeliveryStatus::Failed, Some("  ")).unwrap();
        assert!(
            silent.contains("check the customer's contact details"),
            "{silent}"
        );
        assert_eq!(
            failure_text(DeliveryStatus::Rejected, Some("Wrong price")).as_deref(),
            Some("Rejected: Wrong price")
        );
        assert_eq!(failure_text(DeliveryStatus::Delivered, Some("old")), None);
        assert_eq!(failure_text(DeliveryStatus::Rejected, None), None);
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn london(now: &str) -> Clock {
        Clock::new(utc(now), "Europe/London")
    }

    #[test]
    fn lst10_row_times_shorten_with_recency() {
        // Wednesday 11 June 2025, 15:00 BST.
        let clock = london("2025-06-11T14:00:00Z");
        assert_eq!(clock.row_time(utc("2025-06-11T13:05:00Z")), "14:05");
        assert_eq!(clock.row_time(utc("2025-06-10T09:00:00Z")), "Tue");
        assert_eq!(clock.row_time(utc("2025-06-05T09:00:00Z")), "Thu");
        assert_eq!(clock.row_time(utc("2025-06-03T09:00:00Z")), "3 Jun");
        assert_eq!(clock.row_time(utc("2024-12-24T09:00:00Z")), "24 Dec 2024");
    }

    #[test]
    fn lst10_times_are_read_in_the_organisations_zone() {
        // 23:30 UTC on 10 June is already 11 June in London (BST) — "today", not "Tue".
        let clock = london("2025-06-11T08:00:00Z");
        assert_eq!(clock.row_time(utc("2025-06-10T23:30:00Z")), "00:30");
        let ny = Clock::new(utc("2025-06-11T08:00:00Z"), "America/New_York");
        assert_eq!(ny.row_time(utc("2025-06-10T23:30:00Z")), "Tue");
        let fallback = Clock::new(utc("2025-06-11T08:00:00Z"), "Mars/Olympus");
        assert_eq!(fallback.tz, Tz::Europe__London);
    }

    #[test]
    fn thr4_item_times_carry_the_date_when_not_today() {
        let clock = london("2025-06-11T14:00:00Z");
        assert_eq!(clock.item_time(utc("2025-06-11T08:01:00Z")), "09:01");
        assert_eq!(clock.item_time(utc("2025-06-02T08:01:00Z")), "2 Jun, 09:01");
        assert_eq!(
            clock.item_time(utc("2023-01-02T08:01:00Z")),
            "2 Jan 2023, 08:01"
        );
    }

    #[test]
    fn thr5_durations() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(41), "41s");
        assert_eq!(duration(60), "1:00");
        assert_eq!(duration(187), "3:07");
        assert_eq!(duration(3723), "1:02:03");
    }

    #[test]
    fn thr2_whatsapp_window_says_how_long_is_left() {
        let now = utc("2025-06-11T14:00:00Z");
        let open = WindowState::Open {
            closes_at: utc("2025-06-11T19:12:30Z"),
        };
        assert_eq!(
            window_label(&open, now),
            ("open", "WhatsApp window open · 5h 12m left".to_string())
        );
        let soon = WindowState::Open {
            closes_at: utc("2025-06-11T14:00:30Z"),
        };
        assert!(window_label(&soon, now).1.contains("less than a minute"));
        assert_eq!(
            window_label(
                &WindowState::Expired {
                    closed_at: utc("2025-06-10T14:00:00Z")
                },
                now
            )
            .0,
            "expired"
        );
        assert_eq!(window_label(&WindowState::NeverOpened, now).0, "expired");
    }

    #[test]
    fn rt2_connection_tags_match_the_wire() {
        let states = [
            ConnectionState::Connecting,
            ConnectionState::CatchingUp,
            ConnectionState::Live,
            ConnectionState::Reconnecting {
                attempt: 2,
                retry_in_ms: 1500,
            },
            ConnectionState::Paused {
                offline_for_secs: 61,
                retry_in_ms: 0,
            },
            ConnectionState::SignedOut { reason: "x".into() },
        ];
        for s in &states {
            let wire = serde_json::to_value(s).unwrap();
            assert_eq!(wire["state"], connection_tag(s));
        }
        assert_eq!(connection_label(&states[3]), "Reconnecting in 2s…");
    }

    #[test]
    fn lst10_icons_and_labels_per_channel() {
        assert_eq!(channel_icon(Channel::Whatsapp), "icons/whatsapp.svg");
        assert_eq!(channel_label(Channel::Sms), "SMS");
        assert_eq!(
            status_label(DeliveryStatus::PendingApproval),
            "Pending approval"
        );
        assert_eq!(outcome_label(CallOutcome::Voicemail), "Voicemail");
        assert_eq!(context_label(ContextBadge::Booking), "Booking");
    }
}
