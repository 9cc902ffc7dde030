//! Reads the TwiML the server answers a call with, as far as the simulated caller needs: the
//! `<Dial action>` to report how the ring ended, and the `<Record>` callbacks (action, recording
//! status, transcription) for a voicemail. A small tag scanner, not a full XML parser.

/// What one TwiML document asks Twilio to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// `<Dial>` is present; its `action` URL if it has one.
    pub dial: Option<Dial>,
    pub record: Option<Record>,
    pub hangup: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dial {
    pub action: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub action: Option<String>,
    pub recording_status_callback: Option<String>,
    /// `transcribeCallback`, or None when transcription is off.
    pub transcribe_callback: Option<String>,
    pub transcribe: bool,
}

/// Scans `xml` for the verbs the caller reacts to.
pub fn parse(xml: &str) -> Plan {
    let mut plan = Plan::default();
    for (name, attrs) in tags(xml) {
        match name.as_str() {
            "Dial" if plan.dial.is_none() => {
                plan.dial = Some(Dial {
                    action: attr(&attrs, "action"),
                })
            }
            "Record" if plan.record.is_none() => {
                let transcribe_callback = attr(&attrs, "transcribeCallback");
                plan.record = Some(Record {
                    action: attr(&attrs, "action"),
                    recording_status_callback: attr(&attrs, "recordingStatusCallback"),
                    transcribe: transcribe_callback.is_some()
                        || attr(&attrs, "transcribe")
                            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
                    transcribe_callback,
                });
            }
            "Hangup" => plan.hangup = true,
            _ => {}
        }
    }
    plan
}

/// Opening (and self-closing) tags: name and raw attribute text.
fn tags(xml: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let Some(end) = tag_end(rest) else { break };
        let inner = &rest[..end];
        rest = &rest[end + 1..];
        if inner.starts_with(['/', '?', '!']) {
            continue;
        }
        let inner = inner.trim_end_matches('/');
        let (name, attrs) = match inner.find(char::is_whitespace) {
            Some(i) => (&inner[..i], &inner[i..]),
            None => (inner, ""),
        };
        out.push((name.to_string(), attrs.to_string()));
    }
    out
}

/// The `>` closing a tag, skipping any inside quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The unescaped value of attribute `name`.
fn attr(attrs: &str, name: &str) -> Option<String> {
    let mut rest = attrs;
    loop {
        rest = rest.trim_start();
        let eq = rest.find('=')?;
        let key = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let body = &after[1..];
        let close = body.find(quote)?;
        if key == name {
            return Some(unescape(&body[..close]));
        }
        rest = &body[close + 1..];
    }
}

/// Resolves the five named entities and numeric references (`&#10;`, `&#x41;`).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let c = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "amp" => Some('&'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_ring_then_voicemail_answer_is_read() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Response><Dial timeout="20" action="https://inbox.test/webhooks/twilio/voice/dial?x=1&amp;y=2" method="POST"><Number>+441632960999</Number></Dial></Response>"#;
        let p = parse(xml);
        assert_eq!(
            p.dial.unwrap().action.as_deref(),
            Some("https://inbox.test/webhooks/twilio/voice/dial?x=1&y=2")
        );
        assert!(p.record.is_none());
        assert!(!p.hangup);
    }

    #[test]
    fn a_voicemail_answer_is_read() {
        let xml = "<Response><Say voice='alice' language=\"en-GB\">Sorry, nobody can take your call &gt; leave a message</Say>\
            <Record maxLength=\"120\" playBeep=\"true\" recordingStatusCallback=\"https://i.test/webhooks/twilio/voice/recording\" \
            transcribe=\"true\" transcribeCallback=\"https://i.test/webhooks/twilio/voice/transcription\"/><Hangup/></Response>";
        let p = parse(xml);
        assert!(p.dial.is_none());
        let r = p.record.unwrap();
        assert_eq!(
            r.recording_status_callback.as_deref(),
            Some("https://i.test/webhooks/twilio/voice/recording")
        );
        assert_eq!(
            r.transcribe_callback.as_deref(),
            Some("https://i.test/webhooks/twilio/voice/transcription")
        );
        assert!(r.transcribe);
        assert!(r.action.is_none());
        assert!(p.hangup);
    }

    #[test]
    fn entities_are_resolved() {
        assert_eq!(
            unescape("a&amp;b&lt;&#10;&#x41;&quot;&apos;&gt;"),
            "a&b<\nA\"'>"
        );
        assert_eq!(
            unescape("R&D & co &bogus; &#xZZ;"),
            "R&D & co &bogus; &#xZZ;"
        );
    }

    #[test]
    fn empty_and_odd_answers_are_harmless() {
        assert_eq!(parse("<Response/>"), Plan::default());
        assert_eq!(parse(""), Plan::default());
        assert_eq!(
            parse("<Response><Dial>+44"),
            Plan {
                dial: Some(Dial { action: None }),
                ..Plan::default()
            }
        );
        let p = parse("<Response><Record transcribe='false' action='/rec'/></Response>");
        let r = p.record.unwrap();
        assert!(!r.transcribe);
        assert_eq!(r.action.as_deref(), Some("/rec"));
    }
}
