//! The contract between the desktop shell (`src-tauri`, over `inbox-client`) and the Yew UI:
//! command names with their argument and result types, the events the shell emits, and the
//! engine-side types both sides read (connection state, outbox entries, notifications). One
//! definition, so neither side spells a name or a field by hand.
//!
//! Every command takes a single argument named `args` (`invoke(name, { args })`), so renaming a
//! Rust parameter never silently breaks the UI.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::api::CallDestination;
use crate::range::RangePreset;
use crate::whatsapp::WindowState;
use crate::{
    Call, Channel, ConversationSummary, Id, Organisation, TemplateUse, ThreadItem, User, WorkOrder,
};

/// Command names, as registered by the shell and invoked by the UI.
pub mod cmd {
    /// `()` → `Option<Session>`: the signed-in session restored from the keychain, if any.
    pub const SESSION: &str = "session";
    /// `SignIn` → `Session`.
    pub const SIGN_IN: &str = "sign_in";
    /// `()` → `()`: ends the session and wipes the cache (ACC-3).
    pub const SIGN_OUT: &str = "sign_out";
    /// `ConversationQuery` → `ConversationPage` (from the cache; search merges the server's).
    pub const LIST: &str = "list_conversations";
    /// `ConversationRef` → `ConversationHeader`.
    pub const CONVERSATION: &str = "conversation";
    /// `ThreadRequest` → `ThreadView`.
    pub const THREAD: &str = "thread";
    /// `ConversationRef` → `()` (THR-7).
    pub const MARK_READ: &str = "mark_read";
    /// `AttentionArgs` → `()`: what the user is looking at, for the notification policy.
    pub const SET_ATTENTION: &str = "set_attention";
    /// `()` → `()`: RT-2's Refresh.
    pub const REFRESH: &str = "refresh";
    /// `()` → `ConnectionState`.
    pub const CONNECTION: &str = "connection_state";
    /// `()` → `Preferences`.
    pub const PREFERENCES: &str = "preferences";
    /// `Preferences` → `()`.
    pub const SET_PREFERENCES: &str = "set_preferences";
    /// `()` → `Option<String>`: a view (`messages?…` query) the shell was asked to open before
    /// the UI listened, e.g. by a notification click; taken once.
    pub const TAKE_PENDING_OPEN: &str = "take_pending_open";

