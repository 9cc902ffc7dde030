//! The one error type handlers return, mapped onto the status codes of DESIGN.md's Fixed points
//! with a JSON body `{ "error": { "code", "message" } }`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use inbox_core::api::{ErrorBody, ErrorDetail};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("sign in first: the session token is missing, unknown or expired")]
    Unauthorized,
    #[error("the email or password is wrong")]
    WrongCredentials,
    /// 401 with a reason: an idle session, an expired or revoked portal token.
    #[error("{0}")]
    SignInAgain(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 429 with `Retry-After` (whole seconds): sign-in back-off, portal posts, sockets per user.
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    /// 503 with `Retry-After`: the server is saturated (e.g. every sign-in slot busy).
    #[error("{message}")]
    Busy { message: String, retry_after: u64 },
    /// 503: the list or search outran its time budget in the database.
    #[error("the search took too long; narrow it with more specific words or a shorter range")]
    SearchTooSlow,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Invalid(m) => AppError::Invalid(m),
            StoreError::TimedOut => AppError::SearchTooSlow,
            StoreError::Internal(e) => AppError::Internal(e),
        }
    }
}

impl From<inbox_core::limits::TooLong> for AppError {
    fn from(e: inbox_core::limits::TooLong) -> Self {
        AppError::Invalid(e.to_string())
    }
}

impl AppError {
    pub fn missing(cap: inbox_core::Capability) -> AppError {
        AppError::Forbidden(format!("your role does not have the {cap} capability"))
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::Unauthorized | AppError::WrongCredentials | AppError::SignInAgain(_) => {
                (StatusCode::UNAUTHORIZED, "unauthorized")
            }
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AppError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            AppError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AppError::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            AppError::SearchTooSlow => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            AppError::Internal(e) => {
                // The cause goes to the log; the client gets no internals.
                tracing::error!(error = ?e, "internal error");
                "something went wrong on the server".to_string()
            }
            other => other.to_string(),
        };
        let mut res = (
            status,
            Json(ErrorBody {
                error: ErrorDetail {
                    code: code.to_string(),
                    message,
                },
            }),
        )
            .into_response();
        if let AppError::RateLimited { retry_after, .. } | AppError::Busy { retry_after, .. } =
            &self
        {
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}

pub type AppResult<T> = Result<T, AppError>;
