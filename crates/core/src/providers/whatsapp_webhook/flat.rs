//! The flattened view of a WhatsApp notification: one item per inbound message (with readable
//! text for every type, unknown ones included) and one per status update, each tagged with the
//! `phone_number_id` of the change it came in.

use super::{
    ApiError, Contact, MediaObject, Message, Notification, Status, FIELD_MESSAGES, OBJECT_WABA,
};

/// One item per message and per status, in the order they appear in the POST.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub messages: Vec<WaInbound>,
    pub statuses: Vec<WaStatus>,
    /// `value.errors[]`: problems Meta reports about the webhook itself; log them.
    pub errors: Vec<WaError>,
}

/// An inbound WhatsApp message ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaInbound {
    /// Of the change it came in: which of our numbers received it.
    pub phone_number_id: String,
    /// Digits, no `+` ([`crate::phone::normalize`] reads it).
    pub from_wa_id: String,
    pub profile_name: Option<String>,
    /// `wamid.…`
    pub id: String,
    pub timestamp: i64,
    pub kind: WaKind,
    /// Human-readable, never empty; see [`Message::display_text`].
    pub text: String,
    pub media_id: Option<String>,
    pub mime_type: Option<String>,
    /// A media message's caption (its text when the file is shown as an attachment).
    pub caption: Option<String>,
    /// A document's file name.
    pub file_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WaKind {
    Text,
    Image,
    Video,
    Audio,
    Document,
    Sticker,
    Interactive,
    Button,
    Reaction,
    Location,
    Contacts,
    Order,
    System,
    /// Meta's `unsupported` (its `unsupported.type`, e.g. "edit", when given) or a type this
    /// code does not know (`request_welcome`, anything new): the type name.
    Unsupported(String),
}

/// A delivery update for one of our outbound messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaStatus {
    pub phone_number_id: String,
    /// The wamid of our outbound message. Dedupe on (`id`, `status`).
    pub id: String,
    pub status: WaStatusKind,
    pub timestamp: i64,
    pub recipient_id: String,
    pub errors: Vec<WaError>,
    /// Copied back from the send request: our reference to the reply (issue 13).
    pub biz_opaque_callback_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WaStatusKind {
    Sent,
    Delivered,
    Read,
    /// First play of a voice message (implies read).
    Played,
    Failed,
    Other(String),
}

