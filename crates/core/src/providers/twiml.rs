//! TwiML answers (`text/xml`) for Twilio's synchronous webhooks: an empty response, and the
//! ring-then-voicemail flow for incoming calls (ring the garage, then take a transcribed
//! voicemail only if nobody answered).
//!
//! The flow needs two documents. Verbs after a `<Dial action=…>` are never reached, and without
//! an `action` Twilio falls through to the next verb even after an answered call once the garage
//! hangs up — the caller would then hear the voicemail greeting at the end of every
//! conversation. So [`twiml_ring`] answers the incoming call, Twilio posts the `<Dial>` outcome
//! (`DialCallStatus`) to its action URL, and that handler answers with [`twiml_after_dial`]:
//! a hang-up after an answered call, else the greeting and `<Record>`.

use super::twilio_webhook::{parse_address, TwilioAddress, TwilioCallStatus};

const PROLOG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Longest voicemail, in seconds.
pub const VOICEMAIL_MAX_SECS: u32 = 120;

/// `<Dial timeout>` bounds Twilio accepts.
const DIAL_TIMEOUT_SECS: std::ops::RangeInclusive<u32> = 5..=600;

/// `<?xml version="1.0" encoding="UTF-8"?><Response/>`: no reply to a message, or "nothing more"
/// for a status callback; on a call, hangs up.
pub fn twiml_empty() -> String {
    format!("{PROLOG}<Response/>")
}

/// Ends the call.
pub fn twiml_hangup() -> String {
    format!("{PROLOG}<Response><Hangup/></Response>")
}

/// The answer to the incoming-call webhook: rings `dial_to` (E.164 → `<Number>`, `client:name` →
/// `<Client>`, `sip:…` → `<Sip>`) for `timeout_secs` (clamped to Twilio's 5–600), keeping the
/// caller hearing the ring tone until someone picks up (`answerOnBridge`). When the dialled leg
/// ends, answered or not, Twilio posts `DialCallStatus` to `dial_action_url` (read it with
/// `CallStatusCallback::from_params`) and plays whatever that request answers: reply with
/// [`twiml_after_dial`].
pub fn twiml_ring(dial_to: &str, timeout_secs: u32, dial_action_url: &str) -> String {
    let timeout = timeout_secs.clamp(*DIAL_TIMEOUT_SECS.start(), *DIAL_TIMEOUT_SECS.end());
    let target = match parse_address(dial_to) {
        TwilioAddress::Client(name) => format!("<Client>{}</Client>", escape(&name)),
        _ if dial_to
            .get(..4)
            .is_some_and(|s| s.eq_ignore_ascii_case("sip:")) =>
        {
            format!("<Sip>{}</Sip>", escape(dial_to))
        }
        _ => format!("<Number>{}</Number>", escape(dial_to)),
    };
    format!(
        "{PROLOG}<Response><Dial timeout=\"{timeout}\" answerOnBridge=\"true\" action=\"{}\" \
         method=\"POST\">{target}</Dial></Response>",
        escape(dial_action_url)
    )
}

/// Plays `greeting` (omitted when blank), then records up to two minutes with a beep and
/// transcription. Twilio posts the `<Record>` action request (`RecordingUrl`,
/// `RecordingDuration`, `Digits`) to `record_action_url` — answer it with [`twiml_hangup`] — the
/// recording's `completed`/`absent` status to `recording_status_url`
/// (`RecordingCallback::from_params`) and the transcript to `transcribe_url`
/// (`TranscriptionCallback::from_params`). If the caller says nothing, Twilio skips the action
/// and moves on to the `<Hangup/>`.
pub fn twiml_voicemail(
    greeting: &str,
    record_action_url: &str,
    recording_status_url: &str,
    transcribe_url: &str,
) -> String {
    let say = if greeting.trim().is_empty() {
        String::new()
    } else {
        format!("<Say>{}</Say>", escape(greeting))
    };
    format!(
        "{PROLOG}<Response>{say}<Record action=\"{}\" method=\"POST\" \
         maxLength=\"{VOICEMAIL_MAX_SECS}\" playBeep=\"true\" transcribe=\"true\" \
         transcribeCallback=\"{}\" recordingStatusCallback=\"{}\" \
         recordingStatusCallbackMethod=\"POST\" recordingStatusCallbackEvent=\"completed absent\"/>\
         <Hangup/></Response>",
        escape(record_action_url),
        escape(transcribe_url),
        escape(recording_status_url),
    )
}

