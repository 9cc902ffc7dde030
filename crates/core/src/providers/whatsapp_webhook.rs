//! WhatsApp Cloud API webhooks (PROVIDERS.md §3.1–3.5): the subscription handshake, serde types
//! for the event notification, and a flattened view with one item per inbound message or status
//! update. Every array is iterated; timestamps may be strings or numbers; unknown fields are
//! ignored and unknown message types are kept (with a readable marker), never dropped.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use subtle::ConstantTimeEq;

use super::lenient::{
    each_leniently, i64_from_str_or_num, opt_string_from_str_or_num, string_from_str_or_num,
};

mod flat;
pub use flat::{parse_notification, Parsed, WaError, WaInbound, WaKind, WaStatus, WaStatusKind};

/// The `object` of WhatsApp Business Account notifications; others are ignored.
pub const OBJECT_WABA: &str = "whatsapp_business_account";
/// The only `changes[].field` carrying messages and statuses.
pub const FIELD_MESSAGES: &str = "messages";

// ---------------------------------------------------------------------------------------------
// §3.1 Subscription handshake

/// The verification GET's query (`hub.mode`, `hub.verify_token`, `hub.challenge`). `Debug`
/// redacts the token, which is our configured secret.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionQuery {
    #[serde(rename = "hub.mode", default)]
    pub mode: Option<String>,
    #[serde(rename = "hub.verify_token", default)]
    pub verify_token: Option<String>,
    #[serde(rename = "hub.challenge", default)]
    pub challenge: Option<String>,
}

impl std::fmt::Debug for SubscriptionQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionQuery")
            .field("mode", &self.mode)
            .field(
                "verify_token",
                &self.verify_token.as_ref().map(|_| "<redacted>"),
            )
            .field("challenge", &self.challenge)
            .finish()
    }
}

