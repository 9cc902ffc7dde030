//! Storage behind traits, one per aggregate, so handlers are written once and each database
//! (SQLite and PostgreSQL) owns its SQL. Every method is scoped by the caller's
//! organisation: an id that is not the organisation's is `NotFound`, never data.

pub mod analytics;
pub(crate) mod backend;
pub mod dataset;
pub(crate) mod db;
pub(crate) mod group_commit;
pub mod language_model;
pub mod media;
pub mod postgres;
pub(crate) mod rows;
pub(crate) mod rules;
pub(crate) mod scripts;
pub mod search;
pub mod sqlite;
pub mod staff;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::{
    CallDestination, CallMoved, ConversationPage, ListFilter, TemplateInput, ThreadPage,
};
use inbox_core::providers::Provider;
use inbox_core::range::UtcInterval;
use inbox_core::{
    ApprovalItem, Call, CallOutcome, CapabilitySet, Channel, ConversationDetail,
    ConversationSummary, Customer, DeliveryStatus, Id, Message, Note, Organisation, QuickMessage,
    StaffRef, TemplateUse, User, WhatsappTemplate, WorkOrder,
};

pub use analytics::AnalyticsStore;
pub use dataset::Dataset;
pub use search::SearchText;
pub use staff::StaffStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// The database stopped a query that outran its time budget (the list's `budget`).
    #[error("the query took too long")]
    TimedOut,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<crate::secrets::SecretError> for StoreError {
    fn from(e: crate::secrets::SecretError) -> Self {
        StoreError::Internal(e.into())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Internal(e.into())
    }
}

/// Who is asking: every read and write is scoped by `org_id`; `user_id` is the author of writes
/// and the "me" of the Mine filter.
#[derive(Debug, Clone)]
pub struct Actor {
    pub org_id: Id,
    pub user_id: Id,
    pub capabilities: CapabilitySet,
    pub time_zone: chrono_tz::Tz,
}

/// A signed-in session resolved from its token.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: User,
    pub organisation: Organisation,
    pub expires_at: DateTime<Utc>,
    /// The last use recorded (at most once a minute); idle sessions end (`auth::session`).
    pub last_seen_at: DateTime<Utc>,
}

/// A user as the admin tools see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAccount {
    pub id: Id,
    pub org_id: Id,
    pub email: String,
    pub name: String,
    pub role: String,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct LoginRecord {
    pub user_id: Id,
    pub password_hash: String,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub name: String,
    pub time_zone: String,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub org_id: Id,
    pub email: String,
    pub name: String,
    pub role: String,
    /// Used when the role does not exist yet in the organisation.
    pub capabilities: CapabilitySet,
    pub password_hash: String,
}

/// Which conversations a list page draws from.
#[derive(Debug, Clone)]
pub enum ListScope {
    /// Conversations with any activity in the interval (LST-9).
    Range(UtcInterval),
    /// Conversations matching a search, all time (LST-2).
    Search(SearchText),
}

/// Position after the last row of the previous page: (last activity, id), descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    pub last_activity_at: DateTime<Utc>,
    pub id: Id,
}

#[derive(Debug, Clone)]
pub struct ListParams {
    pub scope: ListScope,
    pub filter: ListFilter,
    pub after: Option<ListCursor>,
    /// The server's now: ranges that reach it are counted index by index.
    pub now: DateTime<Utc>,
    /// How long the database may work on this page before the query is interrupted
    /// (`StoreError::TimedOut`), so a costly search never holds a pooled connection for long.
    pub budget: std::time::Duration,
}

/// The default `ListParams::budget`: well inside the 30 s request timeout.
pub const LIST_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// Position of the oldest item of the previous thread page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadCursor {
    pub at: DateTime<Utc>,
    /// 0 message, 1 call, 2 note: ties at the same instant order by kind then id.
    pub kind: u8,
    pub id: Id,
}

/// An outbound message ready to store, already validated against the conversation.
#[derive(Debug, Clone)]
pub struct NewOutbound {
    pub client_id: String,
    pub channel: Channel,
    /// The text the customer reads (a template rendered with its parameters).
    pub body: String,
    pub template: Option<TemplateUse>,
    pub needs_approval: bool,
    /// The author's uploads it carries, in order (`POST /api/v1/media`).
    pub attachments: Vec<Id>,
}

