//! Request and response bodies of the HTTP API (`docs/api.md`), shared by server and clients.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::model::*;
use crate::range::RangePreset;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginResponse {
    /// Opaque bearer token for `Authorization: Bearer …`.
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub user: User,
    pub organisation: Organisation,
}

/// The read filter row (LST-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListFilter {
    #[default]
    All,
    Unread,
    Unassigned,
    Mine,
}

impl ListFilter {
    pub const ALL: [ListFilter; 4] = [
        ListFilter::All,
        ListFilter::Unread,
        ListFilter::Unassigned,
        ListFilter::Mine,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ListFilter::All => "All",
            ListFilter::Unread => "Unread",
            ListFilter::Unassigned => "Unassigned",
            ListFilter::Mine => "Mine",
        }
    }
}

/// `GET /api/v1/conversations` query (LST-2 … LST-11).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationQuery {
    #[serde(default)]
    pub range: RangePreset,
    /// Inclusive local dates of a custom range.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    #[serde(default)]
    pub filter: ListFilter,
    /// Search text; when present the range is ignored (LST-2).
    pub q: Option<String>,
    pub cursor: Option<String>,
}

/// The four badges of the read filter row, for the active range (LST-4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub all: u64,
    pub unread: u64,
    pub unassigned: u64,
    pub mine: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationPage {
    pub items: Vec<ConversationSummary>,
    pub next_cursor: Option<String>,
    pub counts: Counts,
}

pub const PAGE_SIZE: usize = 50;

/// `GET /api/v1/conversations/{id}/messages?before=` — newest page first (THR-6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadPage {
    /// Newest first; a client reverses it for chronological display.
    pub items: Vec<ThreadItem>,
    /// Pass as `before` to fetch older items; None at the start of the conversation.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadQuery {
    pub before: Option<String>,
}

/// `POST /api/v1/conversations/{id}/messages` (CMP-1 … CMP-5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposeRequest {
    /// The composing client's idempotency key: a repeat returns the same message.
    pub client_id: String,
    pub body: Option<String>,
    pub template: Option<TemplateUse>,
    /// Defaults to the conversation's reply channel (the customer's last, SMS for voice).
    pub channel: Option<Channel>,
    /// Files uploaded with `POST /api/v1/media`, in the order they are shown (issue 17).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Id>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteRequest {
    pub body: String,
}

/// `PUT /api/v1/conversations/{id}/assignee` (SDB-4); null unassigns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignRequest {
    pub user_id: Option<Id>,
}

/// `PUT /api/v1/conversations/{id}/work-order` (SDB-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkWorkOrderRequest {
    pub work_order_id: Id,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectRequest {
    pub reason: String,
}

/// `GET`/`PUT /api/v1/settings/ai`: the organisation's AI switch (AIA-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiSettings {
    pub enabled: bool,
}

/// `GET /api/v1/settings/ai/model`: the organisation's optional language model (AIA-1), an
/// OpenAI-compatible chat-completions endpoint. The key never leaves the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageModelSettings {
    /// The endpoint's base (`…/v1`) or its full `…/chat/completions` URL; empty: none.
    pub url: String,
    pub model: String,
    pub key_set: bool,
}

/// `PUT /api/v1/settings/ai/model`. An empty URL and model turn the language model off (and
/// remove its key); `key` absent keeps the stored key for the same URL, empty removes it (Ollama
/// needs none).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageModelUpdate {
    pub url: String,
    pub model: String,
    #[serde(default)]
    pub key: Option<String>,
}

impl std::fmt::Debug for LanguageModelUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanguageModelUpdate")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Longest language model URL, model name and key.
pub const MODEL_URL_MAX: usize = 512;
pub const MODEL_NAME_MAX: usize = 128;
pub const MODEL_KEY_MAX: usize = 1024;

