//! The WhatsApp Cloud API's wire formats as the simulator produces them (PROVIDERS §3): webhook
//! notifications (inbound messages with contacts, statuses), the send API's answers and errors,
//! and the exact bytes Meta posts (non-ASCII escaped as `\uXXXX`). Pure functions.

use serde_json::{json, Value};

use crate::media::File;

/// The WhatsApp Business Account id notifications are filed under.
pub const WABA_ID: &str = "102290129340398";

/// What an inbound WhatsApp message holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Text(String),
    /// A photo, a document or a voice note: media id, SHA-256 (hex), an optional caption (not
    /// on a voice note) and, for a document, its file name.
    Media {
        file: File,
        media_id: String,
        sha256: String,
        caption: Option<String>,
        filename: Option<String>,
    },
    /// A tap on one of the garage's reply buttons, answering `context_id`.
    Button {
        id: String,
        title: String,
        context_id: String,
    },
}

/// One inbound message: who sent it and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// Digits, no `+`.
    pub wa_id: String,
    pub profile_name: String,
    pub id: String,
    /// Unix seconds.
    pub timestamp: i64,
    pub content: Content,
}

/// The business number a notification is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Business {
    pub phone_number_id: String,
    /// Digits, as Meta usually shows it.
    pub display_phone_number: String,
}

fn envelope(business: &Business, value_extra: Value) -> Value {
    let mut value = json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": business.display_phone_number, "phone_number_id": business.phone_number_id },
    });
    if let (Some(v), Some(extra)) = (value.as_object_mut(), value_extra.as_object()) {
        for (k, x) in extra {
            v.insert(k.clone(), x.clone());
        }
    }
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": WABA_ID, "changes": [{ "value": value, "field": "messages" }] }],
    })
}

/// A notification carrying one inbound message and its sender's contact.
pub fn inbound_notification(business: &Business, m: &Inbound) -> Value {
    let mut message = json!({ "from": m.wa_id, "id": m.id, "timestamp": m.timestamp.to_string() });
    match &m.content {
        Content::Text(body) => {
            message["type"] = json!("text");
            message["text"] = json!({ "body": body });
        }
        Content::Media {
            file,
            media_id,
            sha256,
            caption,
            filename,
        } => {
            let (kind, mime_type) = match file {
                File::Photo => ("image", "image/jpeg"),
                File::Pdf => ("document", "application/pdf"),
                File::VoiceNote => ("audio", "audio/ogg; codecs=opus"),
            };
            message["type"] = json!(kind);
            let mut media = json!({ "mime_type": mime_type, "sha256": sha256, "id": media_id });
            if let Some(c) = caption {
                media["caption"] = json!(c);
            }
            if let Some(f) = filename {
                media["filename"] = json!(f);
            }
            if *file == File::VoiceNote {
                media["voice"] = json!(true);
            }
            message[kind] = media;
        }
        Content::Button {
            id,
            title,
            context_id,
        } => {
            message["context"] = json!({ "from": business.display_phone_number, "id": context_id });
            message["type"] = json!("interactive");
            message["interactive"] =
                json!({ "type": "button_reply", "button_reply": { "id": id, "title": title } });
        }
    }
    envelope(
        business,
        json!({
            "contacts": [{ "profile": { "name": m.profile_name }, "wa_id": m.wa_id }],
            "messages": [message],
        }),
    )
}

/// A status update of an outbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The wamid the send answered with.
    pub id: String,
    /// `sent`, `delivered`, `read` or `failed`.
    pub status: String,
    pub timestamp: i64,
    pub recipient_id: String,
    /// Set on `failed`: (code, title, details).
    pub error: Option<(i64, String, String)>,
    /// The conversation the message was billed under (sent and delivered carry it).
    pub conversation_id: String,
    /// The send request's `biz_opaque_callback_data`, copied back (PROVIDERS §3.5).
    pub callback_data: Option<String>,
}

/// A notification carrying one status.
pub fn status_notification(business: &Business, s: &Status) -> Value {
    let mut status = json!({
        "id": s.id,
        "status": s.status,
        "timestamp": s.timestamp.to_string(),
        "recipient_id": s.recipient_id,
    });
    if let Some(data) = &s.callback_data {
        status["biz_opaque_callback_data"] = json!(data);
    }
    match (&s.error, s.status.as_str()) {
        (Some((code, title, details)), _) => {
            status["errors"] = json!([{
                "code": code, "title": title, "message": title,
                "error_data": { "details": details },
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }]);
        }
        (None, "sent" | "delivered") => {
            status["conversation"] =
                json!({ "id": s.conversation_id, "origin": { "type": "service" } });
            status["pricing"] = json!({ "billable": false, "pricing_model": "PMP", "category": "service", "type": "free_customer_service" });
        }
        _ => {}
    }
    envelope(business, json!({ "statuses": [status] }))
}

/// The send API's 200 answer.
pub fn send_accepted(input: &str, wa_id: &str, wamid: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": input, "wa_id": wa_id }],
        "messages": [{ "id": wamid, "message_status": "accepted" }],
    })
}

/// A Graph API error object (`{"error": {...}}`).
pub fn error(code: i64, kind: &str, title: &str, details: &str, fbtrace_id: &str) -> Value {
    json!({ "error": {
        "message": format!("(#{code}) {title}"),
        "type": kind,
        "code": code,
        "error_data": { "messaging_product": "whatsapp", "details": details },
        "fbtrace_id": fbtrace_id,
    } })
}

