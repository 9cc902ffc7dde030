//! Provider statuses and error codes mapped onto our `DeliveryStatus` (PROVIDERS.md §4.1): which
//! callback moves a message forward, how out-of-order callbacks are applied, what an error code
//! means to a person, and whether a failed send is worth retrying.

use super::twilio_webhook::TwilioMessageStatus;
use super::whatsapp_webhook::WaStatusKind;
use crate::model::DeliveryStatus;

/// The `DeliveryStatus` a Twilio message status callback reports, or `None` when it changes
/// nothing we show: `queued`/`accepted`/`scheduled`/`sending` are still Pending, and
/// `receiving`/`received` (inbound-only) or unknown values never apply to an outbound message.
/// `failed`, `undelivered` and `canceled` are all Failed (the reason is in `ErrorCode`).
pub fn from_twilio(s: &TwilioMessageStatus) -> Option<DeliveryStatus> {
    use TwilioMessageStatus::*;
    match s {
        Sent => Some(DeliveryStatus::Sent),
        Delivered => Some(DeliveryStatus::Delivered),
        Read => Some(DeliveryStatus::Read),
        Failed | Undelivered | Canceled => Some(DeliveryStatus::Failed),
        Queued | Accepted | Scheduled | Sending | Receiving | Received | Other(_) => None,
    }
}

/// The `DeliveryStatus` a WhatsApp Cloud status reports; `played` (first play of a voice note)
/// is Read, unknown values are `None`.
pub fn from_whatsapp(s: &WaStatusKind) -> Option<DeliveryStatus> {
    match s {
        WaStatusKind::Sent => Some(DeliveryStatus::Sent),
        WaStatusKind::Delivered => Some(DeliveryStatus::Delivered),
        WaStatusKind::Read | WaStatusKind::Played => Some(DeliveryStatus::Read),
        WaStatusKind::Failed => Some(DeliveryStatus::Failed),
        WaStatusKind::Other(_) => None,
    }
}

/// The order in which statuses may replace each other when callbacks arrive out of order:
///
/// `PendingApproval < Pending < Unknown < Sent < Failed < Delivered < Read < Rejected`
///
/// - Progress only moves forward: a late `sent` never overwrites `delivered` or `read`.
/// - Unknown (the provider may have accepted it, its answer was lost) sits just above Pending:
///   the dispatcher moves a pending message there, and any word from the provider — sent,
///   failed, delivered, read — settles it.
/// - Failed ends the *sending* (PROVIDERS §4: `failed`/`undelivered`/`canceled` are terminal),
///   so no queued/sending/sent callback replaces it. But a delivery or read receipt is proof
///   the message reached the handset: it outranks a failure report whichever arrives first.
///   A `failed` arriving after `delivered`/`read` is stale and ignored, and — so that the outcome
///   never depends on arrival order — a `delivered`/`read` arriving after `failed` wins too.
/// - Rejected (an approver refused it) is never sent, so no provider status can follow it.
///
/// Because this is a total order and [`advance`] keeps the higher rank, applying any set of
/// callbacks in any order ends at the same status: the highest-ranked one seen.
///
/// This differs on purpose from [`DeliveryStatus::rank`], which ranks Failed above Read and so
/// would let a stale failure overwrite a read receipt.
pub fn delivery_rank(s: DeliveryStatus) -> u8 {
    match s {
        DeliveryStatus::PendingApproval => 0,
        DeliveryStatus::Pending => 1,
        DeliveryStatus::Unknown => 2,
        DeliveryStatus::Sent => 3,
        DeliveryStatus::Failed => 4,
        DeliveryStatus::Delivered => 5,
        DeliveryStatus::Read => 6,
        DeliveryStatus::Rejected => 7,
    }
}

/// The status to store when `incoming` arrives while the message is `current`, or `None` when
/// nothing changes (it ranks no higher by [`delivery_rank`]: a repeat, a late `sent`, a stale
/// `failed` after delivery, anything after a rejection).
pub fn advance(current: DeliveryStatus, incoming: DeliveryStatus) -> Option<DeliveryStatus> {
    (delivery_rank(incoming) > delivery_rank(current)).then_some(incoming)
}

