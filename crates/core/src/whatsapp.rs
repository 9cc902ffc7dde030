//! The WhatsApp 24-hour customer-service window (CMP-2, THR-2): free-form replies are only
//! allowed within 24 hours of the customer's latest inbound message; outside it only approved
//! templates may be sent.

use chrono::{DateTime, Duration, Utc};

/// How long after the customer's latest inbound message free-form replies stay allowed.
pub const SERVICE_WINDOW: Duration = Duration::hours(24);

/// Whether the garage may send a free-form WhatsApp reply right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WindowState {
    /// Free-form replies are allowed until `closes_at` (exclusive).
    Open { closes_at: DateTime<Utc> },
    /// The window closed at `closed_at`; only templates can be sent until the customer writes.
    Expired { closed_at: DateTime<Utc> },
    /// The customer has never written on WhatsApp, so only templates can be sent.
    NeverOpened,
}

impl WindowState {
    /// True while free-form replies are allowed.
    pub fn is_open(&self) -> bool {
        matches!(self, WindowState::Open { .. })
    }
}

/// `last_inbound` = time of the customer's latest inbound WhatsApp message (None if never).
///
/// The window is open while `now < last_inbound + 24h`; at exactly 24 hours it has expired,
/// matching Meta's rule that the window lasts 24 hours, not 24 hours and an instant. An inbound
/// time slightly in the future (clock skew between us and the provider) simply keeps the window
/// open a little longer rather than reporting it closed.
pub fn window_state(last_inbound: Option<DateTime<Utc>>, now: DateTime<Utc>) -> WindowState {
    let Some(last) = last_inbound else {
        return WindowState::NeverOpened;
    };
    // Only an inbound time at the very end of chrono's range can overflow; such a window
    // never closes.
    let closes_at = last
        .checked_add_signed(SERVICE_WINDOW)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    if now < closes_at {
        WindowState::Open { closes_at }
    } else {
        WindowState::Expired {
            closed_at: closes_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse::<DateTime<Utc>>().unwrap()
    }

    #[test]
    fn cmp2_service_window_is_24_hours() {
        assert_eq!(SERVICE_WINDOW, Duration::hours(24));
        assert_eq!(SERVICE_WINDOW.num_seconds(), 86_400);
    }

    #[test]
    fn cmp2_never_opened_without_an_inbound_message() {
        let s = window_state(None, utc("2026-01-01T00:00:00Z"));
        assert_eq!(s, WindowState::NeverOpened);
        assert!(!s.is_open());
    }

    #[test]
    fn cmp2_open_right_after_the_customer_writes() {
        let last = utc("2026-03-01T09:15:00Z");
        let s = window_state(Some(last), last);
        assert_eq!(
            s,
            WindowState::Open {
                closes_at: utc("2026-03-02T09:15:00Z")
            }
        );
        assert!(s.is_open());
    }

    #[test]
    fn cmp2_still_open_one_nanosecond_before_24_hours() {
        let last = utc("2026-03-01T09:15:00Z");
        let now = utc("2026-03-02T09:14:59.999999999Z");
        assert!(window_state(Some(last), now).is_open());
    }

    #[test]
    fn cmp2_expired_at_exactly_24_hours() {
        let last = utc("2026-03-01T09:15:00Z");
        let s = window_state(Some(last), utc("2026-03-02T09:15:00Z"));
        assert_eq!(
            s,
            WindowState::Expired {
                closed_at: utc("2026-03-02T09:15:00Z")
            }
        );
        assert!(!s.is_open());
    }

    #[test]
    fn cmp2_window_is_24_real_hours_across_a_dst_change() {
        // 24 elapsed hours, not "same wall-clock time tomorrow": London springs forward on
        // 29 March 2026 but the window still closes 86,400 seconds later.
        let last = utc("2026-03-28T12:00:00Z");
        assert_eq!(
            window_state(Some(last), last),
            WindowState::Open {
                closes_at: utc("2026-03-29T12:00:00Z")
            }
        );
    }

    #[test]
    fn thr2_inbound_slightly_in_the_future_keeps_the_window_open() {
        let now = utc("2026-03-01T09:00:00Z");
        let last = utc("2026-03-01T09:00:02Z");
        assert_eq!(
            window_state(Some(last), now),
            WindowState::Open {
                closes_at: utc("2026-03-02T09:00:02Z")
            }
        );
    }

    #[test]
    fn thr2_inbound_at_the_end_of_time_does_not_overflow() {
        let s = window_state(Some(DateTime::<Utc>::MAX_UTC), utc("2026-01-01T00:00:00Z"));
        assert_eq!(
            s,
            WindowState::Open {
                closes_at: DateTime::<Utc>::MAX_UTC
            }
        );
    }

    #[test]
    fn thr2_serializes_with_a_state_tag() {
        let open = WindowState::Open {
            closes_at: utc("2026-03-02T09:15:00Z"),
        };
        let v = serde_json::to_value(open).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"state": "open", "closes_at": "2026-03-02T09:15:00Z"})
        );
        let expired = WindowState::Expired {
            closed_at: utc("2026-03-02T09:15:00Z"),
        };
        assert_eq!(
            serde_json::to_value(expired).unwrap(),
            serde_json::json!({"state": "expired", "closed_at": "2026-03-02T09:15:00Z"})
        );
        assert_eq!(
            serde_json::to_value(WindowState::NeverOpened).unwrap(),
            serde_json::json!({"state": "never_opened"})
        );
        for s in [open, expired, WindowState::NeverOpened] {
            let back: WindowState =
                serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
            assert_eq!(back, s);
        }
    }

    fn instants() -> impl Strategy<Value = DateTime<Utc>> {
        (0i64..4_102_444_800i64, 0u32..1_000_000_000u32)
            .prop_map(|(s, ns)| DateTime::from_timestamp(s, ns).unwrap())
    }

    fn gaps() -> impl Strategy<Value = Duration> {
        // Up to three days either way, to straddle the 24-hour edge often.
        (-259_200_000_000_000i64..259_200_000_000_000i64).prop_map(Duration::nanoseconds)
    }

    proptest! {
        #[test]
        fn cmp2_prop_open_exactly_when_less_than_24_hours_have_passed(last in instants(), gap in gaps()) {
            let now = last + gap;
            prop_assert_eq!(window_state(Some(last), now).is_open(), gap < SERVICE_WINDOW);
        }

        #[test]
        fn cmp2_prop_window_closes_24_hours_after_the_latest_inbound(last in instants(), gap in gaps()) {
            match window_state(Some(last), last + gap) {
                WindowState::Open { closes_at } | WindowState::Expired { closed_at: closes_at } => {
                    prop_assert_eq!(closes_at, last + SERVICE_WINDOW);
                }
                WindowState::NeverOpened => prop_assert!(false, "an inbound message opens the window"),
            }
        }

        #[test]
        fn cmp2_prop_monotone_in_now(last in instants(), a in gaps(), b in gaps()) {
            let (early, late) = if a <= b { (a, b) } else { (b, a) };
            // Once expired, a later `now` never reopens it; open later means open earlier too.
            if !window_state(Some(last), last + early).is_open() {
                prop_assert!(!window_state(Some(last), last + late).is_open());
            }
            if window_state(Some(last), last + late).is_open() {
                prop_assert!(window_state(Some(last), last + early).is_open());
            }
        }

        #[test]
        fn thr2_prop_a_later_inbound_never_closes_an_open_window(
            first in instants(), later in 0i64..259_200_000_000_000i64, gap in gaps()
        ) {
            let second = first + Duration::nanoseconds(later);
            let now = first + gap;
            if window_state(Some(first), now).is_open() {
                prop_assert!(window_state(Some(second), now).is_open());
            }
        }
    }
}
