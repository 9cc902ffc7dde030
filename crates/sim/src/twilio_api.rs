//! The fake Twilio Messages API: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`. Checks
//! HTTP Basic auth against the seed summary's accounts and the required parameters, answers 201
//! with the message resource, then plays the carrier: `sent` then `delivered` status callbacks
//! (or `failed`/`undelivered` with an `ErrorCode`), each signed as Twilio signs.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use inbox_core::providers::twilio_signature::parse_form;
use rand::Rng;

use crate::random;
use crate::state::{SendFault, Sent, Sim};
use crate::summary::TwilioAccount;
use crate::twilio_payloads::{error, message_resource, message_status};

/// How an outbound message ends when it fails: (status, ErrorCode, whether `sent` came first).
pub const FAILURES: &[(&str, &str, bool)] = &[
    ("undelivered", "30003", true),
    ("undelivered", "30005", true),
    ("undelivered", "30006", true),
    ("failed", "21610", false),
    ("failed", "30007", false),
];

/// `(user, password)` of an `Authorization: Basic …` header.
pub fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// A validated create-message request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub to: String,
    pub from: String,
    pub body: String,
    pub status_callback: Option<String>,
    /// The MMS's `MediaUrl`s, which the simulator fetches as Twilio does.
    pub media_urls: Vec<String>,
}

fn looks_like_address(s: &str) -> bool {
    let number = s.strip_prefix("whatsapp:").unwrap_or(s);
    number.len() > 4 && number.starts_with('+') && number[1..].chars().all(|c| c.is_ascii_digit())
}

/// Checks the form like Twilio: `(HTTP status, error code, message)` when it is refused.
pub fn validate(
    params: &[(String, String)],
    account: &TwilioAccount,
) -> Result<NewMessage, (u16, u32, String)> {
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let to = get("To").ok_or((400, 21604, "A 'To' phone number is required.".to_string()))?;
    if !looks_like_address(&to) {
        return Err((400, 21211, format!("Invalid 'To' Phone Number: {to}")));
    }
    let from = get("From").ok_or((400, 21603, "A 'From' phone number is required.".to_string()))?;
    let from_number = from.strip_prefix("whatsapp:").unwrap_or(&from);
    if !account.numbers.is_empty() && !account.numbers.iter().any(|n| n == from_number) {
        return Err((400, 21606, format!("The 'From' phone number provided ({from}) is not a valid message-capable Twilio phone number for this destination.")));
    }
    let body = params
        .iter()
        .find(|(n, _)| n == "Body")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let has_media = params
        .iter()
        .any(|(n, _)| n == "MediaUrl" || n == "ContentSid");
    if body.trim().is_empty() && !has_media {
        return Err((400, 21602, "Message body is required.".to_string()));
    }
    if body.chars().count() > 1600 {
        return Err((
            400,
            21617,
            "The concatenated message body exceeds the 1600 character limit.".to_string(),
        ));
    }
    Ok(NewMessage {
        to,
        from,
        body,
        status_callback: get("StatusCallback"),
        media_urls: params
            .iter()
            .filter(|(n, _)| n == "MediaUrl")
            .map(|(_, v)| v.clone())
            .collect(),
    })
}

fn refuse(status: u16, code: u32, message: &str) -> Response {
    let http = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (http, Json(error(status, code, message))).into_response()
}

