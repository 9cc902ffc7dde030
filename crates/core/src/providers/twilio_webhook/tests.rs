//! Twilio form webhooks parsed from bodies shaped as PROVIDERS.md §1–2 documents them, encoded
//! the way Twilio encodes them and decoded with `parse_form`.

use super::*;
use crate::providers::twilio_signature::parse_form;
use proptest::prelude::*;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const SMS_SID: &str = "SM5f1a2b3c4d5e6f708192a3b4c5d6e7f8";
const MMS_SID: &str = "MM0A1B2C3D4E5F60718293A4B5C6D7E8F9";
const CALL_SID: &str = "CAfedcba9876543210fedcba9876543210";
const REC_SID: &str = "RE00112233445566778899aabbccddeeff";
const GARAGE: &str = "+441632960000";
const CUSTOMER: &str = "+447700900123";

/// Encodes like Twilio (`+` for space, `%2B` for plus) and decodes like the server will.
fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (n, v) in pairs {
        ser.append_pair(n, v);
    }
    let body = ser.finish();
    assert!(
        !body.contains("+44"),
        "plus signs must travel encoded: {body}"
    );
    parse_form(body.as_bytes())
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn without(pairs: &[(String, String)], name: &str) -> Vec<(String, String)> {
    pairs.iter().filter(|(n, _)| n != name).cloned().collect()
}

fn with(pairs: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut out = without(pairs, name);
    out.push((name.to_string(), value.to_string()));
    out
}

fn mms() -> Vec<(String, String)> {
    let media0 = format!(
        "https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{MMS_SID}/Media/ME0123456789abcdef0123456789abcdef"
    );
    let media1 = format!(
        "https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{MMS_SID}/Media/ME1123456789abcdef0123456789abcdef"
    );
    form(&[
        ("ToCountry", "GB"),
        ("MediaContentType0", "image/jpeg"),
        ("ToState", ""),
        ("SmsMessageSid", MMS_SID),
        ("NumMedia", "2"),
        ("ToCity", ""),
        ("FromZip", ""),
        ("SmsSid", MMS_SID),
        ("FromState", ""),
        ("SmsStatus", "received"),
        ("FromCity", ""),
        ("Body", "Here's the dent on the wing + the scratch"),
        ("FromCountry", "GB"),
        ("To", GARAGE),
        ("MediaContentType1", "image/png"),
        ("MediaUrl1", &media1),
        ("ToZip", ""),
        ("NumSegments", "1"),
        ("MessageSid", MMS_SID),
        ("AccountSid", ACCOUNT),
        ("From", CUSTOMER),
        ("MediaUrl0", &media0),
        ("ApiVersion", "2010-04-01"),
    ])
}

#[test]
fn mms_parses_body_addresses_and_every_attachment_in_index_order() {
    let m = InboundMessage::from_params(&mms()).unwrap();
    assert_eq!(m.message_sid, MMS_SID);
    assert_eq!(m.account_sid, ACCOUNT);
    assert_eq!(m.from, TwilioAddress::Phone(CUSTOMER.into()));
    assert_eq!(m.to, TwilioAddress::Phone(GARAGE.into()));
    assert_eq!(m.body, "Here's the dent on the wing + the scratch");
    assert_eq!(m.media.len(), 2);
    assert!(m.media[0]
        .url
        .ends_with("/Media/ME0123456789abcdef0123456789abcdef"));
    assert_eq!(m.media[0].content_type, "image/jpeg");
    assert!(m.media[1]
        .url
        .ends_with("/Media/ME1123456789abcdef0123456789abcdef"));
    assert_eq!(m.media[1].content_type, "image/png");
    assert_eq!(m.profile_name, None);
    assert_eq!(m.wa_id, None);
}

#[test]
fn plain_sms_has_no_media_and_ignores_unknown_params() {
    let p = form(&[
        ("MessageSid", SMS_SID),
        ("AccountSid", ACCOUNT),
        ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"),
        ("From", CUSTOMER),
        ("To", GARAGE),
        ("Body", "Is my car ready?"),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("OptOutType", "HELP"),
        ("SomethingTwilioAddsNextYear", "{\"x\":1}"),
    ]);
    let m = InboundMessage::from_params(&p).unwrap();
    assert_eq!(m.body, "Is my car ready?");
    assert!(m.media.is_empty());
}

#[test]
fn media_only_message_without_body_reads_as_empty_text() {
    let p = without(&mms(), "Body");
    let m = InboundMessage::from_params(&p).unwrap();
    assert_eq!(m.body, "");
    assert_eq!(m.media.len(), 2);
}

