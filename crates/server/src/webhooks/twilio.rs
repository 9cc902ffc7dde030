//! Twilio webhooks: form-encoded, verified with `X-Twilio-Signature` over the public URL we
//! configured plus the sorted POST parameters, keyed by the auth token of the `AccountSid`.

use crate::store::media::MediaSource;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use inbox_core::providers::status::{error_reason, from_twilio};
use inbox_core::providers::twilio_signature::{parse_form, verify};
use inbox_core::providers::twilio_webhook::{
    CallStatusCallback, InboundMessage, IncomingCall, MessageStatus, RecordingCallback,
    TranscriptionCallback, TwilioAddress, TwilioCallStatus,
};
use inbox_core::providers::twiml::{self, twiml_empty};
use inbox_core::providers::Provider;
use inbox_core::{phone, CallOutcome, Channel};

use super::{internal, refuse, twiml};
use crate::state::AppState;
use crate::store::{CallUpdate, NewCall, NewInbound, TwilioAccount};

/// A verified request: its account and parameters.
struct Verified {
    account: TwilioAccount,
    params: Vec<(String, String)>,
}

async fn verified(
    state: &AppState,
    uri: &OriginalUri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Verified, Response> {
    let params = parse_form(body);
    let Some(sid) = params
        .iter()
        .find(|(k, _)| k == "AccountSid")
        .map(|(_, v)| v.clone())
    else {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "no AccountSid: the request cannot be verified",
        ));
    };
    let account = match state.accounts.twilio(state.store.as_ref(), &sid).await {
        Ok(Some(a)) => a,
        Ok(None) => return Err(refuse(StatusCode::FORBIDDEN, "unknown AccountSid")),
        Err(e) => return Err(internal(e)),
    };
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let path = uri.0.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = state.providers.url(path);
    if signature.is_empty() || !verify(&url, &params, &account.auth_token, signature) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "the X-Twilio-Signature does not match",
        ));
    }
    Ok(Verified { account, params })
}

/// A parser of Twilio form parameters.
type Parse<T> =
    fn(&[(String, String)]) -> Result<T, inbox_core::providers::twilio_webhook::WebhookError>;

/// Verifies a request and parses its parameters as `T`; the error is the response to give.
async fn accept<T>(
    state: &AppState,
    uri: &OriginalUri,
    headers: &HeaderMap,
    body: &Bytes,
    parse: Parse<T>,
) -> Result<(TwilioAccount, T), Response> {
    let v = verified(state, uri, headers, body).await?;
    match parse(&v.params) {
        Ok(t) => Ok((v.account, t)),
        Err(e) => Err(refuse(StatusCode::BAD_REQUEST, e.to_string())),
    }
}

/// The number of a Twilio address as E.164 (or as given when it is not a phone number).
fn number(addr: &TwilioAddress) -> Option<String> {
    match addr {
        TwilioAddress::Phone(n) | TwilioAddress::Whatsapp(n) => {
            Some(phone::normalize(n).unwrap_or_else(|_| n.clone()))
        }
        TwilioAddress::Client(_) | TwilioAddress::Other(_) => None,
    }
}

/// The organisation's number the message or call was sent to must be one of the account's.
fn to_is_ours(account: &TwilioAccount, to: &TwilioAddress) -> bool {
    match number(to) {
        Some(n) => account.numbers.is_empty() || account.numbers.contains(&n),
        None => false,
    }
}

/// `POST /webhooks/twilio/sms`: inbound SMS/MMS, and WhatsApp through Twilio.
pub async fn sms(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (account, msg) =
        match accept(&state, &uri, &headers, &body, InboundMessage::from_params).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    if !to_is_ours(&account, &msg.to) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "the To number is not one of this account's numbers",
        );
    }
    let channel = if matches!(msg.from, TwilioAddress::Whatsapp(_)) {
        Channel::Whatsapp
    } else {
        Channel::Sms
    };
    let attachments = super::media::attachments(
        msg.media
            .iter()
            .map(|m| (m.content_type.as_str(), None, m.url.as_str())),
        MediaSource::Twilio,
    );
    let inbound = NewInbound {
        channel,
        from_number: number(&msg.from),
        customer_id: None,
        body: msg.body.clone(),
        attachments,
        uploads: Vec::new(),
        provider: Provider::Twilio,
        provider_id: msg.message_sid.clone(),
        // Its first arrival, when this is a replay from the spool.
        at: super::spool::received_at(&state),
    };
    match state.store.ingest_message(account.org_id, inbound).await {
        Ok(_) => twiml(twiml_empty()),
        Err(e) => internal(e),
    }
}