/// `POST /2010-04-01/Accounts/{sid}/Messages.json`
pub async fn create_message(
    State(sim): State<Arc<Sim>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let account = match (basic_auth(&headers), sim.summary.twilio_account(&sid)) {
        (Some((user, password)), Some(account))
            if user == sid && password == account.auth_token =>
        {
            account.clone()
        }
        _ => {
            tracing::warn!(account_sid = %sid, "fake Twilio: authentication failed");
            return refuse(401, 20003, "Authenticate");
        }
    };
    let params = parse_form(&body);
    let msg = match validate(&params, &account) {
        Ok(m) => m,
        Err((status, code, message)) => {
            tracing::warn!(code, %message, "fake Twilio: message refused");
            return refuse(status, code, &message);
        }
    };
    let fault = sim.take_fault();
    if fault == SendFault::Error {
        tracing::warn!("fake Twilio: injected 503");
        return refuse(503, 20500, "Service Unavailable (injected)");
    }
    let media = match crate::outbound_media::fetch_all(&sim, &msg.media_urls).await {
        Ok(m) => m,
        Err(why) => {
            tracing::warn!(%why, "fake Twilio: a MediaUrl could not be fetched");
            return refuse(400, 21620, &format!("Invalid media URL(s): {why}"));
        }
    };
    let message_sid = sim.with_rng(|r| random::sid(r, "SM"));
    let at = chrono::Utc::now();
    let resource = message_resource(&message_sid, &sid, &msg.from, &msg.to, &msg.body, at);
    tracing::info!(sid = %message_sid, to = %msg.to, chars = msg.body.chars().count(), "fake Twilio: message queued");
    sim.record_sent(Sent {
        provider: "twilio",
        id: message_sid.clone(),
        account: sid.clone(),
        from: msg.from.clone(),
        to: msg.to.clone(),
        at,
        body: msg.body.clone(),
        final_status: None,
        status: "queued".into(),
        error_code: None,
        media,
    });
    match msg.status_callback.clone() {
        Some(callback) => {
            tokio::spawn(play_statuses(
                Arc::clone(&sim),
                account,
                message_sid,
                msg,
                callback,
            ));
        }
        None => {
            tracing::info!(sid = %message_sid, "fake Twilio: no StatusCallback, so no status callbacks")
        }
    }
    crate::admin::hold_answer(&sim, fault).await;
    (StatusCode::CREATED, Json(resource)).into_response()
}