#[test]
fn media_are_bounded_by_what_was_sent_not_by_num_media() {
    // A hostile or broken NumMedia neither loops for ever nor invents attachments.
    let p = with(&mms(), "NumMedia", "4294967295");
    assert_eq!(InboundMessage::from_params(&p).unwrap().media.len(), 2);
    // NumMedia below what was sent: only that many are read.
    let p = with(&mms(), "NumMedia", "1");
    assert_eq!(InboundMessage::from_params(&p).unwrap().media.len(), 1);
    // An index that is missing is skipped; the message is kept.
    let p = without(&mms(), "MediaUrl0");
    let m = InboundMessage::from_params(&p).unwrap();
    assert_eq!(m.media.len(), 1);
    assert_eq!(m.media[0].content_type, "image/png");
    // Without NumMedia, consecutive indices from 0 are taken.
    let p = without(&mms(), "NumMedia");
    assert_eq!(InboundMessage::from_params(&p).unwrap().media.len(), 2);
    let p = with(&mms(), "NumMedia", "two");
    assert_eq!(InboundMessage::from_params(&p).unwrap().media.len(), 2);
}

#[test]
fn whatsapp_via_twilio_carries_profile_name_and_wa_id() {
    let p = form(&[
        ("SmsMessageSid", SMS_SID),
        ("NumMedia", "0"),
        ("ProfileName", "Priya S"),
        ("MessageType", "text"),
        ("SmsSid", SMS_SID),
        ("WaId", "447700900123"),
        ("SmsStatus", "received"),
        ("Body", "Can I book an MOT for Friday?"),
        ("To", "whatsapp:+441632960000"),
        ("NumSegments", "1"),
        ("ReferralNumMedia", "0"),
        ("MessageSid", SMS_SID),
        ("AccountSid", ACCOUNT),
        ("From", "whatsapp:+447700900123"),
        ("ApiVersion", "2010-04-01"),
        ("Forwarded", "true"),
    ]);
    let m = InboundMessage::from_params(&p).unwrap();
    assert_eq!(m.from, TwilioAddress::Whatsapp(CUSTOMER.into()));
    assert_eq!(m.to, TwilioAddress::Whatsapp(GARAGE.into()));
    assert_eq!(m.from.e164(), Some(CUSTOMER));
    assert_eq!(m.from.to_raw(), "whatsapp:+447700900123");
    assert_eq!(m.profile_name.as_deref(), Some("Priya S"));
    assert_eq!(m.wa_id.as_deref(), Some("447700900123"));
    // Empty ProfileName/WaId read as not given.
    let p = with(&with(&p, "ProfileName", ""), "WaId", "");
    let m = InboundMessage::from_params(&p).unwrap();
    assert_eq!((m.profile_name, m.wa_id), (None, None));
}

#[test]
fn message_sid_and_account_sid_formats_are_enforced() {
    let base = mms();
    for bad in [
        "",
        "MM0A1B2C3D4E5F60718293A4B5C6D7E8F",   // 31 hex
        "MM0A1B2C3D4E5F60718293A4B5C6D7E8F90", // 33 hex
        "MG0A1B2C3D4E5F60718293A4B5C6D7E8F9",  // a messaging service, not a message
        "mm0A1B2C3D4E5F60718293A4B5C6D7E8F9",  // prefix is upper case
        "MM0A1B2C3D4E5F60718293A4B5C6D7E8FG",  // not hex
        " MM0A1B2C3D4E5F60718293A4B5C6D7E8F9",
        "MM0A1B2C3D4E5F60718293A4B5C6D7E8Fé",
    ] {
        let err = InboundMessage::from_params(&with(&base, "MessageSid", bad)).unwrap_err();
        assert!(
            matches!(
                err,
                WebhookError::Invalid {
                    field: "MessageSid",
                    ..
                }
            ),
            "{bad:?}: {err:?}"
        );
    }
    let err = InboundMessage::from_params(&with(&base, "AccountSid", MMS_SID)).unwrap_err();
    assert!(matches!(
        err,
        WebhookError::Invalid {
            field: "AccountSid",
            ..
        }
    ));
    assert_eq!(
        InboundMessage::from_params(&without(&base, "MessageSid")),
        Err(WebhookError::Missing("MessageSid"))
    );
    for required in ["AccountSid", "From", "To"] {
        assert_eq!(
            InboundMessage::from_params(&without(&base, required)),
            Err(WebhookError::Missing(required))
        );
    }
    assert_eq!(
        WebhookError::Missing("From").to_string(),
        "missing parameter From"
    );
    let invalid = InboundMessage::from_params(&with(&base, "MessageSid", "x")).unwrap_err();
    assert_eq!(
        invalid.to_string(),
        "invalid MessageSid: \"x\" is not SM or MM followed by 32 hex digits"
    );
}

