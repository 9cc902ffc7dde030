//! A whole organisation's data in memory, for bulk import (the demo seed and benchmarks), and the
//! derived conversation state (preview, last channel, unread) computed from a conversation's items
//! the same way the live write path keeps it.

use chrono::{DateTime, Utc};
use inbox_core::preview::{call_preview, message_preview, CallPreviewKind};
use inbox_core::{
    CallOutcome, CapabilitySet, Channel, ContextBadge, DeliveryStatus, Direction, Id, NoteKind,
    WorkOrderStatus,
};
use serde::Serialize;

#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub organisations: Vec<OrgData>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ProviderSettings {
    pub twilio_account_sid: String,
    pub twilio_auth_token: String,
    pub twilio_numbers: Vec<String>,
    pub whatsapp_phone_number_id: String,
    pub whatsapp_access_token: String,
    /// The garage's own phone that inbound calls ring before voicemail.
    pub voice_forward_to: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct OrgData {
    pub name: String,
    pub time_zone: String,
    pub ai_enabled: bool,
    pub providers: ProviderSettings,
    pub users: Vec<UserData>,
    pub customers: Vec<CustomerData>,
    pub work_orders: Vec<WorkOrderData>,
    pub conversations: Vec<ConversationData>,
    pub quick_messages: Vec<(String, String)>,
    /// (name, language, body)
    pub templates: Vec<(String, String, String)>,
}

#[derive(Debug, Clone)]
pub struct UserData {
    pub email: String,
    pub name: String,
    pub role: String,
    pub capabilities: CapabilitySet,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct CustomerData {
    pub name: String,
    pub email: Option<String>,
    pub phones: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct WorkOrderData {
    pub number: String,
    pub status: WorkOrderStatus,
    pub vehicle_registration: String,
    pub description: String,
    /// Index into `customers`.
    pub customer: usize,
}

#[derive(Debug, Clone)]
pub enum Party {
    /// Index into `customers`.
    Customer(usize),
    /// An unknown caller or sender, E.164.
    Number(String),
    Withheld,
}

#[derive(Debug, Clone)]
pub struct ConversationData {
    pub party: Party,
    /// Index into `users`.
    pub assignee: Option<usize>,
    /// Index into `work_orders`.
    pub work_order: Option<usize>,
    pub context_badge: ContextBadge,
    pub needs_work_order_pick: bool,
    /// In time order.
    pub items: Vec<ItemData>,
}

#[derive(Debug, Clone)]
pub enum ItemData {
    Message {
        direction: Direction,
        channel: Channel,
        body: String,
        status: DeliveryStatus,
        /// Index into `users` (outbound).
        author: Option<usize>,
        at: DateTime<Utc>,
        read: bool,
        /// Why a failed reply failed, in plain words (CMP-4).
        error: Option<String>,
    },
    Call {
        outcome: CallOutcome,
        duration_secs: u32,
        recording_secs: Option<u32>,
        transcript: Option<String>,
        resolved: bool,
        at: DateTime<Utc>,
    },
    Note {
        kind: NoteKind,
        body: String,
        author: Option<usize>,
        at: DateTime<Utc>,
    },
}

impl ItemData {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            ItemData::Message { at, .. }
            | ItemData::Call { at, .. }
            | ItemData::Note { at, .. } => *at,
        }
    }
}

/// The ids the database gave an imported dataset.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Imported {
    pub organisations: Vec<ImportedOrg>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportedOrg {
    pub id: Id,
    pub name: String,
    pub users: Vec<ImportedUser>,
    pub customers: usize,
    pub work_orders: usize,
    pub conversations: usize,
    pub messages: usize,
    pub calls: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportedUser {
    pub id: Id,
    pub email: String,
    pub capabilities: CapabilitySet,
}

/// A conversation's derived columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    pub last_activity_at: DateTime<Utc>,
    pub preview: String,
    pub last_channel: Channel,
    pub unread_count: u32,
    pub unresolved_calls: u32,
    pub last_inbound_whatsapp_at: Option<DateTime<Utc>>,
}

/// Preview text of a call row (VOI-4).
pub fn call_summary(
    outcome: CallOutcome,
    duration_secs: u32,
    recording_secs: Option<u32>,
) -> String {
    call_preview(match outcome {
        CallOutcome::Answered => CallPreviewKind::Answered { duration_secs },
        CallOutcome::InProgress => CallPreviewKind::InProgress,
        CallOutcome::Missed => CallPreviewKind::Missed,
        CallOutcome::Voicemail => CallPreviewKind::Voicemail {
            recording_secs: recording_secs.unwrap_or(0),
        },
        CallOutcome::Escalated => CallPreviewKind::Escalated,
        CallOutcome::Errored => CallPreviewKind::Errored,
    })
}

/// Derives the list columns from a conversation's items: the preview is the latest message or
/// call, the channel is how the customer last reached us (inbound), activity is the latest item.
pub fn derive(items: &[ItemData], created_at: DateTime<Utc>) -> Derived {
    let mut d = Derived {
        last_activity_at: created_at,
        preview: String::new(),
        last_channel: Channel::Sms,
        unread_count: 0,
        unresolved_calls: 0,
        last_inbound_whatsapp_at: None,
    };
    let mut channel_set = false;
    for item in items {
        d.last_activity_at = d.last_activity_at.max(item.at());
        match item {
            ItemData::Message {
                direction,
                channel,
                body,
                read,
                at,
                ..
            } => {
                d.preview = message_preview(body);
                if *direction == Direction::Inbound {
                    d.last_channel = *channel;
                    channel_set = true;
                    if !read {
                        d.unread_count += 1;
                    }
                    if *channel == Channel::Whatsapp {
                        d.last_inbound_whatsapp_at = Some(*at);
                    }
                } else if !channel_set {
                    d.last_channel = *channel;
                }
            }
            ItemData::Call {
                outcome,
                duration_secs,
                recording_secs,
                resolved,
                ..
            } => {
                d.preview = call_summary(*outcome, *duration_secs, *recording_secs);
                d.last_channel = Channel::Voice;
                channel_set = true;
                if outcome.needs_resolution() && !resolved {
                    d.unresolved_calls += 1;
                }
            }
            ItemData::Note { .. } => {}
        }
    }
    d
}
