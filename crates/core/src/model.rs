//! The domain's nouns as they travel on the wire: organisations, people, conversations and what
//! happens in them. Ids are integers the server assigns; times are UTC.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::capability::CapabilitySet;
use crate::whatsapp::WindowState;

pub type Id = i64;

macro_rules! wire_enum_impl {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $wire)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_enum_impl as wire_enum;

wire_enum!(
    /// How a message or call reached us or left us (LST-10 icons: portal grey, WhatsApp green,
    /// SMS blue, voice purple).
    Channel { Portal = "portal", Whatsapp = "whatsapp", Sms = "sms", Voice = "voice" }
);

wire_enum!(Direction { Inbound = "inbound", Outbound = "outbound" });

wire_enum!(
    /// Delivery status of a message (THR-4). Outbound messages move forward only; see `rank`.
    /// `Unknown`: the provider may have accepted it but its answer was lost (a timeout after the
    /// request went out, an unreadable 2xx, the server stopping mid-send). Never re-sent
    /// blindly; a provider callback settles it.
    DeliveryStatus {
        Pending = "pending",
        PendingApproval = "pending_approval",
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        Failed = "failed",
        Rejected = "rejected",
        Unknown = "unknown",
    }
);

impl DeliveryStatus {
    /// Progress order for provider callbacks, which arrive out of order; see
    /// `providers::status::advance` for why a delivery receipt outranks a failure.
    pub fn rank(self) -> u8 {
        crate::providers::status::delivery_rank(self)
    }
}

wire_enum!(
    /// Why an unassigned conversation is in the inbox (RTE-1).
    ContextBadge { General = "general", Booking = "booking", Unknown = "unknown" }
);

wire_enum!(
    /// How a call ended (THR-5, VOI-7). `InProgress` while it is still ringing or connected.
    CallOutcome {
        InProgress = "in_progress",
        Answered = "answered",
        Missed = "missed",
        Voicemail = "voicemail",
        Escalated = "escalated",
        Errored = "errored",
    }
);

impl CallOutcome {
    /// Calls the system could not resolve itself stay in Unread until someone marks them (VOI-7).
    pub fn needs_resolution(self) -> bool {
        matches!(
            self,
            CallOutcome::Missed
                | CallOutcome::Voicemail
                | CallOutcome::Escalated
                | CallOutcome::Errored
        )
    }
}

wire_enum!(WorkOrderStatus { Active = "active", Closed = "closed" });

wire_enum!(
    /// A note is written by staff; a system entry records what happened (THR-8).
    NoteKind { Note = "note", System = "system" }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: Id,
    pub name: String,
    /// IANA zone name; date ranges resolve in it (LST-3).
    pub time_zone: String,
    /// AI Analytics tab shown (NAV-2).
    pub ai_enabled: bool,
}

/// The signed-in user, with what they may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Id,
    pub email: String,
    pub name: String,
    pub role: String,
    pub capabilities: CapabilitySet,
}

/// A colleague as other screens show them (assignee, author).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRef {
    pub id: Id,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: Id,
    pub name: String,
    /// E.164, first is the primary number.
    pub phones: Vec<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrder {
    pub id: Id,
    pub number: String,
    pub status: WorkOrderStatus,
    pub vehicle_registration: String,
    pub description: String,
    pub customer_id: Id,
    pub customer_name: String,
}

/// One row of the conversation list (LST-10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: Id,
    /// Customer name, else the caller's number, else "Withheld number".
    pub title: String,
    pub customer_id: Option<Id>,
    /// E.164 of an anonymous (not matched to a customer) conversation.
    pub caller_number: Option<String>,
    pub withheld: bool,
    pub preview: String,
    pub last_channel: Channel,
    pub last_activity_at: DateTime<Utc>,
    /// Unread inbound messages.
    pub unread_count: u32,
    /// Missed calls, voicemails … not yet marked resolved (VOI-7).
    pub unresolved_calls: u32,
    pub assignee: Option<StaffRef>,
    /// Shown for unassigned rows (RTE-1).
    pub context_badge: ContextBadge,
    pub work_order: Option<WorkOrderRef>,
    /// Several active work orders could apply: staff must pick one (RTE-3).
    pub needs_work_order_pick: bool,
    /// What the customer's latest message asks for, as its thread shows it (AIA-1); None for
    /// a conversation without one and while the organisation has AI off.
    #[serde(default)]
    pub intent: Option<crate::intent::Intent>,
}