    /// `ConversationRef` → `ConversationDetail`: the sidebar and the composer's channels (SDB-2,
    /// CMP-5). From the server when reachable, else built from the cache.
    pub const DETAIL: &str = "conversation_detail";
    /// `ReplyArgs` → `OutboxEntry`: queued at once, sent when the server is reachable (CMP-1,
    /// DSK-5).
    pub const SEND_REPLY: &str = "send_reply";
    /// `MessageRef` → `Message`: a failed message goes back to the send queue (CMP-4).
    pub const RETRY_MESSAGE: &str = "retry_message";
    /// `IdRef` (an attachment) → `Option<Message>`: a sensitive file removed everywhere, audited
    /// (issue 17; needs `messages.approve`).
    pub const REMOVE_ATTACHMENT: &str = "remove_attachment";
    /// `IntentArgs` → `Message`: a staff member's label for an inbound message (AIA-1).
    pub const CORRECT_INTENT: &str = "correct_intent";
    /// `ClientRef` → `()`: drops a refused reply from the outbox.
    pub const DISCARD_REPLY: &str = "discard_reply";
    /// `NoteArgs` → `Note` (THR-8).
    pub const ADD_NOTE: &str = "add_note";
    /// `()` → `Vec<StaffRef>`: assignment targets (SDB-4).
    pub const STAFF: &str = "staff";
    /// `AssignArgs` → `ConversationSummary` (SDB-4).
    pub const ASSIGN: &str = "assign";
    /// `SearchArgs` → `Vec<WorkOrder>`: the link dialog (SDB-3).
    pub const SEARCH_WORK_ORDERS: &str = "search_work_orders";
    /// `LinkArgs` → `ConversationDetail` (SDB-3, RTE-3).
    pub const LINK_WORK_ORDER: &str = "link_work_order";
    /// `ConversationRef` → `ConversationDetail` (SDB-3).
    pub const UNLINK_WORK_ORDER: &str = "unlink_work_order";
    /// `WorkOrderArgs` → `WorkOrderView` (WO-1).
    pub const WORK_ORDER: &str = "work_order";
    /// `()` → `Vec<ApprovalItem>` (APQ-1).
    pub const APPROVALS: &str = "approvals";
    /// `()` → `Vec<Role>` (SET-1).
    pub const ROLES: &str = "roles";
    /// `NewRole` → `Role`: a custom role copied from another (SET-1).
    pub const CREATE_ROLE: &str = "create_role";
    /// `RoleEdit` → `Role` (SET-1).
    pub const UPDATE_ROLE: &str = "update_role";
    /// `IdRef` → `()` (SET-1).
    pub const DELETE_ROLE: &str = "delete_role";
    /// `()` → `Vec<StaffAccount>` (ACC-2).
    pub const USERS: &str = "users";
    /// `NewStaff` → `OneTimePassword` (ACC-2).
    pub const CREATE_USER: &str = "create_user";
    /// `UserEdit` → `StaffAccount`: a new role, disabled or enabled (ACC-2).
    pub const UPDATE_USER: &str = "update_user";
    /// `IdRef` → `OneTimePassword` (ACC-2).
    pub const RESET_PASSWORD: &str = "reset_password";
    /// `()` → `Vec<AuditEntry>`: the newest entries (ACC-2).
    pub const AUDIT: &str = "audit";
    /// `AiSettings` → `AiSettings`: the AI switch (AIA-1, `settings.ai.manage`).
    pub const SET_AI: &str = "set_ai";
    /// `()` → `OpeningHours` (AIA-1).
    pub const OPENING_HOURS: &str = "opening_hours";
    /// `OpeningHours` → `OpeningHours` (AIA-1, `settings.ai.manage`).
    pub const SET_OPENING_HOURS: &str = "set_opening_hours";
    /// `()` → `LanguageModelSettings` (AIA-1, `settings.ai.manage`).
    pub const LANGUAGE_MODEL: &str = "language_model";
    /// `LanguageModelUpdate` → `LanguageModelSettings` (AIA-1, `settings.ai.manage`).
    pub const SET_LANGUAGE_MODEL: &str = "set_language_model";
    /// `AnalyticsQuery` → `Analytics`: the AI Analytics tab (AIA-1).
    pub const ANALYTICS: &str = "analytics";
    /// `SaveCsv` → `String`: writes a CSV export to the user's Downloads folder and answers
    /// its path (AIA-1).
    pub const SAVE_CSV: &str = "save_csv";
    /// `SaveAttachment` → the saved path (issue 17).
    pub const SAVE_ATTACHMENT: &str = "save_attachment";
    /// `()` → `OfflineFiles`: the space messages' files take on this computer, and its cap.
    pub const OFFLINE_FILES: &str = "offline_files";
    /// `OfflineFilesCap` → `OfflineFiles`: a new cap; the least recently used files beyond it
    /// go at once.
    pub const SET_OFFLINE_FILES: &str = "set_offline_files";
    /// `MessageRef` → `Message`: approved, queued for sending (APQ-1).
    pub const APPROVE: &str = "approve";
    /// `RejectArgs` → `Message`: rejected, the reason shown to its author (APQ-1).
    pub const REJECT: &str = "reject";
    /// `CallRef` → `CallView` (VOI-8).
    pub const CALL: &str = "call";
    /// `ReassignArgs` → `CallMoved` (VOI-6).
    pub const REASSIGN_CALL: &str = "reassign_call";
    /// `CallRef` → `Call`: "Mark resolved" (VOI-7).
    pub const RESOLVE_CALL: &str = "resolve_call";
    /// `SearchArgs` → `Vec<Customer>`: "Move to a different customer" (VOI-6).
    pub const SEARCH_CUSTOMERS: &str = "search_customers";
    /// `()` → `Vec<QuickMessage>` (CMP-6).
    pub const QUICK_MESSAGES: &str = "quick_messages";
    /// `SaveQuickMessage` → `QuickMessage`: create (`id` None) or edit (SET-1).
    pub const SAVE_QUICK_MESSAGE: &str = "save_quick_message";
    /// `IdRef` → `()` (SET-1).
    pub const DELETE_QUICK_MESSAGE: &str = "delete_quick_message";
    /// `()` → `Vec<WhatsappTemplate>` (CMP-2).
    pub const TEMPLATES: &str = "templates";
    /// `SaveTemplate` → `WhatsappTemplate`: create (`id` None) or edit (SET-1).
    pub const SAVE_TEMPLATE: &str = "save_template";
    /// `IdRef` → `()` (SET-1).
    pub const DELETE_TEMPLATE: &str = "delete_template";
    /// `ConversationRef` → `Option<Draft>`: what was being typed, kept across restarts.
    pub const DRAFT: &str = "draft";
    /// `Draft` → `()`: an empty body forgets the draft.
    pub const SET_DRAFT: &str = "set_draft";
    /// `OpenView` → `String`: the `garage-inbox://messages?…` link of a view, now on the
    /// clipboard (LST-7, THR-3).
    pub const COPY_LINK: &str = "copy_link";
    /// `()` → `AppUpdate`: the update on offer now (DSK-1); the UI asks once, then follows
    /// `event::APP_UPDATE`.
    pub const UPDATE_STATUS: &str = "update_status";
    /// `()` → `()`: "Install and restart" (DSK-1). Downloads, checks the signature, installs
    /// and restarts the app; a refusal answers with the card's message and the app keeps running.
    pub const INSTALL_UPDATE: &str = "install_update";
    /// `()` → `()`: "Later" (DSK-1): the card goes until the next daily check.
    pub const DISMISS_UPDATE: &str = "dismiss_update";