#[test]
fn parse_address_recognises_each_documented_form() {
    use TwilioAddress::*;
    for (raw, want) in [
        ("+447700900123", Phone("+447700900123".into())),
        ("+14017122661", Phone("+14017122661".into())),
        ("whatsapp:+14017122661", Whatsapp("+14017122661".into())),
        ("WhatsApp:+447700900123", Whatsapp("+447700900123".into())),
        ("client:bob", Client("bob".into())),
        ("client:Anonymous", Client("Anonymous".into())),
        ("anonymous", Other("anonymous".into())),
        ("Restricted", Other("Restricted".into())),
        ("", Other("".into())),
        ("whatsapp:", Other("whatsapp:".into())),
        ("whatsapp:anonymous", Other("whatsapp:anonymous".into())),
        ("client:", Other("client:".into())),
        ("GarageCo", Other("GarageCo".into())),
        ("447700900123", Other("447700900123".into())),
        ("+44 7700 900123", Other("+44 7700 900123".into())),
        ("+", Other("+".into())),
        ("+1234567890123456", Other("+1234567890123456".into())),
        (
            "sip:alice@pbx.example",
            Other("sip:alice@pbx.example".into()),
        ),
        ("wh", Other("wh".into())),
        ("é", Other("é".into())),
    ] {
        assert_eq!(parse_address(raw), want, "{raw:?}");
        assert_eq!(
            parse_address(raw).to_raw().to_lowercase(),
            raw.to_lowercase()
        );
    }
    // Keypad spellings of withheld callers look like numbers: the withheld flag catches them.
    assert_eq!(parse_address("+266696687"), Phone("+266696687".into()));
}

fn status_callback(status: &str) -> Vec<(String, String)> {
    form(&[
        ("SmsSid", SMS_SID),
        ("SmsStatus", status),
        ("MessageStatus", status),
        ("To", CUSTOMER),
        ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"),
        ("MessageSid", SMS_SID),
        ("AccountSid", ACCOUNT),
        ("From", GARAGE),
        ("ApiVersion", "2010-04-01"),
    ])
}

#[test]
fn status_callback_reads_every_documented_status() {
    use TwilioMessageStatus::*;
    for (raw, want) in [
        ("queued", Queued),
        ("accepted", Accepted),
        ("scheduled", Scheduled),
        ("canceled", Canceled),
        ("sending", Sending),
        ("sent", Sent),
        ("failed", Failed),
        ("delivered", Delivered),
        ("undelivered", Undelivered),
        ("read", Read),
        ("receiving", Receiving),
        ("received", Received),
        ("partially_delivered", Other("partially_delivered".into())),
    ] {
        let s = MessageStatus::from_params(&status_callback(raw)).unwrap();
        assert_eq!(s.status, want, "{raw}");
        assert_eq!(s.message_sid, SMS_SID);
        assert_eq!(s.error_code, None);
    }
}

#[test]
fn failed_and_undelivered_callbacks_carry_the_error_code_as_a_string() {
    let p = with(&status_callback("undelivered"), "ErrorCode", "30003");
    let p = with(&p, "RawDlrDoneDate", "2501151342");
    let s = MessageStatus::from_params(&p).unwrap();
    assert_eq!(s.status, TwilioMessageStatus::Undelivered);
    assert_eq!(s.error_code.as_deref(), Some("30003"));

    let p = form(&[
        ("ChannelPrefix", "whatsapp"),
        ("ChannelInstallSid", "XE0123456789abcdef0123456789abcdef"),
        (
            "ChannelStatusMessage",
            "Message failed to send because more than 24 hours have passed",
        ),
        ("ErrorCode", "63016"),
        ("MessageStatus", "failed"),
        ("MessageSid", SMS_SID),
        ("AccountSid", ACCOUNT),
        ("From", "whatsapp:+441632960000"),
        ("To", "whatsapp:+447700900123"),
        ("StructuredMessage", "false"),
    ]);
    let s = MessageStatus::from_params(&p).unwrap();
    assert_eq!(s.status, TwilioMessageStatus::Failed);
    assert_eq!(s.error_code.as_deref(), Some("63016"));
    assert!(s
        .channel_status_message
        .as_deref()
        .unwrap()
        .contains("24 hours"));
}

#[test]
fn whatsapp_read_receipt_via_twilio() {
    let p = with(&status_callback("read"), "EventType", "READ");
    let p = with(&p, "ChannelToAddress", "+4477009XXXXX");
    assert_eq!(
        MessageStatus::from_params(&p).unwrap().status,
        TwilioMessageStatus::Read
    );
}