impl ConversationSummary {
    /// Unread = an unread inbound message or a call awaiting resolution.
    pub fn is_unread(&self) -> bool {
        self.unread_count > 0 || self.unresolved_calls > 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrderRef {
    pub id: Id,
    pub number: String,
}

/// A conversation with everything its header and sidebar show (THR-2, SDB-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationDetail {
    #[serde(flatten)]
    pub summary: ConversationSummary,
    pub customer: Option<Customer>,
    /// The linked work order in full (the summary's `work_order` is its id and number).
    pub linked_work_order: Option<WorkOrder>,
    /// The active work orders to choose from when `needs_work_order_pick` (RTE-3).
    pub work_order_candidates: Vec<WorkOrder>,
    pub whatsapp_window: WindowState,
    /// Channels a reply can go out on, the default first (CMP-5, VOI-5).
    pub reply_channels: Vec<Channel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateUse {
    pub name: String,
    #[serde(default)]
    pub params: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: Id,
    pub conversation_id: Id,
    pub direction: Direction,
    pub channel: Channel,
    pub body: String,
    pub template: Option<TemplateUse>,
    pub status: DeliveryStatus,
    /// Staff author of an outbound message.
    pub author: Option<StaffRef>,
    /// Who the bubble says sent it: the customer, the caller's number, or the staff member.
    pub sender_name: String,
    /// The composing desktop's idempotency key.
    pub client_id: Option<String>,
    /// Why it failed (provider error) or was rejected (approver's reason).
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    /// What an inbound message asks for (AIA-1); None on outbound messages and while the
    /// organisation has AI off.
    #[serde(default)]
    pub intent: Option<crate::intent::MessageIntent>,
    /// Photos, documents and voice notes (issue 17); always present on the wire, oldest first.
    #[serde(default)]
    pub attachments: Vec<crate::media::Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub id: Id,
    pub conversation_id: Id,
    pub direction: Direction,
    pub outcome: CallOutcome,
    /// The caller's number as given (E.164), or None when withheld.
    pub from_number: Option<String>,
    pub duration_secs: u32,
    pub recording_url: Option<String>,
    pub recording_secs: Option<u32>,
    pub transcript: Option<String>,
    pub resolved: bool,
    pub started_at: DateTime<Utc>,
    /// "Voice call - 41s - ended", "Voicemail - 0:38" (VOI-4).
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: Id,
    pub conversation_id: Id,
    pub kind: NoteKind,
    pub body: String,
    pub author: Option<StaffRef>,
    pub created_at: DateTime<Utc>,
}

/// One entry of a thread: messages, calls and notes interleaved by time (THR-4, THR-5, THR-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ThreadItem {
    Message(Message),
    Call(Call),
    Note(Note),
}

impl ThreadItem {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            ThreadItem::Message(m) => m.created_at,
            ThreadItem::Call(c) => c.started_at,
            ThreadItem::Note(n) => n.created_at,
        }
    }
}

/// A pre-saved snippet (CMP-6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickMessage {
    pub id: Id,
    pub name: String,
    pub body: String,
}

/// An approved WhatsApp template; `{{1}}`, `{{2}}` … in the body are its parameters (CMP-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsappTemplate {
    pub id: Id,
    pub name: String,
    pub language: String,
    pub body: String,
    pub param_count: u32,
    /// The media header the template was approved with, if any: each send then carries exactly
    /// one file of that kind (CMP-2). Absent or null in older JSON: no header.
    #[serde(default)]
    pub header: Option<TemplateHeader>,
}

wire_enum!(
    /// A template's media header (CMP-2): a photo ("here are your brake pads") or a PDF ("your
    /// invoice is attached") sent above the text.
    TemplateHeader { Image = "image", Document = "document" }
);

impl TemplateHeader {
    /// Whether a file of this type can be the header: a JPEG or PNG photo for an image header
    /// (WhatsApp takes no other image type there), a PDF for a document header.
    pub fn accepts(self, content_type: &str) -> bool {
        let t = crate::media::essence(content_type);
        match self {
            TemplateHeader::Image => {
                matches!(t.as_str(), "image/jpeg" | "image/jpg" | "image/png")
            }
            TemplateHeader::Document => t == "application/pdf",
        }
    }

    /// What the header takes, in words for the front desk.
    pub fn file_noun(self) -> &'static str {
        match self {
            TemplateHeader::Image => "photo (JPEG or PNG)",
            TemplateHeader::Document => "PDF",
        }
    }
}