    /// Every command: the shell registers exactly these, and its capability file grants them.
    pub const ALL: &[&str] = &[
        SESSION,
        SIGN_IN,
        SIGN_OUT,
        LIST,
        CONVERSATION,
        THREAD,
        MARK_READ,
        SET_ATTENTION,
        REFRESH,
        CONNECTION,
        PREFERENCES,
        SET_PREFERENCES,
        TAKE_PENDING_OPEN,
        DETAIL,
        SEND_REPLY,
        RETRY_MESSAGE,
        REMOVE_ATTACHMENT,
        CORRECT_INTENT,
        DISCARD_REPLY,
        ADD_NOTE,
        STAFF,
        ASSIGN,
        SEARCH_WORK_ORDERS,
        LINK_WORK_ORDER,
        UNLINK_WORK_ORDER,
        WORK_ORDER,
        APPROVALS,
        ROLES,
        CREATE_ROLE,
        UPDATE_ROLE,
        DELETE_ROLE,
        USERS,
        CREATE_USER,
        UPDATE_USER,
        RESET_PASSWORD,
        AUDIT,
        ANALYTICS,
        SAVE_CSV,
        SAVE_ATTACHMENT,
        OFFLINE_FILES,
        SET_OFFLINE_FILES,
        SET_AI,
        OPENING_HOURS,
        SET_OPENING_HOURS,
        LANGUAGE_MODEL,
        SET_LANGUAGE_MODEL,
        APPROVE,
        REJECT,
        CALL,
        REASSIGN_CALL,
        RESOLVE_CALL,
        SEARCH_CUSTOMERS,
        QUICK_MESSAGES,
        SAVE_QUICK_MESSAGE,
        DELETE_QUICK_MESSAGE,
        TEMPLATES,
        SAVE_TEMPLATE,
        DELETE_TEMPLATE,
        DRAFT,
        SET_DRAFT,
        COPY_LINK,
        UPDATE_STATUS,
        INSTALL_UPDATE,
        DISMISS_UPDATE,
    ];
}