#[test]
fn status_falls_back_to_legacy_sms_status_and_is_required() {
    let p = without(&status_callback("delivered"), "MessageStatus");
    assert_eq!(
        MessageStatus::from_params(&p).unwrap().status,
        TwilioMessageStatus::Delivered
    );
    let p = without(&p, "SmsStatus");
    assert_eq!(
        MessageStatus::from_params(&p),
        Err(WebhookError::Missing("MessageStatus"))
    );
    let p = with(&status_callback("sent"), "ErrorCode", "");
    assert_eq!(MessageStatus::from_params(&p).unwrap().error_code, None);
}

fn incoming_call(from: Option<&str>) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("Called", GARAGE),
        ("ToState", ""),
        ("CallerCountry", "GB"),
        ("Direction", "inbound"),
        ("CallerState", ""),
        ("ToZip", ""),
        ("CallSid", CALL_SID),
        ("To", GARAGE),
        ("CallerZip", ""),
        ("ToCountry", "GB"),
        ("CallToken", "%7B%22parentCallInfoToken%22%3A%22eyJ%22%7D"),
        ("ApiVersion", "2010-04-01"),
        ("CalledZip", ""),
        ("CalledCity", ""),
        ("CallStatus", "ringing"),
        ("AccountSid", ACCOUNT),
        ("CalledCountry", "GB"),
        ("CallerCity", ""),
        ("ToCity", ""),
        ("FromCountry", "GB"),
        ("FromCity", ""),
        ("CalledState", ""),
        ("FromZip", ""),
        ("FromState", ""),
    ];
    if let Some(from) = from {
        pairs.push(("From", from));
        pairs.push(("Caller", from));
    }
    form(&pairs)
}

#[test]
fn incoming_call_from_a_customer_is_not_withheld() {
    let c = IncomingCall::from_params(&incoming_call(Some(CUSTOMER))).unwrap();
    assert_eq!(c.call_sid, CALL_SID);
    assert_eq!(c.account_sid, ACCOUNT);
    assert_eq!(c.from, TwilioAddress::Phone(CUSTOMER.into()));
    assert_eq!(c.to, TwilioAddress::Phone(GARAGE.into()));
    assert_eq!(c.call_status, TwilioCallStatus::Ringing);
    assert_eq!(c.direction, "inbound");
    assert!(!c.caller_withheld);

    let c = IncomingCall::from_params(&incoming_call(Some("client:front-desk"))).unwrap();
    assert_eq!(c.from, TwilioAddress::Client("front-desk".into()));
    assert!(!c.caller_withheld);
}

#[test]
fn voi3_incoming_call_from_a_withheld_caller_in_each_documented_form() {
    for from in [
        "anonymous",
        "Anonymous",
        "unknown",
        "+266696687",
        "+7378742833",
        "+2562533",
        "+8656696",
        "+86282452253",
        "Restricted",
        "Private",
        "Withheld",
        "UNAVAILABLE",
        "Blocked",
        "",
    ] {
        let c = IncomingCall::from_params(&incoming_call(Some(from))).unwrap();
        assert!(c.caller_withheld, "{from:?}");
        assert_eq!(c.from.to_raw(), from);
    }
    // No From at all is the empty caller ID, not an unanswerable call.
    let c = IncomingCall::from_params(&incoming_call(None)).unwrap();
    assert!(c.caller_withheld);
    assert_eq!(c.from, TwilioAddress::Other(String::new()));
}

#[test]
fn incoming_call_requires_a_call_sid_to_status_and_direction() {
    let base = incoming_call(Some(CUSTOMER));
    let err = IncomingCall::from_params(&with(&base, "CallSid", SMS_SID)).unwrap_err();
    assert!(matches!(
        err,
        WebhookError::Invalid {
            field: "CallSid",
            ..
        }
    ));
    for name in ["CallSid", "AccountSid", "To", "CallStatus", "Direction"] {
        assert_eq!(
            IncomingCall::from_params(&without(&base, name)),
            Err(WebhookError::Missing(name)),
            "{name}"
        );
    }
}

#[test]
fn call_statuses_parse_including_hyphenated_ones() {
    use TwilioCallStatus::*;
    for (raw, want) in [
        ("queued", Queued),
        ("initiated", Initiated),
        ("ringing", Ringing),
        ("in-progress", InProgress),
        ("completed", Completed),
        ("busy", Busy),
        ("failed", Failed),
        ("no-answer", NoAnswer),
        ("canceled", Canceled),
        ("No-Answer", NoAnswer),
        ("answered", Other("answered".into())),
    ] {
        assert_eq!(TwilioCallStatus::parse(raw), want, "{raw}");
    }
    assert!(TwilioCallStatus::parse("answered").was_answered());
    assert!(Completed.was_answered() && InProgress.was_answered());
    assert!(!NoAnswer.was_answered() && !Busy.was_answered() && !Ringing.was_answered());
}

