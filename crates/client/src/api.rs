//! The REST client: the server's HTTP API as typed async calls, with errors that say whether
//! retrying can help (network, 5xx) or not (refused with a reason).

use std::time::Duration;

use inbox_core::api::{
    ComposeRequest, ConversationPage, ErrorBody, LoginRequest, LoginResponse, ThreadPage,
};
use inbox_core::sync::Snapshot;
use inbox_core::{ConversationSummary, Id, Message};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The session is gone: sign in again.
    #[error("signed out: {0}")]
    Unauthorized(String),
    /// The server refused the request and says why; retrying the same request will not help.
    #[error("{message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// The server could not be reached or failed; retrying later may help.
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
}

impl ApiError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, ApiError::Unreachable(_))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The server's base URL and this desktop's session.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    pub fn new(base: &str, token: &str) -> Api {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap_or_default();
        Api {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Signs in (ACC-3); the token in the answer is for `Api::new`.
    pub async fn login(base: &str, email: &str, password: &str) -> ApiResult<LoginResponse> {
        let api = Api::new(base, "");
        let req = LoginRequest {
            email: email.to_string(),
            password: password.to_string(),
        };
        api.call(Method::POST, "/api/v1/auth/login", Some(&req), false)
            .await
    }

    pub async fn logout(&self) -> ApiResult<()> {
        self.call::<serde_json::Value, _>(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&serde_json::json!({})),
            true,
        )
        .await
        .map(|_| ())
    }

    pub async fn snapshot(&self, after: Option<Id>) -> ApiResult<Snapshot> {
        let path = match after {
            Some(a) => format!("/api/v1/sync/snapshot?after={a}"),
            None => "/api/v1/sync/snapshot".to_string(),
        };
        self.get(&path).await
    }

    pub async fn thread(&self, conversation_id: Id, before: Option<&str>) -> ApiResult<ThreadPage> {
        let mut path = format!("/api/v1/conversations/{conversation_id}/messages");
        if let Some(b) = before {
            path.push_str(&format!("?before={b}"));
        }
        self.get(&path).await
    }

    /// All-time search on the server (LST-2), for matches the cache lacks.
    pub async fn search(&self, q: &str) -> ApiResult<ConversationPage> {
        let encoded: String = form_encode(q);
        self.get(&format!("/api/v1/conversations?range=all_time&q={encoded}"))
            .await
    }

    pub async fn compose(&self, conversation_id: Id, req: &ComposeRequest) -> ApiResult<Message> {
        self.call(
            Method::POST,
            &format!("/api/v1/conversations/{conversation_id}/messages"),
            Some(req),
            true,
        )
        .await
    }

    pub async fn mark_read(&self, conversation_id: Id) -> ApiResult<ConversationSummary> {
        self.call(
            Method::POST,
            &format!("/api/v1/conversations/{conversation_id}/read"),
            Some(&serde_json::json!({})),
            true,
        )
        .await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> ApiResult<T> {
        self.call::<T, ()>(Method::GET, path, None, true).await
    }

    async fn call<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        auth: bool,
    ) -> ApiResult<T> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if auth {
            req = req.bearer_auth(&self.token);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req
            .send()
            .await
            .map_err(|e| ApiError::Unreachable(e.to_string()))?;
        let status = res.status();
        if status.is_success() {
            if status == StatusCode::NO_CONTENT {
                return serde_json::from_value(serde_json::Value::Null)
                    .map_err(|e| ApiError::Unreachable(e.to_string()));
            }
            return res
                .json::<T>()
                .await
                .map_err(|e| ApiError::Unreachable(format!("unreadable answer: {e}")));
        }
        let text = res.text().await.unwrap_or_default();
        let (code, message) = match serde_json::from_str::<ErrorBody>(&text) {
            Ok(b) => (b.error.code, b.error.message),
            Err(_) => (status.as_str().to_string(), text),
        };
        Err(match status {
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized(message),
            s if s.is_server_error()
                || s == StatusCode::TOO_MANY_REQUESTS
                || s == StatusCode::REQUEST_TIMEOUT =>
            {
                ApiError::Unreachable(format!("{s}: {message}"))
            }
            s => ApiError::Refused {
                status: s.as_u16(),
                code,
                message,
            },
        })
    }
}

/// Percent-encodes a query value (`application/x-www-form-urlencoded`).
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_form_encoded() {
        assert_eq!(form_encode("+44 7700 900123"), "%2B44+7700+900123");
        assert_eq!(form_encode("Zoë"), "Zo%C3%AB");
    }
}