impl LanguageModelUpdate {
    /// Trimmed, or why it cannot be stored.
    pub fn validate(self) -> Result<LanguageModelUpdate, String> {
        let url = self.url.trim().to_string();
        let model = self.model.trim().to_string();
        let key = self.key.map(|k| k.trim().to_string());
        if url.is_empty() != model.is_empty() {
            return Err("give both the URL and the model name, or neither to turn it off".into());
        }
        if !url.is_empty() {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"))
                .ok_or("the URL must begin with https:// or http://")?;
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            if host.is_empty()
                || url.chars().count() > MODEL_URL_MAX
                || url.chars().any(char::is_whitespace)
            {
                return Err(format!(
                    "the URL must name a host, without spaces, in at most {MODEL_URL_MAX} characters"
                ));
            }
            if host.contains('@') {
                return Err("put the key in the key field, not in the URL".into());
            }
            if model.chars().count() > MODEL_NAME_MAX || model.chars().any(char::is_control) {
                return Err(format!(
                    "the model name must be at most {MODEL_NAME_MAX} characters"
                ));
            }
        }
        if let Some(k) = &key {
            if k.chars().count() > MODEL_KEY_MAX || k.chars().any(char::is_whitespace) {
                return Err(format!(
                    "the key must be one word of at most {MODEL_KEY_MAX} characters"
                ));
            }
        }
        Ok(LanguageModelUpdate { url, model, key })
    }
}

/// `PUT /api/v1/messages/{id}/intent`: a staff member's label for an inbound message (AIA-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentCorrection {
    pub label: crate::intent::Intent,
}

/// Where a call goes when reassigned (VOI-6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum CallDestination {
    Customer { customer_id: Id },
    Anonymous,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReassignCallRequest {
    pub destination: CallDestination,
    /// Written to the audit log.
    pub reason: Option<String>,
}

/// The call and the conversation it now belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallMoved {
    pub call: Call,
    pub from_conversation_id: Id,
    pub to_conversation_id: Id,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickMessageInput {
    pub name: String,
    pub body: String,
}

/// The body of `POST /api/v1/templates` and `PUT /api/v1/templates/{id}` (SET-1); checked by
/// `template::validate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateInput {
    pub name: String,
    pub language: String,
    pub body: String,
    /// CMP-2: the media header (`image` | `document`); absent or null for none.
    #[serde(default)]
    pub header: Option<crate::model::TemplateHeader>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
}

/// Every error answer: `{ "error": { "code", "message" } }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable machine-readable code: unauthorized, forbidden, not_found, conflict, invalid, internal.
    pub code: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aia1_a_language_model_is_checked_before_it_is_stored() {
        let m = |url: &str, model: &str, key: Option<&str>| {
            LanguageModelUpdate {
                url: url.into(),
                model: model.into(),
                key: key.map(Into::into),
            }
            .validate()
        };
        let ok = m(
            " http://127.0.0.1:11434/v1 ",
            " llama3.1:8b ",
            Some(" sk-1 "),
        )
        .unwrap();
        assert_eq!(
            (ok.url.as_str(), ok.model.as_str(), ok.key.as_deref()),
            ("http://127.0.0.1:11434/v1", "llama3.1:8b", Some("sk-1"))
        );
        assert!(m("", "", None).is_ok(), "both empty: off");
        assert!(m("https://api.example.com/v1", "", None).is_err());
        assert!(m("", "gpt-4o-mini", None).is_err());
        assert!(m("ftp://x/v1", "m", None).is_err());
        assert!(m("https:///v1", "m", None).is_err());
        assert!(m("https://user:sk@host/v1", "m", None)
            .unwrap_err()
            .contains("key field"));
        assert!(m("https://host/v1", "m", Some("two words")).is_err());
        assert!(m(&format!("https://h/{}", "a".repeat(600)), "m", None).is_err());
    }

    #[test]
    fn voi6_call_destination_wire_shape() {
        let r: ReassignCallRequest = serde_json::from_str(
            r#"{"destination":{"to":"customer","customer_id":7},"reason":"spouse"}"#,
        )
        .unwrap();
        assert_eq!(r.destination, CallDestination::Customer { customer_id: 7 });
        let a: ReassignCallRequest =
            serde_json::from_str(r#"{"destination":{"to":"anonymous"}}"#).unwrap();
        assert_eq!(a.destination, CallDestination::Anonymous);
        assert_eq!(a.reason, None);
    }

    #[test]
    fn lst6_query_defaults_to_last_30_days_all() {
        let q: ConversationQuery = serde_json::from_str("{}").unwrap();
        assert_eq!(q.range, RangePreset::Last30Days);
        assert_eq!(q.filter, ListFilter::All);
    }
}