fn call_status(status: &str, seq: &str) -> Vec<(String, String)> {
    form(&[
        ("Called", GARAGE),
        ("Direction", "inbound"),
        ("Timestamp", "Wed, 15 Jan 2025 13:42:07 +0000"),
        ("CallbackSource", "call-progress-events"),
        ("CallSid", CALL_SID),
        ("To", GARAGE),
        ("SequenceNumber", seq),
        ("CallStatus", status),
        ("From", CUSTOMER),
        ("AccountSid", ACCOUNT),
        ("ApiVersion", "2010-04-01"),
        ("StirStatus", "A"),
    ])
}

#[test]
fn call_status_callback_reads_sequence_and_duration() {
    let ringing = CallStatusCallback::from_params(&call_status("ringing", "0")).unwrap();
    assert_eq!(ringing.call_status, TwilioCallStatus::Ringing);
    assert_eq!(ringing.sequence_number, Some(0));
    assert_eq!(ringing.call_duration, None);

    let p = with(&call_status("completed", "2"), "CallDuration", "41");
    let p = with(&p, "Duration", "1");
    let p = with(&p, "SipResponseCode", "200");
    let done = CallStatusCallback::from_params(&p).unwrap();
    assert_eq!(done.call_sid, CALL_SID);
    assert_eq!(done.call_status, TwilioCallStatus::Completed);
    assert_eq!(done.sequence_number, Some(2));
    assert_eq!(done.call_duration, Some(41));
    assert_eq!(done.dial_call_status, None);
    assert_eq!(done.recording_url, None);

    let p = with(&call_status("no-answer", "1"), "CallDuration", "0");
    let p = with(&p, "SipResponseCode", "487");
    let missed = CallStatusCallback::from_params(&p).unwrap();
    assert_eq!(missed.call_status, TwilioCallStatus::NoAnswer);
    assert_eq!(missed.call_duration, Some(0));
}

#[test]
fn callbacks_sort_by_sequence_number_whatever_their_arrival_order() {
    let mut arrived: Vec<CallStatusCallback> =
        [("completed", "2"), ("ringing", "0"), ("in-progress", "1")]
            .iter()
            .map(|(s, n)| CallStatusCallback::from_params(&call_status(s, n)).unwrap())
            .collect();
    arrived.sort_by_key(|c| c.sequence_number);
    let order: Vec<_> = arrived.iter().map(|c| c.call_status.clone()).collect();
    assert_eq!(
        order,
        [
            TwilioCallStatus::Ringing,
            TwilioCallStatus::InProgress,
            TwilioCallStatus::Completed
        ]
    );
}

#[test]
fn unreadable_numbers_read_as_absent_without_losing_the_callback() {
    for bad in ["", "-1", "forty", "4294967296", "1.5"] {
        let p = with(&call_status("completed", bad), "CallDuration", bad);
        let c = CallStatusCallback::from_params(&p).unwrap();
        assert_eq!(
            (c.sequence_number, c.call_duration),
            (None, None),
            "{bad:?}"
        );
    }
}

#[test]
fn dial_action_request_carries_the_dialled_leg_status() {
    let p = form(&[
        ("AccountSid", ACCOUNT),
        ("CallSid", CALL_SID),
        ("CallStatus", "in-progress"),
        ("DialCallStatus", "no-answer"),
        ("DialCallSid", "CA00000000000000000000000000000001"),
        ("DialCallDuration", "0"),
        ("DialBridged", "false"),
        ("Direction", "inbound"),
        ("From", CUSTOMER),
        ("To", GARAGE),
    ]);
    let c = CallStatusCallback::from_params(&p).unwrap();
    assert_eq!(c.call_status, TwilioCallStatus::InProgress);
    assert_eq!(c.dial_call_status, Some(TwilioCallStatus::NoAnswer));
    let answered = with(&p, "DialCallStatus", "completed");
    assert_eq!(
        CallStatusCallback::from_params(&answered)
            .unwrap()
            .dial_call_status,
        Some(TwilioCallStatus::Completed)
    );
}

#[test]
fn record_action_request_carries_the_recording() {
    let url = format!("https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{REC_SID}");
    let p = form(&[
        ("AccountSid", ACCOUNT),
        ("CallSid", CALL_SID),
        ("CallStatus", "completed"),
        ("RecordingUrl", &url),
        ("RecordingDuration", "38"),
        ("RecordingSid", REC_SID),
        ("Digits", "hangup"),
    ]);
    let c = CallStatusCallback::from_params(&p).unwrap();
    assert_eq!(c.recording_url.as_deref(), Some(url.as_str()));
    assert_eq!(c.recording_duration, Some(38));
}

