//! The fake WhatsApp Cloud API: `POST /{version}/{phone_number_id}/messages`. Checks the bearer
//! token is there and the body is a text, file or template send (or a mark-as-read), answers
//! like Graph, then plays the handset: `sent` → `delivered` → `read` statuses (or `failed` with
//! 131026) posted to the server's `/webhooks/whatsapp`, signed with the app secret. A file, and
//! a template's image or document header (CMP-2), goes by the media id of an upload the
//! simulator took.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::Rng;
use serde_json::{json, Value};

use crate::meta_payloads::{error, send_accepted, status_notification, Business, Status};
use crate::random;
use crate::state::{SendFault, Sent, Sim};

/// A validated request to the messages endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A text, template or file send to `to`; `summary` is the text, `template:<name>` or a
    /// file's caption, and `media` the file's (kind, media id): a file send's, or a template's
    /// header.
    Send {
        to: String,
        summary: String,
        media: Option<(String, String)>,
    },
    /// Mark an inbound message read.
    MarkRead { message_id: String },
}

/// A refusal: (HTTP status, Graph error code, title, details).
pub type Refusal = (u16, i64, &'static str, String);

fn invalid(details: impl Into<String>) -> Refusal {
    (400, 100, "Invalid parameter", details.into())
}

/// Checks a messages-endpoint body like the Cloud API does.
pub fn validate(body: &Value) -> Result<Request, Refusal> {
    if body["messaging_product"] != "whatsapp" {
        return Err(invalid(
            "The parameter messaging_product is required and must be \"whatsapp\".",
        ));
    }
    if body["status"] == "read" {
        let id = body["message_id"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid("The parameter message_id is required."))?;
        return Ok(Request::MarkRead {
            message_id: id.to_string(),
        });
    }
    let to = body["to"]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("The parameter to is required."))?;
    if random::wa_id(to).len() < 7 {
        return Err((
            400,
            131009,
            "Parameter value is not valid",
            format!("Recipient phone number {to} is not valid"),
        ));
    }
    let mut media = None;
    let summary = match body["type"].as_str().unwrap_or("text") {
        "text" => body["text"]["body"]
            .as_str()
            .filter(|t| !t.trim().is_empty())
            .map(str::to_string)
            .ok_or_else(|| invalid("The parameter text['body'] is required."))?,
        "template" => {
            let name = body["template"]["name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| invalid("The parameter template['name'] is required."))?;
            if body["template"]["language"]["code"].as_str().is_none() {
                return Err(invalid(
                    "The parameter template['language']['code'] is required.",
                ));
            }
            media = header_media(&body["template"])?;
            format!("template:{name}")
        }
        kind @ ("image" | "document" | "audio") => {
            let id = body[kind]["id"]
                .as_str()
                .filter(|i| !i.is_empty())
                .ok_or_else(|| invalid(format!("The parameter {kind}['id'] is required.")))?;
            media = Some((kind.to_string(), id.to_string()));
            body[kind]["caption"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
        other => {
            return Err((
                400,
                131009,
                "Parameter value is not valid",
                format!("This simulator does not send messages of type {other}"),
            ))
        }
    };
    Ok(Request::Send {
        to: to.to_string(),
        summary,
        media,
    })
}

/// A template's header file (CMP-2): the `image` or `document` parameter of its `header`
/// component, by the media id of an upload. Text headers carry no file.
fn header_media(template: &Value) -> Result<Option<(String, String)>, Refusal> {
    let headers = template["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["type"] == "header");
    for p in headers.flat_map(|c| c["parameters"].as_array().into_iter().flatten()) {
        if let Some(kind @ ("image" | "document")) = p["type"].as_str() {
            let id = p[kind]["id"].as_str().filter(|i| !i.is_empty()).ok_or_else(|| {
                invalid(format!(
                    "The parameter template['components'][header]['parameters'][0]['{kind}']['id'] is required (this simulator takes header media by id)."
                ))
            })?;
            return Ok(Some((kind.to_string(), id.to_string())));
        }
    }
    Ok(None)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then_some(token)
}

fn refuse(sim: &Sim, (status, code, title, details): Refusal) -> Response {
    tracing::warn!(code, %details, "fake WhatsApp: request refused");
    let trace = sim.with_rng(|r| format!("A{:016x}", r.gen::<u64>()));
    let http = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        http,
        Json(error(code, "OAuthException", title, &details, &trace)),
    )
        .into_response()
}

/// `POST /{version}/{phone_number_id}/messages`
pub async fn messages(
    State(sim): State<Arc<Sim>>,
    Path((version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if bearer(&headers).is_none() {
        return refuse(
            &sim,
            (
                401,
                190,
                "Invalid OAuth access token",
                "An access token is required to request this resource.".into(),
            ),
        );
    }
    let knows_ids = sim
        .summary
        .organisations
        .iter()
        .any(|o| o.whatsapp.is_some());
    if knows_ids && sim.summary.whatsapp_org(&phone_number_id).is_none() {
        return refuse(&sim, invalid(format!("Unsupported post request. Object with ID '{phone_number_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.")));
    }
    let Ok(json) = serde_json::from_slice::<Value>(&body) else {
        return refuse(&sim, invalid("The request body is not JSON."));
    };
    let (to, summary, media) = match validate(&json) {
        Ok(Request::MarkRead { message_id }) => {
            tracing::info!(%version, %phone_number_id, %message_id, "fake WhatsApp: marked read");
            return Json(json!({ "success": true })).into_response();
        }
        Ok(Request::Send { to, summary, media }) => (to, summary, media),
        Err(r) => return refuse(&sim, r),
    };
    // A file, or a template's header file, goes by the media id of an upload the simulator took.
    let media = match media {
        Some((kind, id)) => match crate::outbound_media::uploaded(&sim, &id) {
            Some(file) => vec![format!("{kind} {file}")],
            None => {
                let why = format!("Unknown media id {id}");
                return refuse(&sim, (400, 131053, "Media upload error", why));
            }
        },
        None => Vec::new(),
    };
    let fault = sim.take_fault();
    if fault == SendFault::Error {
        return refuse(
            &sim,
            (503, 2, "Service temporarily unavailable", "injected".into()),
        );
    }
    let wa_id = random::wa_id(&to);
    let wamid = sim.with_rng(|r| random::wamid(r, &wa_id));
    tracing::info!(%version, %phone_number_id, id = %wamid, %to, "fake WhatsApp: message accepted");
    sim.record_sent(Sent {
        provider: "whatsapp",
        id: wamid.clone(),
        account: String::new(),
        from: phone_number_id.clone(),
        to: to.clone(),
        at: chrono::Utc::now(),
        body: summary,
        final_status: None,
        status: "accepted".into(),
        error_code: None,
        media,
    });
    if sim.poster.has_app_secret() {
        tokio::spawn(play_statuses(
            Arc::clone(&sim),
            business(&sim, &phone_number_id),
            wamid.clone(),
            wa_id.clone(),
            json["biz_opaque_callback_data"]
                .as_str()
                .map(str::to_string),
        ));
    } else {
        tracing::warn!("fake WhatsApp: no app secret, so no status webhooks");
    }
    crate::admin::hold_answer(&sim, fault).await;
    Json(send_accepted(&to, &wa_id, &wamid)).into_response()
}

/// The business number of a phone number id (its display number is the garage's number).
fn business(sim: &Sim, phone_number_id: &str) -> Business {
    let display = sim
        .summary
        .whatsapp_org(phone_number_id)
        .and_then(|o| o.garage_number())
        .map(random::wa_id)
        .unwrap_or_else(|| "15550001234".to_string());
    Business {
        phone_number_id: phone_number_id.to_string(),
        display_phone_number: display,
    }
}

/// The statuses a send goes through: `sent`, `delivered`, then `read` if the customer reads
/// it, or just `failed`.
pub fn status_path(fails: bool, reads: bool) -> &'static [&'static str] {
    match (fails, reads) {
        (true, _) => &["failed"],
        (false, true) => &["sent", "delivered", "read"],
        (false, false) => &["sent", "delivered"],
    }
}

/// How long a status webhook the server did not take is redelivered.
const META_PATIENCE: std::time::Duration = std::time::Duration::from_secs(600);

async fn play_statuses(
    sim: Arc<Sim>,
    business: Business,
    wamid: String,
    wa_id: String,
    callback_data: Option<String>,
) {
    let fails = sim.next_fails();
    let (reads, conversation_id) = sim.with_rng(|r| {
        (
            r.gen_bool(0.8),
            format!("{:016x}{:016x}", r.gen::<u64>(), r.gen::<u64>()),
        )
    });
    let path = status_path(fails, reads);
    for status in path {
        tokio::time::sleep(sim.delay()).await;
        let s = Status {
            id: wamid.clone(),
            status: status.to_string(),
            timestamp: chrono::Utc::now().timestamp(),
            recipient_id: wa_id.clone(),
            error: (*status == "failed").then(|| {
                (131026, "Message undeliverable".to_string(), "Message failed to send because the recipient's phone number is not on WhatsApp or the recipient has not accepted the latest terms.".to_string())
            }),
            conversation_id: conversation_id.clone(),
            callback_data: callback_data.clone(),
        };
        let answer = sim
            .poster
            .meta_redelivered(&status_notification(&business, &s), META_PATIENCE)
            .await;
        sim.record_status(&wamid, status, None);
        tracing::info!(id = %wamid, status, http = answer.status, "whatsapp status webhook");
    }
    if let Some(last) = path.last() {
        sim.record_final(&wamid, last);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn text_template_and_read_requests_are_recognised() {
        let text = json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "+447700900001", "type": "text", "text": { "body": "Ready", "preview_url": false } });
        assert_eq!(
            validate(&text).unwrap(),
            Request::Send {
                to: "+447700900001".into(),
                summary: "Ready".into(),
                media: None
            }
        );
        let template = json!({ "messaging_product": "whatsapp", "to": "+447700900001", "type": "template", "template": { "name": "vehicle_ready", "language": { "code": "en_GB" } } });
        assert_eq!(
            validate(&template).unwrap(),
            Request::Send {
                to: "+447700900001".into(),
                summary: "template:vehicle_ready".into(),
                media: None
            }
        );
        let photo = json!({ "messaging_product": "whatsapp", "to": "+447700900001", "type": "image", "image": { "id": "123", "caption": "Your pads" } });
        assert_eq!(
            validate(&photo).unwrap(),
            Request::Send {
                to: "+447700900001".into(),
                summary: "Your pads".into(),
                media: Some(("image".into(), "123".into()))
            }
        );
        let read =
            json!({ "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN" });
        assert_eq!(
            validate(&read).unwrap(),
            Request::MarkRead {
                message_id: "wamid.IN".into()
            }
        );
    }

    #[test]
    fn bad_requests_get_graph_codes() {
        let code = |v: Value| validate(&v).unwrap_err().1;
        assert_eq!(
            code(json!({ "to": "+447700900001", "type": "text", "text": { "body": "x" } })),
            100
        );
        assert_eq!(
            code(
                json!({ "messaging_product": "whatsapp", "type": "text", "text": { "body": "x" } })
            ),
            100
        );
        assert_eq!(
            code(
                json!({ "messaging_product": "whatsapp", "to": "+44", "type": "text", "text": { "body": "x" } })
            ),
            131009
        );
        assert_eq!(
            code(
                json!({ "messaging_product": "whatsapp", "to": "+447700900001", "type": "text", "text": { "body": " " } })
            ),
            100
        );
        assert_eq!(
            code(
                json!({ "messaging_product": "whatsapp", "to": "+447700900001", "type": "template", "template": { "name": "x" } })
            ),
            100
        );
        assert_eq!(
            code(
                json!({ "messaging_product": "whatsapp", "to": "+447700900001", "type": "sticker" })
            ),
            131009
        );
        assert_eq!(
            code(json!({ "messaging_product": "whatsapp", "status": "read" })),
            100
        );
    }

    #[test]
    fn cmp2_a_template_header_names_its_media_by_id() {
        let with = |header: Value| {
            json!({ "messaging_product": "whatsapp", "to": "+447700900001", "type": "template",
                    "template": { "name": "brake_pads_photo", "language": { "code": "en_GB" },
                                  "components": [header, { "type": "body", "parameters": [{ "type": "text", "text": "Sam" }] }] } })
        };
        let image = with(
            json!({ "type": "header", "parameters": [{ "type": "image", "image": { "id": "77" } }] }),
        );
        assert_eq!(
            validate(&image).unwrap(),
            Request::Send {
                to: "+447700900001".into(),
                summary: "template:brake_pads_photo".into(),
                media: Some(("image".into(), "77".into()))
            }
        );
        let document = with(
            json!({ "type": "header", "parameters": [{ "type": "document", "document": { "id": "78", "filename": "INV-7.pdf" } }] }),
        );
        assert!(matches!(
            validate(&document).unwrap(),
            Request::Send { media: Some((ref k, ref id)), .. } if k == "document" && id == "78"
        ));
        let by_link = with(
            json!({ "type": "header", "parameters": [{ "type": "image", "image": { "link": "https://x.test/a.jpg" } }] }),
        );
        assert_eq!(validate(&by_link).unwrap_err().1, 100);
        let text = with(
            json!({ "type": "header", "parameters": [{ "type": "text", "text": "Invoice" }] }),
        );
        assert!(matches!(
            validate(&text).unwrap(),
            Request::Send { media: None, .. }
        ));
    }

    #[test]
    fn statuses_go_forward() {
        assert_eq!(status_path(false, true), ["sent", "delivered", "read"]);
        assert_eq!(status_path(false, false), ["sent", "delivered"]);
        assert_eq!(status_path(true, true), ["failed"]);
    }

    #[test]
    fn the_bearer_token_must_be_there() {
        let mut h = HeaderMap::new();
        assert!(bearer(&h).is_none());
        h.insert(header::AUTHORIZATION, "Bearer EAAG123".parse().unwrap());
        assert_eq!(bearer(&h), Some("EAAG123"));
        h.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert!(bearer(&h).is_none());
    }
}
