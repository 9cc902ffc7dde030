//! The REST client: the server's HTTP API as typed async calls, with errors that say whether
//! retrying can help (network, 5xx) or not (refused with a reason).

use inbox_core::api::{
    AssignRequest, CallMoved, ComposeRequest, ConversationPage, ErrorBody, LinkWorkOrderRequest,
    ListResponse, LoginRequest, LoginResponse, NoteRequest, QuickMessageInput, ReassignCallRequest,
    RejectRequest, TemplateInput, ThreadPage,
};
use inbox_core::roles::{
    AuditEntry, NewRole, NewStaff, OneTimePassword, Role, RoleUpdate, StaffAccount, StaffUpdate,
};
use inbox_core::sync::{Event, Snapshot};
use inbox_core::{
    ApprovalItem, Call, ConversationDetail, ConversationSummary, Customer, Id, Message, Note,
    QuickMessage, StaffRef, WhatsappTemplate, WorkOrder,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use crate::transport::{server_address, ServerAddressError, Transport};

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
    /// The server could not be reached; retrying later may help.
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    /// The request reached the server, which failed or gave no readable answer (5xx, 429, 408,
    /// a body that does not parse): retrying later may help, but a write may have taken effect.
    #[error("the server failed: {0}")]
    Failed(String),
    /// The address was refused before anything was sent (https, or plain http to this computer).
    #[error(transparent)]
    Address(#[from] ServerAddressError),
}

impl ApiError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, ApiError::Unreachable(_) | ApiError::Failed(_))
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
    pub fn new(base: &str, token: &str, transport: &Transport) -> Api {
        Api {
            http: transport.http().clone(),
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
    pub async fn login(
        transport: &Transport,
        base: &str,
        email: &str,
        password: &str,
    ) -> ApiResult<LoginResponse> {
        // Credentials go over https, or plain http only to this computer.
        let base = server_address(base)?;
        let api = Api::new(&base, "", transport);
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

    /// One whole event of the log, for a frame that came as a stub (too large for the socket).
    pub async fn event(&self, seq: i64) -> ApiResult<Event> {
        self.get(&format!("/api/v1/sync/events/{seq}")).await
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

    pub async fn detail(&self, conversation_id: Id) -> ApiResult<ConversationDetail> {
        self.get(&format!("/api/v1/conversations/{conversation_id}"))
            .await
    }

    pub async fn retry(&self, message_id: Id) -> ApiResult<Message> {
        self.post(&format!("/api/v1/messages/{message_id}/retry"), &json!({}))
            .await
    }

    pub async fn add_note(&self, conversation_id: Id, body: &str) -> ApiResult<Note> {
        let req = NoteRequest {
            body: body.to_string(),
        };
        self.post(
            &format!("/api/v1/conversations/{conversation_id}/notes"),
            &req,
        )
        .await
    }

    pub async fn quick_messages(&self) -> ApiResult<Vec<QuickMessage>> {
        self.items("/api/v1/quick-messages").await
    }

    pub async fn templates(&self) -> ApiResult<Vec<WhatsappTemplate>> {
        self.items("/api/v1/templates").await
    }

    pub async fn staff(&self) -> ApiResult<Vec<StaffRef>> {
        self.items("/api/v1/staff").await
    }

    /// The signed-in user as they are now, with what they may do (`GET /api/v1/me`).
    pub async fn me(&self) -> ApiResult<inbox_core::User> {
        #[derive(serde::Deserialize)]
        struct Me {
            user: inbox_core::User,
        }
        Ok(self.get::<Me>("/api/v1/me").await?.user)
    }

    /// AIA-1: turns AI on or off for the organisation.
    pub async fn set_ai(&self, enabled: bool) -> ApiResult<inbox_core::api::AiSettings> {
        let req = inbox_core::api::AiSettings { enabled };
        self.call(Method::PUT, "/api/v1/settings/ai", Some(&req), true)
            .await
    }

    /// AIA-1: the opening hours response times are measured in.
    pub async fn opening_hours(&self) -> ApiResult<inbox_core::analytics::OpeningHours> {
        self.get("/api/v1/settings/hours").await
    }

    pub async fn set_opening_hours(
        &self,
        hours: &inbox_core::analytics::OpeningHours,
    ) -> ApiResult<inbox_core::analytics::OpeningHours> {
        self.call(Method::PUT, "/api/v1/settings/hours", Some(hours), true)
            .await
    }

    /// AIA-1: the organisation's language model (never its key).
    pub async fn language_model(&self) -> ApiResult<inbox_core::api::LanguageModelSettings> {
        self.get("/api/v1/settings/ai/model").await
    }

    pub async fn set_language_model(
        &self,
        update: &inbox_core::api::LanguageModelUpdate,
    ) -> ApiResult<inbox_core::api::LanguageModelSettings> {
        self.call(Method::PUT, "/api/v1/settings/ai/model", Some(update), true)
            .await
    }

    /// SET-1: the organisation's roles.
    pub async fn roles(&self) -> ApiResult<Vec<Role>> {
        self.items("/api/v1/roles").await
    }

    pub async fn create_role(&self, req: &NewRole) -> ApiResult<Role> {
        self.post("/api/v1/roles", req).await
    }

    pub async fn update_role(&self, id: Id, req: &RoleUpdate) -> ApiResult<Role> {
        self.call(Method::PUT, &format!("/api/v1/roles/{id}"), Some(req), true)
            .await
    }

    pub async fn delete_role(&self, id: Id) -> ApiResult<()> {
        self.delete(&format!("/api/v1/roles/{id}")).await
    }

    /// ACC-2: the organisation's staff accounts.
    pub async fn users(&self) -> ApiResult<Vec<StaffAccount>> {
        self.items("/api/v1/users").await
    }

    pub async fn create_user(&self, req: &NewStaff) -> ApiResult<OneTimePassword> {
        self.post("/api/v1/users", req).await
    }

    pub async fn update_user(&self, id: Id, req: &StaffUpdate) -> ApiResult<StaffAccount> {
        self.call(Method::PUT, &format!("/api/v1/users/{id}"), Some(req), true)
            .await
    }

    pub async fn reset_password(&self, id: Id) -> ApiResult<OneTimePassword> {
        self.post(&format!("/api/v1/users/{id}/password"), &json!({}))
            .await
    }

    pub async fn audit(&self) -> ApiResult<Vec<AuditEntry>> {
        self.items("/api/v1/audit").await
    }

    /// The signed-in user's organisation as it is now (`GET /api/v1/me`).
    pub async fn organisation(&self) -> ApiResult<inbox_core::Organisation> {
        #[derive(serde::Deserialize)]
        struct Me {
            organisation: inbox_core::Organisation,
        }
        Ok(self.get::<Me>("/api/v1/me").await?.organisation)
    }

    /// AIA-1: a staff member's label for an inbound message.
    pub async fn correct_intent(
        &self,
        message_id: Id,
        label: inbox_core::intent::Intent,
    ) -> ApiResult<Message> {
        let req = inbox_core::api::IntentCorrection { label };
        self.call(
            Method::PUT,
            &format!("/api/v1/messages/{message_id}/intent"),
            Some(&req),
            true,
        )
        .await
    }

    pub async fn assign(
        &self,
        conversation_id: Id,
        user_id: Option<Id>,
    ) -> ApiResult<ConversationSummary> {
        let req = AssignRequest { user_id };
        self.call(
            Method::PUT,
            &format!("/api/v1/conversations/{conversation_id}/assignee"),
            Some(&req),
            true,
        )
        .await
    }

    pub async fn search_work_orders(&self, q: &str) -> ApiResult<Vec<WorkOrder>> {
        self.items(&format!("/api/v1/work-orders?q={}", form_encode(q)))
            .await
    }

    pub async fn work_order(&self, id: Id) -> ApiResult<WorkOrder> {
        self.get(&format!("/api/v1/work-orders/{id}")).await
    }

    pub async fn link_work_order(
        &self,
        conversation_id: Id,
        work_order_id: Id,
    ) -> ApiResult<ConversationDetail> {
        self.call(
            Method::PUT,
            &format!("/api/v1/conversations/{conversation_id}/work-order"),
            Some(&LinkWorkOrderRequest { work_order_id }),
            true,
        )
        .await
    }

    pub async fn unlink_work_order(&self, conversation_id: Id) -> ApiResult<ConversationDetail> {
        self.call::<_, ()>(
            Method::DELETE,
            &format!("/api/v1/conversations/{conversation_id}/work-order"),
            None,
            true,
        )
        .await
    }

    /// AIA-1: the Analytics tab's figures for a range.
    pub async fn analytics(
        &self,
        q: &inbox_core::analytics::AnalyticsQuery,
    ) -> ApiResult<inbox_core::analytics::Analytics> {
        let mut path = format!("/api/v1/analytics?range={}", q.range.as_str());
        if let (Some(from), Some(to)) = (q.from, q.to) {
            path.push_str(&format!("&from={from}&to={to}"));
        }
        self.get(&path).await
    }

    pub async fn approvals(&self) -> ApiResult<Vec<ApprovalItem>> {
        self.items("/api/v1/approvals").await
    }

    pub async fn approve(&self, message_id: Id) -> ApiResult<Message> {
        self.post(
            &format!("/api/v1/approvals/{message_id}/approve"),
            &json!({}),
        )
        .await
    }

    pub async fn reject(&self, message_id: Id, reason: &str) -> ApiResult<Message> {
        let req = RejectRequest {
            reason: reason.to_string(),
        };
        self.post(&format!("/api/v1/approvals/{message_id}/reject"), &req)
            .await
    }

    pub async fn call_detail(&self, call_id: Id) -> ApiResult<Call> {
        self.get(&format!("/api/v1/calls/{call_id}")).await
    }

    pub async fn reassign_call(
        &self,
        call_id: Id,
        req: &ReassignCallRequest,
    ) -> ApiResult<CallMoved> {
        self.post(&format!("/api/v1/calls/{call_id}/reassign"), req)
            .await
    }

    pub async fn resolve_call(&self, call_id: Id) -> ApiResult<Call> {
        self.post(&format!("/api/v1/calls/{call_id}/resolve"), &json!({}))
            .await
    }

    pub async fn search_customers(&self, q: &str) -> ApiResult<Vec<Customer>> {
        self.items(&format!("/api/v1/customers?q={}", form_encode(q)))
            .await
    }

    /// Creates (`id` None) or edits a quick message (SET-1).
    pub async fn save_quick_message(
        &self,
        id: Option<Id>,
        input: &QuickMessageInput,
    ) -> ApiResult<QuickMessage> {
        match id {
            None => self.post("/api/v1/quick-messages", input).await,
            Some(id) => {
                self.call(
                    Method::PUT,
                    &format!("/api/v1/quick-messages/{id}"),
                    Some(input),
                    true,
                )
                .await
            }
        }
    }

    pub async fn delete_quick_message(&self, id: Id) -> ApiResult<()> {
        self.delete(&format!("/api/v1/quick-messages/{id}")).await
    }

    /// Creates (`id` None) or edits a WhatsApp template (SET-1).
    pub async fn save_template(
        &self,
        id: Option<Id>,
        input: &TemplateInput,
    ) -> ApiResult<WhatsappTemplate> {
        match id {
            None => self.post("/api/v1/templates", input).await,
            Some(id) => {
                self.call(
                    Method::PUT,
                    &format!("/api/v1/templates/{id}"),
                    Some(input),
                    true,
                )
                .await
            }
        }
    }

    pub async fn delete_template(&self, id: Id) -> ApiResult<()> {
        self.delete(&format!("/api/v1/templates/{id}")).await
    }

    async fn items<T: DeserializeOwned>(&self, path: &str) -> ApiResult<Vec<T>> {
        Ok(self.get::<ListResponse<T>>(path).await?.items)
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> ApiResult<T> {
        self.call(Method::POST, path, Some(body), true).await
    }

    async fn delete(&self, path: &str) -> ApiResult<()> {
        self.call::<serde_json::Value, ()>(Method::DELETE, path, None, true)
            .await
            .map(|_| ())
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
            .map_err(|e| ApiError::Unreachable(with_causes(&e)))?;
        let status = res.status();
        if status.is_success() {
            if status == StatusCode::NO_CONTENT {
                return serde_json::from_value(serde_json::Value::Null)
                    .map_err(|e| ApiError::Failed(e.to_string()));
            }
            return res
                .json::<T>()
                .await
                .map_err(|e| ApiError::Failed(format!("unreadable answer: {e}")));
        }
        Err(refusal(status, res.text().await.unwrap_or_default()))
    }

    /// Issue 17: a message's file or its thumbnail, as bytes with its media type.
    /// Issue 17: removes a sensitive file; the message that carried it, if any.
    pub async fn remove_attachment(&self, id: Id) -> ApiResult<Option<Message>> {
        self.call::<Option<Message>, ()>(Method::DELETE, &format!("/api/v1/media/{id}"), None, true)
            .await
    }

    /// Issue 17: uploads a file for a reply to carry (`POST /api/v1/media`).
    pub async fn upload(
        &self,
        bytes: Vec<u8>,
        content_type: &str,
        file_name: &str,
    ) -> ApiResult<inbox_core::media::Attachment> {
        let res = self
            .http
            .post(format!("{}/api/v1/media", self.base))
            .query(&[("file_name", file_name)])
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .timeout(std::time::Duration::from_secs(120))
            .body(bytes)
            .send()
            .await
            .map_err(|e| ApiError::Unreachable(with_causes(&e)))?;
        let status = res.status();
        let text = res
            .text()
            .await
            .map_err(|e| ApiError::Unreachable(with_causes(&e)))?;
        if !status.is_success() {
            return Err(refusal(status, text));
        }
        serde_json::from_str(&text)
            .map_err(|e| ApiError::Failed(format!("an upload's answer: {e}")))
    }

    /// A message's file or thumbnail, or a call's recording (under the call's id).
    pub async fn media(
        &self,
        id: Id,
        variant: crate::files::Variant,
    ) -> ApiResult<crate::files::File> {
        use crate::files::Variant;
        let path = match variant {
            Variant::Thumbnail => format!("/api/v1/media/{id}/thumbnail"),
            Variant::Original => format!("/api/v1/media/{id}"),
            Variant::Recording => format!("/api/v1/calls/{id}/recording"),
        };
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            // A 10 MB file on a slow line takes longer than the usual request.
            .timeout(std::time::Duration::from_secs(120))
            .send()
            .await
            .map_err(|e| ApiError::Unreachable(with_causes(&e)))?;
        let status = res.status();
        if !status.is_success() {
            return Err(refusal(status, res.text().await.unwrap_or_default()));
        }
        let content_type = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = res
            .bytes()
            .await
            .map_err(|e| ApiError::Unreachable(with_causes(&e)))?;
        Ok(crate::files::File {
            bytes: bytes.to_vec(),
            content_type,
        })
    }
}

/// The error a refused or failed answer is, from its status and body.
fn refusal(status: StatusCode, text: String) -> ApiError {
    let (code, message) = match serde_json::from_str::<ErrorBody>(&text) {
        Ok(b) => (b.error.code, b.error.message),
        Err(_) => (status.as_str().to_string(), text),
    };
    match status {
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized(message),
        s if s.is_server_error()
            || s == StatusCode::TOO_MANY_REQUESTS
            || s == StatusCode::REQUEST_TIMEOUT =>
        {
            ApiError::Failed(format!("{s}: {message}"))
        }
        s => ApiError::Refused {
            status: s.as_u16(),
            code,
            message,
        },
    }
}

/// An error with what caused it (reqwest's own text names only the URL; the reason — a refused
/// connection, an untrusted certificate, a refused redirect — is in its sources).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        // Layers often repeat the message they wrap.
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
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
