//! Sending through the WhatsApp Cloud API (PROVIDERS §3.6–3.8): JSON POST to
//! `/<phone_number_id>/messages` with a bearer token; 200 with `messages[0].id`, or an `error`
//! object whose numeric `code` says what went wrong.

use inbox_core::providers::status::{error_reason, is_transient};
use inbox_core::providers::Provider;
use inbox_core::{Id, TemplateHeader, TemplateUse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{http_client, unreachable, unreadable, Accepted, SendError};
use crate::store::WhatsappAccount;

#[derive(Clone)]
pub struct WhatsappSender {
    http: reqwest::Client,
    base: String,
}

#[derive(Deserialize)]
struct Sent {
    messages: Vec<SentMessage>,
}

#[derive(Deserialize)]
struct SentMessage {
    id: String,
    message_status: Option<String>,
}

/// Our reference to a reply as carried in `biz_opaque_callback_data`.
pub fn callback_data(message_id: Id) -> String {
    format!("message={message_id}")
}

/// The reply a status webhook's `biz_opaque_callback_data` refers to, if it is ours.
pub fn referenced_message(callback_data: &str) -> Option<Id> {
    callback_data.strip_prefix("message=")?.parse().ok()
}

/// What to send.
pub enum Content<'a> {
    Text(&'a str),
    Template {
        template: &'a TemplateUse,
        language: &'a str,
        /// The file of a template approved with a media header (CMP-2).
        header: Option<HeaderMedia<'a>>,
    },
    /// A file uploaded with [`WhatsappSender::upload_media`].
    Media {
        /// `image`, `document` or `audio` ([`media_kind`]).
        kind: &'static str,
        id: &'a str,
        caption: Option<&'a str>,
        file_name: &'a str,
    },
}

/// A template's header file, uploaded with [`WhatsappSender::upload_media`] (CMP-2).
pub struct HeaderMedia<'a> {
    pub kind: TemplateHeader,
    pub id: &'a str,
    /// Shown with a document header; WhatsApp has no name for an image.
    pub file_name: &'a str,
}

impl HeaderMedia<'_> {
    /// The `header` component: `{ "type": "image", "image": { "id" } }`, or a document with its
    /// `filename`.
    fn component(&self) -> Value {
        let kind = self.kind.as_str();
        let mut media = json!({ "id": self.id });
        if self.kind == TemplateHeader::Document {
            media["filename"] = json!(self.file_name);
        }
        json!({ "type": "header", "parameters": [{ "type": kind, kind: media }] })
    }
}

/// Longest caption WhatsApp takes on an image or a document.
pub const CAPTION_MAX: usize = 1024;

/// How WhatsApp sends a file of this type: JPEG and PNG as images, voice notes as audio, and
/// anything else (a PDF, a WebP or HEIC photo, which WhatsApp does not take as an image) as a
/// document.
pub fn media_kind(content_type: &str) -> &'static str {
    match inbox_core::media::essence(content_type).as_str() {
        "image/jpeg" | "image/jpg" | "image/png" => "image",
        t if t.starts_with("audio/") => "audio",
        _ => "document",
    }
}

impl WhatsappSender {
    pub fn new(base: &str, timeout: std::time::Duration) -> WhatsappSender {
        WhatsappSender {
            http: http_client(timeout),
            base: base.trim_end_matches('/').to_string(),
        }
    }

    fn body(to: &str, content: &Content<'_>) -> Value {
        match content {
            Content::Text(text) => json!({
                "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                "type": "text", "text": { "body": text, "preview_url": false }
            }),
            Content::Template {
                template,
                language,
                header,
            } => {
                let params: Vec<Value> = template
                    .params
                    .iter()
                    .map(|p| json!({ "type": "text", "text": p }))
                    .collect();
                let mut t = json!({ "name": template.name, "language": { "code": language } });
                let mut components: Vec<Value> =
                    header.iter().map(HeaderMedia::component).collect();
                if !params.is_empty() {
                    components.push(json!({ "type": "body", "parameters": params }));
                }
                if !components.is_empty() {
                    t["components"] = json!(components);
                }
                json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template", "template": t })
            }
            Content::Media {
                kind,
                id,
                caption,
                file_name,
            } => {
                let mut media = json!({ "id": id });
                if let Some(c) = caption {
                    media["caption"] = json!(c);
                }
                if *kind == "document" {
                    media["filename"] = json!(file_name);
                }
                json!({
                    "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                    "type": kind, *kind: media
                })
            }
        }
    }