fn recording(status: &str) -> Vec<(String, String)> {
    let url = format!("https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{REC_SID}");
    form(&[
        ("RecordingSource", "RecordVerb"),
        ("RecordingSid", REC_SID),
        ("RecordingUrl", &url),
        ("RecordingStatus", status),
        ("RecordingChannels", "1"),
        ("ErrorCode", "0"),
        ("CallSid", CALL_SID),
        ("RecordingStartTime", "Wed, 15 Jan 2025 13:42:30 +0000"),
        ("AccountSid", ACCOUNT),
        ("RecordingDuration", "38"),
        ("RecordingTrack", "inbound"),
    ])
}

#[test]
fn recording_callback_for_a_completed_voicemail() {
    let r = RecordingCallback::from_params(&recording("completed")).unwrap();
    assert_eq!(r.call_sid, CALL_SID);
    assert_eq!(r.account_sid, ACCOUNT);
    assert_eq!(r.recording_sid, REC_SID);
    assert!(r.recording_url.ends_with(&format!("/Recordings/{REC_SID}")));
    assert_eq!(r.recording_status, "completed");
    assert_eq!(r.recording_duration, Some(38));

    assert_eq!(
        RecordingCallback::from_params(&without(&recording("completed"), "RecordingUrl")),
        Err(WebhookError::Missing("RecordingUrl"))
    );
    let err =
        RecordingCallback::from_params(&with(&recording("completed"), "RecordingSid", CALL_SID))
            .unwrap_err();
    assert!(matches!(
        err,
        WebhookError::Invalid {
            field: "RecordingSid",
            ..
        }
    ));
}

#[test]
fn recording_callback_for_an_absent_recording_may_lack_the_url() {
    let p = without(&recording("absent"), "RecordingUrl");
    let p = with(&with(&p, "ErrorCode", "13617"), "RecordingDuration", "0");
    let r = RecordingCallback::from_params(&p).unwrap();
    assert_eq!(r.recording_status, "absent");
    assert_eq!(r.recording_url, "");
    assert_eq!(r.recording_duration, Some(0));
    assert_eq!(
        RecordingCallback::from_params(&without(&p, "RecordingStatus")),
        Err(WebhookError::Missing("RecordingStatus"))
    );
}

fn transcription(status: &str, text: &str) -> Vec<(String, String)> {
    let rec_url =
        format!("https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{REC_SID}");
    form(&[
        ("ApiVersion", "2010-04-01"),
        ("TranscriptionType", "fast"),
        (
            "TranscriptionUrl",
            "https://api.twilio.com/2010-04-01/Accounts/x/Transcriptions/TR1",
        ),
        ("TranscriptionSid", "TR0123456789abcdef0123456789abcdef"),
        ("Called", GARAGE),
        ("RecordingSid", REC_SID),
        ("CallStatus", "completed"),
        ("RecordingUrl", &rec_url),
        ("From", CUSTOMER),
        ("Direction", "inbound"),
        ("url", "https://h.example/v/transcription"),
        ("AccountSid", ACCOUNT),
        ("TranscriptionText", text),
        ("Caller", CUSTOMER),
        ("TranscriptionStatus", status),
        ("CallSid", CALL_SID),
        ("To", GARAGE),
    ])
}

#[test]
fn transcription_callback_completed_and_failed() {
    let t = TranscriptionCallback::from_params(&transcription(
        "completed",
        "Hi it's Sam, calling about the Golf, is it ready for collection?",
    ))
    .unwrap();
    assert_eq!(t.call_sid, CALL_SID);
    assert_eq!(t.recording_sid.as_deref(), Some(REC_SID));
    assert_eq!(t.transcription_status, "completed");
    assert_eq!(
        t.transcription_text.as_deref(),
        Some("Hi it's Sam, calling about the Golf, is it ready for collection?")
    );

    let t = TranscriptionCallback::from_params(&transcription("failed", "")).unwrap();
    assert_eq!(t.transcription_status, "failed");
    assert_eq!(t.transcription_text, None);

    let p = without(&transcription("failed", ""), "RecordingSid");
    assert_eq!(
        TranscriptionCallback::from_params(&p)
            .unwrap()
            .recording_sid,
        None
    );
    let p = with(&p, "RecordingSid", "RE-not-a-sid");
    assert!(TranscriptionCallback::from_params(&p).is_err());
    let p = without(&transcription("completed", "x"), "TranscriptionStatus");
    assert_eq!(
        TranscriptionCallback::from_params(&p),
        Err(WebhookError::Missing("TranscriptionStatus"))
    );
}

