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

use chrono::{DateTime, Utc};
use inbox_core::api::ListFilter;
use inbox_core::providers::Provider;
use inbox_core::range::UtcInterval;
use inbox_core::{
    CallOutcome, CapabilitySet, Channel, ConversationSummary, Id, Message, Organisation,
    TemplateUse, User,
};

pub use backend::Store;
pub use dataset::Dataset;
pub use search::SearchText;

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

/// What [`Store::upgrade_secrets`] found.
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

/// Where a reply waiting for its status stands in [`Store::awaiting_status`]'s order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AwaitingAt {
    pub updated_at_ms: i64,
    pub message_id: Id,
}

/// A page of replies quiet since before `quiet_since`, sent after `sent_after`, in
/// `(updated_at, id)` order after `after` (a page's last row; `None` from the start), at most
/// `limit` (issue 13: the replies whose provider is asked about them).
#[derive(Debug, Clone, Copy)]
pub struct QuietPage {
    pub quiet_since: DateTime<Utc>,
    pub sent_after: DateTime<Utc>,
    pub after: Option<AwaitingAt>,
    pub limit: usize,
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

/// Opens the store a database URL names: `postgres://…` (or `postgresql://…`), else
/// `sqlite://PATH` (or a bare path).
pub async fn open(database_url: &str) -> anyhow::Result<std::sync::Arc<Store>> {
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
) -> anyhow::Result<(std::sync::Arc<Store>, SecretsReport)> {
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

async fn try_open(database_url: &str) -> anyhow::Result<(std::sync::Arc<Store>, SecretsReport)> {
    let store: std::sync::Arc<Store> = if is_postgres(database_url) {
        use anyhow::Context;
        // The error names the database without its password (issue 13).
        let store = postgres::PgStore::open(database_url)
            .await
            .with_context(|| format!("opening {}", crate::config::redact_url(database_url)))?;
        std::sync::Arc::new(Store::from(store))
    } else {
        let path = database_url
            .strip_prefix("sqlite://")
            .unwrap_or(database_url);
        std::sync::Arc::new(Store::from(sqlite::SqliteStore::open(path).await?))
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