/// Events the shell emits to the webview.
pub mod event {
    /// Payload `Update`.
    pub const UPDATE: &str = "inbox://update";
    /// Payload `OpenView`: bring this view forward (a notification was clicked).
    pub const OPEN: &str = "inbox://open";
    /// Payload `AppUpdate`: the update card changed (DSK-1).
    pub const APP_UPDATE: &str = "inbox://app-update";
}

/// The argument wrapper every command receives: `invoke(name, { args: … })`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Args<T> {
    pub args: T,
}

/// ACC-3: the sign-in form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    /// The server's base URL, e.g. `https://inbox.example.com`.
    pub server: String,
    pub email: String,
    pub password: String,
    /// Keep the session in memory only: nothing in the keychain, and the cache deleted when the
    /// app exits (offered when the keychain does not answer).
    #[serde(default)]
    pub session_only: bool,
}

/// Who is signed in, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub server: String,
    pub user: User,
    pub organisation: Organisation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationRef {
    pub conversation_id: Id,
}

/// A thread page request: `before` = the oldest item already shown (THR-6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadRequest {
    pub conversation_id: Id,
    pub before: Option<ThreadItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AttentionArgs {
    /// The conversation shown in the thread panel.
    pub conversation_id: Option<Id>,
}

/// What the thread header shows (THR-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationHeader {
    pub summary: ConversationSummary,
    /// For conversations with WhatsApp messages: the 24-hour window as of now.
    pub whatsapp_window: Option<WindowState>,
}

/// A reply to queue (CMP-1 … CMP-5): text or a WhatsApp template, on a channel (None: the
/// conversation's default, the customer's last channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyArgs {
    pub conversation_id: Id,
    pub body: Option<String>,
    pub template: Option<TemplateUse>,
    pub channel: Option<Channel>,
    /// Photos and documents picked, dropped or pasted (issue 17).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ReplyFile>,
}

/// A file attached in the composer, on its way to the engine's outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyFile {
    pub file_name: String,
    pub content_type: String,
    /// The bytes, in standard base64 (the IPC carries JSON).
    pub base64: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRef {
    pub message_id: Id,
}

/// `cmd::UPDATE_ROLE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleEdit {
    pub id: Id,
    pub update: crate::roles::RoleUpdate,
}

/// `cmd::UPDATE_USER`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEdit {
    pub id: Id,
    pub update: crate::roles::StaffUpdate,
}

/// `cmd::SAVE_CSV`: a file for the Downloads folder. `file_name` is a plain name (no folders);
/// the shell refuses anything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveCsv {
    pub file_name: String,
    pub contents: String,
}

/// A message's file to save to Downloads under its name (issue 17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveAttachment {
    pub id: Id,
    pub file_name: String,
}

/// Messages' files kept on this computer for reading offline (issue 17): what they take and
/// the most they may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineFiles {
    pub used_bytes: u64,
    pub cap_bytes: u64,
}

/// A new cap on the files kept, one of [`OfflineFilesCap::CHOICES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineFilesCap {
    pub cap_bytes: u64,
}

impl OfflineFilesCap {
    const MB: u64 = 1024 * 1024;
    /// What a user picks from: 100 MB to 5 GB; 500 MB unless changed.
    pub const CHOICES: [u64; 6] = [
        100 * Self::MB,
        250 * Self::MB,
        500 * Self::MB,
        1024 * Self::MB,
        2048 * Self::MB,
        5120 * Self::MB,
    ];
    pub const DEFAULT: u64 = 500 * Self::MB;
}

/// A correction of an inbound message's intent (AIA-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentArgs {
    pub message_id: Id,
    pub label: crate::intent::Intent,
}

/// An outbox entry, by the key this desktop gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRef {
    pub client_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteArgs {
    pub conversation_id: Id,
    pub body: String,
}

/// `user_id` None unassigns (SDB-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignArgs {
    pub conversation_id: Id,
    pub user_id: Option<Id>,
}

