//! The simulator's control API, for fault campaigns (`cargo xtask chaos`) and tests: inject a
//! fault into the next sends, list every send the fake providers accepted, and make a customer
//! send one given message (with a given provider id, so a retry is the provider's redelivery).
//!
//! - `POST /sim/faults` `{ "fault": "none"|"error"|"timeout"|"slow", "count": N }` → 204
//! - `GET /sim/faults` → `{ "met": { "error": N, … } }`: how many sends met each fault
//! - `GET /sim/sent` → `{ "sent": [{ "provider", "id", "body" }] }`, oldest first, all of them
//! - `POST /sim/inbound` `{ "channel": "sms"|"whatsapp", "from": "+44…", "body", "id" }` →
//!   `{ "status": <the server's HTTP status, 0 when unreachable> }`

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::Rng;
use serde::Deserialize;
use serde_json::json;

use crate::meta_payloads::{inbound_notification, Business, Content, Inbound};
use crate::random;
use crate::state::{SendFault, Sim};
use crate::twilio_payloads::inbound_message;

/// How long a [`SendFault::Timeout`] send waits before answering: past the server's 20 s
/// provider timeout.
pub const TIMEOUT_HOLD: Duration = Duration::from_secs(21);

/// Delays a send's answer as its fault says (nothing for the others).
pub async fn hold_answer(sim: &Sim, fault: SendFault) {
    let wait = match fault {
        SendFault::Timeout => TIMEOUT_HOLD,
        SendFault::Slow => Duration::from_millis(sim.with_rng(|r| r.gen_range(1500..5000))),
        SendFault::None | SendFault::Error => return,
    };
    tracing::warn!(
        ?fault,
        ms = wait.as_millis() as u64,
        "fake provider: holding the answer"
    );
    tokio::time::sleep(wait).await;
}

#[derive(Debug, Deserialize)]
pub struct FaultRequest {
    pub fault: SendFault,
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

/// `POST /sim/faults`
pub async fn set_fault(State(sim): State<Arc<Sim>>, Json(r): Json<FaultRequest>) -> StatusCode {
    tracing::info!(fault = ?r.fault, count = r.count, "fault set for the next sends");
    sim.set_fault(r.fault, r.count);
    StatusCode::NO_CONTENT
}

/// `GET /sim/faults`
pub async fn faults_met(State(sim): State<Arc<Sim>>) -> Json<serde_json::Value> {
    Json(json!({ "met": sim.faults_met() }))
}

/// `GET /sim/sent`
pub async fn sent(State(sim): State<Arc<Sim>>) -> Json<serde_json::Value> {
    let sent: Vec<_> = sim
        .ledger()
        .into_iter()
        .map(|(provider, id, body)| json!({ "provider": provider, "id": id, "body": body }))
        .collect();
    Json(json!({ "sent": sent }))
}

#[derive(Debug, Deserialize)]
pub struct InboundRequest {
    pub channel: String,
    pub from: String,
    pub body: String,
    /// The provider's id (`SM…` or `wamid.…`): the same id again is a redelivery.
    pub id: String,
}

/// `POST /sim/inbound`
pub async fn inbound(State(sim): State<Arc<Sim>>, Json(r): Json<InboundRequest>) -> Response {
    let org = match sim.summary.org(sim.config.org_index) {
        Ok(o) => o.clone(),
        Err(e) => return (StatusCode::CONFLICT, e.to_string()).into_response(),
    };
    let answer = match r.channel.as_str() {
        "sms" => {
            let (Some(account), Some(to)) = (org.twilio.as_ref(), org.garage_number()) else {
                return (StatusCode::CONFLICT, "no Twilio number").into_response();
            };
            let params = inbound_message(&account.account_sid, &r.id, &r.from, to, &r.body, &[]);
            sim.poster
                .twilio(
                    &sim.poster.public("/webhooks/twilio/sms"),
                    &params,
                    &account.auth_token,
                )
                .await
        }
        "whatsapp" => {
            let Some(wa) = org.whatsapp.as_ref() else {
                return (StatusCode::CONFLICT, "no WhatsApp number").into_response();
            };
            let business = Business {
                phone_number_id: wa.phone_number_id.clone(),
                display_phone_number: org
                    .garage_number()
                    .map(random::wa_id)
                    .unwrap_or_else(|| "15550001234".into()),
            };
            let message = Inbound {
                wa_id: random::wa_id(&r.from),
                profile_name: "Chaos Customer".into(),
                id: r.id.clone(),
                timestamp: chrono::Utc::now().timestamp(),
                content: Content::Text(r.body.clone()),
            };
            sim.poster
                .meta(&inbound_notification(&business, &message))
                .await
        }
        other => {
            return (
                StatusCode::BAD_REQUEST,
                format!("unknown channel {other:?}"),
            )
                .into_response()
        }
    };
    Json(json!({ "status": answer.status })).into_response()
}
