//! Typed views of Twilio's form webhooks (PROVIDERS.md §1.1, §1.2, §2): inbound SMS/MMS and
//! WhatsApp-via-Twilio messages, message status callbacks, incoming calls, call status, recording
//! and transcription callbacks. Unknown parameters are ignored (Twilio adds them without notice);
//! the TwiML answers live in [`super::twiml`] and are re-exported here.

use crate::caller_id;

pub use super::twiml::{twiml_after_dial, twiml_empty, twiml_hangup, twiml_ring, twiml_voicemail};

/// Why a callback's parameters could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("missing parameter {0}")]
    Missing(&'static str),
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

/// A `From`/`To` value: E.164, a channel address, or whatever else a caller-ID network sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TwilioAddress {
    /// `+` and 1–15 digits, as given (`+447700900123`).
    Phone(String),
    /// `whatsapp:+447700900123` → the E.164 part.
    Whatsapp(String),
    /// `client:bob` → `bob` (a Twilio Voice SDK client).
    Client(String),
    /// Anything else, raw: `anonymous`, `Restricted`, an alphanumeric sender ID, `sip:…`, "".
    /// Never call or text back such a value.
    Other(String),
}

/// "whatsapp:+447..." → Whatsapp("+447..."), "client:bob" → Client("bob"), "+44..." → Phone,
/// anything else (e.g. "anonymous", or "whatsapp:" without a number) → Other(raw). Scheme
/// prefixes are matched case-insensitively; nothing is trimmed or normalised (use
/// [`crate::phone::normalize`] before matching customers).
pub fn parse_address(raw: &str) -> TwilioAddress {
    if let Some(rest) = strip_prefix_ci(raw, "whatsapp:") {
        if is_e164(rest) {
            return TwilioAddress::Whatsapp(rest.to_string());
        }
    } else if let Some(rest) = strip_prefix_ci(raw, "client:") {
        if !rest.is_empty() {
            return TwilioAddress::Client(rest.to_string());
        }
    } else if is_e164(raw) {
        return TwilioAddress::Phone(raw.to_string());
    }
    TwilioAddress::Other(raw.to_string())
}

impl TwilioAddress {
    /// The E.164 number of a phone or WhatsApp address.
    pub fn e164(&self) -> Option<&str> {
        match self {
            TwilioAddress::Phone(n) | TwilioAddress::Whatsapp(n) => Some(n),
            TwilioAddress::Client(_) | TwilioAddress::Other(_) => None,
        }
    }