/// A look-up's text (work orders, customers).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchArgs {
    pub q: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkArgs {
    pub conversation_id: Id,
    pub work_order_id: Id,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrderArgs {
    pub work_order_id: Id,
}

/// The work-order page (WO-1): the job, and the conversation with its customer whose thread the
/// Messages tab renders (None when the customer has not been in touch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrderView {
    pub work_order: WorkOrder,
    pub conversation_id: Option<Id>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectArgs {
    pub message_id: Id,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRef {
    pub call_id: Id,
}

/// The call detail page (VOI-8): the call and the conversation it sits in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallView {
    pub call: Call,
    pub conversation: Option<ConversationSummary>,
    /// The call has a recording whose URL is not from the server's or a provider's origin: it
    /// was withheld (`call.recording_url` is None) and the page says "Recording unavailable".
    #[serde(default)]
    pub recording_unavailable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReassignArgs {
    pub call_id: Id,
    pub destination: CallDestination,
    /// For the audit log; optional.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRef {
    pub id: Id,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveQuickMessage {
    /// None creates.
    pub id: Option<Id>,
    pub name: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveTemplate {
    /// None creates.
    pub id: Option<Id>,
    pub name: String,
    /// e.g. `en_GB`.
    pub language: String,
    /// `{{1}}`, `{{2}}` … are the parameters.
    pub body: String,
    /// CMP-2: a photo or PDF header; None for a text-only template.
    #[serde(default)]
    pub header: Option<crate::model::TemplateHeader>,
}

/// What was typed in a conversation's composer and not sent yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub conversation_id: Id,
    pub body: String,
    pub channel: Option<Channel>,
}

/// A view to open, as the query of a `/messages` route (`range=…&filter=…&conversation=…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenView {
    pub query: String,
}

/// The desktop's URL scheme (LST-7, THR-3): `garage-inbox://messages?range=…&conversation=…`.
pub const SCHEME: &str = "garage-inbox";

impl OpenView {
    /// The deep link that opens this view.
    pub fn link(&self) -> String {
        let query = self.query.trim_start_matches(['?', '#', '/']);
        // The route's own name (`messages?…`), not a parameter that starts with it
        // (`messages_only=1`).
        let query = match query.strip_prefix("messages") {
            Some(rest) if rest.is_empty() || rest.starts_with(['?', '/']) => rest,
            _ => query,
        };
        let query = query.trim_start_matches(['?', '/']);
        if query.is_empty() {
            format!("{SCHEME}://messages")
        } else {
            format!("{SCHEME}://messages?{query}")
        }
    }

    /// Reads a deep link (`garage-inbox://messages?…`, also `garage-inbox:messages?…` and
    /// `garage-inbox://messages/?…`). Anything else — another scheme, another page, a command
    /// line argument that is not a link — is None.
    pub fn from_link(link: &str) -> Option<OpenView> {
        let rest = link.trim().strip_prefix(SCHEME)?.strip_prefix(':')?;
        let rest = rest.trim_start_matches('/');
        let rest = rest.strip_prefix("messages")?;
        let rest = rest.trim_start_matches('/');
        let query = match rest {
            "" => "",
            q => q.strip_prefix('?')?,
        };
        let query = query.split('#').next().unwrap_or_default();
        Some(OpenView {
            query: query.to_string(),
        })
    }
}

/// Failures as the UI shows them: a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub message: String,
    /// The session is gone: show sign-in.
    #[serde(default)]
    pub signed_out: bool,
    /// Signed in, but the system keychain did not take the session: the sign-in screen offers
    /// to continue for this session only (`SignIn::session_only`).
    #[serde(default)]
    pub keychain_unavailable: bool,
}

impl CommandError {
    pub fn new(message: impl Into<String>) -> CommandError {
        CommandError {
            message: message.into(),
            signed_out: false,
            keychain_unavailable: false,
        }
    }

    pub fn keychain_unavailable(message: impl Into<String>) -> CommandError {
        CommandError {
            keychain_unavailable: true,
            ..CommandError::new(message)
        }
    }

    pub fn signed_out() -> CommandError {
        CommandError {
            signed_out: true,
            ..CommandError::new("You are signed out. Sign in to continue.")
        }
    }
}

/// The list's remembered scope (LST-3, LST-6, LST-7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub range: RangePreset,
    pub custom_from: Option<NaiveDate>,
    pub custom_to: Option<NaiveDate>,
    /// The one-time "Last 30 days is now the default" banner was dismissed.
    pub banner_dismissed: bool,
}

