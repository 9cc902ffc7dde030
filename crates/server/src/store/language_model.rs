//! What the language model worker (issue 16, AIA-1) reads and writes: an organisation's
//! endpoint, the work it has not been given yet, and what it answered.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::LanguageModelSettings;
use inbox_core::intent::Classification;
use inbox_core::{Direction, Id};

use super::StoreResult;

/// An OpenAI-compatible chat-completions endpoint, key opened.
#[derive(Clone, PartialEq, Eq)]
pub struct ModelEndpoint {
    pub url: String,
    pub model: String,
    /// Empty: none (a local Ollama needs none).
    pub key: String,
}

impl std::fmt::Debug for ModelEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelEndpoint")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("key", &(!self.key.is_empty()).then_some("<redacted>"))
            .finish()
    }
}

/// An inbound message for the model to label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundText {
    pub id: Id,
    pub conversation_id: Id,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// A voicemail's transcript for the model to summarise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailText {
    pub call_id: Id,
    pub conversation_id: Id,
    pub transcript: String,
    pub at: DateTime<Utc>,
}

/// What one claim hands the worker.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ModelWork {
    pub messages: Vec<InboundText>,
    pub voicemails: Vec<VoicemailText>,
}

impl ModelWork {
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.voicemails.is_empty()
    }
}

/// The latest stretch of a long thread, oldest first, and the newest message it reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadText {
    pub through: Id,
    pub lines: Vec<(Direction, String)>,
}

/// What a summary note sums up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryOf {
    Voicemail,
    /// The thread up to and including this message.
    Thread {
        through: Id,
    },
}

#[async_trait]
pub trait LanguageModelStore: Send + Sync {
    /// The endpoint the worker calls for the organisation: None unless one is configured and AI
    /// is on.
    async fn language_model(&self, org_id: Id) -> StoreResult<Option<ModelEndpoint>>;
    /// As Settings shows it (never the key).
    async fn language_model_settings(&self, org_id: Id) -> StoreResult<LanguageModelSettings>;
    /// Takes up to `limit` inbound messages that arrived after the model was configured and
    /// were not taken yet, and as many voicemail transcripts not yet summarised, oldest first.
    /// Taking them moves the organisation's cursor in the same transaction, so another server
    /// instance never takes them too.
    async fn claim_model_work(&self, org_id: Id, limit: u32) -> StoreResult<ModelWork>;
    /// The model's label for an inbound message, unless a staff member corrected it; counted in
    /// the analytics and sent to every desktop. False when it was corrected or is unknown.
    async fn refine_intent(
        &self,
        org_id: Id,
        message_id: Id,
        intent: Classification,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The latest `take` messages of a conversation once `every` or more have arrived since its
    /// last summary; None otherwise.
    async fn thread_to_summarise(
        &self,
        org_id: Id,
        conversation_id: Id,
        every: u32,
        take: u32,
    ) -> StoreResult<Option<ThreadText>>;
    /// Writes a summary into the thread as a system note. A thread summary is written once per
    /// stretch: false when another one already covers it.
    async fn add_summary(
        &self,
        org_id: Id,
        conversation_id: Id,
        of: SummaryOf,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

/// The note a summary becomes.
pub(crate) fn summary_note(of: SummaryOf, text: &str) -> String {
    match of {
        SummaryOf::Voicemail => format!("Voicemail summary (AI): {text}"),
        SummaryOf::Thread { .. } => format!("Thread summary (AI): {text}"),
    }
}
