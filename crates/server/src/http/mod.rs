//! The HTTP API: the router, its middleware, and extractors that answer bad input with the
//! project's JSON errors.

mod accounts;
mod ai;
mod approvals;
mod calls;
mod catalog;
mod conversations;
mod directory;
pub(crate) mod media;
mod staff;
mod thread;
mod updates;

use std::time::Duration;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;
use serde::de::DeserializeOwned;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
use crate::state::AppState;

/// Largest request body accepted (JSON bodies are small; provider webhooks too).
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/login", post(accounts::login))
        .route("/auth/logout", post(accounts::logout))
        .route("/me", get(accounts::me))
        .route("/staff", get(accounts::staff))
        .route("/conversations", get(conversations::list))
        .route("/conversations/{id}", get(conversations::get_one))
        .route("/conversations/{id}/read", post(conversations::mark_read))
        .route("/conversations/{id}/assignee", put(conversations::assign))
        .route(
            "/conversations/{id}/work-order",
            put(conversations::link_work_order).delete(conversations::unlink_work_order),
        )
        .route(
            "/conversations/{id}/messages",
            get(thread::page).post(thread::compose),
        )
        .route("/conversations/{id}/notes", post(thread::add_note))
        .route("/approvals", get(approvals::list))
        .route("/approvals/{id}/approve", post(approvals::approve))
        .route("/approvals/{id}/reject", post(approvals::reject))
        .route("/calls/{id}", get(calls::get_one))
        .route("/calls/{id}/recording", get(calls::recording))
        .route("/calls/{id}/reassign", post(calls::reassign))
        .route("/calls/{id}/resolve", post(calls::resolve))
        .route("/customers", get(directory::customers))
        .route("/work-orders", get(directory::work_orders))
        .route("/work-orders/{id}", get(directory::work_order))
        .route(
            "/quick-messages",
            get(catalog::list_quick).post(catalog::create_quick),
        )
        .route(
            "/quick-messages/{id}",
            put(catalog::update_quick).delete(catalog::delete_quick),
        )
        .route(
            "/templates",
            get(catalog::templates).post(catalog::create_template),
        )
        .route(
            "/templates/{id}",
            put(catalog::update_template).delete(catalog::delete_template),
        )
        .route("/messages/{id}/retry", post(thread::retry))
        .route("/messages/{id}/intent", put(ai::correct_intent))
        .route("/settings/ai", get(ai::get_switch).put(ai::put_switch))
        .route("/settings/ai/model", get(ai::get_model).put(ai::put_model))
        .route("/media/{id}", get(media::file).delete(media::remove))
        .route("/portal/media/{id}", get(media::portal_file))
        .route("/media/{id}/thumbnail", get(media::thumbnail))
        .route("/analytics", get(ai::analytics))
        .route("/settings/hours", get(ai::get_hours).put(ai::put_hours))
        .route("/roles", get(staff::roles).post(staff::create_role))
        .route(
            "/roles/{id}",
            put(staff::update_role).delete(staff::delete_role),
        )
        .route("/users", get(staff::users).post(staff::create_user))
        .route("/users/{id}", put(staff::update_user))
        .route("/users/{id}/password", post(staff::reset_password))
        .route("/audit", get(staff::audit))
        .route(
            "/portal/messages",
            get(crate::webhooks::portal::list).post(crate::webhooks::portal::post),
        )
        .route(
            "/updates/{target}/{arch}/{current_version}",
            get(updates::check),
        )
        .route(
            "/updates/files/{version}/{target}/{arch}/{file}",
            get(updates::file),
        )
        .route("/sync", get(crate::sync::socket::upgrade))
        .route("/sync/snapshot", get(crate::sync::socket::snapshot))
        .route("/sync/events/{id}", get(crate::sync::socket::event))
        .fallback(|| async { AppError::NotFound });
    use crate::webhooks::{twilio, whatsapp};
    let webhooks = Router::new()
        .route("/twilio/sms", post(twilio::sms))
        .route("/twilio/status", post(twilio::status))
        .route("/twilio/voice", post(twilio::voice))
        .route("/twilio/voice/dial", post(twilio::dial))
        .route("/twilio/voice/recorded", post(twilio::recorded))
        .route("/twilio/voice/status", post(twilio::voice_status))
        .route("/twilio/voice/recording", post(twilio::recording))
        .route("/twilio/voice/transcription", post(twilio::transcription))
        .route(
            "/whatsapp",
            get(whatsapp::verify_subscription).post(whatsapp::notification),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::webhooks::spool::durable,
        ));
    // Files come in on their own routes, with their own body limit and a longer timeout (10 MB
    // over a garage's uplink); every other route keeps 1 MiB and 30 s.
    let uploads = Router::new()
        .route("/api/v1/media", post(media::upload))
        .route("/api/v1/portal/media", post(media::portal_upload))
        .layer(axum::extract::DefaultBodyLimit::max(media::UPLOAD_LIMIT))
        .layer(RequestBodyLimitLayer::new(media::UPLOAD_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            UPLOAD_TIMEOUT,
        ));
    Router::new()
        .nest("/api/v1", api)
        .nest("/webhooks", webhooks)
        .route("/m/{token}", get(media::link))
        .route("/healthz", get(|| async { "ok" }))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .merge(uploads)
        .fallback(|| async { AppError::NotFound })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// How long an upload may take to arrive.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// `Json` whose rejections are the project's errors: 413 for an oversized body, 422 with the
/// parser's reason for anything malformed.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::BytesRejection(e))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(AppError::PayloadTooLarge(format!(
                    "the request body is larger than {BODY_LIMIT} bytes"
                )))
            }
            Err(e) => Err(AppError::Invalid(e.body_text())),
        }
    }
}

/// `Query` with a 422 and the reason for parameters that do not parse.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| AppError::Invalid(e.body_text()))
    }
}

/// An `{id}` path segment; one that is not a number cannot name anything, so it is a 404.
pub struct IdPath(pub inbox_core::Id);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<inbox_core::Id>::from_request_parts(parts, state)
            .await
            .map(|p| IdPath(p.0))
            .map_err(|_| AppError::NotFound)
    }
}
