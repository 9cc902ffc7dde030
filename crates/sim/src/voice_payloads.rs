//! Twilio Voice's wire formats as the simulator produces them (PROVIDERS §2): the form
//! parameters of the incoming-call webhook, the `<Dial>` and `<Record>` action requests, call
//! status, recording and transcription callbacks. Pure functions.

use chrono::{DateTime, Utc};

use crate::twilio_payloads::{params, rfc2822, Params, API_VERSION};

/// The parameters every voice request of one inbound call carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallLeg {
    pub account_sid: String,
    pub call_sid: String,
    pub from: String,
    pub to: String,
}

impl CallLeg {
    fn base(&self, call_status: &str) -> Params {
        params(&[
            ("AccountSid", &self.account_sid),
            ("ApiVersion", API_VERSION),
            ("CallSid", &self.call_sid),
            ("CallStatus", call_status),
            ("Called", &self.to),
            ("CalledCity", ""),
            ("CalledCountry", "GB"),
            ("CalledState", ""),
            ("CalledZip", ""),
            ("Caller", &self.from),
            ("CallerCity", ""),
            (
                "CallerCountry",
                if self.from.starts_with("+44") {
                    "GB"
                } else {
                    ""
                },
            ),
            ("CallerState", ""),
            ("CallerZip", ""),
            ("Direction", "inbound"),
            ("From", &self.from),
            ("FromCity", ""),
            (
                "FromCountry",
                if self.from.starts_with("+44") {
                    "GB"
                } else {
                    ""
                },
            ),
            ("FromState", ""),
            ("FromZip", ""),
            ("To", &self.to),
            ("ToCity", ""),
            ("ToCountry", "GB"),
            ("ToState", ""),
            ("ToZip", ""),
        ])
    }

    /// `POST /webhooks/twilio/voice`: the call is ringing at Twilio.
    pub fn incoming(&self) -> Params {
        self.base("ringing")
    }

    /// The `<Dial action>` request: how ringing the garage's phone ended.
    pub fn dial_action(&self, dial_status: &str, dial_call_sid: &str, dial_secs: u32) -> Params {
        let mut p = self.base(if dial_status == "completed" {
            "completed"
        } else {
            "in-progress"
        });
        p.push(("DialCallStatus".into(), dial_status.into()));
        p.push(("DialCallSid".into(), dial_call_sid.into()));
        p.push(("DialCallDuration".into(), dial_secs.to_string()));
        p.push((
            "DialBridged".into(),
            (dial_status == "completed").to_string(),
        ));
        p
    }

    /// A call status callback; `duration` (CallDuration) on terminal events only.
    pub fn status(
        &self,
        call_status: &str,
        sequence: u32,
        duration: Option<u32>,
        at: DateTime<Utc>,
    ) -> Params {
        let mut p = self.base(call_status);
        p.push(("CallbackSource".into(), "call-progress-events".into()));
        p.push(("SequenceNumber".into(), sequence.to_string()));
        p.push(("Timestamp".into(), rfc2822(at)));
        if let Some(d) = duration {
            p.push(("CallDuration".into(), d.to_string()));
            if call_status == "completed" {
                p.push(("Duration".into(), d.div_ceil(60).max(1).to_string()));
            }
        }
        p
    }

    /// The `<Record action>` request when the caller hangs up after the message.
    pub fn record_action(&self, recording: &Recording) -> Params {
        let mut p = self.base("completed");
        p.push(("RecordingSid".into(), recording.sid.clone()));
        p.push(("RecordingUrl".into(), recording.url.clone()));
        p.push(("RecordingDuration".into(), recording.secs.to_string()));
        p.push(("Digits".into(), "hangup".into()));
        p
    }

    /// The recording status callback (`recordingStatusCallback`), `completed`.
    pub fn recording(&self, recording: &Recording, started: DateTime<Utc>) -> Params {
        params(&[
            ("AccountSid", &self.account_sid),
            ("CallSid", &self.call_sid),
            ("RecordingSid", &recording.sid),
            ("RecordingUrl", &recording.url),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", &recording.secs.to_string()),
            ("RecordingChannels", "1"),
            ("RecordingStartTime", &rfc2822(started)),
            ("RecordingSource", "RecordVerb"),
            ("RecordingTrack", "both"),
        ])
    }

    /// The transcription callback (`transcribeCallback`), `completed`.
    pub fn transcription(
        &self,
        recording: &Recording,
        transcription_sid: &str,
        text: &str,
    ) -> Params {
        params(&[
            ("AccountSid", &self.account_sid),
            ("ApiVersion", API_VERSION),
            ("CallSid", &self.call_sid),
            ("CallStatus", "completed"),
            ("Called", &self.to),
            ("Caller", &self.from),
            ("Direction", "inbound"),
            ("ForwardedFrom", ""),
            ("From", &self.from),
            ("RecordingSid", &recording.sid),
            ("RecordingUrl", &recording.url),
            ("To", &self.to),
            ("TranscriptionSid", transcription_sid),
            ("TranscriptionStatus", "completed"),
            ("TranscriptionText", text),
            ("TranscriptionUrl", &format!("https://api.twilio.com/{API_VERSION}/Accounts/{}/Transcriptions/{transcription_sid}", self.account_sid)),
        ])
    }
}

/// A voicemail recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub sid: String,
    pub url: String,
    pub secs: u32,
}

impl Recording {
    pub fn new(account_sid: &str, sid: &str, secs: u32) -> Recording {
        Recording {
            url: format!(
                "https://api.twilio.com/{API_VERSION}/Accounts/{account_sid}/Recordings/{sid}"
            ),
            sid: sid.to_string(),
            secs,
        }
    }
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
    fn call_requests_follow_the_call() {
        let leg = CallLeg {
            account_sid: "AC1".into(),
            call_sid: "CA1".into(),
            from: "anonymous".into(),
            to: "+441632960001".into(),
        };
        let p = leg.incoming();
        assert_eq!(get(&p, "CallStatus"), Some("ringing"));
        assert_eq!(get(&p, "Caller"), Some("anonymous"));
        assert_eq!(get(&p, "CallerCountry"), Some(""));
        let d = leg.dial_action("no-answer", "CA2", 0);
        assert_eq!(get(&d, "DialCallStatus"), Some("no-answer"));
        let s = leg.status("completed", 2, Some(61), at());
        assert_eq!(get(&s, "SequenceNumber"), Some("2"));
        assert_eq!(get(&s, "CallDuration"), Some("61"));
        assert_eq!(get(&s, "Duration"), Some("2"), "billed minutes, rounded up");
        assert_eq!(
            get(&s, "Timestamp"),
            Some("Mon, 09 Mar 2026 14:05:07 +0000")
        );
        let missed = leg.status("no-answer", 0, Some(0), at());
        assert!(get(&missed, "Duration").is_none());
        let r = Recording::new("AC1", "RE1", 23);
        let rec = leg.recording(&r, at());
        assert_eq!(get(&rec, "RecordingStatus"), Some("completed"));
        assert_eq!(get(&rec, "RecordingDuration"), Some("23"));
        let t = leg.transcription(&r, "TR1", "Call me back");
        assert_eq!(get(&t, "TranscriptionText"), Some("Call me back"));
        assert_eq!(get(&t, "TranscriptionStatus"), Some("completed"));
        assert_eq!(get(&t, "RecordingSid"), Some("RE1"));
    }
}