    /// The address as Twilio writes it (`whatsapp:+44…`, `client:bob`, `+44…`, raw).
    pub fn to_raw(&self) -> String {
        match self {
            TwilioAddress::Phone(n) | TwilioAddress::Other(n) => n.clone(),
            TwilioAddress::Whatsapp(n) => format!("whatsapp:{n}"),
            TwilioAddress::Client(n) => format!("client:{n}"),
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// One media attachment of an inbound message (`MediaUrl{N}`, `MediaContentType{N}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// URL of the `ME…` media resource (fetching it needs the account's credentials).
    pub url: String,
    /// MIME type; empty if Twilio did not say.
    pub content_type: String,
}

/// The inbound message webhook (§1.1): SMS, MMS or WhatsApp via Twilio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub message_sid: String,
    pub account_sid: String,
    pub from: TwilioAddress,
    pub to: TwilioAddress,
    /// "" for a media-only message.
    pub body: String,
    pub media: Vec<Media>,
    /// WhatsApp display name.
    pub profile_name: Option<String>,
    /// WhatsApp id: digits, no `+`.
    pub wa_id: Option<String>,
}

impl InboundMessage {
    /// `MessageSid` must match `^(SM|MM)[0-9a-fA-F]{32}$`, `AccountSid` `^AC[0-9a-fA-F]{32}$`;
    /// `From` and `To` are required; `Body` may be absent (media-only) → "". Media are read for
    /// N = 0..`NumMedia`; an index whose `MediaUrl{N}` is missing is skipped rather than failing
    /// the customer's message.
    pub fn from_params(p: &[(String, String)]) -> Result<Self, WebhookError> {
        Ok(InboundMessage {
            message_sid: sid(p, "MessageSid", &["SM", "MM"])?,
            account_sid: sid(p, "AccountSid", &["AC"])?,
            from: parse_address(required(p, "From")?),
            to: parse_address(required(p, "To")?),
            body: get(p, "Body").unwrap_or_default().to_string(),
            media: media(p),
            profile_name: optional(p, "ProfileName"),
            wa_id: optional(p, "WaId"),
        })
    }
}

fn media(p: &[(String, String)]) -> Vec<Media> {
    let item = |i: usize| {
        let url = optional(p, &format!("MediaUrl{i}"))?;
        let content_type = optional(p, &format!("MediaContentType{i}")).unwrap_or_default();
        Some(Media { url, content_type })
    };
    match get(p, "NumMedia").and_then(|n| n.trim().parse::<usize>().ok()) {
        // Each attachment needs at least one parameter, which bounds a hostile NumMedia.
        Some(n) => (0..n.min(p.len())).filter_map(item).collect(),
        // NumMedia is always sent; if it is not, take the consecutive indices present.
        None => (0..p.len()).map_while(item).collect(),
    }
}

/// `MessageStatus` values (§1.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TwilioMessageStatus {
    Queued,
    Accepted,
    Scheduled,
    Canceled,
    Sending,
    Sent,
    Failed,
    Delivered,
    Undelivered,
    Read,
    Receiving,
    Received,
    /// Anything else, kept as sent (e.g. the deprecated `partially_delivered`).
    Other(String),
}

impl TwilioMessageStatus {
    /// Case-insensitive; unknown values → `Other(raw)`.
    pub fn parse(s: &str) -> Self {
        use TwilioMessageStatus::*;
        match s.to_ascii_lowercase().as_str() {
            "queued" => Queued,
            "accepted" => Accepted,
            "scheduled" => Scheduled,
            "canceled" => Canceled,
            "sending" => Sending,
            "sent" => Sent,
            "failed" => Failed,
            "delivered" => Delivered,
            "undelivered" => Undelivered,
            "read" => Read,
            "receiving" => Receiving,
            "received" => Received,
            _ => Other(s.to_string()),
        }
    }
}

/// The message status callback (§1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageStatus {
    pub message_sid: String,
    pub account_sid: String,
    /// `MessageStatus`, else the legacy `SmsStatus`.
    pub status: TwilioMessageStatus,
    /// A string, e.g. "30003"; only on `failed`/`undelivered`.
    pub error_code: Option<String>,
    /// Non-SMS channels' failure text.
    pub channel_status_message: Option<String>,
}

impl MessageStatus {
    pub fn from_params(p: &[(String, String)]) -> Result<Self, WebhookError> {
        let status = optional(p, "MessageStatus")
            .or_else(|| optional(p, "SmsStatus"))
            .ok_or(WebhookError::Missing("MessageStatus"))?;
        Ok(MessageStatus {
            message_sid: sid(p, "MessageSid", &["SM", "MM"])?,
            account_sid: sid(p, "AccountSid", &["AC"])?,
            status: TwilioMessageStatus::parse(&status),
            error_code: optional(p, "ErrorCode"),
            channel_status_message: optional(p, "ChannelStatusMessage"),
        })
    }
}

/// `CallStatus` / `DialCallStatus` values (§2.1, §2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TwilioCallStatus {
    Queued,
    Initiated,
    Ringing,
    /// `in-progress`: answered (also what the `answered` event sends).
    InProgress,
    Completed,
    Busy,
    Failed,
    /// `no-answer`: a missed call.
    NoAnswer,
    Canceled,
    /// Anything else, kept as sent (e.g. `DialCallStatus=answered`).
    Other(String),
}