/// Common provider error codes in words a garage's staff can act on (PROVIDERS.md §1.4, §3.8).
const TWILIO_REASONS: &[(&str, &str)] = &[
    ("20003", "The SMS account's credentials were rejected"),
    ("20429", "Too many messages at once; it will be retried"),
    ("21201", "No recipient number was given"),
    ("21211", "The number is not valid"),
    ("21408", "Sending to that country is not enabled"),
    ("21602", "The message was empty"),
    ("21604", "No recipient number was given"),
    ("21606", "Our number cannot send to this destination"),
    ("21608", "Trial account: the number has not been verified"),
    (
        "21610",
        "The customer has opted out of texts (replied STOP)",
    ),
    ("21612", "The number cannot receive texts"),
    (
        "21614",
        "The number is not a mobile, so it cannot receive texts",
    ),
    ("21617", "The message is too long (over 1600 characters)"),
    (
        "21635",
        "The number is a landline, so it cannot receive texts",
    ),
    ("30001", "The send queue was full; it will be retried"),
    ("30002", "The SMS account is suspended"),
    (
        "30003",
        "The phone is unreachable (switched off or out of signal)",
    ),
    ("30004", "The message was blocked"),
    ("30005", "The number is unknown or no longer in service"),
    (
        "30006",
        "The number is a landline or the network is unreachable",
    ),
    ("30007", "The network filtered the message as spam"),
    ("30008", "Delivery failed for an unknown reason"),
    (
        "63016",
        "More than 24 hours since the customer's last WhatsApp message: send a template",
    ),
    (
        "63018",
        "WhatsApp sending rate limit reached; it will be retried",
    ),
    ("63024", "The number is not a valid WhatsApp recipient"),
];

const WHATSAPP_REASONS: &[(&str, &str)] = &[
    ("0", "WhatsApp rejected our credentials"),
    ("3", "The WhatsApp account lacks a permission"),
    ("4", "Too many WhatsApp requests; it will be retried"),
    ("10", "The WhatsApp account lacks a permission"),
    ("100", "WhatsApp rejected a parameter of the message"),
    ("190", "The WhatsApp access token has expired"),
    (
        "368",
        "The WhatsApp account is blocked for a policy violation",
    ),
    (
        "80007",
        "WhatsApp account rate limit reached; it will be retried",
    ),
    (
        "130429",
        "WhatsApp sending rate limit reached; it will be retried",
    ),
    (
        "131000",
        "WhatsApp failed for an unknown reason; it will be retried",
    ),
    ("131005", "The WhatsApp account lacks a permission"),
    ("131008", "A required part of the message is missing"),
    ("131009", "A value in the message is not valid"),
    (
        "131016",
        "WhatsApp is temporarily unavailable; it will be retried",
    ),
    ("131021", "The message was addressed to our own number"),
    (
        "131026",
        "The message could not be delivered (the number may not be on WhatsApp)",
    ),
    (
        "131030",
        "The number is not in the test account's allowed list",
    ),
    ("131031", "The WhatsApp account is locked"),
    ("131042", "The WhatsApp account has a payment problem"),
    (
        "131047",
        "More than 24 hours since the customer's last message: send a template",
    ),
    (
        "131048",
        "WhatsApp is limiting our messages as possible spam",
    ),
    (
        "131049",
        "WhatsApp held the message back to protect engagement",
    ),
    ("131050", "The customer has stopped marketing messages"),
    ("131051", "WhatsApp does not support this message type"),
    ("131052", "The media could not be downloaded"),
    ("131053", "The media could not be uploaded"),
    (
        "131056",
        "Too many messages to this customer in a short time; it will be retried",
    ),
    (
        "131057",
        "The WhatsApp account is in maintenance; it will be retried",
    ),
    ("132000", "The template's parameters do not match"),
    (
        "132001",
        "The template does not exist, is not approved, or not in this language",
    ),
    ("132005", "The filled-in template is too long"),
    ("132007", "The template breaks WhatsApp's policy"),
    ("132012", "A template parameter is in the wrong format"),
    ("132015", "The template is paused"),
    ("132016", "The template is disabled"),
    ("133010", "The WhatsApp number is not registered"),
];