impl WaStatusKind {
    pub fn parse(s: &str) -> Self {
        match s {
            "sent" => WaStatusKind::Sent,
            "delivered" => WaStatusKind::Delivered,
            "read" => WaStatusKind::Read,
            "played" => WaStatusKind::Played,
            "failed" => WaStatusKind::Failed,
            other => WaStatusKind::Other(other.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaError {
    pub code: i64,
    /// "" when Meta sent none.
    pub title: String,
    pub message: Option<String>,
    /// `error_data.details`: branch on `code` + this, not on titles.
    pub details: Option<String>,
}

impl From<&ApiError> for WaError {
    fn from(e: &ApiError) -> Self {
        WaError {
            code: e.code,
            title: e.title.clone().unwrap_or_default(),
            message: e.message.clone(),
            details: e.error_data.as_ref().and_then(|d| d.details.clone()),
        }
    }
}

/// Parses the raw POST body (the same bytes the signature was checked over) and flattens it.
/// Notifications for another `object` and changes whose field is not `messages` give nothing.
pub fn parse_notification(raw: &[u8]) -> Result<Parsed, serde_json::Error> {
    let notification: Notification = serde_json::from_slice(raw)?;
    Ok(notification.flatten())
}

impl Notification {
    /// The flattened view (see [`parse_notification`]).
    pub fn flatten(&self) -> Parsed {
        let mut out = Parsed::default();
        if self.object != OBJECT_WABA {
            return out;
        }
        let values = self
            .entry
            .iter()
            .flat_map(|e| &e.changes)
            .filter(|c| c.field == FIELD_MESSAGES)
            .map(|c| &c.value);
        for value in values {
            let phone_number_id = &value.metadata.phone_number_id;
            out.messages.extend(
                value
                    .messages
                    .iter()
                    .map(|m| m.to_inbound(phone_number_id, &value.contacts)),
            );
            out.statuses
                .extend(value.statuses.iter().map(|s| s.to_status(phone_number_id)));
            out.errors.extend(value.errors.iter().map(WaError::from));
        }
        out
    }
}

impl Status {
    fn to_status(&self, phone_number_id: &str) -> WaStatus {
        WaStatus {
            phone_number_id: phone_number_id.to_string(),
            id: self.id.clone(),
            status: WaStatusKind::parse(&self.status),
            timestamp: self.timestamp,
            recipient_id: self.recipient_id.clone(),
            errors: self.errors.iter().map(WaError::from).collect(),
            biz_opaque_callback_data: self.biz_opaque_callback_data.clone(),
        }
    }
}

impl Message {
    fn to_inbound(&self, phone_number_id: &str, contacts: &[Contact]) -> WaInbound {
        let media = self.media();
        WaInbound {
            phone_number_id: phone_number_id.to_string(),
            from_wa_id: self.from.clone(),
            profile_name: profile_name(contacts, &self.from),
            id: self.id.clone(),
            timestamp: self.timestamp,
            kind: self.wa_kind(),
            text: self.display_text(),
            media_id: media.and_then(|m| m.id.clone()),
            mime_type: media.and_then(|m| m.mime_type.clone()),
            caption: self.caption(),
            file_name: media
                .and_then(|m| non_empty(&m.filename))
                .map(str::to_string),
        }
    }

    /// The media object of an image, video, audio, document or sticker message.
    pub fn media(&self) -> Option<&MediaObject> {
        match self.kind.as_str() {
            "image" => self.image.as_ref(),
            "video" => self.video.as_ref(),
            "audio" => self.audio.as_ref(),
            "document" => self.document.as_ref(),
            "sticker" => self.sticker.as_ref(),
            _ => None,
        }
    }

    pub fn wa_kind(&self) -> WaKind {
        match self.kind.as_str() {
            "text" => WaKind::Text,
            "image" => WaKind::Image,
            "video" => WaKind::Video,
            "audio" => WaKind::Audio,
            "document" => WaKind::Document,
            "sticker" => WaKind::Sticker,
            "interactive" => WaKind::Interactive,
            "button" => WaKind::Button,
            "reaction" => WaKind::Reaction,
            "location" => WaKind::Location,
            "contacts" => WaKind::Contacts,
            "order" => WaKind::Order,
            "system" => WaKind::System,
            _ => WaKind::Unsupported(self.unsupported_type()),
        }
    }

    fn unsupported_type(&self) -> String {
        let inner = self
            .unsupported
            .as_ref()
            .and_then(|u| u.kind.as_deref())
            .filter(|k| !k.trim().is_empty());
        match (self.kind.as_str(), inner) {
            ("unsupported", Some(inner)) => inner.to_string(),
            ("", _) => "unknown".to_string(),
            (kind, _) => kind.to_string(),
        }
    }

    /// What a person reads in the thread: `text.body`; a media caption (else "[Photo]",
    /// "[Voice message]" …); the tapped button or list title; "Location: lat, lon (name)";
    /// "Reacted 👍 to a message"; a contact card's name and number; and for unsupported or
    /// unknown types "[Unsupported WhatsApp message: <type>]". Never empty.
    pub fn display_text(&self) -> String {
        let text = match self.wa_kind() {
            WaKind::Text => self.text.as_ref().map(|t| t.body.clone()),
            WaKind::Image => self.caption_or("[Photo]"),
            WaKind::Video => self.caption_or("[Video]"),
            WaKind::Audio => Some(if self.audio.as_ref().and_then(|a| a.voice) == Some(true) {
                "[Voice message]".to_string()
            } else {
                "[Audio]".to_string()
            }),
            WaKind::Document => self.caption().or_else(|| {
                let name = self.document.as_ref().and_then(|d| non_empty(&d.filename));
                Some(name.map_or("[Document]".to_string(), |n| format!("[Document: {n}]")))
            }),
            WaKind::Sticker => Some("[Sticker]".to_string()),
            WaKind::Interactive => self.interactive_text(),
            WaKind::Button => self
                .button
                .as_ref()
                .and_then(|b| non_empty(&b.text).or_else(|| non_empty(&b.payload)))
                .map(str::to_string),
            WaKind::Reaction => Some(
                match self.reaction.as_ref().and_then(|r| non_empty(&r.emoji)) {
                    Some(emoji) => format!("Reacted {emoji} to a message"),
                    None => "Removed a reaction".to_string(),
                },
            ),
            WaKind::Location => self
                .location
                .as_ref()
                .filter(|l| !l.latitude.is_empty())
                .map(|l| {
                    let place = non_empty(&l.name).or_else(|| non_empty(&l.address));
                    match place {
                        Some(place) => {
                            format!("Location: {}, {} ({place})", l.latitude, l.longitude)
                        }
                        None => format!("Location: {}, {}", l.latitude, l.longitude),
                    }
                }),
            WaKind::Contacts => self.contacts_text(),
            WaKind::Order => self.order.as_ref().map(|o| {
                let n = o.product_items.len();
                let items = if n == 1 { "item" } else { "items" };
                match non_empty(&o.text) {
                    Some(note) => format!("Order: {n} {items} ({note})"),
                    None => format!("Order: {n} {items}"),
                }
            }),
            WaKind::System => self
                .system
                .as_ref()
                .and_then(|s| non_empty(&s.body))
                .map(str::to_string),
            WaKind::Unsupported(kind) => Some(format!("[Unsupported WhatsApp message: {kind}]")),
        };
        match text {
            Some(t) if !t.trim().is_empty() => t,
            // The type's object was missing or empty: say what arrived rather than nothing.
            _ => format!("[WhatsApp {} message]", self.kind_label()),
        }
    }

    fn kind_label(&self) -> String {
        if self.kind.is_empty() {
            "unknown".to_string()
        } else {
            self.kind.clone()
        }
    }

    fn caption(&self) -> Option<String> {
        self.media()
            .and_then(|m| non_empty(&m.caption))
            .map(str::to_string)
    }

    fn caption_or(&self, placeholder: &str) -> Option<String> {
        Some(self.caption().unwrap_or_else(|| placeholder.to_string()))
    }

    fn interactive_text(&self) -> Option<String> {
        let i = self.interactive.as_ref()?;
        if let Some(reply) = i.button_reply.as_ref().filter(|r| !r.title.is_empty()) {
            return Some(reply.title.clone());
        }
        if let Some(reply) = i.list_reply.as_ref().filter(|r| !r.title.is_empty()) {
            return Some(match non_empty(&reply.description) {
                Some(d) => format!("{} ({d})", reply.title),
                None => reply.title.clone(),
            });
        }
        if let Some(nfm) = &i.nfm_reply {
            return Some(
                non_empty(&nfm.body).map_or("[Form response]".to_string(), str::to_string),
            );
        }
        None
    }

    fn contacts_text(&self) -> Option<String> {
        let cards: Vec<String> = self
            .contacts
            .as_ref()?
            .iter()
            .map(|c| {
                let name = c.name.as_ref().and_then(|n| non_empty(&n.formatted_name));
                let phone = c.phones.iter().find_map(|p| non_empty(&p.phone));
                match (name, phone) {
                    (Some(n), Some(p)) => format!("{n} ({p})"),
                    (Some(n), None) => n.to_string(),
                    (None, Some(p)) => p.to_string(),
                    (None, None) => "(no details)".to_string(),
                }
            })
            .collect();
        (!cards.is_empty()).then(|| format!("Shared contact: {}", cards.join("; ")))
    }
}

/// The profile of the contact whose `wa_id` is the sender; if Meta sent a single contact without
/// a matching `wa_id` (ids are changing to user ids), that one.
fn profile_name(contacts: &[Contact], from: &str) -> Option<String> {
    let name = |c: &Contact| {
        c.profile
            .as_ref()
            .and_then(|p| non_empty(&p.name))
            .map(str::to_string)
    };
    contacts
        .iter()
        .find(|c| c.wa_id.as_deref() == Some(from))
        .or(match contacts {
            [only] => Some(only),
            _ => None,
        })
        .and_then(name)
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.trim().is_empty())
}
