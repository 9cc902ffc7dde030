//! Twilio Messaging's wire formats as the simulator produces them (PROVIDERS §1): the form
//! parameters of inbound-message and message-status webhooks, and the Messages API's resource
//! and error JSON. Pure functions; the voice ones are in `voice_payloads`.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

pub const API_VERSION: &str = "2010-04-01";

/// Twilio's dates: RFC 2822 in GMT, day zero-padded (`Fri, 20 Aug 2010 01:13:42 +0000`).
pub fn rfc2822(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// Form parameters, in the order they are sent.
pub type Params = Vec<(String, String)>;

pub(crate) fn params(pairs: &[(&str, &str)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// An attachment of an inbound MMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub url: String,
    pub content_type: String,
}

/// The media resource URL Twilio gives an MMS attachment, on `base` (Twilio's API host, or the
/// simulator's own, which serves it).
pub fn media_url(
    base: Option<&str>,
    account_sid: &str,
    message_sid: &str,
    media_sid: &str,
) -> String {
    let base = base.unwrap_or("https://api.twilio.com");
    format!("{base}/{API_VERSION}/Accounts/{account_sid}/Messages/{message_sid}/Media/{media_sid}")
}

/// `POST /webhooks/twilio/sms`: an SMS (`SM…`) or, with media, an MMS (`MM…`) from `from`.
pub fn inbound_message(
    account_sid: &str,
    message_sid: &str,
    from: &str,
    to: &str,
    body: &str,
    media: &[Media],
) -> Params {
    let num_media = media.len().to_string();
    let mut p = params(&[
        ("ToCountry", "GB"),
        ("ToState", ""),
        ("SmsMessageSid", message_sid),
        ("NumMedia", &num_media),
        ("ToCity", ""),
        ("FromZip", ""),
        ("SmsSid", message_sid),
        ("FromState", ""),
        ("SmsStatus", "received"),
        ("FromCity", ""),
        ("Body", body),
        ("FromCountry", "GB"),
        ("To", to),
        ("ToZip", ""),
        ("NumSegments", "1"),
        ("MessageSid", message_sid),
        ("AccountSid", account_sid),
        ("From", from),
        ("ApiVersion", API_VERSION),
    ]);
    for (i, m) in media.iter().enumerate() {
        p.push((format!("MediaContentType{i}"), m.content_type.clone()));
        p.push((format!("MediaUrl{i}"), m.url.clone()));
    }
    p
}

/// A message status callback. `error_code` only for `failed`/`undelivered`; `done` (the
/// carrier's `RawDlrDoneDate`) only for `delivered`/`undelivered`.
pub fn message_status(
    account_sid: &str,
    message_sid: &str,
    from: &str,
    to: &str,
    status: &str,
    error_code: Option<&str>,
    done: Option<DateTime<Utc>>,
) -> Params {
    let mut p = params(&[
        ("SmsSid", message_sid),
        ("SmsStatus", status),
        ("MessageStatus", status),
        ("To", to),
        ("MessageSid", message_sid),
        ("AccountSid", account_sid),
        ("From", from),
        ("ApiVersion", API_VERSION),
    ]);
    if let Some(code) = error_code {
        p.push(("ErrorCode".into(), code.to_string()));
    }
    if let Some(at) = done {
        p.push(("RawDlrDoneDate".into(), at.format("%y%m%d%H%M").to_string()));
    }
    p
}

/// Characters of the GSM 03.38 basic set and its extension, besides printable ASCII (some ASCII
/// is missing from it, but that is close enough for counting segments).
const GSM_EXTRA: &str = "£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉÄÖÑÜ§¿äöñüà€\n\r";

/// Segments of an SMS: GSM-7 takes 160 characters (153 per part when split), anything else
/// UCS-2, 70 (67 per part).
pub fn num_segments(body: &str) -> usize {
    let gsm = body
        .chars()
        .all(|c| (' '..='~').contains(&c) || GSM_EXTRA.contains(c));
    let n = if gsm {
        body.chars()
            .map(|c| if "€^{}\\[~]|".contains(c) { 2 } else { 1 })
            .sum()
    } else {
        body.encode_utf16().count()
    };
    let (single, part) = if gsm { (160, 153) } else { (70, 67) };
    if n <= single {
        1
    } else {
        n.div_ceil(part)
    }
}

/// The 201 answer of `POST /Accounts/{sid}/Messages.json`.
pub fn message_resource(
    sid: &str,
    account_sid: &str,
    from: &str,
    to: &str,
    body: &str,
    at: DateTime<Utc>,
) -> Value {
    let date = rfc2822(at);
    let uri = format!("/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json");
    json!({
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": body,
        "date_created": date,
        "date_sent": null,
        "date_updated": date,
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": from,
        "messaging_service_sid": null,
        "num_media": "0",
        "num_segments": num_segments(body).to_string(),
        "price": null,
        "price_unit": "GBP",
        "sid": sid,
        "status": "queued",
        "subresource_uris": { "media": format!("/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}/Media.json") },
        "to": to,
        "uri": uri,
    })
}

/// Twilio's REST error JSON.
pub fn error(status: u16, code: u32, message: &str) -> Value {
    json!({ "code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use chrono::TimeZone;

    use super::*;

    fn get<'a>(p: &'a Params, k: &str) -> Option<&'a str> {
        p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 9, 14, 5, 7).unwrap()
    }

    #[test]
    fn inbound_messages_carry_twilios_parameters_and_media() {
        let sms = inbound_message(
            "AC1",
            "SM1",
            "+447700900001",
            "+441632960001",
            "Is my car ready?",
            &[],
        );
        assert_eq!(get(&sms, "NumMedia"), Some("0"));
        assert_eq!(get(&sms, "SmsStatus"), Some("received"));
        assert_eq!(
            get(&sms, "ToCity"),
            Some(""),
            "empty geo fields are sent, and signed"
        );
        assert!(get(&sms, "MediaUrl0").is_none());
        let media = [Media {
            url: media_url(None, "AC1", "MM1", "ME1"),
            content_type: "image/jpeg".into(),
        }];
        let mms = inbound_message("AC1", "MM1", "+447700900001", "+441632960001", "", &media);
        assert_eq!(get(&mms, "NumMedia"), Some("1"));
        assert_eq!(get(&mms, "MediaContentType0"), Some("image/jpeg"));
        assert!(get(&mms, "MediaUrl0")
            .unwrap()
            .ends_with("/Messages/MM1/Media/ME1"));
    }

    #[test]
    fn status_callbacks_carry_error_codes_only_when_failed() {
        let ok = message_status(
            "AC1",
            "SM1",
            "+441632960001",
            "+447700900001",
            "delivered",
            None,
            Some(at()),
        );
        assert_eq!(get(&ok, "MessageStatus"), Some("delivered"));
        assert_eq!(get(&ok, "SmsStatus"), Some("delivered"));
        assert_eq!(get(&ok, "RawDlrDoneDate"), Some("2603091405"));
        assert!(get(&ok, "ErrorCode").is_none());
        let bad = message_status(
            "AC1",
            "SM1",
            "+441632960001",
            "+447700900001",
            "undelivered",
            Some("30003"),
            None,
        );
        assert_eq!(get(&bad, "ErrorCode"), Some("30003"));
    }

    #[test]
    fn segments_count_like_a_handset() {
        assert_eq!(num_segments("Your car is ready"), 1);
        assert_eq!(num_segments(&"a".repeat(160)), 1);
        assert_eq!(num_segments(&"a".repeat(161)), 2);
        assert_eq!(num_segments(&"a".repeat(306)), 2);
        assert_eq!(num_segments(&"a".repeat(307)), 3);
        assert_eq!(num_segments("£340 please"), 1);
        assert_eq!(
            num_segments(&"👍".repeat(35)),
            1,
            "emoji are two UCS-2 units each"
        );
        assert_eq!(num_segments(&"👍".repeat(36)), 2);
    }

    #[test]
    fn the_resource_and_errors_look_like_twilios() {
        let r = message_resource("SM1", "AC1", "+441632960001", "+447700900001", "Hi", at());
        assert_eq!(r["status"], "queued");
        assert_eq!(r["num_segments"], "1", "a string, as Twilio sends it");
        assert_eq!(r["num_media"], "0");
        assert_eq!(r["uri"], "/2010-04-01/Accounts/AC1/Messages/SM1.json");
        assert_eq!(r["date_created"], "Mon, 09 Mar 2026 14:05:07 +0000");
        let e = error(401, 20003, "Authenticate");
        assert_eq!(e["code"], 20003);
        assert_eq!(e["status"], 401);
        assert_eq!(e["more_info"], "https://www.twilio.com/docs/errors/20003");
    }
}