/// Human reason for a provider error code, e.g. "The number is not valid (Twilio 21211)".
/// An unknown code uses `fallback` (the provider's own text) when given — "Carrier rejected
/// (Twilio 30410)" — else "Twilio error 30410"; an unknown provider gives "Provider error <code>".
/// `provider` is a [`Provider`](super::Provider) or a name: "twilio" or "whatsapp"
/// (case-insensitive; "meta" is WhatsApp too).
pub fn error_reason(provider: impl AsRef<str>, code: &str, fallback: Option<&str>) -> String {
    let provider = provider.as_ref();
    let code = code.trim();
    let fallback = fallback.map(str::trim).filter(|f| !f.is_empty());
    let Some((name, table)) = provider_table(provider) else {
        return match (fallback, code.is_empty()) {
            (Some(f), true) => f.to_string(),
            (Some(f), false) => format!("{f} (provider error {code})"),
            (None, true) => "Provider error".to_string(),
            (None, false) => format!("Provider error {code}"),
        };
    };
    if code.is_empty() {
        return fallback.map_or_else(|| format!("{name} error"), str::to_string);
    }
    match table.iter().find(|(c, _)| *c == code) {
        Some((_, reason)) => format!("{reason} ({name} {code})"),
        None => match fallback {
            Some(f) => format!("{f} ({name} {code})"),
            None => format!("{name} error {code}"),
        },
    }
}

fn provider_table(
    provider: &str,
) -> Option<(&'static str, &'static [(&'static str, &'static str)])> {
    match provider.trim().to_ascii_lowercase().as_str() {
        "twilio" => Some(("Twilio", TWILIO_REASONS)),
        "whatsapp" | "meta" => Some(("WhatsApp", WHATSAPP_REASONS)),
        _ => None,
    }
}

/// Codes a later retry can cure: capacity and availability, never content, consent, policy or
/// configuration.
///
/// - Twilio 20429 (too many concurrent requests), 30001 (queue overflow), 63018 (WhatsApp
///   channel rate limit).
/// - WhatsApp 4 / 80007 / 130429 (rate limits), 131000 (unknown, Meta advises retrying),
///   131016 (service unavailable), 131056 (too many to the same user: a pair rate limit that
///   clears after a wait), 131057 (account in maintenance), and 1/2 (Graph API unknown error /
///   temporary service issue).
/// - Not 131048 (spam rate limit: caused by quality, retrying makes it worse) nor 131049
///   (Meta held it back; it asks not to retry straight away) nor 131047/63016 (window closed:
///   needs a template, not a retry).
const TRANSIENT_TWILIO: &[&str] = &["20429", "30001", "63018"];
const TRANSIENT_WHATSAPP: &[&str] = &[
    "1", "2", "4", "80007", "130429", "131000", "131016", "131056", "131057",
];