impl WhatsappTemplate {
    /// The text a customer will read, parameters substituted.
    /// The body with each `{{n}}` replaced by the n-th parameter, in one pass: a parameter that
    /// itself contains `{{m}}` stays as written, so parameters cannot multiply each other.
    pub fn render(&self, params: &[String]) -> String {
        let mut out = String::with_capacity(self.body.len());
        let mut rest = self.body.as_str();
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let filled = after.find("}}").and_then(|end| {
                let n: usize = after[..end].parse().ok()?;
                let p = params.get(n.checked_sub(1)?)?;
                Some((p, end))
            });
            match filled {
                Some((p, end)) => {
                    out.push_str(p);
                    rest = &after[end + 2..];
                }
                None => {
                    out.push_str("{{");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The number of distinct `{{n}}` placeholders in a template body.
    pub fn count_params(body: &str) -> u32 {
        (1..=20u32)
            .take_while(|n| body.contains(&format!("{{{{{n}}}}}")))
            .count() as u32
    }
}

/// A message waiting in the Approval Queue (APQ-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalItem {
    pub message: Message,
    pub conversation_title: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thr4_delivery_status_never_goes_backwards_by_rank() {
        use DeliveryStatus::*;
        assert!(Delivered.rank() > Sent.rank());
        assert!(Read.rank() > Delivered.rank());
        assert!(Failed.rank() > Sent.rank(), "a failure ends sending");
        assert!(Read.rank() > Failed.rank(), "a read receipt proves arrival");
        assert_eq!(
            serde_json::to_string(&PendingApproval).unwrap(),
            r#""pending_approval""#
        );
    }

    #[test]
    fn voi7_unresolved_outcomes() {
        assert!(CallOutcome::Missed.needs_resolution());
        assert!(CallOutcome::Voicemail.needs_resolution());
        assert!(!CallOutcome::Answered.needs_resolution());
        assert!(!CallOutcome::InProgress.needs_resolution());
    }

    #[test]
    fn cmp2_template_renders_and_counts_params() {
        let t = WhatsappTemplate {
            id: 1,
            name: "mot_reminder".into(),
            language: "en_GB".into(),
            body: "Hi {{1}}, your MOT for {{2}} is due.".into(),
            param_count: 2,
            header: None,
        };
        assert_eq!(WhatsappTemplate::count_params(&t.body), 2);
        assert_eq!(
            t.render(&["Sam".into(), "AB12 CDE".into()]),
            "Hi Sam, your MOT for AB12 CDE is due."
        );
        // One pass: a parameter's own braces are text, never filled in again.
        assert_eq!(
            t.render(&["{{2}}{{2}}".into(), "X".into()]),
            "Hi {{2}}{{2}}, your MOT for X is due."
        );
        let odd = WhatsappTemplate {
            body: "{{ {{9}} {{1}".into(),
            ..t
        };
        assert_eq!(odd.render(&["A".into()]), "{{ {{9}} {{1}");
    }

    #[test]
    fn cmp2_a_template_header_is_optional_on_the_wire() {
        let old = r#"{"id":1,"name":"n","language":"en","body":"b","param_count":0}"#;
        let t: WhatsappTemplate = serde_json::from_str(old).unwrap();
        assert_eq!(t.header, None);
        let null =
            r#"{"id":1,"name":"n","language":"en","body":"b","param_count":0,"header":null}"#;
        assert_eq!(serde_json::from_str::<WhatsappTemplate>(null).unwrap(), t);
        let doc = WhatsappTemplate {
            header: Some(TemplateHeader::Document),
            ..t
        };
        let v = serde_json::to_value(&doc).unwrap();
        assert_eq!(v["header"], "document");
        assert_eq!(serde_json::from_value::<WhatsappTemplate>(v).unwrap(), doc);
        assert!(serde_json::from_str::<TemplateHeader>(r#""video""#).is_err());
    }

    #[test]
    fn cmp2_a_header_takes_photos_or_pdfs_only() {
        use TemplateHeader::{Document, Image};
        for t in ["image/jpeg", "IMAGE/PNG; q=1"] {
            assert!(Image.accepts(t), "{t}");
            assert!(!Document.accepts(t), "{t}");
        }
        assert!(
            !Image.accepts("image/webp"),
            "WhatsApp takes only JPEG and PNG headers"
        );
        assert!(Document.accepts("application/pdf"));
        assert!(!Image.accepts("application/pdf"));
        assert!(
            !Image.accepts("image/heic"),
            "WhatsApp does not show HEIC headers"
        );
        assert!(!Image.accepts("audio/ogg") && !Document.accepts("audio/ogg"));
    }

    #[test]
    fn thread_items_are_tagged_by_type() {
        let n = ThreadItem::Note(Note {
            id: 1,
            conversation_id: 2,
            kind: NoteKind::System,
            body: "Work order WO-1 linked".into(),
            author: None,
            created_at: DateTime::from_timestamp(0, 0).unwrap(),
        });
        let v = serde_json::to_value(&n).unwrap();
        assert_eq!(v["type"], "note");
        assert_eq!(v["kind"], "system");
        assert_eq!(v["body"], "Work order WO-1 linked");
    }
}