    /// Uploads a file to the Cloud API's media endpoint (`POST /<phone_number_id>/media`) and
    /// returns its media id. Nothing reaches the customer yet, so no failure here is ambiguous.
    pub async fn upload_media(
        &self,
        account: &WhatsappAccount,
        bytes: Vec<u8>,
        content_type: &str,
        file_name: &str,
    ) -> Result<String, SendError> {
        let url = format!("{}/{}/media", self.base, account.phone_number_id);
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_string())
            .mime_str(content_type)
            .map_err(|e| SendError::permanent(format!("{file_name} has an unusable type: {e}")))?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", content_type.to_string())
            .part("file", part);
        let res = self
            .http
            .post(url)
            .bearer_auth(&account.access_token)
            .multipart(form)
            .send()
            .await
            .map_err(|e| {
                SendError::transient(format!("WhatsApp did not take the file {file_name}: {e}"))
            })?;
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        match v["id"].as_str() {
            Some(id) if status.is_success() => Ok(id.to_string()),
            _ => {
                let code = v["error"]["code"].as_i64().map(|c| c.to_string());
                Err(SendError {
                    transient: is_transient(
                        Provider::Whatsapp,
                        Some(status.as_u16()),
                        code.as_deref(),
                    ),
                    maybe_accepted: false,
                    reason: format!(
                        "WhatsApp refused the file {file_name} (HTTP {status}): {}",
                        v["error"]["message"].as_str().unwrap_or("no reason given")
                    ),
                })
            }
        }
    }

    /// Sends to `to` (E.164 with the `+`). `reference` (our message id) goes in
    /// `biz_opaque_callback_data`, which Meta copies into every status webhook of the message:
    /// a send whose answer was lost is still recognised when its statuses arrive.
    pub async fn send(
        &self,
        account: &WhatsappAccount,
        to: &str,
        content: Content<'_>,
        reference: Option<Id>,
    ) -> Result<Accepted, SendError> {
        let url = format!("{}/{}/messages", self.base, account.phone_number_id);
        let mut body = Self::body(to, &content);
        if let Some(reference) = reference {
            body["biz_opaque_callback_data"] = json!(callback_data(reference));
        }
        let res = self
            .http
            .post(url)
            .bearer_auth(&account.access_token)
            .json(&body)
            .send()
            .await
            .map_err(|e| unreachable("WhatsApp", &e))?;
        let status = res.status();
        let text = res
            .text()
            .await
            .map_err(|e| unreadable("WhatsApp", status.is_success(), e))?;
        if status.is_success() {
            let sent: Sent =
                serde_json::from_str(&text).map_err(|e| unreadable("WhatsApp", true, e))?;
            let first = sent
                .messages
                .into_iter()
                .next()
                .ok_or_else(|| unreadable("WhatsApp", true, "no message id in the answer"))?;
            return Ok(Accepted {
                provider_id: first.id,
                status: first.message_status.unwrap_or_else(|| "accepted".into()),
            });
        }
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let code = v["error"]["code"].as_i64().map(|c| c.to_string());
        let detail = v["error"]["error_data"]["details"]
            .as_str()
            .or(v["error"]["message"].as_str());
        Err(SendError {
            transient: is_transient(Provider::Whatsapp, Some(status.as_u16()), code.as_deref()),
            maybe_accepted: false,
            reason: match code {
                Some(c) => error_reason(Provider::Whatsapp, &c, detail),
                None => format!("WhatsApp refused the message (HTTP {status})"),
            },
        })
    }

    /// Marks an inbound message read (PROVIDERS §3.7); best effort.
    pub async fn mark_read(
        &self,
        account: &WhatsappAccount,
        inbound_id: &str,
    ) -> Result<(), SendError> {
        let url = format!("{}/{}/messages", self.base, account.phone_number_id);
        let res = self
            .http
            .post(url)
            .bearer_auth(&account.access_token)
            .json(&json!({ "messaging_product": "whatsapp", "status": "read", "message_id": inbound_id }))
            .send()
            .await
            .map_err(|e| unreachable("WhatsApp", &e))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(SendError::permanent(format!(
                "WhatsApp refused the read receipt (HTTP {})",
                res.status()
            )))
        }
    }
}