/// The bytes Meta posts: compact JSON with every non-ASCII character escaped as `\uXXXX`
/// (lowercase hex, UTF-16 surrogate pairs), which is what the signature covers.
pub fn wire_bytes(value: &Value) -> Vec<u8> {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn business() -> Business {
        Business {
            phone_number_id: "100000000000001".into(),
            display_phone_number: "441632960001".into(),
        }
    }

    fn inbound(content: Content) -> Inbound {
        Inbound {
            wa_id: "447700900001".into(),
            profile_name: "Priya".into(),
            id: "wamid.A".into(),
            timestamp: 1_770_000_000,
            content,
        }
    }

    #[test]
    fn inbound_notifications_have_the_cloud_api_envelope() {
        let n = inbound_notification(
            &business(),
            &inbound(Content::Text("Is my car ready?".into())),
        );
        assert_eq!(n["object"], "whatsapp_business_account");
        let change = &n["entry"][0]["changes"][0];
        assert_eq!(change["field"], "messages");
        let v = &change["value"];
        assert_eq!(v["messaging_product"], "whatsapp");
        assert_eq!(v["metadata"]["phone_number_id"], "100000000000001");
        assert_eq!(v["contacts"][0]["wa_id"], "447700900001");
        assert_eq!(v["contacts"][0]["profile"]["name"], "Priya");
        let m = &v["messages"][0];
        assert_eq!(m["from"], "447700900001");
        assert_eq!(m["timestamp"], "1770000000", "timestamps are strings");
        assert_eq!(m["type"], "text");
        assert_eq!(m["text"]["body"], "Is my car ready?");
    }

    #[test]
    fn images_and_button_replies_are_typed_objects() {
        let img = inbound_notification(
            &business(),
            &inbound(Content::Media {
                file: File::Photo,
                media_id: "123".into(),
                sha256: "ab".into(),
                caption: Some("This light".into()),
                filename: None,
            }),
        );
        let m = &img["entry"][0]["changes"][0]["value"]["messages"][0];
        assert_eq!(m["type"], "image");
        assert_eq!(m["image"]["caption"], "This light");
        assert_eq!(m["image"]["mime_type"], "image/jpeg");
        let doc = inbound_notification(
            &business(),
            &inbound(Content::Media {
                file: File::Pdf,
                media_id: "127".into(),
                sha256: "ab".into(),
                caption: None,
                filename: Some("MOT certificate.pdf".into()),
            }),
        );
        let m = &doc["entry"][0]["changes"][0]["value"]["messages"][0];
        assert_eq!(m["type"], "document");
        assert_eq!(m["document"]["filename"], "MOT certificate.pdf");
        assert_eq!(m["document"]["mime_type"], "application/pdf");
        let voice = inbound_notification(
            &business(),
            &inbound(Content::Media {
                file: File::VoiceNote,
                media_id: "128".into(),
                sha256: "ab".into(),
                caption: None,
                filename: None,
            }),
        );
        let m = &voice["entry"][0]["changes"][0]["value"]["messages"][0];
        assert_eq!(m["type"], "audio");
        assert_eq!(m["audio"]["voice"], true);
        assert_eq!(m["audio"]["mime_type"], "audio/ogg; codecs=opus");
        let b = inbound_notification(
            &business(),
            &inbound(Content::Button {
                id: "confirm_booking".into(),
                title: "Yes, book it in".into(),
                context_id: "wamid.OUT".into(),
            }),
        );
        let m = &b["entry"][0]["changes"][0]["value"]["messages"][0];
        assert_eq!(m["type"], "interactive");
        assert_eq!(m["interactive"]["type"], "button_reply");
        assert_eq!(m["interactive"]["button_reply"]["title"], "Yes, book it in");
        assert_eq!(m["context"]["id"], "wamid.OUT");
    }

    #[test]
    fn statuses_carry_pricing_or_errors() {
        let mut s = Status {
            id: "wamid.OUT".into(),
            status: "sent".into(),
            timestamp: 1_770_000_001,
            recipient_id: "447700900001".into(),
            error: None,
            conversation_id: "c1".into(),
            callback_data: Some("message=42".into()),
        };
        let n = status_notification(&business(), &s);
        let st = &n["entry"][0]["changes"][0]["value"]["statuses"][0];
        assert_eq!(st["status"], "sent");
        assert_eq!(st["biz_opaque_callback_data"], "message=42");
        assert_eq!(st["conversation"]["origin"]["type"], "service");
        assert_eq!(st["pricing"]["pricing_model"], "PMP");
        assert!(n["entry"][0]["changes"][0]["value"]["messages"].is_null());
        s.status = "failed".into();
        s.error = Some((
            131026,
            "Message undeliverable".into(),
            "Recipient is not on WhatsApp".into(),
        ));
        let n = status_notification(&business(), &s);
        let st = &n["entry"][0]["changes"][0]["value"]["statuses"][0];
        assert_eq!(st["errors"][0]["code"], 131026);
        assert_eq!(
            st["errors"][0]["error_data"]["details"],
            "Recipient is not on WhatsApp"
        );
        assert!(st["pricing"].is_null());
    }

    #[test]
    fn send_answers_and_errors_look_like_graphs() {
        let a = send_accepted("+447700900001", "447700900001", "wamid.X");
        assert_eq!(a["messages"][0]["id"], "wamid.X");
        assert_eq!(a["contacts"][0]["input"], "+447700900001");
        let e = error(
            190,
            "OAuthException",
            "Access token has expired",
            "Error validating access token",
            "AbC",
        );
        assert_eq!(e["error"]["code"], 190);
        assert_eq!(e["error"]["message"], "(#190) Access token has expired");
    }

    #[test]
    fn wire_bytes_escape_non_ascii_like_meta() {
        let v = json!({ "t": "£340 👍 ok" });
        let bytes = wire_bytes(&v);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(text, r#"{"t":"\u00a3340 \ud83d\udc4d ok"}"#);
        let back: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, v, "the same JSON, only spelled differently");
    }
}
