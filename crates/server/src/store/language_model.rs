//! What the language model worker (issue 16, AIA-1) reads and writes: an organisation's
//! endpoint, the work it has not been given yet, and what it answered.

use chrono::{DateTime, Utc};
use inbox_core::{Direction, Id};

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

/// The latest stretch of a long thread, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadText {
    pub lines: Vec<(Direction, String)>,
}

/// What a summary note sums up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryOf {
    Voicemail,
    Thread,
}

/// The note a summary becomes.
pub(crate) fn summary_note(of: SummaryOf, text: &str) -> String {
    match of {
        SummaryOf::Voicemail => format!("Voicemail summary (AI): {text}"),
        SummaryOf::Thread => format!("Thread summary (AI): {text}"),
    }
}

/// The key a language model update stores, if it changes it: the one given; else none when the
/// model is removed or moved to another URL (a key is never sent anywhere it was not given for).
pub(crate) fn model_key<'a>(
    update: &'a inbox_core::api::LanguageModelUpdate,
    stored_url: Option<&str>,
) -> Option<&'a str> {
    match &update.key {
        Some(key) => Some(key),
        None if update.url.is_empty() || stored_url.unwrap_or_default() != update.url => Some(""),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inbox_core::api::LanguageModelUpdate;

    #[test]
    fn aia1_a_key_is_kept_only_for_the_url_it_was_given_for() {
        let u = |url: &str, key: Option<&str>| LanguageModelUpdate {
            url: url.into(),
            model: "m".into(),
            key: key.map(Into::into),
        };
        let at = Some("https://a.test/v1");
        assert_eq!(model_key(&u("https://a.test/v1", None), at), None, "kept");
        assert_eq!(
            model_key(&u("https://b.test/v1", None), at),
            Some(""),
            "moved"
        );
        assert_eq!(model_key(&u("", None), at), Some(""), "removed");
        assert_eq!(model_key(&u("https://b.test/v1", Some("k")), at), Some("k"));
    }
}
