//! Posting to the server as the providers do: Twilio forms signed with `X-Twilio-Signature` over
//! the URL as the server publishes it, Meta notifications signed with `X-Hub-Signature-256` over
//! the exact bytes sent, and portal messages with the customer's bearer token. Every post is
//! counted in [`Stats`]; a refusal (4xx) is logged with the server's reason.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use inbox_core::providers::{meta_signature, twilio_signature};
use serde_json::Value;

use crate::meta_payloads::wire_bytes;

/// What happened to the requests the simulator made.
#[derive(Debug, Default)]
pub struct Stats {
    /// Answered 2xx.
    pub accepted: AtomicU64,
    /// Answered 4xx: a payload or signature the server would not take.
    pub rejected: AtomicU64,
    /// No answer, or a 5xx.
    pub failed: AtomicU64,
}

impl Stats {
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

/// The server's answer to one post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// 0 when the server could not be reached.
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Where the server is, and the keys to sign with.
pub struct Poster {
    http: reqwest::Client,
    /// Reachable base URL.
    server: String,
    /// The base URL the server signs and builds callback URLs from.
    public_url: String,
    app_secret: Option<String>,
    pub stats: Stats,
}

/// The Twilio signature of a form posted to `url` (exactly as the server will rebuild it).
pub fn twilio_signature(url: &str, params: &[(String, String)], auth_token: &str) -> String {
    twilio_signature::sign(url, params, auth_token)
}

/// The `X-Hub-Signature-256` header value for `raw` (`sha256=<hex>`).
pub fn meta_signature(raw: &[u8], app_secret: &str) -> String {
    meta_signature::sign(raw, app_secret)
}

/// Where to send a request meant for `url`: a URL under the public base goes to the reachable
/// server (they differ behind a proxy or tunnel); any other URL as it is.
pub fn reachable_url(url: &str, public_url: &str, server: &str) -> String {
    match url.strip_prefix(public_url) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') || rest.starts_with('?') => {
            format!("{server}{rest}")
        }
        _ => url.to_string(),
    }
}

/// An absolute URL for a TwiML attribute that may be relative to the public base.
pub fn absolute_url(url: &str, public_url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_string()
    } else if url.starts_with('/') {
        format!("{public_url}{url}")
    } else {
        format!("{public_url}/{url}")
    }
}

impl Poster {
    pub fn new(server: &str, public_url: &str, app_secret: Option<String>) -> Poster {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap_or_default();
        Poster {
            http,
            server: server.trim_end_matches('/').to_string(),
            public_url: public_url.trim_end_matches('/').to_string(),
            app_secret,
            stats: Stats::default(),
        }
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The public URL of one of the server's paths (what Twilio signs).
    pub fn public(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    pub fn has_app_secret(&self) -> bool {
        self.app_secret.is_some()
    }

    /// A Twilio webhook: `params` form-posted to `url` (the URL as the server publishes it,
    /// which the signature covers), signed with the account's auth token.
    pub async fn twilio(&self, url: &str, params: &[(String, String)], auth_token: &str) -> Answer {
        let url = absolute_url(url, &self.public_url);
        let signature = twilio_signature(&url, params, auth_token);
        let target = reachable_url(&url, &self.public_url, &self.server);
        let req = self
            .http
            .post(&target)
            .header("X-Twilio-Signature", signature)
            .form(params);
        self.finish(&target, req).await
    }

    /// A WhatsApp Cloud API notification to `<server>/webhooks/whatsapp`. Without an app secret
    /// nothing is sent (the server would refuse it) and the answer has status 0.
    pub async fn meta(&self, notification: &Value) -> Answer {
        let Some(secret) = self.app_secret.as_deref() else {
            return Answer {
                status: 0,
                body: "no Meta app secret configured".into(),
            };
        };
        let raw = wire_bytes(notification);
        let target = format!("{}/webhooks/whatsapp", self.server);
        let req = self
            .http
            .post(&target)
            .header("Content-Type", "application/json")
            .header("X-Hub-Signature-256", meta_signature(&raw, secret))
            .body(raw);
        self.finish(&target, req).await
    }

    /// A WhatsApp notification redelivered until the server answers 2xx, as Meta does (it keeps
    /// trying for days, less and less often; here every few seconds, doubling up to 30 s, for at
    /// most `patience`). A 4xx is final: the same bytes would be refused again.
    pub async fn meta_redelivered(&self, notification: &Value, patience: Duration) -> Answer {
        let began = std::time::Instant::now();
        let mut pause = Duration::from_secs(1);
        loop {
            let answer = self.meta(notification).await;
            let refused = (400..500).contains(&answer.status);
            if answer.ok() || refused || began.elapsed() + pause > patience {
                return answer;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(30));
        }
    }

    /// A customer-portal message with the customer's token.
    pub async fn portal(&self, token: &str, body: &str, client_id: &str) -> Answer {
        let target = format!("{}/api/v1/portal/messages", self.server);
        let req = self
            .http
            .post(&target)
            .bearer_auth(token)
            .json(&serde_json::json!({ "body": body, "client_id": client_id }));
        self.finish(&target, req).await
    }

    async fn finish(&self, target: &str, req: reqwest::RequestBuilder) -> Answer {
        match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let body = res.text().await.unwrap_or_default();
                match status {
                    200..=299 => {
                        self.stats.accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    400..=499 => {
                        self.stats.rejected.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(%target, status, reason = %body.chars().take(300).collect::<String>(), "the server refused a webhook");
                    }
                    _ => {
                        self.stats.failed.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(%target, status, "the server failed a webhook");
                    }
                }
                Answer { status, body }
            }
            Err(e) => {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%target, error = %e, "the server could not be reached");
                Answer {
                    status: 0,
                    body: e.to_string(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn public_urls_are_sent_to_the_reachable_server() {
        let (public, server) = ("https://inbox.example.com", "http://127.0.0.1:8787");
        assert_eq!(
            reachable_url(
                "https://inbox.example.com/webhooks/twilio/status",
                public,
                server
            ),
            "http://127.0.0.1:8787/webhooks/twilio/status"
        );
        assert_eq!(
            reachable_url("https://inbox.example.com.evil/x", public, server),
            "https://inbox.example.com.evil/x"
        );
        assert_eq!(
            reachable_url("https://elsewhere.test/cb", public, server),
            "https://elsewhere.test/cb"
        );
        assert_eq!(
            absolute_url("/webhooks/twilio/voice/dial", public),
            "https://inbox.example.com/webhooks/twilio/voice/dial"
        );
        assert_eq!(
            absolute_url("dial", public),
            "https://inbox.example.com/dial"
        );
        assert_eq!(absolute_url("http://x.test/a", public), "http://x.test/a");
    }

    #[test]
    fn signatures_are_the_providers() {
        let params = vec![
            ("From".to_string(), "+447700900001".to_string()),
            ("Body".to_string(), "Hi".to_string()),
        ];
        let sig = twilio_signature(
            "https://inbox.example.com/webhooks/twilio/sms",
            &params,
            "token",
        );
        assert_eq!(sig.len(), 28, "base64 of a SHA-1");
        assert!(twilio_signature::verify(
            "https://inbox.example.com/webhooks/twilio/sms",
            &params,
            "token",
            &sig
        ));
        let raw = br#"{"object":"whatsapp_business_account"}"#;
        let m = meta_signature(raw, "secret");
        assert!(m.starts_with("sha256=") && m.len() == 7 + 64, "{m}");
        assert!(meta_signature::verify(raw, "secret", &m));
    }
}