/// An inbound message from a provider or the portal, before routing.
#[derive(Debug, Clone)]
pub struct NewInbound {
    pub channel: Channel,
    /// E.164 of the sender (SMS, WhatsApp); None for the portal.
    pub from_number: Option<String>,
    /// Portal messages come from a known customer.
    pub customer_id: Option<Id>,
    pub body: String,
    pub provider: Provider,
    pub provider_id: String,
    pub at: DateTime<Utc>,
    /// Its photos, documents and voice notes, to be fetched after the webhook is answered.
    pub attachments: Vec<media::NewAttachment>,
    /// A portal customer's uploads it carries, in order.
    pub uploads: Vec<Id>,
}

/// A call reported by the voice provider, before routing.
#[derive(Debug, Clone)]
pub struct NewCall {
    /// E.164, or None when the caller withheld their number.
    pub from_number: Option<String>,
    pub provider_call_id: String,
    pub outcome: CallOutcome,
    pub duration_secs: u32,
    pub recording_url: Option<String>,
    pub recording_secs: Option<u32>,
    pub transcript: Option<String>,
    pub at: DateTime<Utc>,
}

/// Where an inbound item landed.
/// What opening a thread changed (THR-7).
#[derive(Debug, Clone)]
pub struct MarkedRead {
    pub summary: ConversationSummary,
    /// WhatsApp's id of the newest inbound WhatsApp message this call marked read: the one a
    /// read receipt names. None when nothing from WhatsApp was unread, so an already-read
    /// thread sends no receipt.
    pub whatsapp_receipt: Option<String>,
}