impl TwilioCallStatus {
    /// Case-insensitive; unknown values → `Other(raw)`.
    pub fn parse(s: &str) -> Self {
        use TwilioCallStatus::*;
        match s.to_ascii_lowercase().as_str() {
            "queued" => Queued,
            "initiated" => Initiated,
            "ringing" => Ringing,
            "in-progress" => InProgress,
            "completed" => Completed,
            "busy" => Busy,
            "failed" => Failed,
            "no-answer" => NoAnswer,
            "canceled" => Canceled,
            _ => Other(s.to_string()),
        }
    }

    /// Whether the call (or dialled leg) was picked up: `in-progress`, `completed`, or the
    /// `answered` that `<Dial>` reports for some targets.
    pub fn was_answered(&self) -> bool {
        match self {
            TwilioCallStatus::InProgress | TwilioCallStatus::Completed => true,
            TwilioCallStatus::Other(s) => s.eq_ignore_ascii_case("answered"),
            _ => false,
        }
    }
}

/// The incoming call webhook (§2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingCall {
    pub call_sid: String,
    pub account_sid: String,
    pub from: TwilioAddress,
    pub to: TwilioAddress,
    pub call_status: TwilioCallStatus,
    /// `inbound`, `outbound-api`, `outbound-dial`.
    pub direction: String,
    /// "No caller ID" per §2.2 ([`caller_id::is_withheld`] on the raw `From`): never call or
    /// text such a caller back.
    pub caller_withheld: bool,
}

impl IncomingCall {
    /// `CallSid` must match `^CA[0-9a-fA-F]{32}$`. A missing `From` is read as "" (withheld), not
    /// as an error: an empty caller ID is one of the documented withheld forms and the call must
    /// still be answered.
    pub fn from_params(p: &[(String, String)]) -> Result<Self, WebhookError> {
        let raw_from = get(p, "From").unwrap_or_default();
        Ok(IncomingCall {
            call_sid: sid(p, "CallSid", &["CA"])?,
            account_sid: sid(p, "AccountSid", &["AC"])?,
            from: parse_address(raw_from),
            to: parse_address(required(p, "To")?),
            call_status: TwilioCallStatus::parse(required(p, "CallStatus")?),
            direction: required(p, "Direction")?.to_string(),
            caller_withheld: caller_id::is_withheld(raw_from),
        })
    }
}

/// A call status callback (§2.3), also the `<Dial>` action request (`DialCallStatus`) and the
/// `<Record>` action request (`RecordingUrl`, `RecordingDuration`). Callbacks can arrive out of
/// order: order them by `sequence_number`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStatusCallback {
    pub call_sid: String,
    pub account_sid: String,
    pub call_status: TwilioCallStatus,
    /// Seconds; terminal events.
    pub call_duration: Option<u32>,
    pub sequence_number: Option<u32>,
    /// `DialCallStatus` from a `<Dial>` action.
    pub dial_call_status: Option<TwilioCallStatus>,
    pub recording_url: Option<String>,
    pub recording_duration: Option<u32>,
}

impl CallStatusCallback {
    /// Numeric fields that are absent, empty or unreadable are `None`: the callback is
    /// authenticated and its status still matters.
    pub fn from_params(p: &[(String, String)]) -> Result<Self, WebhookError> {
        Ok(CallStatusCallback {
            call_sid: sid(p, "CallSid", &["CA"])?,
            account_sid: sid(p, "AccountSid", &["AC"])?,
            call_status: TwilioCallStatus::parse(required(p, "CallStatus")?),
            call_duration: opt_u32(p, "CallDuration"),
            sequence_number: opt_u32(p, "SequenceNumber"),
            dial_call_status: optional(p, "DialCallStatus").map(|s| TwilioCallStatus::parse(&s)),
            recording_url: optional(p, "RecordingUrl"),
            recording_duration: opt_u32(p, "RecordingDuration"),
        })
    }
}