#[test]
fn the_first_of_repeated_parameters_wins() {
    let mut p = mms();
    p.push(("Body".into(), "second".into()));
    let m = InboundMessage::from_params(&p).unwrap();
    assert_eq!(m.body, "Here's the dent on the wing + the scratch");
    // Names are case-sensitive: "body" is not "Body".
    let p = owned(&[
        ("MessageSid", SMS_SID),
        ("AccountSid", ACCOUNT),
        ("From", CUSTOMER),
        ("To", GARAGE),
        ("body", "lower"),
    ]);
    assert_eq!(InboundMessage::from_params(&p).unwrap().body, "");
}

/// Parameter lists mixing the names the parsers read with arbitrary values and noise.
fn params_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
    let names = prop::sample::select(vec![
        "MessageSid",
        "AccountSid",
        "CallSid",
        "RecordingSid",
        "From",
        "To",
        "Body",
        "NumMedia",
        "MediaUrl0",
        "MediaUrl1",
        "MediaContentType0",
        "MessageStatus",
        "SmsStatus",
        "ErrorCode",
        "CallStatus",
        "Direction",
        "CallDuration",
        "SequenceNumber",
        "DialCallStatus",
        "RecordingUrl",
        "RecordingStatus",
        "RecordingDuration",
        "TranscriptionStatus",
        "TranscriptionText",
    ]);
    let value = prop_oneof![
        any::<String>(),
        Just(SMS_SID.to_string()),
        Just(ACCOUNT.to_string()),
        Just(CALL_SID.to_string()),
        Just(REC_SID.to_string()),
        "[0-9]{0,12}",
        Just("completed".to_string()),
    ];
    let known = (names.prop_map(str::to_string), value);
    let noise = (any::<String>(), any::<String>());
    prop::collection::vec(prop_oneof![3 => known, 1 => noise], 0..30)
}

fn parse_all(p: &[(String, String)]) {
    let _ = InboundMessage::from_params(p);
    let _ = MessageStatus::from_params(p);
    let _ = IncomingCall::from_params(p);
    let _ = CallStatusCallback::from_params(p);
    let _ = RecordingCallback::from_params(p);
    let _ = TranscriptionCallback::from_params(p);
}

proptest! {
    #[test]
    fn prop_parsers_never_panic_on_arbitrary_params(p in params_strategy()) {
        parse_all(&p);
    }

    #[test]
    fn prop_parsers_never_panic_on_arbitrary_bodies(body in prop::collection::vec(any::<u8>(), 0..300)) {
        parse_all(&parse_form(&body));
    }

    #[test]
    fn prop_parse_address_never_panics_and_round_trips(raw in any::<String>()) {
        let a = parse_address(&raw);
        if let TwilioAddress::Phone(_) | TwilioAddress::Other(_) = a {
            prop_assert_eq!(a.to_raw(), raw);
        }
    }

    #[test]
    fn prop_valid_sids_are_accepted(hex in "[0-9a-fA-F]{32}", mms in any::<bool>()) {
        let sid = format!("{}{hex}", if mms { "MM" } else { "SM" });
        let p = owned(&[("MessageSid", &sid), ("AccountSid", ACCOUNT), ("From", CUSTOMER), ("To", GARAGE)]);
        prop_assert_eq!(InboundMessage::from_params(&p).unwrap().message_sid, sid);
    }
}

// Issue 13 fuzzing: structured mutations of valid webhooks (one field changed, dropped or
// repeated), and round trips through the form encoding Twilio uses. Cases: proptest's default
// (256), or `PROPTEST_CASES` for a long run.

/// A valid inbound SMS with `body`, as the parameters Twilio posts.
fn valid_inbound(body: &str, profile: &str) -> Vec<(String, String)> {
    owned(&[
        ("ToCountry", "GB"),
        ("SmsMessageSid", SMS_SID),
        ("NumMedia", "0"),
        ("MessageSid", SMS_SID),
        ("AccountSid", ACCOUNT),
        ("From", CUSTOMER),
        ("To", GARAGE),
        ("Body", body),
        ("ProfileName", profile),
        ("NumSegments", "1"),
        ("ApiVersion", "2010-04-01"),
    ])
}