/// Whether a send failure is worth retrying (with backoff): HTTP 408, 429 or 5xx; no HTTP status
/// and no code at all (the request never got an answer: connection error or timeout); or a
/// transient provider code (see the tables above, e.g. Twilio 20429/30001, WhatsApp
/// 130429/131000/131016/131056). Anything else — 4xx answers and every other code — is
/// permanent: retrying would send the same bad request again. `provider` is named as for
/// [`error_reason`].
pub fn is_transient(
    provider: impl AsRef<str>,
    http_status: Option<u16>,
    code: Option<&str>,
) -> bool {
    let provider = provider.as_ref();
    let code = code.map(str::trim).filter(|c| !c.is_empty());
    let http_transient =
        http_status.is_some_and(|s| s == 408 || s == 429 || (500..=599).contains(&s));
    let code_transient = code.is_some_and(|c| {
        let table: &[&str] = match provider.trim().to_ascii_lowercase().as_str() {
            "twilio" => TRANSIENT_TWILIO,
            "whatsapp" | "meta" => TRANSIENT_WHATSAPP,
            _ => &[],
        };
        table.contains(&c)
    });
    let no_answer = http_status.is_none() && code.is_none();
    http_transient || code_transient || no_answer
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use DeliveryStatus::*;

    #[test]
    fn twilio_statuses_map_as_documented() {
        use TwilioMessageStatus as T;
        for (s, want) in [
            (T::Queued, None),
            (T::Accepted, None),
            (T::Scheduled, None),
            (T::Sending, None),
            (T::Sent, Some(Sent)),
            (T::Delivered, Some(Delivered)),
            (T::Read, Some(Read)),
            (T::Failed, Some(Failed)),
            (T::Undelivered, Some(Failed)),
            (T::Canceled, Some(Failed)),
            (T::Receiving, None),
            (T::Received, None),
            (T::Other("partially_delivered".into()), None),
        ] {
            assert_eq!(from_twilio(&s), want, "{s:?}");
        }
    }

    #[test]
    fn whatsapp_statuses_map_as_documented() {
        assert_eq!(from_whatsapp(&WaStatusKind::Sent), Some(Sent));
        assert_eq!(from_whatsapp(&WaStatusKind::Delivered), Some(Delivered));
        assert_eq!(from_whatsapp(&WaStatusKind::Read), Some(Read));
        assert_eq!(from_whatsapp(&WaStatusKind::Played), Some(Read));
        assert_eq!(from_whatsapp(&WaStatusKind::Failed), Some(Failed));
        assert_eq!(from_whatsapp(&WaStatusKind::Other("deleted".into())), None);
    }

    #[test]
    fn thr4_progress_moves_forward_only() {
        assert_eq!(advance(Pending, Sent), Some(Sent));
        assert_eq!(advance(Sent, Delivered), Some(Delivered));
        assert_eq!(advance(Delivered, Read), Some(Read));
        assert_eq!(advance(Sent, Read), Some(Read), "read implies delivered");
        assert_eq!(advance(PendingApproval, Pending), Some(Pending));
        assert_eq!(
            advance(Read, Sent),
            None,
            "a late sent never overwrites read"
        );
        assert_eq!(advance(Read, Delivered), None);
        assert_eq!(advance(Delivered, Sent), None);
        assert_eq!(advance(Sent, Sent), None, "repeats change nothing");
        assert_eq!(advance(Pending, PendingApproval), None);
    }

    #[test]
    fn thr4_failure_ends_sending_but_not_a_proven_delivery() {
        assert_eq!(advance(Pending, Failed), Some(Failed));
        assert_eq!(
            advance(Sent, Failed),
            Some(Failed),
            "undelivered after sent"
        );
        assert_eq!(
            advance(Failed, Sent),
            None,
            "a late sent does not revive a failure"
        );
        assert_eq!(advance(Failed, Pending), None);
        assert_eq!(advance(Failed, Failed), None);
        assert_eq!(
            advance(Delivered, Failed),
            None,
            "stale failure after delivery"
        );
        assert_eq!(advance(Read, Failed), None, "stale failure after read");
        assert_eq!(
            advance(Failed, Delivered),
            Some(Delivered),
            "receipt proves delivery"
        );
        assert_eq!(advance(Failed, Read), Some(Read));
    }

    #[test]
    fn thr4_an_unknown_send_is_settled_by_any_word_from_the_provider() {
        assert_eq!(advance(Pending, Unknown), Some(Unknown));
        for s in [Sent, Failed, Delivered, Read] {
            assert_eq!(advance(Unknown, s), Some(s), "{s:?}");
        }
        assert_eq!(advance(Unknown, Pending), None);
        assert_eq!(advance(Unknown, Unknown), None);
        assert_eq!(advance(Sent, Unknown), None, "a known send stays known");
        assert_eq!(advance(Delivered, Unknown), None);
        assert_eq!(advance(PendingApproval, Unknown), Some(Unknown));
    }

    #[test]
    fn thr4_rejected_messages_stay_rejected() {
        assert_eq!(advance(PendingApproval, Rejected), Some(Rejected));
        for s in DeliveryStatus::ALL {
            assert_eq!(advance(Rejected, *s), None, "{s:?}");
        }
    }

    #[test]
    fn twilio_callbacks_out_of_order_end_at_read() {
        // sent, read, delivered, a stale failed: the order Twilio's separate requests can land in.
        let mut current = Pending;
        for s in [
            TwilioMessageStatus::Read,
            TwilioMessageStatus::Sending,
            TwilioMessageStatus::Sent,
            TwilioMessageStatus::Delivered,
            TwilioMessageStatus::Undelivered,
        ] {
            if let Some(next) = from_twilio(&s).and_then(|d| advance(current, d)) {
                current = next;
            }
        }
        assert_eq!(current, Read);
    }

    #[test]
    fn a_provider_reads_the_same_tables_as_its_name() {
        use crate::providers::Provider;
        for (p, code) in [(Provider::Twilio, "21211"), (Provider::Whatsapp, "131047")] {
            assert_eq!(
                error_reason(p, code, None),
                error_reason(p.as_str(), code, None)
            );
        }
        assert_eq!(
            error_reason(Provider::Portal, "7", None),
            "Provider error 7"
        );
        assert!(is_transient(Provider::Twilio, Some(400), Some("30001")));
        assert!(is_transient(Provider::Whatsapp, Some(400), Some("131056")));
        assert!(!is_transient(Provider::Portal, Some(400), Some("30001")));
    }

    #[test]
    fn error_reasons_name_the_provider_and_code() {
        assert_eq!(
            error_reason("twilio", "21211", None),
            "The number is not valid (Twilio 21211)"
        );
        assert_eq!(
            error_reason("Twilio", " 21610 ", Some("ignored")),
            "The customer has opted out of texts (replied STOP) (Twilio 21610)"
        );
        assert_eq!(
            error_reason("whatsapp", "131047", None),
            "More than 24 hours since the customer's last message: send a template (WhatsApp 131047)"
        );
        assert_eq!(
            error_reason("twilio", "30410", Some("Provider timeout")),
            "Provider timeout (Twilio 30410)"
        );
        assert_eq!(error_reason("twilio", "30410", None), "Twilio error 30410");
        assert_eq!(
            error_reason("whatsapp", "999", Some("  ")),
            "WhatsApp error 999"
        );
        assert_eq!(error_reason("sinch", "42", None), "Provider error 42");
        assert_eq!(
            error_reason("sinch", "42", Some("Nope")),
            "Nope (provider error 42)"
        );
        assert_eq!(error_reason("twilio", "", Some("Timed out")), "Timed out");
        assert_eq!(error_reason("twilio", "", None), "Twilio error");
        assert_eq!(error_reason("", "", None), "Provider error");
    }

    #[test]
    fn every_code_named_in_the_brief_has_a_reason() {
        for code in [
            "21211", "21610", "21612", "21614", "30003", "30004", "30005", "30006", "30007",
            "30008", "63016",
        ] {
            let r = error_reason("twilio", code, None);
            assert!(r.ends_with(&format!("(Twilio {code})")), "{r}");
        }
        for code in ["131026", "131047", "131051", "132000", "132001"] {
            let r = error_reason("whatsapp", code, None);
            assert!(r.ends_with(&format!("(WhatsApp {code})")), "{r}");
        }
        // Tables have no duplicate codes.
        for table in [TWILIO_REASONS, WHATSAPP_REASONS] {
            let mut codes: Vec<_> = table.iter().map(|(c, _)| c).collect();
            codes.sort();
            codes.dedup();
            assert_eq!(codes.len(), table.len());
        }
    }

    #[test]
    fn transient_failures_are_capacity_and_availability() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(is_transient("twilio", Some(status), None), "{status}");
        }
        assert!(
            is_transient("whatsapp", None, None),
            "timeout: no answer at all"
        );
        assert!(is_transient("twilio", Some(429), Some("20429")));
        assert!(is_transient("twilio", None, Some("30001")));
        assert!(is_transient("twilio", Some(400), Some("63018")));
        for code in [
            "130429", "131000", "131016", "131056", "131057", "4", "80007",
        ] {
            assert!(is_transient("whatsapp", Some(400), Some(code)), "{code}");
        }
        assert!(
            is_transient("whatsapp", Some(500), Some("131026")),
            "5xx wins"
        );
    }

    #[test]
    fn permanent_failures_are_not_retried() {
        for status in [400, 401, 403, 404, 405, 409, 422] {
            assert!(!is_transient("twilio", Some(status), None), "{status}");
        }
        for code in [
            "21211", "21610", "21614", "30003", "30007", "63016", "20003",
        ] {
            assert!(!is_transient("twilio", Some(400), Some(code)), "{code}");
            assert!(
                !is_transient("twilio", None, Some(code)),
                "{code} in a callback"
            );
        }
        for code in [
            "131026", "131047", "131048", "131049", "131051", "132001", "190", "100",
        ] {
            assert!(!is_transient("whatsapp", Some(400), Some(code)), "{code}");
        }
        // Codes belong to their provider.
        assert!(!is_transient("twilio", Some(400), Some("131000")));
        assert!(!is_transient("whatsapp", Some(400), Some("30001")));
        assert!(!is_transient("sinch", Some(400), Some("30001")));
    }

    fn status() -> impl Strategy<Value = DeliveryStatus> {
        prop::sample::select(DeliveryStatus::ALL.to_vec())
    }

    /// Applies callbacks one at a time, as the server does.
    fn apply(start: DeliveryStatus, seq: &[DeliveryStatus]) -> (DeliveryStatus, bool) {
        let mut current = start;
        let mut monotonic = true;
        for s in seq {
            if let Some(next) = advance(current, *s) {
                monotonic &= delivery_rank(next) > delivery_rank(current);
                current = next;
            }
        }
        (current, monotonic)
    }

    proptest! {
        #[test]
        fn thr4_prop_any_arrival_order_ends_at_the_highest_ranked_status(
            start in status(),
            seq in prop::collection::vec(status(), 0..8),
            shuffled in any::<prop::sample::Index>(),
        ) {
            let want = seq.iter().copied().chain([start]).max_by_key(|s| delivery_rank(*s)).unwrap();
            let (in_order, monotonic) = apply(start, &seq);
            prop_assert!(monotonic);
            prop_assert_eq!(in_order, want);
            // Another permutation (a rotation plus reversal, chosen by `shuffled`).
            let mut other = seq.clone();
            if !other.is_empty() {
                let by = shuffled.index(other.len());
                other.rotate_left(by);
            }
            other.reverse();
            prop_assert_eq!(apply(start, &other).0, want);
        }

        #[test]
        fn thr4_prop_no_downgrade_and_stale_failures_ignored(
            current in status(), incoming in status(),
        ) {
            match advance(current, incoming) {
                Some(next) => {
                    prop_assert_eq!(next, incoming);
                    prop_assert!(delivery_rank(next) > delivery_rank(current));
                }
                None => prop_assert!(delivery_rank(incoming) <= delivery_rank(current)),
            }
            if matches!(current, Delivered | Read) {
                prop_assert_ne!(advance(current, incoming), Some(Failed));
            }
        }

        #[test]
        fn thr4_prop_every_permutation_of_provider_callbacks_agrees(
            seq in prop::collection::vec(
                prop::sample::select(vec![
                    TwilioMessageStatus::Queued, TwilioMessageStatus::Sending, TwilioMessageStatus::Sent,
                    TwilioMessageStatus::Delivered, TwilioMessageStatus::Undelivered,
                    TwilioMessageStatus::Failed, TwilioMessageStatus::Read,
                ]),
                0..5,
            ),
        ) {
            let mapped: Vec<DeliveryStatus> = seq.iter().filter_map(from_twilio).collect();
            let want = apply(Pending, &mapped).0;
            let mut perm = mapped.clone();
            // Heap's algorithm over at most 5 items: every arrival order.
            fn heap(k: usize, a: &mut Vec<DeliveryStatus>, want: DeliveryStatus) -> Result<(), TestCaseError> {
                if k <= 1 {
                    prop_assert_eq!(apply(Pending, a).0, want);
                    return Ok(());
                }
                for i in 0..k {
                    heap(k - 1, a, want)?;
                    let j = if k & 1 == 0 { i } else { 0 };
                    a.swap(j, k - 1);
                }
                Ok(())
            }
            let n = perm.len();
            heap(n, &mut perm, want)?;
        }

        #[test]
        fn prop_error_reason_and_is_transient_never_panic(
            provider in any::<String>(), code in any::<String>(), fallback in proptest::option::of(any::<String>()),
            http in proptest::option::of(any::<u16>()),
        ) {
            prop_assert!(!error_reason(&provider, &code, fallback.as_deref()).is_empty());
            let _ = is_transient(&provider, http, Some(&code));
        }
    }
}