/// The answer to [`twiml_ring`]'s action request: [`twiml_hangup`] when the garage answered
/// (`completed`, `in-progress`, `answered`), else [`twiml_voicemail`] — for `no-answer`, `busy`,
/// `failed`, `canceled`, anything unknown, and a missing `DialCallStatus`, because a caller who
/// could not get through should always be able to leave a message.
pub fn twiml_after_dial(
    dial_call_status: Option<&TwilioCallStatus>,
    greeting: &str,
    record_action_url: &str,
    recording_status_url: &str,
    transcribe_url: &str,
) -> String {
    if dial_call_status.is_some_and(TwilioCallStatus::was_answered) {
        twiml_hangup()
    } else {
        twiml_voicemail(
            greeting,
            record_action_url,
            recording_status_url,
            transcribe_url,
        )
    }
}

/// Escapes text for XML content and double-quoted attributes, dropping characters XML 1.0 cannot
/// carry at all (most C0 controls, U+FFFE, U+FFFF) so that any input yields a well-formed
/// document.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Attribute values normalise raw whitespace; keep it literal with references.
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_response_is_exactly_the_documented_document() {
        assert_eq!(
            twiml_empty(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#
        );
        assert_eq!(
            twiml_hangup(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>"#
        );
    }

    #[test]
    fn ring_dials_the_number_with_the_timeout_and_action() {
        assert_eq!(
            twiml_ring(
                "+441632960000",
                20,
                "https://h.example/twilio/voice/dial?call=1&org=2"
            ),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\
             <Dial timeout=\"20\" answerOnBridge=\"true\" \
             action=\"https://h.example/twilio/voice/dial?call=1&amp;org=2\" method=\"POST\">\
             <Number>+441632960000</Number></Dial></Response>"
        );
    }

    #[test]
    fn ring_uses_client_and_sip_nouns_and_clamps_the_timeout() {
        let client = twiml_ring("client:front-desk", 1, "/a");
        assert!(client.contains("<Client>front-desk</Client>"), "{client}");
        assert!(client.contains("timeout=\"5\""), "{client}");
        let sip = twiml_ring("sip:desk@pbx.example", 10_000, "/a");
        assert!(sip.contains("<Sip>sip:desk@pbx.example</Sip>"), "{sip}");
        assert!(sip.contains("timeout=\"600\""), "{sip}");
    }

    #[test]
    fn voicemail_greets_then_records_two_minutes_with_transcription() {
        assert_eq!(
            twiml_voicemail(
                "Sorry, we're under a car. Leave a message & we'll call back.",
                "https://h.example/v/record",
                "https://h.example/v/recording?c=1&o=2",
                "https://h.example/v/transcription",
            ),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\
             <Say>Sorry, we&apos;re under a car. Leave a message &amp; we&apos;ll call back.</Say>\
             <Record action=\"https://h.example/v/record\" method=\"POST\" maxLength=\"120\" \
             playBeep=\"true\" transcribe=\"true\" \
             transcribeCallback=\"https://h.example/v/transcription\" \
             recordingStatusCallback=\"https://h.example/v/recording?c=1&amp;o=2\" \
             recordingStatusCallbackMethod=\"POST\" \
             recordingStatusCallbackEvent=\"completed absent\"/><Hangup/></Response>"
        );
        let silent = twiml_voicemail("  ", "/r", "/s", "/t");
        assert!(!silent.contains("<Say"), "{silent}");
    }

    #[test]
    fn after_dial_hangs_up_answered_calls_and_takes_voicemail_otherwise() {
        let vm = |s: Option<&TwilioCallStatus>| twiml_after_dial(s, "Hi", "/r", "/s", "/t");
        for answered in ["completed", "in-progress", "answered"] {
            assert_eq!(
                vm(Some(&TwilioCallStatus::parse(answered))),
                twiml_hangup(),
                "{answered}"
            );
        }
        for missed in ["no-answer", "busy", "failed", "canceled", "something-new"] {
            let doc = vm(Some(&TwilioCallStatus::parse(missed)));
            assert!(doc.contains("<Record "), "{missed}: {doc}");
        }
        assert!(vm(None).contains("<Record "));
    }

    #[test]
    fn escape_covers_markup_quotes_and_invalid_characters() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;"
        );
        assert_eq!(escape("a\u{0}b\u{1b}c\u{FFFF}"), "abc");
        assert_eq!(escape("line\nbreak"), "line&#10;break");
        assert_eq!(escape("Ça va? 👍"), "Ça va? 👍");
    }

    /// Minimal well-formedness check for what these builders emit: tags balance, every `&`
    /// starts a known reference, and no raw `<`, `>` or `"` sits inside text or attributes.
    fn well_formed(doc: &str) -> bool {
        let Some(body) = doc.strip_prefix(PROLOG) else {
            return false;
        };
        let mut stack: Vec<String> = Vec::new();
        let mut rest = body;
        while let Some(open) = rest.find('<') {
            if !text_ok(&rest[..open]) {
                return false;
            }
            let Some(close) = rest[open..].find('>') else {
                return false;
            };
            let tag = &rest[open + 1..open + close];
            rest = &rest[open + close + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                if stack.pop().as_deref() != Some(name) {
                    return false;
                }
                continue;
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            if !attrs_ok(attrs) {
                return false;
            }
            if !self_closing {
                stack.push(name.to_string());
            }
        }
        stack.is_empty() && rest.is_empty()
    }

    fn text_ok(text: &str) -> bool {
        if text.contains(['<', '>', '"']) {
            return false;
        }
        text.split('&').skip(1).all(|r| {
            [
                "amp;", "lt;", "gt;", "quot;", "apos;", "#9;", "#10;", "#13;",
            ]
            .iter()
            .any(|e| r.starts_with(e))
        })
    }

    fn attrs_ok(attrs: &str) -> bool {
        let mut rest = attrs.trim();
        while !rest.is_empty() {
            let Some((_, after_eq)) = rest.split_once("=\"") else {
                return false;
            };
            let Some((value, after)) = after_eq.split_once('"') else {
                return false;
            };
            if !text_ok(value) {
                return false;
            }
            rest = after.trim_start();
        }
        true
    }

    #[test]
    fn the_well_formedness_check_catches_broken_documents() {
        assert!(well_formed(&twiml_empty()));
        assert!(!well_formed(&format!(
            "{PROLOG}<Response><Say>a & b</Say></Response>"
        )));
        assert!(!well_formed(&format!(
            "{PROLOG}<Response><Say>a</Response>"
        )));
        assert!(!well_formed(&format!(
            "{PROLOG}<Response><Dial action=\"a\"b\"/></Response>"
        )));
    }

    proptest! {
        #[test]
        fn prop_any_input_gives_a_well_formed_document(
            to in any::<String>(),
            greeting in any::<String>(),
            a in any::<String>(),
            b in any::<String>(),
            c in any::<String>(),
            timeout in any::<u32>(),
        ) {
            let ring = twiml_ring(&to, timeout, &a);
            prop_assert!(well_formed(&ring), "{}", ring);
            let vm = twiml_voicemail(&greeting, &a, &b, &c);
            prop_assert!(well_formed(&vm), "{}", vm);
        }
    }
}
