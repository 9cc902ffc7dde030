//! Talking to the providers: the Twilio Messages API and the WhatsApp Cloud API (send side), and
//! their configuration. Base URLs are configuration so tests and the demo point them at the
//! simulator; production points them at the real providers.

pub mod twilio;
pub mod whatsapp;

/// Where the providers are and how they reach us.
#[derive(Clone)]
pub struct ProviderConfig {
    /// The server's public base URL: Twilio signs it, callback URLs are built from it.
    pub public_url: String,
    /// e.g. `https://api.twilio.com`
    pub twilio_api_base: String,
    /// e.g. `https://graph.facebook.com/v23.0`
    pub whatsapp_api_base: String,
    /// The Meta app's secret: signs every WhatsApp webhook (`X-Hub-Signature-256`).
    pub whatsapp_app_secret: Option<String>,
    /// Answers Meta's webhook verification handshake.
    pub whatsapp_verify_token: Option<String>,
    /// Send WhatsApp read receipts when staff open a thread.
    pub whatsapp_read_receipts: bool,
}

impl ProviderConfig {
    pub fn new(public_url: &str) -> ProviderConfig {
        ProviderConfig {
            public_url: public_url.trim_end_matches('/').to_string(),
            twilio_api_base: "https://api.twilio.com".into(),
            whatsapp_api_base: "https://graph.facebook.com/v23.0".into(),
            whatsapp_app_secret: None,
            whatsapp_verify_token: None,
            whatsapp_read_receipts: false,
        }
    }

    /// The public URL of one of our paths, as the provider calls it.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.public_url, path)
    }
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("public_url", &self.public_url)
            .field("twilio_api_base", &self.twilio_api_base)
            .field("whatsapp_api_base", &self.whatsapp_api_base)
            .field(
                "whatsapp_app_secret",
                &self.whatsapp_app_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "whatsapp_verify_token",
                &self.whatsapp_verify_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A send that did not go through, or whose fate is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// Worth trying again later (timeouts, 5xx, rate limits).
    pub transient: bool,
    /// The request may have reached the provider and been accepted (a timeout after it was
    /// sent, a 2xx whose body could not be read): sending it again could send it twice, so the
    /// message becomes `unknown` instead of being retried.
    pub maybe_accepted: bool,
    /// What the front desk reads next to the failed message.
    pub reason: String,
}

impl SendError {
    /// Refused for good: sending the same again would fail the same way.
    pub fn permanent(reason: impl Into<String>) -> SendError {
        SendError {
            transient: false,
            maybe_accepted: false,
            reason: reason.into(),
        }
    }

    /// Not accepted, and worth trying again later.
    pub fn transient(reason: impl Into<String>) -> SendError {
        SendError {
            transient: true,
            maybe_accepted: false,
            reason: reason.into(),
        }
    }

    /// Perhaps accepted: never to be sent again blindly.
    pub fn ambiguous(reason: impl Into<String>) -> SendError {
        SendError {
            transient: false,
            maybe_accepted: true,
            reason: reason.into(),
        }
    }
}

/// A send the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub provider_id: String,
    /// The provider's status word at acceptance (`queued`, `accepted`, `sent` …).
    pub status: String,
}

/// Per-request timeout of provider calls unless configured otherwise.
pub const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

pub(crate) fn http_client(timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5).min(timeout))
        .timeout(timeout)
        .build()
        .unwrap_or_default()
}

/// A network-level failure. One that happened before the request could reach the provider
/// (no connection) is worth retrying; any other (a timeout while waiting for the answer, a
/// connection cut after the request went out) leaves the provider's decision unknown.
pub(crate) fn unreachable(provider: &str, e: &reqwest::Error) -> SendError {
    if e.is_connect() || e.is_builder() {
        SendError::transient(format!("{provider} could not be reached: {e}"))
    } else {
        SendError::ambiguous(format!(
            "{provider} did not answer whether it took the message: {e}"
        ))
    }
}

/// The body of an answer could not be read: after a 2xx the provider may have taken the
/// message; after anything else it did not.
pub(crate) fn unreadable(provider: &str, success: bool, e: impl std::fmt::Display) -> SendError {
    if success {
        SendError::ambiguous(format!(
            "{provider} accepted the request but its answer could not be read: {e}"
        ))
    } else {
        SendError::transient(format!("{provider} answered something unreadable: {e}"))
    }
}
