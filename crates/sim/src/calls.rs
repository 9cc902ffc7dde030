//! A customer's phone call, played through Twilio Voice: the incoming-call webhook, then
//! whatever the server's TwiML asks for. Answered (the garage picks up the `<Dial>`), missed
//! (nobody answers and the caller hangs up), or voicemail (a `<Record>`ed message, its recording
//! callback and, later, its transcription).

use chrono::Utc;
use rand::rngs::StdRng;
use rand::Rng;

use crate::callbacks::Answer;
use crate::random;
use crate::state::Sim;
use crate::summary::TwilioAccount;
use crate::twiml;
use crate::voice_payloads::{CallLeg, Recording};

/// How the caller means the call to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallPlan {
    /// Someone at the garage answers; they talk this long.
    Answered { talk_secs: u32 },
    /// Nobody answers and the caller hangs up without a message.
    Missed,
    /// The caller leaves a message this long, transcribed as given.
    Voicemail { secs: u32, transcript: String },
}

/// How it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallReport {
    pub call_sid: String,
    /// `answered`, `missed`, `voicemail`, or `refused` when the server did not take the call.
    pub outcome: &'static str,
    /// Whether every request was accepted (2xx).
    pub all_accepted: bool,
}

/// The path of the voice status callback configured on the garage's number.
pub const VOICE_STATUS_PATH: &str = "/webhooks/twilio/voice/status";
pub const VOICE_PATH: &str = "/webhooks/twilio/voice";

struct Call<'a> {
    sim: &'a Sim,
    token: &'a str,
    leg: CallLeg,
    all_accepted: bool,
    sequence: u32,
}

impl Call<'_> {
    async fn post(&mut self, url: &str, params: &[(String, String)]) -> Answer {
        let a = self.sim.poster.twilio(url, params, self.token).await;
        tracing::debug!(call_sid = %self.leg.call_sid, %url, http = a.status, "voice request");
        self.all_accepted &= a.ok();
        a
    }

    async fn status(&mut self, call_status: &str, duration: Option<u32>) {
        let params = self
            .leg
            .status(call_status, self.sequence, duration, Utc::now());
        self.sequence += 1;
        let url = self.sim.poster.public(VOICE_STATUS_PATH);
        self.post(&url, &params).await;
    }

    async fn pause(&self) {
        tokio::time::sleep(self.sim.delay()).await;
    }

    /// Reports the end of the `<Dial>`; returns the TwiML that follows.
    async fn dial_ended(
        &mut self,
        dial: &twiml::Dial,
        dial_status: &str,
        dial_sid: &str,
        secs: u32,
    ) -> twiml::Plan {
        let Some(action) = dial.action.as_deref() else {
            return twiml::Plan::default();
        };
        let params = self.leg.dial_action(dial_status, dial_sid, secs);
        let a = self.post(action, &params).await;
        twiml::parse(&a.body)
    }
}

/// Plays one call from `from` to the garage's number `to` on `account`.
pub async fn play(
    sim: &Sim,
    account: &TwilioAccount,
    to: &str,
    from: &str,
    plan: &CallPlan,
    rng: &mut StdRng,
) -> CallReport {
    let leg = CallLeg {
        account_sid: account.account_sid.clone(),
        call_sid: random::sid(rng, "CA"),
        from: from.to_string(),
        to: to.to_string(),
    };
    let mut call = Call {
        sim,
        token: &account.auth_token,
        leg,
        all_accepted: true,
        sequence: 0,
    };
    let voice_url = sim.poster.public(VOICE_PATH);
    let incoming = call.leg.incoming();
    let first = call.post(&voice_url, &incoming).await;
    if !first.ok() {
        return CallReport {
            call_sid: call.leg.call_sid,
            outcome: "refused",
            all_accepted: false,
        };
    }
    let answer = twiml::parse(&first.body);
    let ring_secs = rng.gen_range(4..20);
    let dial_sid = random::sid(rng, "CA");
    let outcome = match (plan, &answer.dial) {
        (CallPlan::Answered { talk_secs }, Some(dial)) => {
            call.pause().await;
            call.status("in-progress", None).await;
            call.pause().await;
            call.dial_ended(dial, "completed", &dial_sid, *talk_secs)
                .await;
            call.status("completed", Some(ring_secs + talk_secs)).await;
            "answered"
        }
        (CallPlan::Missed, dial) => {
            call.pause().await;
            if let Some(dial) = dial {
                call.dial_ended(dial, "no-answer", &dial_sid, 0).await;
            }
            call.status("no-answer", Some(0)).await;
            "missed"
        }
        (CallPlan::Voicemail { secs, transcript }, dial) => {
            voicemail(
                &mut call,
                &answer,
                dial.as_ref(),
                &dial_sid,
                *secs,
                transcript,
                ring_secs,
                rng,
            )
            .await
        }
        (CallPlan::Answered { talk_secs }, None) => {
            // The garage has no phone to ring: the caller gets voicemail and leaves a message.
            let transcript = random::pick(rng, crate::texts::TRANSCRIPTS).to_string();
            voicemail(
                &mut call,
                &answer,
                None,
                &dial_sid,
                (*talk_secs).clamp(5, 90),
                &transcript,
                ring_secs,
                rng,
            )
            .await
        }
    };
    CallReport {
        call_sid: call.leg.call_sid,
        outcome,
        all_accepted: call.all_accepted,
    }
}

#[allow(clippy::too_many_arguments)]
async fn voicemail(
    call: &mut Call<'_>,
    answer: &twiml::Plan,
    dial: Option<&twiml::Dial>,
    dial_sid: &str,
    secs: u32,
    transcript: &str,
    ring_secs: u32,
    rng: &mut StdRng,
) -> &'static str {
    let mut record = answer.record.clone();
    if let Some(dial) = dial {
        call.pause().await;
        let next = call.dial_ended(dial, "no-answer", dial_sid, 0).await;
        if next.record.is_some() {
            record = next.record;
        }
    }
    let Some(record) = record else {
        tracing::warn!(call_sid = %call.leg.call_sid, "the server's TwiML offers no <Record>: the caller hangs up");
        call.status("completed", Some(ring_secs)).await;
        return "missed";
    };
    call.pause().await;
    let recording = Recording::new(&call.leg.account_sid, &random::sid(rng, "RE"), secs);
    if let Some(action) = record.action.as_deref() {
        let params = call.leg.record_action(&recording);
        call.post(action, &params).await;
    }
    match record.recording_status_callback.as_deref() {
        Some(url) => {
            let started = Utc::now() - chrono::Duration::seconds(i64::from(secs));
            let params = call.leg.recording(&recording, started);
            call.post(url, &params).await;
        }
        None => {
            tracing::warn!(call_sid = %call.leg.call_sid, "the server's <Record> has no recordingStatusCallback: Twilio would not report the recording")
        }
    }
    call.status("completed", Some(ring_secs + 8 + secs)).await;
    if record.transcribe {
        match record.transcribe_callback.as_deref() {
            Some(url) => {
                call.pause().await;
                let params =
                    call.leg
                        .transcription(&recording, &random::sid(rng, "TR"), transcript);
                call.post(url, &params).await;
            }
            None => {
                tracing::warn!(call_sid = %call.leg.call_sid, "transcription without a transcribeCallback: the text would only be in Twilio's console")
            }
        }
    }
    "voicemail"
}
