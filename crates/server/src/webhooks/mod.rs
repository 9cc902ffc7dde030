//! Provider webhooks (issue 5): Twilio (SMS/MMS, WhatsApp via Twilio, message status, voice and
//! its callbacks) and the WhatsApp Cloud API, plus the customer portal's API. Every request is
//! verified exactly as its provider signs it before anything is stored; a bad or missing
//! signature is a 403 and stores nothing. Input the provider cannot fix gets a 4xx with a reason
//! (never a 5xx, which providers retry for days); a repeated delivery changes nothing.

pub mod portal;
pub mod twilio;
pub mod whatsapp;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// A webhook answer with a plain-text reason, logged.
pub(crate) fn refuse(status: StatusCode, reason: impl Into<String>) -> Response {
    let reason = reason.into();
    tracing::warn!(%status, %reason, "webhook refused");
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        reason,
    )
        .into_response()
}

/// A TwiML answer.
pub(crate) fn twiml(xml: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

/// Our own failure (the database): the provider should retry, so a 5xx is right here.
pub(crate) fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "webhook could not be stored");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "temporarily unable to store this webhook",
    )
        .into_response()
}