/// `POST /webhooks/twilio/status`: message status callbacks, applied forward only.
pub async fn status(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (account, s) = match accept(&state, &uri, &headers, &body, MessageStatus::from_params).await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    // Our reference to the reply (`?message=<id>`, set on every send): a callback for a send
    // whose answer was lost tells us the provider took it, and under which id.
    let reference = uri.0.query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("message="))
            .and_then(|v| v.parse::<inbox_core::Id>().ok())
    });
    if let Some(message_id) = reference {
        if let Err(e) = state
            .store
            .link_provider_id(
                account.org_id,
                message_id,
                Provider::Twilio,
                &s.message_sid,
                state.clock.now(),
            )
            .await
        {
            return internal(e);
        }
    }
    let Some(status) = from_twilio(&s.status) else {
        return twiml(twiml_empty());
    };
    let reason = s
        .error_code
        .as_deref()
        .map(|c| error_reason(Provider::Twilio, c, s.channel_status_message.as_deref()));
    match state
        .store
        .apply_delivery_status(
            account.org_id,
            Provider::Twilio,
            &s.message_sid,
            status,
            reason,
            state.clock.now(),
        )
        .await
    {
        Ok(_) => twiml(twiml_empty()),
        Err(e) => internal(e),
    }
}

/// `POST /webhooks/twilio/voice`: an incoming call. Rings the garage, then voicemail.
pub async fn voice(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (account, call) =
        match accept(&state, &uri, &headers, &body, IncomingCall::from_params).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let new = NewCall {
        from_number: if call.caller_withheld {
            None
        } else {
            number(&call.from)
        },
        provider_call_id: call.call_sid.clone(),
        outcome: CallOutcome::InProgress,
        duration_secs: 0,
        recording_url: None,
        recording_secs: None,
        transcript: None,
        at: state.clock.now(),
    };
    if let Err(e) = state.store.ingest_call(account.org_id, new).await {
        return internal(e);
    }
    let forward = match state.store.voice_forward_number(account.org_id).await {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    twiml(answer(&state, forward.as_deref()))
}

const GREETING: &str = "Sorry, nobody can take your call right now. Please leave a message after the tone and we will call you back.";

/// Ring the garage's phone (if it has one set up), else straight to voicemail.
fn answer(state: &AppState, forward_to: Option<&str>) -> String {
    match forward_to {
        Some(number) => twiml::twiml_ring(
            number,
            20,
            &state.providers.url("/webhooks/twilio/voice/dial"),
        ),
        None => twiml::twiml_voicemail(
            GREETING,
            &recorded_url(state),
            &state.providers.url("/webhooks/twilio/voice/recording"),
            &transcribe_url(state),
        ),
    }
}

fn recorded_url(state: &AppState) -> String {
    state.providers.url("/webhooks/twilio/voice/recorded")
}

fn transcribe_url(state: &AppState) -> String {
    state.providers.url("/webhooks/twilio/voice/transcription")
}

/// `POST /webhooks/twilio/voice/dial`: the ring ended. Answered → done; otherwise voicemail.
pub async fn dial(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (account, cb) = match accept(
        &state,
        &uri,
        &headers,
        &body,
        CallStatusCallback::from_params,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let answered = cb
        .dial_call_status
        .as_ref()
        .is_some_and(TwilioCallStatus::was_answered);
    let update = CallUpdate {
        outcome: Some(if answered {
            CallOutcome::Answered
        } else {
            CallOutcome::Missed
        }),
        at: state.clock.now(),
        ..CallUpdate::default()
    };
    if let Err(e) = state
        .store
        .update_call(account.org_id, &cb.call_sid, update)
        .await
    {
        return internal(e);
    }
    twiml(twiml::twiml_after_dial(
        cb.dial_call_status.as_ref(),
        GREETING,
        &recorded_url(&state),
        &state.providers.url("/webhooks/twilio/voice/recording"),
        &transcribe_url(&state),
    ))
}

/// `POST /webhooks/twilio/voice/recorded`: the `<Record>` action once the caller hangs up or
/// the recording ends; the recording itself arrives on `/voice/recording`.
pub async fn recorded(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match verified(&state, &uri, &headers, &body).await {
        Ok(_) => twiml(twiml::twiml_hangup()),
        Err(r) => r,
    }
}

/// The outcome a call-progress status gives a call that is `current` now. Only a bridged
/// `<Dial>` makes a call answered (see `dial`): a caller who hangs up during the voicemail
/// greeting also ends `completed` with a duration, and that is a missed call.
fn outcome(status: &TwilioCallStatus, current: CallOutcome) -> Option<CallOutcome> {
    let settled = matches!(current, CallOutcome::Answered | CallOutcome::Voicemail);
    match status {
        _ if settled => None,
        TwilioCallStatus::Completed
        | TwilioCallStatus::NoAnswer
        | TwilioCallStatus::Busy
        | TwilioCallStatus::Canceled => Some(CallOutcome::Missed),
        TwilioCallStatus::Failed => Some(CallOutcome::Errored),
        _ => None,
    }
}

/// `POST /webhooks/twilio/voice/status`: call progress, in `SequenceNumber` order.
pub async fn voice_status(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (account, cb) = match accept(
        &state,
        &uri,
        &headers,
        &body,
        CallStatusCallback::from_params,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let current = match state
        .store
        .call_by_provider_id(account.org_id, &cb.call_sid)
        .await
    {
        Ok(Some(c)) => c,
        Ok(None) => return twiml(twiml_empty()),
        Err(e) => return internal(e),
    };
    let answered = current.outcome == CallOutcome::Answered;
    let update = CallUpdate {
        outcome: outcome(&cb.call_status, current.outcome),
        duration_secs: if answered { cb.call_duration } else { None },
        sequence: cb.sequence_number,
        at: state.clock.now(),
        ..CallUpdate::default()
    };
    apply_call_update(&state, &account, &cb.call_sid, update).await
}

/// Applies what a voice callback learned and answers Twilio.
async fn apply_call_update(
    state: &AppState,
    account: &TwilioAccount,
    call_sid: &str,
    update: CallUpdate,
) -> Response {
    match state
        .store
        .update_call(account.org_id, call_sid, update)
        .await
    {
        Ok(_) => twiml(twiml_empty()),
        Err(e) => internal(e),
    }
}

/// `POST /webhooks/twilio/voice/recording`: a voicemail was recorded.
pub async fn recording(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (account, cb) = match accept(
        &state,
        &uri,
        &headers,
        &body,
        RecordingCallback::from_params,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    if cb.recording_status != "completed" {
        return twiml(twiml_empty());
    }
    let update = CallUpdate {
        outcome: Some(CallOutcome::Voicemail),
        recording_url: Some(cb.recording_url.clone()),
        recording_secs: cb.recording_duration,
        at: state.clock.now(),
        ..CallUpdate::default()
    };
    apply_call_update(&state, &account, &cb.call_sid, update).await
}

/// `POST /webhooks/twilio/voice/transcription`: the voicemail's text.
pub async fn transcription(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (account, cb) = match accept(
        &state,
        &uri,
        &headers,
        &body,
        TranscriptionCallback::from_params,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(text) = cb
        .transcription_text
        .filter(|t| cb.transcription_status == "completed" && !t.trim().is_empty())
    else {
        return twiml(twiml_empty());
    };
    let update = CallUpdate {
        transcript: Some(text),
        at: state.clock.now(),
        ..CallUpdate::default()
    };
    apply_call_update(&state, &account, &cb.call_sid, update).await
}