/// Twilio's Messages lookup (`GET …/Messages/{MessageSid}.json`): the message as it stands,
/// status and error code included; 404 (code 20404) for a message this account never sent.
pub async fn fetch_message(
    State(sim): State<Arc<Sim>>,
    Path((sid, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    match (basic_auth(&headers), sim.summary.twilio_account(&sid)) {
        (Some((user, password)), Some(account))
            if user == sid && password == account.auth_token => {}
        _ => return refuse(401, 20003, "Authenticate"),
    }
    let Some(message_sid) = file.strip_suffix(".json") else {
        return refuse(404, 20404, "The requested resource was not found");
    };
    let Some(sent) = sim.sent_one("twilio", message_sid) else {
        return refuse(404, 20404, "The requested resource was not found");
    };
    (StatusCode::OK, Json(resource_now(&sent))).into_response()
}

/// A message resource as Twilio reports it now (its current status and error code).
fn resource_now(sent: &Sent) -> serde_json::Value {
    let mut resource = message_resource(
        &sent.id,
        &sent.account,
        &sent.from,
        &sent.to,
        &sent.body,
        sent.at,
    );
    resource["status"] = sent.status.clone().into();
    resource["error_code"] = sent
        .error_code
        .as_deref()
        .and_then(|c| c.parse::<i64>().ok())
        .into();
    resource
}

/// `GET /2010-04-01/Accounts/{sid}/Messages.json?To=…&PageSize=…`: the account's messages to one
/// number, newest first (Twilio's message list, one page; other filters are not simulated).
pub async fn list_messages(
    State(sim): State<Arc<Sim>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    match (basic_auth(&headers), sim.summary.twilio_account(&sid)) {
        (Some((user, password)), Some(account))
            if user == sid && password == account.auth_token => {}
        _ => return refuse(401, 20003, "Authenticate"),
    }
    let Some(to) = query.get("To") else {
        return refuse(400, 21604, "A 'To' phone number is required.");
    };
    let size = query
        .get("PageSize")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(50)
        .clamp(1, 1000);
    let messages: Vec<serde_json::Value> = sim
        .sent_to("twilio", &sid, to)
        .iter()
        .take(size)
        .map(resource_now)
        .collect();
    let uri = format!("/2010-04-01/Accounts/{sid}/Messages.json?To={to}&PageSize={size}&Page=0");
    Json(serde_json::json!({
        "messages": messages,
        "first_page_uri": uri,
        "next_page_uri": null,
        "previous_page_uri": null,
        "page": 0,
        "page_size": size,
        "uri": uri,
    }))
    .into_response()
}

/// The carrier's part: `sent` → `delivered`, or a failure, each after a delay.
async fn play_statuses(
    sim: Arc<Sim>,
    account: TwilioAccount,
    message_sid: String,
    msg: NewMessage,
    callback: String,
) {
    let failure = sim
        .next_fails()
        .then(|| sim.with_rng(|r| FAILURES[r.gen_range(0..FAILURES.len())]));
    let mut steps: Vec<(&str, Option<&str>)> = Vec::new();
    match failure {
        None => steps.extend([("sent", None), ("delivered", None)]),
        Some((status, code, via_sent)) => {
            if via_sent {
                steps.push(("sent", None));
            }
            steps.push((status, Some(code)));
        }
    }
    for (status, code) in steps {
        tokio::time::sleep(sim.delay()).await;
        let done = matches!(status, "delivered" | "undelivered").then(chrono::Utc::now);
        let params = message_status(
            &account.account_sid,
            &message_sid,
            &msg.from,
            &msg.to,
            status,
            code,
            done,
        );
        let answer = sim
            .poster
            .twilio(&callback, &params, &account.auth_token)
            .await;
        sim.record_status(&message_sid, status, code);
        tracing::info!(sid = %message_sid, status, error_code = code.unwrap_or(""), http = answer.status, "twilio status callback");
        if matches!(status, "delivered" | "undelivered" | "failed") {
            sim.record_final(&message_sid, status);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use axum::http::HeaderValue;

    use super::*;

    fn account() -> TwilioAccount {
        TwilioAccount {
            account_sid: "AC1".into(),
            auth_token: "tok".into(),
            numbers: vec!["+441632960001".into()],
        }
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn basic_auth_is_decoded() {
        let mut h = HeaderMap::new();
        assert_eq!(basic_auth(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {}", STANDARD.encode("AC1:tok"))).unwrap(),
        );
        assert_eq!(basic_auth(&h), Some(("AC1".into(), "tok".into())));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(basic_auth(&h), None);
    }

    #[test]
    fn sends_are_validated_with_twilios_codes() {
        let ok = validate(
            &form(&[
                ("To", "+447700900001"),
                ("From", "+441632960001"),
                ("Body", "Ready"),
                ("StatusCallback", "https://i.test/webhooks/twilio/status"),
            ]),
            &account(),
        )
        .unwrap();
        assert_eq!(
            ok.status_callback.as_deref(),
            Some("https://i.test/webhooks/twilio/status")
        );
        let code = |pairs: &[(&str, &str)]| validate(&form(pairs), &account()).unwrap_err().1;
        assert_eq!(code(&[("From", "+441632960001"), ("Body", "x")]), 21604);
        assert_eq!(
            code(&[
                ("To", "07700 900001"),
                ("From", "+441632960001"),
                ("Body", "x")
            ]),
            21211
        );
        assert_eq!(code(&[("To", "+447700900001"), ("Body", "x")]), 21603);
        assert_eq!(
            code(&[("To", "+447700900001"), ("From", "+441632960001")]),
            21602
        );
        assert_eq!(
            code(&[
                ("To", "+447700900001"),
                ("From", "+441632960009"),
                ("Body", "x")
            ]),
            21606
        );
        let long = "a".repeat(1601);
        assert_eq!(
            code(&[
                ("To", "+447700900001"),
                ("From", "+441632960001"),
                ("Body", &long)
            ]),
            21617
        );
        assert!(validate(
            &form(&[
                ("To", "whatsapp:+447700900001"),
                ("From", "whatsapp:+441632960001"),
                ("Body", "x")
            ]),
            &account()
        )
        .is_ok());
    }

    #[test]
    fn failures_carry_codes_of_their_kind() {
        for (status, code, via_sent) in FAILURES {
            assert!(matches!(*status, "failed" | "undelivered"));
            assert_eq!(
                *via_sent,
                *status == "undelivered",
                "undelivered means the carrier had it"
            );
            assert!(code.len() == 5 && code.chars().all(|c| c.is_ascii_digit()));
        }
    }
}
