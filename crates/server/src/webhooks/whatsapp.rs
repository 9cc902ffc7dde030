//! WhatsApp Cloud API webhooks: the verification handshake, and notifications verified with
//! `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app secret). One notification can
//! carry many messages and statuses for several numbers; each is routed by `phone_number_id`.

use crate::store::media::MediaSource;
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use inbox_core::providers::meta_signature::verify;
use inbox_core::providers::status::{error_reason, from_whatsapp};
use inbox_core::providers::whatsapp_webhook::parse_notification;
use inbox_core::providers::Provider;
use inbox_core::{phone, Channel, Id};

use super::{internal, refuse};
use crate::state::AppState;
use crate::store::NewInbound;

/// `GET /webhooks/whatsapp`: echo `hub.challenge` when the mode and token match.
pub async fn verify_subscription(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let expected = state.providers.whatsapp_verify_token.as_deref();
    let mode = q.get("hub.mode").map(String::as_str);
    let token = q.get("hub.verify_token").map(String::as_str);
    match (expected, mode, token, q.get("hub.challenge")) {
        (Some(want), Some("subscribe"), Some(got), Some(challenge)) if want == got => {
            (StatusCode::OK, challenge.clone()).into_response()
        }
        (None, ..) => refuse(
            StatusCode::FORBIDDEN,
            "WhatsApp is not configured on this server (INBOX_WHATSAPP_VERIFY_TOKEN)",
        ),
        _ => refuse(StatusCode::FORBIDDEN, "the verify token does not match"),
    }
}

/// `POST /webhooks/whatsapp`: messages and statuses.
pub async fn notification(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(secret) = state.providers.whatsapp_app_secret.as_deref() else {
        return refuse(
            StatusCode::FORBIDDEN,
            "WhatsApp is not configured on this server (INBOX_WHATSAPP_APP_SECRET)",
        );
    };
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !verify(&body, secret, signature) {
        return refuse(
            StatusCode::FORBIDDEN,
            "the X-Hub-Signature-256 does not match",
        );
    }
    let parsed = match parse_notification(&body) {
        Ok(p) => p,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("not a WhatsApp notification: {e}"),
            )
        }
    };
    let mut orgs: HashMap<String, Option<Id>> = HashMap::new();
    for m in parsed.messages {
        let org = match org_of(&state, &mut orgs, &m.phone_number_id).await {
            Ok(Some(o)) => o,
            Ok(None) => {
                tracing::warn!(phone_number_id = %m.phone_number_id, "WhatsApp message for a number no garage has; ignored");
                continue;
            }
            Err(r) => return r,
        };
        let raw = format!("+{}", m.from_wa_id);
        // An unreadable timestamp (parsed leniently as 0) is not 1970: it is when it arrived.
        let at = Some(m.timestamp)
            .filter(|t| *t > 0)
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .unwrap_or_else(|| super::spool::received_at(&state));
        // A photo, document, voice note or sticker is an attachment, its caption the text.
        let (body, attachments) = match &m.media_id {
            Some(media_id) => (
                m.caption.clone().unwrap_or_default(),
                super::media::attachments(
                    [(
                        m.mime_type.as_deref().unwrap_or_default(),
                        m.file_name.as_deref(),
                        media_id.as_str(),
                    )],
                    MediaSource::Whatsapp,
                ),
            ),
            None => (m.text.clone(), Vec::new()),
        };
        let inbound = NewInbound {
            channel: Channel::Whatsapp,
            from_number: Some(phone::normalize(&raw).unwrap_or(raw)),
            customer_id: None,
            body,
            attachments,
            uploads: Vec::new(),
            provider: Provider::Whatsapp,
            provider_id: m.id.clone(),
            at,
        };
        if let Err(e) = state.store.ingest_message(org, inbound).await {
            return internal(e);
        }
    }
    for s in parsed.statuses {
        let org = match org_of(&state, &mut orgs, &s.phone_number_id).await {
            Ok(Some(o)) => o,
            Ok(None) => continue,
            Err(r) => return r,
        };
        // Our reference (`biz_opaque_callback_data`, set on every send): a status for a send
        // whose answer was lost tells us Meta took it, and under which wamid.
        if let Some(message_id) = s
            .biz_opaque_callback_data
            .as_deref()
            .and_then(crate::providers::whatsapp::referenced_message)
        {
            if let Err(e) = state
                .store
                .link_provider_id(
                    org,
                    message_id,
                    Provider::Whatsapp,
                    &s.id,
                    state.clock.now(),
                )
                .await
            {
                return internal(e);
            }
        }
        let Some(status) = from_whatsapp(&s.status) else {
            continue;
        };
        let reason = s.errors.first().map(|e| {
            error_reason(
                Provider::Whatsapp,
                &e.code.to_string(),
                e.details
                    .as_deref()
                    .or(e.message.as_deref())
                    .or(Some(&e.title)),
            )
        });
        let at =
            chrono::DateTime::from_timestamp(s.timestamp, 0).unwrap_or_else(|| state.clock.now());
        if let Err(e) = state
            .store
            .apply_delivery_status(org, Provider::Whatsapp, &s.id, status, reason, at)
            .await
        {
            return internal(e);
        }
    }
    StatusCode::OK.into_response()
}

async fn org_of(
    state: &AppState,
    cache: &mut HashMap<String, Option<Id>>,
    phone_number_id: &str,
) -> Result<Option<Id>, Response> {
    if let Some(o) = cache.get(phone_number_id) {
        return Ok(*o);
    }
    let org = state
        .store
        .whatsapp_account(phone_number_id)
        .await
        .map_err(internal)?
        .map(|a| a.org_id);
    cache.insert(phone_number_id.to_string(), org);
    Ok(org)
}
