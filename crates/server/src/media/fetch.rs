//! Fetching a provider's file (issue 17): only from the allow-listed origins (scheme, host and
//! port), through redirects only to allow-listed origins, within the size limit.

use std::time::Duration;

use inbox_core::media::FILE_MAX;
use reqwest::redirect::Policy;
use reqwest::{StatusCode, Url};

use crate::providers::ProviderConfig;

/// Twilio sends its media URLs to its file host; Meta answers with a lookaside URL.
pub const DOCUMENTED_HOSTS: [&str; 4] = [
    "https://api.twilio.com",
    "https://media.twiliocdn.com",
    "https://mms.twiliocdn.com",
    "https://lookaside.fbsbx.com",
];

/// How long one file may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// (scheme, host, port) of each origin files may come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList(Vec<(String, String, u16)>);

fn origin(url: &Url) -> Option<(String, String, u16)> {
    Some((
        url.scheme().to_string(),
        url.host_str()?.to_ascii_lowercase(),
        url.port_or_known_default()?,
    ))
}

impl AllowList {
    /// The configured API bases and the providers' documented media hosts.
    pub fn for_providers(p: &ProviderConfig) -> AllowList {
        let bases = [p.twilio_api_base.as_str(), p.whatsapp_api_base.as_str()];
        AllowList::of(bases.into_iter().chain(DOCUMENTED_HOSTS))
    }

    pub fn of<'a>(urls: impl IntoIterator<Item = &'a str>) -> AllowList {
        AllowList(
            urls.into_iter()
                .filter_map(|u| Url::parse(u).ok())
                .filter_map(|u| origin(&u))
                .collect(),
        )
    }

    pub fn allows(&self, url: &Url) -> bool {
        matches!(url.scheme(), "https" | "http") && origin(url).is_some_and(|o| self.0.contains(&o))
    }
}

/// Why a file could not be fetched, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    pub reason: String,
    pub transient: bool,
}

impl FetchError {
    fn permanent(reason: impl Into<String>) -> FetchError {
        FetchError {
            reason: reason.into(),
            transient: false,
        }
    }

    fn transient(reason: impl Into<String>) -> FetchError {
        FetchError {
            reason: reason.into(),
            transient: true,
        }
    }
}

/// A fetched file: its bytes and the type the server said it is.
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
}

pub struct Fetcher {
    http: reqwest::Client,
    allow: AllowList,
}

impl Fetcher {
    pub fn new(allow: AllowList) -> Fetcher {
        let hops = allow.clone();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(TIMEOUT)
            // Each hop is checked; credentials are not sent on to another host (reqwest drops
            // them when the host changes).
            .redirect(Policy::custom(move |attempt| {
                if attempt.previous().len() >= 5 {
                    attempt.error("too many redirects")
                } else if hops.allows(attempt.url()) {
                    attempt.follow()
                } else {
                    attempt.error("redirected outside the providers' media hosts")
                }
            }))
            .build()
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "the media client could not be built as configured");
                reqwest::Client::default()
            });
        Fetcher { http, allow }
    }

    /// An MMS file, with the Twilio account's credentials.
    pub async fn twilio(&self, url: &str, sid: &str, token: &str) -> Result<Fetched, FetchError> {
        let url = self.checked(url)?;
        self.file(self.http.get(url).basic_auth(sid, Some(token)))
            .await
    }

    /// A WhatsApp file: its URL from the Graph API, then the file, both with the access token.
    pub async fn whatsapp(
        &self,
        api_base: &str,
        media_id: &str,
        token: &str,
    ) -> Result<Fetched, FetchError> {
        if media_id.is_empty() || !media_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(FetchError::permanent("not a WhatsApp media id"));
        }
        let meta = self.checked(&format!("{}/{media_id}", api_base.trim_end_matches('/')))?;
        let res = self
            .http
            .get(meta)
            .bearer_auth(token)
            .send()
            .await
            .map_err(transport)?;
        let status = res.status();
        if !status.is_success() {
            return Err(by_status(status));
        }
        let info: serde_json::Value = res
            .json()
            .await
            .map_err(|_| FetchError::transient("the media answer was not JSON"))?;
        let url = info["url"]
            .as_str()
            .ok_or_else(|| FetchError::permanent("the media answer had no URL"))?;
        let url = self.checked(url)?;
        let mut fetched = self.file(self.http.get(url).bearer_auth(token)).await?;
        if fetched.content_type.is_none() {
            fetched.content_type = info["mime_type"].as_str().map(str::to_string);
        }
        Ok(fetched)
    }

    fn checked(&self, url: &str) -> Result<Url, FetchError> {
        let url = Url::parse(url).map_err(|_| FetchError::permanent("not a URL"))?;
        if !self.allow.allows(&url) {
            return Err(FetchError::permanent(
                "not one of the providers' media hosts; never fetched",
            ));
        }
        Ok(url)
    }

    async fn file(&self, req: reqwest::RequestBuilder) -> Result<Fetched, FetchError> {
        let mut res = req.send().await.map_err(transport)?;
        let status = res.status();
        if !status.is_success() {
            return Err(by_status(status));
        }
        if res.content_length().is_some_and(|n| n > FILE_MAX) {
            return Err(FetchError::permanent(
                inbox_core::media::Refused::TooLarge.to_string(),
            ));
        }
        let content_type = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(inbox_core::media::essence)
            .filter(|t| !t.is_empty() && t != "application/octet-stream");
        let mut bytes = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(transport)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > FILE_MAX {
                return Err(FetchError::permanent(
                    inbox_core::media::Refused::TooLarge.to_string(),
                ));
            }
        }
        Ok(Fetched {
            bytes,
            content_type,
        })
    }
}

fn transport(e: reqwest::Error) -> FetchError {
    if e.is_redirect() {
        FetchError::permanent("redirected outside the providers' media hosts")
    } else {
        FetchError::transient(e.without_url().to_string())
    }
}

fn by_status(status: StatusCode) -> FetchError {
    let reason = format!("the provider answered HTTP {}", status.as_u16());
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        FetchError::transient(reason)
    } else {
        FetchError::permanent(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_bases_and_documented_hosts_are_allowed() {
        let mut p = ProviderConfig::new("https://inbox.example");
        p.twilio_api_base = "http://127.0.0.1:8787".into();
        let a = AllowList::for_providers(&p);
        let ok = |u: &str| a.allows(&Url::parse(u).unwrap());
        assert!(ok(
            "http://127.0.0.1:8787/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
        ));
        assert!(ok("https://graph.facebook.com/v23.0/123"));
        assert!(ok(
            "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"
        ));
        assert!(ok("https://api.twilio.com:443/x"));
        assert!(!ok("http://127.0.0.1:8788/x"), "another port");
        assert!(!ok("http://api.twilio.com/x"), "another scheme");
        assert!(!ok("https://evil.example/x"));
        assert!(!ok("https://lookaside.fbsbx.com.evil.example/x"));
        assert!(!ok("file:///etc/passwd"));
    }
}