/// The connection's states as the UI shows them (RT-2): connecting → live → reconnecting →
/// paused once a minute passes without a connection (the amber banner) → live again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    Connecting,
    /// Catching up from the log; the cache is still readable.
    CatchingUp,
    Live,
    Reconnecting {
        attempt: u32,
        retry_in_ms: u64,
    },
    /// RT-2: "Real-time updates paused — refresh the page to reload the latest conversations".
    Paused {
        offline_for_secs: u64,
        retry_in_ms: u64,
    },
    /// The session ended: sign in again.
    SignedOut {
        reason: String,
    },
}

impl ConnectionState {
    pub fn is_live(&self) -> bool {
        matches!(self, ConnectionState::Live)
    }

    /// The UI's amber banner shows in this state (RT-2).
    pub fn shows_paused_banner(&self) -> bool {
        matches!(self, ConnectionState::Paused { .. })
    }

    /// Not connected: what the UI shows comes from the cache (DSK-2).
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            ConnectionState::Reconnecting { .. } | ConnectionState::Paused { .. }
        )
    }
}

/// A reply written on this desktop, kept until the server's copy (same `client_id`) arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub client_id: String,
    pub conversation_id: Id,
    pub body: Option<String>,
    pub template: Option<TemplateUse>,
    pub channel: Option<Channel>,
    pub created_at: DateTime<Utc>,
    pub state: OutboxState,
    /// Photos and documents it carries (issue 17); their bytes wait in the cache with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<OutboxFile>,
}

/// A file on a reply in the outbox: uploaded on the way out, once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxFile {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// The server's attachment id once uploaded (`POST /api/v1/media`).
    #[serde(default)]
    pub uploaded: Option<Id>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting to be sent.
    Queued,
    /// The server said no; shown with its reason, never retried silently.
    Refused { reason: String },
    /// The server took it; waiting for its copy to arrive through sync.
    Accepted { message_id: Id },
}

/// A thread as the UI shows it: newest first, plus replies still in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadView {
    pub items: Vec<ThreadItem>,
    pub outbox: Vec<OutboxEntry>,
    /// Older items exist (locally or on the server).
    pub has_more: bool,
}

/// A native notification the engine's policy selected (DSK-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notification {
    /// Clicking it opens `conversation_id`.
    Message {
        conversation_id: Id,
        title: String,
        body: String,
    },
    MissedCall {
        conversation_id: Id,
        title: String,
        body: String,
    },
    /// After catching up: "5 new messages in 3 conversations"; opens the inbox (or the one thread).
    Summary {
        count: usize,
        conversations: Vec<Id>,
        body: String,
    },
}

/// What the UI hears about (event `inbox://update`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Update {
    /// These conversations' rows or threads changed: re-read them.
    Changed {
        conversations: Vec<Id>,
        cursor: i64,
    },
    Connection {
        state: ConnectionState,
    },
    Notify {
        notification: Notification,
    },
    /// A reply in the outbox was sent, refused, or queued.
    Outbox {
        conversation_id: Id,
    },
    /// The cache was rebuilt from a snapshot: re-read everything.
    Resynced,
    /// The organisation's settings changed (the AI switch, say): re-read the session, whose
    /// tabs and badges follow them.
    Organisation {
        organisation: Organisation,
    },
    /// What the signed-in user may do changed (a role edited or given, ACC-2): re-read the
    /// session; tabs appear or vanish, and a user without `messages.view` goes to the
    /// dashboard.
    Access {
        user: crate::User,
    },
    /// The session ended (signed out here or refused by the server).
    SignedOut,
}