impl SubscriptionQuery {
    /// The body to answer with 200 (the challenge, unchanged) when the mode is `subscribe` and
    /// the token matches `expected_token` (constant-time); `None` → answer 403. An empty
    /// configured token never matches, so a missing setting cannot be "guessed" with `""`.
    pub fn challenge_if_valid(&self, expected_token: &str) -> Option<&str> {
        let token = self.verify_token.as_deref()?;
        let token_ok: bool = token.as_bytes().ct_eq(expected_token.as_bytes()).into();
        let subscribe = self.mode.as_deref() == Some("subscribe");
        if subscribe && token_ok && !expected_token.is_empty() {
            self.challenge.as_deref()
        } else {
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// §3.3 Envelope

/// The event POST body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// WhatsApp Business Account id.
    #[serde(default, deserialize_with = "string_from_str_or_num")]
    pub id: String,
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One change. Only `field == "messages"` values are read into [`Value`]; other fields
/// (template status, account updates …) have other shapes and get an empty `Value`, so that a
/// shape we do not model can never fail the whole POST.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawChange")]
pub struct Change {
    pub field: String,
    pub value: Value,
}

#[derive(Deserialize)]
struct RawChange {
    #[serde(default)]
    field: String,
    #[serde(default)]
    value: Json,
}

impl TryFrom<RawChange> for Change {
    type Error = serde_json::Error;

    fn try_from(raw: RawChange) -> Result<Self, Self::Error> {
        let value = if raw.field == FIELD_MESSAGES {
            serde_json::from_value(raw.value)?
        } else {
            Value::default()
        };
        Ok(Change {
            field: raw.field,
            value,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Value {
    #[serde(default)]
    pub messaging_product: String,
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// Read one by one, so an odd message never fails the others (see
    /// [`super::lenient::each_leniently`]).
    #[serde(default, deserialize_with = "each_leniently")]
    pub messages: Vec<Message>,
    /// Read strictly: a receipt we cannot read is refused rather than applied with a made-up
    /// time.
    #[serde(default)]
    pub statuses: Vec<Status>,
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Digits, sometimes formatted (`+250 788 123 200`).
    #[serde(default, deserialize_with = "string_from_str_or_num")]
    pub display_phone_number: String,
    /// Route on this.
    #[serde(default, deserialize_with = "string_from_str_or_num")]
    pub phone_number_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default)]
    pub profile: Option<Profile>,
    #[serde(default, deserialize_with = "opt_string_from_str_or_num")]
    pub wa_id: Option<String>,
    #[serde(default)]
    pub identity_key_hash: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub name: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// §3.4 Inbound messages

/// An inbound message as sent: `type` names the object that carries its content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The customer's number: digits, no `+`.
    #[serde(default, deserialize_with = "string_from_str_or_num")]
    pub from: String,
    /// `wamid.…`; dedupe on it (Meta retries).
    #[serde(default, deserialize_with = "string_from_str_or_num")]
    pub id: String,
    /// Unix seconds.
    #[serde(default, deserialize_with = "i64_from_str_or_num")]
    pub timestamp: i64,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub text: Option<Text>,
    #[serde(default)]
    pub image: Option<MediaObject>,
    #[serde(default)]
    pub video: Option<MediaObject>,
    #[serde(default)]
    pub audio: Option<MediaObject>,
    #[serde(default)]
    pub document: Option<MediaObject>,
    #[serde(default)]
    pub sticker: Option<MediaObject>,
    #[serde(default)]
    pub interactive: Option<Interactive>,
    #[serde(default)]
    pub button: Option<Button>,
    #[serde(default)]
    pub reaction: Option<Reaction>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub contacts: Option<Vec<SharedContact>>,
    #[serde(default)]
    pub order: Option<Order>,
    #[serde(default)]
    pub system: Option<System>,
    #[serde(default)]
    pub unsupported: Option<Unsupported>,
    /// On `unsupported` messages (131051) and other inbound errors.
    #[serde(default)]
    pub errors: Vec<ApiError>,
    /// Set on replies (`from`, `id` of the quoted message) and forwards.
    #[serde(default)]
    pub context: Option<Context>,
    /// Click-to-WhatsApp ad details, kept raw.
    #[serde(default)]
    pub referral: Option<Json>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    #[serde(default)]
    pub body: String,
}

/// `image`, `video`, `audio`, `document` and `sticker` objects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaObject {
    /// Media id, to fetch the file through the Graph API.
    #[serde(default, deserialize_with = "opt_string_from_str_or_num")]
    pub id: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// Audio only: a voice note rather than an audio file.
    #[serde(default)]
    pub voice: Option<bool>,
    /// Sticker only.
    #[serde(default)]
    pub animated: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interactive {
    /// `button_reply`, `list_reply`, `nfm_reply`.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub button_reply: Option<Reply>,
    #[serde(default)]
    pub list_reply: Option<Reply>,
    #[serde(default)]
    pub nfm_reply: Option<NfmReply>,
}

/// A tapped reply button or list row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// A WhatsApp Flow's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NfmReply {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// A JSON document as a string.
    #[serde(default)]
    pub response_json: Option<String>,
}

/// A template quick-reply button.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    #[serde(default)]
    pub payload: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The wamid reacted to.
    #[serde(default)]
    pub message_id: String,
    /// Absent or empty when a reaction is removed.
    #[serde(default)]
    pub emoji: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// As written in the JSON (`51.5072`), so nothing is lost to float formatting.
    #[serde(default, deserialize_with = "string_from_str_or_num")]
    pub latitude: String,
    #[serde(default, deserialize_with = "string_from_str_or_num")]
    pub longitude: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// A contact card the customer shared (only the parts we show).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedContact {
    #[serde(default)]
    pub name: Option<ContactName>,
    #[serde(default)]
    pub phones: Vec<ContactPhone>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactName {
    #[serde(default)]
    pub formatted_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPhone {
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub wa_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    #[serde(default)]
    pub catalog_id: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    /// Kept raw: prices are floats.
    #[serde(default)]
    pub product_items: Vec<Json>,
}

/// E.g. `user_changed_number`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct System {
    #[serde(default)]
    pub body: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub wa_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsupported {
    /// What the customer sent that the API cannot carry (e.g. `edit`).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    #[serde(default)]
    pub from: Option<String>,
    /// The wamid replied to.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub forwarded: Option<bool>,
    #[serde(default)]
    pub frequently_forwarded: Option<bool>,
}

// ---------------------------------------------------------------------------------------------
// §3.5 Statuses and errors

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The outbound wamid from our send response.
    #[serde(default)]
    pub id: String,
    /// `sent`, `delivered`, `read`, `failed`, `played`.
    #[serde(default)]
    pub status: String,
    #[serde(default, deserialize_with = "i64_from_str_or_num")]
    pub timestamp: i64,
    /// User digits or a group id.
    #[serde(default, deserialize_with = "string_from_str_or_num")]
    pub recipient_id: String,
    #[serde(default)]
    pub biz_opaque_callback_data: Option<String>,
    /// Gone from v24.0 in most cases; kept raw (`expiration_timestamp` may be an int).
    #[serde(default)]
    pub conversation: Option<Json>,
    #[serde(default)]
    pub pricing: Option<Json>,
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

/// An error object as Meta sends it (in `statuses[]`, `messages[]` or `value`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    #[serde(default, deserialize_with = "i64_from_str_or_num")]
    pub code: i64,
    #[serde(default)]
    pub title: Option<String>,
    /// Missing in older payloads (only `code` + `title`).
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub error_data: Option<ErrorData>,
    #[serde(default)]
    pub href: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorData {
    #[serde(default)]
    pub details: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