/// The recording status callback (§2.4). `call_sid` is always the parent leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingCallback {
    pub call_sid: String,
    pub account_sid: String,
    /// `RE` + 32 hex.
    pub recording_sid: String,
    /// WAV; append `.mp3` for MP3. "" only when the status is not `completed`.
    pub recording_url: String,
    /// `in-progress`, `completed`, `absent`, `failed`.
    pub recording_status: String,
    pub recording_duration: Option<u32>,
}

impl RecordingCallback {
    /// A `completed` recording must carry its `RecordingUrl`; an `absent` or `failed` one may
    /// not (then ""). Conference recordings (no `CallSid`) are not supported: `Missing`.
    pub fn from_params(p: &[(String, String)]) -> Result<Self, WebhookError> {
        let recording_status = required_nonempty(p, "RecordingStatus")?;
        let recording_url = if recording_status.eq_ignore_ascii_case("completed") {
            required_nonempty(p, "RecordingUrl")?
        } else {
            get(p, "RecordingUrl").unwrap_or_default().to_string()
        };
        Ok(RecordingCallback {
            call_sid: sid(p, "CallSid", &["CA"])?,
            account_sid: sid(p, "AccountSid", &["AC"])?,
            recording_sid: sid(p, "RecordingSid", &["RE"])?,
            recording_url,
            recording_status,
            recording_duration: opt_u32(p, "RecordingDuration"),
        })
    }
}

/// The transcription callback (§2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptionCallback {
    pub call_sid: String,
    pub account_sid: String,
    pub recording_sid: Option<String>,
    /// None when absent or empty (e.g. on `failed`).
    pub transcription_text: Option<String>,
    /// `completed` | `failed`.
    pub transcription_status: String,
}

impl TranscriptionCallback {
    pub fn from_params(p: &[(String, String)]) -> Result<Self, WebhookError> {
        let recording_sid = match optional(p, "RecordingSid") {
            Some(s) => Some(check_sid("RecordingSid", &s, &["RE"])?),
            None => None,
        };
        Ok(TranscriptionCallback {
            call_sid: sid(p, "CallSid", &["CA"])?,
            account_sid: sid(p, "AccountSid", &["AC"])?,
            recording_sid,
            transcription_text: optional(p, "TranscriptionText"),
            transcription_status: required_nonempty(p, "TranscriptionStatus")?,
        })
    }
}

/// The first value of `name`. Twilio never repeats the parameters read here; if a request does,
/// the signature (which covers every value) has already vouched for it and the first one wins.
fn get<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn required<'a>(p: &'a [(String, String)], name: &'static str) -> Result<&'a str, WebhookError> {
    get(p, name).ok_or(WebhookError::Missing(name))
}

fn required_nonempty(p: &[(String, String)], name: &'static str) -> Result<String, WebhookError> {
    match required(p, name)? {
        "" => Err(WebhookError::Invalid {
            field: name,
            reason: "empty".into(),
        }),
        v => Ok(v.to_string()),
    }
}

/// Absent and empty (Twilio sends `ToCity=`) are both "not given".
fn optional(p: &[(String, String)], name: &str) -> Option<String> {
    get(p, name).filter(|v| !v.is_empty()).map(str::to_string)
}

fn opt_u32(p: &[(String, String)], name: &str) -> Option<u32> {
    get(p, name).and_then(|v| v.trim().parse().ok())
}

fn sid(
    p: &[(String, String)],
    name: &'static str,
    prefixes: &[&str],
) -> Result<String, WebhookError> {
    check_sid(name, required(p, name)?, prefixes)
}

/// A SID is a two-letter prefix and 32 hex digits.
fn check_sid(field: &'static str, value: &str, prefixes: &[&str]) -> Result<String, WebhookError> {
    let ok = value.len() == 34
        && prefixes.iter().any(|pre| value.starts_with(pre))
        && value.bytes().skip(2).all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(value.to_string())
    } else {
        Err(WebhookError::Invalid {
            field,
            reason: format!(
                "{value:?} is not {} followed by 32 hex digits",
                prefixes.join(" or ")
            ),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