/// DSK-1: what the update card shows. The shell checks the signed-in server at sign-in and
/// daily, and installs only when the person says so.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AppUpdate {
    /// No card: nothing newer, not checked yet, or put off with "Later".
    #[default]
    None,
    /// "Garage Inbox {version} is available", the notes, Install and restart / Later.
    Available { version: String, notes: String },
    /// Downloading and checking the signature (then installing and restarting).
    Installing { version: String, notes: String },
    /// Not installed, and why, in plain words; the app keeps running as it is.
    Failed {
        version: String,
        notes: String,
        message: String,
        /// Whether trying again may help (a download that broke off; not a bad signature).
        retry: bool,
    },
}

impl AppUpdate {
    /// The version the card is about, if it shows one.
    pub fn version(&self) -> Option<&str> {
        match self {
            AppUpdate::None => None,
            AppUpdate::Available { version, .. }
            | AppUpdate::Installing { version, .. }
            | AppUpdate::Failed { version, .. } => Some(version),
        }
    }
}

/// Why an update was not installed (DSK-1), as the shell sorts the updater's errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateRefusal {
    /// The file does not carry a valid signature of our updater key (tampered, unsigned, signed
    /// with another key or for another version).
    BadSignature,
    /// The download failed (network, server).
    Download(String),
    /// The operating system's installer failed or was cancelled.
    Install(String),
}

impl UpdateRefusal {
    /// The card's sentence.
    pub fn message(&self, version: &str) -> String {
        match self {
            UpdateRefusal::BadSignature => format!(
                "The download of Garage Inbox {version} is not signed by the makers of Garage \
                 Inbox, so it was not installed. It may have been damaged or tampered with. \
                 Garage Inbox keeps running as it is; please tell whoever looks after your \
                 server."
            ),
            UpdateRefusal::Download(why) => format!(
                "Garage Inbox {version} could not be downloaded ({why}). Nothing was changed; \
                 try again later."
            ),
            UpdateRefusal::Install(why) => format!(
                "Garage Inbox {version} could not be installed ({why}). Garage Inbox keeps \
                 running as it is."
            ),
        }
    }