/// What one mutation does to a parameter list.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, String),
    Remove(usize),
    /// Repeat a parameter with another value after it (the first value wins).
    Repeat(usize, String),
    Rename(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let value = prop_oneof![
        any::<String>(),
        "[0-9]{0,40}",
        "-?[0-9]{1,25}",
        Just(String::new()),
        Just("99999999999999999999999".to_string()),
        "[A-Z]{2}[0-9a-f]{0,40}",
    ];
    prop_oneof![
        (0..11usize, value.clone()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        (0..11usize).prop_map(Mutation::Remove),
        (0..11usize, value).prop_map(|(i, v)| Mutation::Repeat(i, v)),
        (0..11usize, "[A-Za-z]{0,12}").prop_map(|(i, n)| Mutation::Rename(i, n)),
    ]
}

/// Applies `m`; returns the parameter names it touched.
fn apply(p: &mut Vec<(String, String)>, m: &Mutation) -> Vec<String> {
    match m {
        Mutation::Replace(i, v) => {
            p[*i].1 = v.clone();
            vec![p[*i].0.clone()]
        }
        Mutation::Remove(i) => vec![p.remove(*i).0],
        Mutation::Repeat(i, v) => {
            let name = p[*i].0.clone();
            p.insert(*i + 1, (name.clone(), v.clone()));
            vec![name]
        }
        Mutation::Rename(i, n) => {
            let old = std::mem::replace(&mut p[*i].0, n.clone());
            vec![old, n.clone()]
        }
    }
}

proptest! {
    #[test]
    fn prop_any_inbound_text_survives_the_form_encoding_and_its_signature(
        body in any::<String>(),
        profile in any::<String>(),
        token in "[a-f0-9]{32}",
    ) {
        let url = "https://inbox.example.com/webhooks/twilio/sms";
        let sent = valid_inbound(&body, &profile);
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (n, v) in &sent {
            ser.append_pair(n, v);
        }
        let raw = ser.finish();
        let received = parse_form(raw.as_bytes());
        prop_assert_eq!(&received, &sent);
        let signature = crate::providers::twilio_signature::sign(url, &sent, &token);
        prop_assert!(crate::providers::twilio_signature::verify(url, &received, &token, &signature));
        let m = InboundMessage::from_params(&received).unwrap();
        prop_assert_eq!(m.body, body);
        prop_assert_eq!(m.profile_name, (!profile.is_empty()).then_some(profile));
        prop_assert_eq!(m.from, TwilioAddress::Phone(CUSTOMER.into()));
    }

    #[test]
    fn prop_a_valid_inbound_with_one_field_mutated_fails_only_on_a_required_field(
        body in any::<String>(),
        m in mutation(),
    ) {
        let mut p = valid_inbound(&body, "Sam");
        let touched = apply(&mut p, &m);
        let required = ["MessageSid", "AccountSid", "From", "To"];
        match InboundMessage::from_params(&p) {
            Ok(parsed) => {
                // What was not touched is read exactly as sent.
                let untouched = |name: &str| !touched.iter().any(|t| t == name);
                if untouched("Body") {
                    prop_assert_eq!(parsed.body, body);
                }
                if untouched("MessageSid") {
                    prop_assert_eq!(parsed.message_sid, SMS_SID);
                }
                if untouched("From") {
                    prop_assert_eq!(parsed.from.e164(), Some(CUSTOMER));
                }
                prop_assert!(parsed.media.is_empty(), "no MediaUrl was sent: {:?}", parsed.media);
            }
            Err(WebhookError::Missing(field)) | Err(WebhookError::Invalid { field, .. }) => {
                prop_assert!(required.contains(&field), "{field} should not fail a message");
                prop_assert!(touched.iter().any(|t| t == field), "{field} failed after {touched:?} was mutated");
            }
        }
        // The other webhooks of the same form never panic on it either.
        parse_all(&p);
    }

    #[test]
    fn prop_a_valid_status_callback_with_one_field_mutated_fails_only_on_a_required_field(
        m in mutation(),
        status in prop::sample::select(vec!["queued", "sent", "delivered", "undelivered", "failed", "read", "partially_delivered"]),
    ) {
        let mut p = owned(&[
            ("AccountSid", ACCOUNT),
            ("MessageSid", SMS_SID),
            ("SmsSid", SMS_SID),
            ("MessageStatus", status),
            ("SmsStatus", status),
            ("ErrorCode", "30003"),
            ("From", GARAGE),
            ("To", CUSTOMER),
            ("ApiVersion", "2010-04-01"),
            ("ChannelToAddress", "+4477009XXXXX"),
            ("RawDlrDoneDate", "2411221530"),
        ]);
        let touched = apply(&mut p, &m);
        match MessageStatus::from_params(&p) {
            Ok(s) => {
                let untouched = |name: &str| !touched.iter().any(|t| t == name);
                if untouched("MessageStatus") && untouched("SmsStatus") {
                    prop_assert_eq!(s.status, TwilioMessageStatus::parse(status));
                }
                if untouched("MessageSid") {
                    prop_assert_eq!(s.message_sid, SMS_SID);
                }
            }
            Err(WebhookError::Missing(field)) | Err(WebhookError::Invalid { field, .. }) => {
                let status_field = field == "MessageStatus" && touched.iter().any(|t| t == "SmsStatus");
                prop_assert!(
                    touched.iter().any(|t| t == field) || status_field,
                    "{field} failed after {touched:?} was mutated"
                );
            }
        }
    }
}