/// The newest `(created_at, id, provider, provider_id)` among messages just marked read, if it
/// came from WhatsApp with a provider id.
pub(crate) fn newest_whatsapp(
    rows: Vec<(i64, Id, Option<String>, Option<String>)>,
) -> Option<String> {
    rows.into_iter()
        .filter(|(_, _, provider, id)| {
            provider.as_deref() == Some(Provider::Whatsapp.as_str()) && id.is_some()
        })
        .max_by_key(|(at, id, _, _)| (*at, *id))
        .and_then(|(_, _, _, provider_id)| provider_id)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    pub conversation_id: Id,
    pub item_id: Id,
    /// False when the provider id was seen before: nothing changed.
    pub created: bool,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn create_organisation(
        &self,
        org: NewOrganisation,
        now: DateTime<Utc>,
    ) -> StoreResult<Id>;
    async fn create_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<Id>;
    async fn find_login(&self, email: &str) -> StoreResult<Option<LoginRecord>>;
    async fn create_session(
        &self,
        user_id: Id,
        token_hash: [u8; 32],
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<SessionInfo>;
    /// The live session of a token, or None when unknown, expired or the user is disabled.
    async fn session(
        &self,
        token_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<SessionInfo>>;
    async fn delete_session(&self, token_hash: [u8; 32]) -> StoreResult<()>;
    /// Records a use of the session (its idle clock restarts).
    async fn touch_session(&self, token_hash: [u8; 32], now: DateTime<Utc>) -> StoreResult<()>;
    /// Colleagues a conversation can be assigned to (SDB-4).
    async fn staff(&self, actor: &Actor) -> StoreResult<Vec<StaffRef>>;
    async fn organisation(&self, id: Id) -> StoreResult<Option<Organisation>>;
    /// A new organisation with its first user (`org add`), in one transaction; `owner.org_id`
    /// is ignored. Returns (organisation id, user id).
    async fn create_organisation_with_owner(
        &self,
        org: NewOrganisation,
        owner: NewUser,
        now: DateTime<Utc>,
    ) -> StoreResult<(Id, Id)>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserAccount>>;
    /// Enables or disables a user; disabling ends their sessions. Returns the sessions ended.
    async fn set_user_active(
        &self,
        user_id: Id,
        active: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Replaces a user's password hash and ends their sessions. Returns the sessions ended.
    async fn set_password_hash(
        &self,
        user_id: Id,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Ends every session of a user. Returns how many there were.
    async fn end_sessions(&self, user_id: Id, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Users whose sessions were ended by an administrator, in this process or another (the
    /// CLI, another instance): sync sockets re-check their session at once.
    fn session_ends(&self) -> tokio::sync::broadcast::Receiver<Id>;
}

#[async_trait]
pub trait ConversationStore: Send + Sync {
    async fn list_conversations(
        &self,
        actor: &Actor,
        params: &ListParams,
    ) -> StoreResult<ConversationPage>;
    async fn conversation(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationDetail>;
    /// THR-7: every unread inbound message of the conversation becomes read.
    async fn mark_read(&self, actor: &Actor, id: Id, now: DateTime<Utc>)
        -> StoreResult<MarkedRead>;
    async fn assign(
        &self,
        actor: &Actor,
        id: Id,
        assignee: Option<Id>,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationSummary>;
    /// SDB-3: link (Some) or unlink (None), writing a system message either way.
    async fn set_work_order(
        &self,
        actor: &Actor,
        id: Id,
        work_order: Option<Id>,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationDetail>;
}

#[async_trait]
pub trait ThreadStore: Send + Sync {
    async fn thread_page(
        &self,
        actor: &Actor,
        conversation_id: Id,
        before: Option<ThreadCursor>,
    ) -> StoreResult<ThreadPage>;
    async fn add_note(
        &self,
        actor: &Actor,
        conversation_id: Id,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Note>;
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    async fn message_by_client_id(
        &self,
        actor: &Actor,
        client_id: &str,
    ) -> StoreResult<Option<Message>>;
    /// Stores a reply as pending (queued for dispatch) or pending_approval. A client id seen
    /// before returns the earlier message with `false`.
    async fn create_outbound(
        &self,
        actor: &Actor,
        conversation_id: Id,
        msg: NewOutbound,
        now: DateTime<Utc>,
    ) -> StoreResult<(Message, bool)>;
    async fn approvals(&self, actor: &Actor) -> StoreResult<Vec<ApprovalItem>>;
    /// APQ-1: a pending_approval message becomes pending and is queued. 409 if already decided.
    async fn approve(
        &self,
        actor: &Actor,
        message_id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Message>;
    async fn reject(
        &self,
        actor: &Actor,
        message_id: Id,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Message>;
    /// Routes and stores an inbound message (RTE-1..3); idempotent on the provider id.
    async fn ingest_message(&self, org_id: Id, msg: NewInbound) -> StoreResult<Ingested>;
}

#[async_trait]
pub trait CallStore: Send + Sync {
    async fn call(&self, actor: &Actor, id: Id) -> StoreResult<Call>;
    /// Routes and stores a call (VOI-1..3); idempotent on the provider call id.
    async fn ingest_call(&self, org_id: Id, call: NewCall) -> StoreResult<Ingested>;
    /// VOI-6, with the reason in the audit log.
    async fn reassign_call(
        &self,
        actor: &Actor,
        id: Id,
        to: CallDestination,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<CallMoved>;
    /// VOI-7.
    async fn resolve_call(&self, actor: &Actor, id: Id, now: DateTime<Utc>) -> StoreResult<Call>;
}

#[async_trait]
pub trait CatalogStore: Send + Sync {
    async fn quick_messages(&self, actor: &Actor) -> StoreResult<Vec<QuickMessage>>;
    async fn create_quick_message(
        &self,
        actor: &Actor,
        name: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<QuickMessage>;
    async fn update_quick_message(
        &self,
        actor: &Actor,
        id: Id,
        name: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<QuickMessage>;
    async fn delete_quick_message(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn templates(&self, actor: &Actor) -> StoreResult<Vec<WhatsappTemplate>>;
    /// SET-1: checked by `inbox_core::template::validate`; audited.
    async fn create_template(
        &self,
        actor: &Actor,
        input: &TemplateInput,
        now: DateTime<Utc>,
    ) -> StoreResult<WhatsappTemplate>;
    async fn update_template(
        &self,
        actor: &Actor,
        id: Id,
        input: &TemplateInput,
        now: DateTime<Utc>,
    ) -> StoreResult<WhatsappTemplate>;
    async fn delete_template(&self, actor: &Actor, id: Id, now: DateTime<Utc>) -> StoreResult<()>;
}

#[async_trait]
pub trait DirectoryStore: Send + Sync {
    async fn search_customers(&self, actor: &Actor, q: &str) -> StoreResult<Vec<Customer>>;
    async fn search_work_orders(&self, actor: &Actor, q: &str) -> StoreResult<Vec<WorkOrder>>;
    async fn work_order(&self, actor: &Actor, id: Id) -> StoreResult<WorkOrder>;
}

/// How Twilio knows an organisation: its account and numbers (the token signs webhooks).
#[derive(Clone)]
pub struct TwilioAccount {
    pub org_id: Id,
    pub account_sid: String,
    pub auth_token: String,
    /// E.164; the first sends SMS.
    pub numbers: Vec<String>,
}

impl std::fmt::Debug for TwilioAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioAccount")
            .field("org_id", &self.org_id)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("numbers", &self.numbers)
            .finish()
    }
}

/// How the WhatsApp Cloud API knows an organisation.
#[derive(Clone)]
pub struct WhatsappAccount {
    pub org_id: Id,
    pub phone_number_id: String,
    pub access_token: String,
}

impl std::fmt::Debug for WhatsappAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsappAccount")
            .field("org_id", &self.org_id)
            .field("phone_number_id", &self.phone_number_id)
            .field("access_token", &"<redacted>")
            .finish()
    }
}

/// What a voice callback learned about a call.
#[derive(Debug, Clone, Default)]
pub struct CallUpdate {
    pub outcome: Option<CallOutcome>,
    pub duration_secs: Option<u32>,
    pub recording_url: Option<String>,
    pub recording_secs: Option<u32>,
    pub transcript: Option<String>,
    /// Twilio's SequenceNumber: an update older than the last applied one is ignored.
    pub sequence: Option<u32>,
    pub at: DateTime<Utc>,
}

/// A reply due to be handed to its provider.
#[derive(Debug, Clone)]
pub struct OutboundJob {
    pub org_id: Id,
    pub message: Message,
    /// Sends so far (0 for the first attempt).
    pub attempts: u32,
    /// E.164 to send to: the customer's primary number or the caller's.
    pub to_number: Option<String>,
    /// The fencing token of this claim: its result is recorded only while it is the latest.
    pub claim: i64,
    /// Why the previous attempt failed, if one did.
    pub last_error: Option<String>,
}

/// Why a message became `unknown` when its sender stopped mid-send.
pub const LOST_WHILE_SENDING: &str =
    "The server stopped while handing this reply to the provider, so it may have been sent";

/// Provider identities and the facts providers report (issue 5).
#[async_trait]
pub trait ProviderStore: Send + Sync {
    async fn twilio_account(&self, account_sid: &str) -> StoreResult<Option<TwilioAccount>>;
    async fn twilio_account_of(&self, org_id: Id) -> StoreResult<Option<TwilioAccount>>;
    async fn whatsapp_account(&self, phone_number_id: &str)
        -> StoreResult<Option<WhatsappAccount>>;
    async fn whatsapp_account_of(&self, org_id: Id) -> StoreResult<Option<WhatsappAccount>>;
    /// Moves an outbound message's status forward only (PROVIDERS §4); None when the id is
    /// unknown or nothing changed.
    async fn apply_delivery_status(
        &self,
        org_id: Id,
        provider: Provider,
        provider_id: &str,
        status: DeliveryStatus,
        error: Option<String>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Message>>;
    /// Applies a voice callback to a call; None when the call is unknown or the update is stale.
    async fn update_call(
        &self,
        org_id: Id,
        provider_call_id: &str,
        update: CallUpdate,
    ) -> StoreResult<Option<Call>>;
    /// The phone an inbound call rings before voicemail (E.164), if the garage set one.
    async fn voice_forward_number(&self, org_id: Id) -> StoreResult<Option<String>>;
    async fn call_by_provider_id(
        &self,
        org_id: Id,
        provider_call_id: &str,
    ) -> StoreResult<Option<Call>>;
    /// The conversation of a customer, if they have one.
    async fn customer_conversation(&self, org_id: Id, customer_id: Id) -> StoreResult<Option<Id>>;
    /// A portal token, live or not (the portal says which: expired, revoked).
    async fn portal_token(&self, token_hash: [u8; 32]) -> StoreResult<Option<PortalToken>>;
    /// Revokes live portal tokens; returns the (organisation, customer) of each one revoked.
    async fn revoke_portal_tokens(
        &self,
        which: PortalRevoke,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(Id, Id)>>;
    /// Sets or rotates an organisation's provider settings (`provider set`); secrets are sealed
    /// bound to the organisation. NotFound for an unknown organisation, Conflict for an account
    /// or number another organisation holds.
    async fn set_provider_settings(
        &self,
        org_id: Id,
        update: ProviderUpdate,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Re-seals secrets stored before they were bound to their organisation, and reports the
    /// ones stored in plain text. Runs when the store opens.
    async fn upgrade_secrets(&self) -> StoreResult<SecretsReport>;
    async fn create_portal_token(
        &self,
        org_id: Id,
        customer_id: Id,
        token_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// A customer's portal token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalToken {
    pub org_id: Id,
    pub customer_id: Id,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Which portal tokens to revoke.
#[derive(Debug, Clone)]
pub enum PortalRevoke {
    Token([u8; 32]),
    /// Every live token of one customer.
    Customer {
        org_id: Id,
        customer_id: Id,
    },
}

/// A change to an organisation's provider settings; None leaves a setting as it is.
#[derive(Clone, Default)]
pub struct ProviderUpdate {
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token: Option<String>,
    /// Replaces the organisation's numbers (E.164).
    pub twilio_numbers: Option<Vec<String>>,
    pub whatsapp_phone_number_id: Option<String>,
    pub whatsapp_access_token: Option<String>,
    pub voice_forward_to: Option<String>,
    /// The language model (AIA-1), already validated.
    pub ai_model: Option<inbox_core::api::LanguageModelUpdate>,
    /// Who made the change, for the audit log (None: the command line).
    pub by: Option<Id>,
}

impl std::fmt::Debug for ProviderUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("ProviderUpdate")
            .field("twilio_account_sid", &self.twilio_account_sid)
            .field("twilio_auth_token", &redacted(&self.twilio_auth_token))
            .field("twilio_numbers", &self.twilio_numbers)
            .field("whatsapp_phone_number_id", &self.whatsapp_phone_number_id)
            .field(
                "whatsapp_access_token",
                &redacted(&self.whatsapp_access_token),
            )
            .field("voice_forward_to", &self.voice_forward_to)
            .field(
                "ai_model",
                &self
                    .ai_model
                    .as_ref()
                    .map(|m| (&m.url, &m.model, redacted(&m.key))),
            )
            .field("by", &self.by)
            .finish()
    }
}

/// What [`ProviderStore::upgrade_secrets`] found.
#[derive(Debug, Default)]
pub struct SecretsReport {
    /// Values re-sealed bound to their organisation.
    pub resealed: usize,
    /// Values stored in plain text, refused until set again.
    pub plaintext: Vec<crate::secrets::SecretError>,
    /// Old values that do not open with this server's key.
    pub unreadable: Vec<(Id, crate::secrets::Field)>,
}

/// A stored provider secret: its organisation, which secret, and the stored text.
pub(crate) type StoredSecret = (Id, crate::secrets::Field, String);

/// Applies [`crate::secrets::SecretBox::upgrade`] to each stored secret; returns the new values
/// to write.
pub(crate) fn upgrade_values(
    secrets: &crate::secrets::SecretBox,
    values: Vec<StoredSecret>,
) -> StoreResult<(Vec<StoredSecret>, SecretsReport)> {
    use crate::secrets::{SecretError, Upgrade};
    let mut report = SecretsReport::default();
    let mut writes = Vec::new();
    for (org, field, stored) in values {
        match secrets.upgrade(&stored, org, field)? {
            Upgrade::Current => {}
            Upgrade::Resealed(new) => {
                report.resealed += 1;
                writes.push((org, field, new));
            }
            Upgrade::Plaintext => report.plaintext.push(SecretError::Plaintext { org, field }),
            Upgrade::Unreadable => report.unreadable.push((org, field)),
        }
    }
    Ok((writes, report))
}

/// Where a reply waiting for its status stands in [`DispatchStore::awaiting_status`]'s order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AwaitingAt {
    pub updated_at_ms: i64,
    pub message_id: Id,
}

/// A reply left `unknown` without a provider id: what was sent, to whom, when, and its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlinkedReply {
    pub org_id: Id,
    pub body: String,
    /// The number it went to (`None` when the conversation has none any more).
    pub to: Option<String>,
    pub created_at: DateTime<Utc>,
    pub at: AwaitingAt,
}

/// A reply waiting for its status: whose it is, the provider's id for it, and its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Awaiting {
    pub org_id: Id,
    pub provider_id: String,
    pub at: AwaitingAt,
}

/// The send queue the dispatcher drains (issue 5). Survives restarts; each message is claimed by
/// one sender at a time.
#[async_trait]
pub trait DispatchStore: Send + Sync {
    /// Claims up to `limit` queued replies due at `now`, oldest first, each leased until
    /// `lease_until` under a new fencing token ([`OutboundJob::claim`]). A due reply whose
    /// previous claim ran out while its provider call was under way (`outbound_sending` was
    /// recorded) is not handed out again: it becomes `unknown` ([`LOST_WHILE_SENDING`]).
    async fn claim_outbound(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<OutboundJob>>;
    /// Records, durably, that the provider is about to be called under this claim. False when
    /// the claim is no longer the latest: then nothing may be sent.
    async fn outbound_sending(
        &self,
        message_id: Id,
        claim: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The provider accepted it: record its id, leave the queue. Under a lost claim this only
    /// settles a message that became `unknown` meanwhile.
    async fn outbound_accepted(
        &self,
        message_id: Id,
        claim: i64,
        provider: Provider,
        provider_id: &str,
        status: DeliveryStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// A failure the provider answered (so it did not take the message): try again at
    /// `next_at`. Ignored under a lost claim.
    async fn outbound_retry_later(
        &self,
        message_id: Id,
        claim: i64,
        next_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()>;
    /// Claimed but not tried (the dispatcher met it twice in one pass): back in the queue, due
    /// at `due_at`, and the claim's attempt not counted. Ignored under a lost claim.
    async fn outbound_release(
        &self,
        message_id: Id,
        claim: i64,
        due_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// A permanent failure: the message is `failed` with the reason (CMP-4).
    async fn outbound_failed(
        &self,
        message_id: Id,
        claim: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The provider may have accepted it (its answer was lost): the message becomes `unknown`
    /// with the reason and leaves the queue; it is never sent again by itself.
    async fn outbound_unknown(
        &self,
        message_id: Id,
        claim: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// A provider callback that carries our reference to a message without a provider id,
    /// `unknown` or still `pending` (its send under way, or stranded under a dead server's
    /// lease): record the provider's id, take the message off the send queue for good (the
    /// provider has it), the message is `pending` until its callbacks say more, and the
    /// statuses that waited for this id apply. True when it linked.
    async fn link_provider_id(
        &self,
        org_id: Id,
        message_id: Id,
        provider: Provider,
        provider_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Replies `provider` took (it gave its id) that are still `pending` with nothing heard
    /// since before `quiet_since`, sent after `sent_after`, in `(updated_at, id)` order after
    /// `after` (a page's last row; `None` from the start), at most `limit`: their status
    /// callbacks may have been lost (the server was down), so the provider is asked (issue 13).
    async fn awaiting_status(
        &self,
        provider: Provider,
        quiet_since: DateTime<Utc>,
        sent_after: DateTime<Utc>,
        after: Option<AwaitingAt>,
        limit: usize,
    ) -> StoreResult<Vec<Awaiting>>;
    /// Replies on `channel` left `unknown` without a provider id (the provider's answer never
    /// came), quiet since before `quiet_since`, sent after `sent_after`, in `(updated_at, id)`
    /// order after `after`, at most `limit`: the provider is asked what it sent to their
    /// number (issue 13).
    async fn unknown_unlinked(
        &self,
        channel: &str,
        quiet_since: DateTime<Utc>,
        sent_after: DateTime<Utc>,
        after: Option<AwaitingAt>,
        limit: usize,
    ) -> StoreResult<Vec<UnlinkedReply>>;
    /// Which of `provider_ids` messages of the organisation already carry.
    async fn known_provider_ids(
        &self,
        org_id: Id,
        provider: Provider,
        provider_ids: &[String],
    ) -> StoreResult<Vec<String>>;
    /// An `unknown` reply the provider has no record of: it was never sent, so it becomes
    /// `failed` with `reason` (staff may send it again). False when it was no longer `unknown`
    /// without a provider id.
    async fn unknown_not_taken(
        &self,
        org_id: Id,
        message_id: Id,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// CMP-4: a failed message goes back to the queue as pending.
    async fn retry_message(
        &self,
        actor: &Actor,
        message_id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Message>;
}

/// The smallest cursor the log can serve and its newest sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogBounds {
    pub floor: i64,
    pub head: i64,
}

impl LogBounds {
    /// A client at `since` can be brought up to date from the log alone.
    pub fn can_replay_from(&self, since: i64) -> bool {
        since >= self.floor && since <= self.head
    }
}

/// The change log clients sync from (issue 4).
#[async_trait]
pub trait SyncStore: Send + Sync {
    /// Events with `seq > after`, oldest first, at most `limit`.
    async fn events_after(
        &self,
        org: Id,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<inbox_core::sync::Event>>;
    async fn log_bounds(&self, org: Id) -> StoreResult<LogBounds>;
    /// A page of the organisation's conversations for a client rebuilding its cache.
    async fn snapshot(
        &self,
        actor: &Actor,
        after: Option<Id>,
        limit: usize,
    ) -> StoreResult<inbox_core::sync::Snapshot>;
    /// Drops, per organisation, every event up to the newest one older than `before` (by seq,
    /// so the log stays a contiguous tail) and raises the floor; returns how many.
    async fn prune_events(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Announces the organisations whose log grew, after each commit.
    fn changes(&self) -> tokio::sync::broadcast::Receiver<Id>;
}

/// The organisation's AI switch and the intents of its messages (issue 16, AIA-1).
#[async_trait]
pub trait AiStore: Send + Sync {
    /// Turns AI on or off for the caller's organisation; audited. Returns the organisation.
    async fn set_ai_enabled(
        &self,
        actor: &Actor,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<Organisation>;
    /// A staff member's label for an inbound message, kept beside the classifier's; audited and
    /// sent to every desktop. NotFound for an outbound message or another organisation's.
    async fn correct_intent(
        &self,
        actor: &Actor,
        message_id: Id,
        label: inbox_core::intent::Intent,
        now: DateTime<Utc>,
    ) -> StoreResult<Message>;
    /// Inbound messages stored before intents were (any organisation), oldest first after
    /// `after`: (id, body).
    async fn unclassified(&self, after: Id, limit: u32) -> StoreResult<Vec<(Id, String)>>;
    /// Stores the classifier's intents of messages that have none yet: (id, label, confidence).
    async fn set_intents(&self, intents: Vec<(Id, &'static str, f64)>) -> StoreResult<()>;
    /// The organisation's opening hours (the default week until an admin sets them).
    async fn opening_hours(
        &self,
        actor: &Actor,
    ) -> StoreResult<inbox_core::analytics::OpeningHours>;
    /// Sets them (already validated); audited; the analytics counters are recounted in them.
    async fn set_opening_hours(
        &self,
        actor: &Actor,
        hours: inbox_core::analytics::OpeningHours,
        now: DateTime<Utc>,
    ) -> StoreResult<inbox_core::analytics::OpeningHours>;
}

/// Bulk loading of a whole dataset (demo seed, benchmarks).
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Writes the dataset in one transaction and returns the ids the database gave it.
    async fn import(&self, data: Dataset, now: DateTime<Utc>) -> StoreResult<dataset::Imported>;
}

/// Everything the server needs from a database.
pub trait Store:
    AccountStore
    + ConversationStore
    + ThreadStore
    + MessageStore
    + CallStore
    + CatalogStore
    + DirectoryStore
    + ImportStore
    + SyncStore
    + ProviderStore
    + DispatchStore
    + AiStore
    + AnalyticsStore
    + StaffStore
    + language_model::LanguageModelStore
    + media::MediaStore
{
}

impl<T> Store for T where
    T: AccountStore
        + ConversationStore
        + ThreadStore
        + MessageStore
        + CallStore
        + CatalogStore
        + DirectoryStore
        + ImportStore
        + SyncStore
        + ProviderStore
        + DispatchStore
        + AiStore
        + AnalyticsStore
        + StaffStore
        + language_model::LanguageModelStore
        + media::MediaStore
{
}

/// Opens the store a database URL names: `postgres://…` (or `postgresql://…`), else
/// `sqlite://PATH` (or a bare path).
pub async fn open(database_url: &str) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    Ok(open_with_report(database_url).await?.0)
}

/// Opens the store, brings its schema up to date and re-seals provider secrets stored before
/// they were bound to their organisation; reports what the secrets pass found.
///
/// Another process holding a SQLite database locked (a backup, `sqlite3` open on it, a server
/// still shutting down) past the busy timeout is waited out for up to `OPEN_PATIENCE`, so a
/// restart during the lock comes up when it ends instead of exiting.
pub async fn open_with_report(
    database_url: &str,
) -> anyhow::Result<(std::sync::Arc<dyn Store>, SecretsReport)> {
    let began = std::time::Instant::now();
    loop {
        match try_open(database_url).await {
            Err(e) if is_busy(&e) && began.elapsed() < OPEN_PATIENCE => {
                tracing::warn!(error = %e, "the database is locked by another process; waiting for it");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            done => return done,
        }
    }
}

/// How long opening the store waits out a database another process holds locked.
const OPEN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(120);

/// SQLite answered that the database is busy or locked (the error may come through
/// `StoreError`, rusqlite or the pool, which keeps only the message).
fn is_busy(e: &anyhow::Error) -> bool {
    fn busy(e: &rusqlite::Error) -> bool {
        matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }
    e.chain().any(|cause| {
        cause.downcast_ref::<rusqlite::Error>().is_some_and(busy)
            || matches!(cause.downcast_ref::<StoreError>(),
                Some(StoreError::Internal(inner)) if inner.downcast_ref::<rusqlite::Error>().is_some_and(busy))
            || cause
                .downcast_ref::<r2d2::Error>()
                .is_some_and(|p| p.to_string().contains("database is locked"))
    })
}

async fn try_open(
    database_url: &str,
) -> anyhow::Result<(std::sync::Arc<dyn Store>, SecretsReport)> {
    let store: std::sync::Arc<dyn Store> = if is_postgres(database_url) {
        use anyhow::Context;
        // The error names the database without its password (issue 13).
        let store = postgres::PgStore::open(database_url)
            .await
            .with_context(|| format!("opening {}", crate::config::redact_url(database_url)))?;
        std::sync::Arc::new(store)
    } else {
        let path = database_url
            .strip_prefix("sqlite://")
            .unwrap_or(database_url);
        std::sync::Arc::new(sqlite::SqliteStore::open(path).await?)
    };
    let report = store.upgrade_secrets().await?;
    store.ensure_system_roles(chrono::Utc::now()).await?;
    let recounted = store.rebuild_stale_analytics().await?;
    if !recounted.is_empty() {
        tracing::info!(organisations = ?recounted, "analytics counters rebuilt from history");
    }
    if report.resealed > 0 {
        tracing::info!(
            resealed = report.resealed,
            "provider secrets re-sealed, bound to their organisation"
        );
    }
    for problem in &report.plaintext {
        tracing::error!("{problem}");
    }
    for (org, field) in &report.unreadable {
        tracing::error!(org, %field, "a stored provider secret does not open with this server's key (INBOX_SECRET_KEY or the key file)");
    }
    Ok((store, report))
}

/// Whether a database URL names PostgreSQL.
pub fn is_postgres(database_url: &str) -> bool {
    database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")
}