    /// Whether trying again may help.
    pub fn retry(&self) -> bool {
        !matches!(self, UpdateRefusal::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsk1_the_update_card_state_is_tagged_for_the_ui() {
        let u = AppUpdate::Available {
            version: "0.2.0".into(),
            notes: "Faster lists".into(),
        };
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"state": "available", "version": "0.2.0", "notes": "Faster lists"})
        );
        assert_eq!(serde_json::from_value::<AppUpdate>(v).unwrap(), u);
        assert_eq!(
            serde_json::to_value(AppUpdate::None).unwrap(),
            serde_json::json!({"state": "none"})
        );
        assert_eq!(u.version(), Some("0.2.0"));
    }

    #[test]
    fn dsk1_a_refused_update_is_explained_in_plain_words() {
        let m = UpdateRefusal::BadSignature.message("0.2.0");
        assert!(m.contains("Garage Inbox 0.2.0 is not signed"), "{m}");
        assert!(m.contains("not installed"));
        assert!(m.contains("keeps running"));
        assert!(!UpdateRefusal::BadSignature.retry());
        let m = UpdateRefusal::Download("timed out".into()).message("0.2.0");
        assert!(m.contains("could not be downloaded (timed out)"), "{m}");
        assert!(UpdateRefusal::Download(String::new()).retry());
    }

    #[test]
    fn commands_take_one_args_object() {
        let v = serde_json::to_value(Args {
            args: ConversationRef { conversation_id: 7 },
        })
        .unwrap();
        assert_eq!(v, serde_json::json!({"args": {"conversation_id": 7}}));
    }

    #[test]
    fn updates_and_states_are_tagged_for_the_ui() {
        let u = Update::Connection {
            state: ConnectionState::Paused {
                offline_for_secs: 61,
                retry_in_ms: 500,
            },
        };
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(v["type"], "connection");
        assert_eq!(v["state"]["state"], "paused");
        let back: Update = serde_json::from_value(v).unwrap();
        assert_eq!(back, u);
        assert!(ConnectionState::Paused {
            offline_for_secs: 61,
            retry_in_ms: 0
        }
        .shows_paused_banner());
        assert!(!ConnectionState::Live.is_offline());
    }

    #[test]
    fn lst7_deep_links_round_trip_the_view() {
        let view = OpenView {
            query: "range=today&filter=unread&conversation=42".into(),
        };
        let link = view.link();
        assert_eq!(
            link,
            "garage-inbox://messages?range=today&filter=unread&conversation=42"
        );
        assert_eq!(OpenView::from_link(&link), Some(view));
        for same in [
            "garage-inbox:messages?conversation=7",
            "garage-inbox://messages/?conversation=7",
            " garage-inbox:///messages?conversation=7#top ",
        ] {
            assert_eq!(
                OpenView::from_link(same).map(|v| v.query),
                Some("conversation=7".into()),
                "{same}"
            );
        }
        assert_eq!(
            OpenView::from_link("garage-inbox://messages").map(|v| v.query),
            Some(String::new())
        );
        for not_a_view in [
            "https://messages?conversation=7",
            "garage-inbox://settings",
            "garage-inbox://messagesx?conversation=7",
            "--verbose",
        ] {
            assert_eq!(OpenView::from_link(not_a_view), None, "{not_a_view}");
        }
        let from_route = OpenView {
            query: "?conversation=3".into(),
        };
        assert_eq!(from_route.link(), "garage-inbox://messages?conversation=3");
        // Found while fuzzing the links (issue 13): a first parameter whose name starts with
        // "messages" kept losing that part.
        let named = OpenView {
            query: "messages_only=1&conversation=3".into(),
        };
        assert_eq!(
            named.link(),
            "garage-inbox://messages?messages_only=1&conversation=3"
        );
        assert_eq!(OpenView::from_link(&named.link()), Some(named));
    }

    #[test]
    fn command_errors_say_whether_the_session_ended() {
        let e: CommandError = serde_json::from_str(r#"{"message":"nope"}"#).unwrap();
        assert!(!e.signed_out);
        assert!(CommandError::signed_out().signed_out);
    }

    // Issue 13 fuzzing: a deep link arrives from outside (another app, the command line), so
    // any text is a view or None, never a panic; every link the app prints opens its view.
    // Cases: proptest's default (256), or `PROPTEST_CASES` for a long run.
    use proptest::prelude::*;

    /// Route queries as the UI writes them: `key=value` pairs of URL-safe characters.
    fn route_query() -> impl Strategy<Value = String> {
        let key = prop_oneof!["[a-z_]{1,12}", "messages[a-z_]{0,4}"];
        prop::collection::vec((key, "[A-Za-z0-9%._~+-]{0,16}"), 0..5).prop_map(|pairs| {
            pairs
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        })
    }

    proptest! {
        #[test]
        fn prop_any_text_is_a_view_or_none_without_panicking(link in any::<String>()) {
            if let Some(v) = OpenView::from_link(&link) {
                prop_assert!(!v.query.contains('#'), "{link:?} -> {v:?}");
            }
        }

        #[test]
        fn prop_mutated_links_are_a_view_or_none_without_panicking(
            q in route_query(),
            at in any::<prop::sample::Index>(),
            insert in prop::sample::select(vec!["/", "?", "#", ":", " ", "messages", "garage-inbox:", "\u{0}", "é"]),
        ) {
            let mut link = OpenView { query: q }.link();
            let mut i = at.index(link.len() + 1);
            while !link.is_char_boundary(i) {
                i -= 1;
            }
            link.insert_str(i, insert);
            let _ = OpenView::from_link(&link);
        }

        #[test]
        fn prop_every_printed_link_opens_its_view(
            q in route_query(),
            lead in prop::sample::select(vec!["", "?", "/messages?", "messages?", "#"]),
        ) {
            let view = OpenView { query: format!("{lead}{q}") };
            let link = view.link();
            prop_assert_eq!(OpenView::from_link(&link), Some(OpenView { query: q }), "{}", link);
        }
    }
}
