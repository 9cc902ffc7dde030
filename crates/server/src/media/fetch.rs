//! Fetching a provider's file (issue 17): only from the allow-listed origins (scheme, host and
//! port), through redirects only to allow-listed origins, within the size limit.

use std::time::Duration;

use inbox_core::media::FILE_MAX;
use reqwest::redirect::Policy;
use reqwest::{StatusCode, Url};

use crate::providers::ProviderConfig;

/// Twilio sends its media URLs to its file hosts.
pub const TWILIO_HOSTS: [&str; 3] = [
    "https://api.twilio.com",
    "https://media.twiliocdn.com",
    "https://mms.twiliocdn.com",
];
/// Meta answers a media id with a lookaside URL.
pub const META_HOSTS: [&str; 1] = ["https://lookaside.fbsbx.com"];

/// How long one file may take.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Redirects followed at most.
const HOPS: usize = 5;

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
    /// Where Twilio's files may come from: the configured API base and Twilio's media hosts.
    pub fn twilio(p: &ProviderConfig) -> AllowList {
        AllowList::of([p.twilio_api_base.as_str()].into_iter().chain(TWILIO_HOSTS))
    }

    /// Where WhatsApp's files may come from: the configured Graph base and Meta's media host.
    pub fn whatsapp(p: &ProviderConfig) -> AllowList {
        AllowList::of([p.whatsapp_api_base.as_str()].into_iter().chain(META_HOSTS))
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

/// How a request proves who asks: sent only to the origin it was first addressed to.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Basic(&'a str, &'a str),
    Bearer(&'a str),
}

pub struct Fetcher {
    /// None when the client could not be built: nothing is fetched (never an unchecked client).
    http: Option<reqwest::Client>,
    twilio: AllowList,
    whatsapp: AllowList,
}

impl Fetcher {
    pub fn new(providers: &ProviderConfig) -> Fetcher {
        // Redirects are followed here, hop by hop, so each is checked and credentials never
        // leave the origin they were meant for.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(TIMEOUT)
            .redirect(Policy::none())
            .build()
            .map_err(|e| tracing::error!(error = %e, "the media client could not be built; no file will be fetched"))
            .ok();
        Fetcher {
            http,
            twilio: AllowList::twilio(providers),
            whatsapp: AllowList::whatsapp(providers),
        }
    }

    /// An MMS file, with the Twilio account's credentials.
    pub async fn twilio(&self, url: &str, sid: &str, token: &str) -> Result<Fetched, FetchError> {
        let url = checked(&self.twilio, url)?;
        let res = self.get(&self.twilio, url, Auth::Basic(sid, token)).await?;
        file(res).await
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
        let meta = checked(
            &self.whatsapp,
            &format!("{}/{media_id}", api_base.trim_end_matches('/')),
        )?;
        let res = self.get(&self.whatsapp, meta, Auth::Bearer(token)).await?;
        let info: serde_json::Value = res
            .json()
            .await
            .map_err(|_| FetchError::transient("the media answer was not JSON"))?;
        let url = info["url"]
            .as_str()
            .ok_or_else(|| FetchError::permanent("the media answer had no URL"))?;
        let url = checked(&self.whatsapp, url)?;
        let res = self.get(&self.whatsapp, url, Auth::Bearer(token)).await?;
        let mut fetched = file(res).await?;
        if fetched.content_type.is_none() {
            fetched.content_type = info["mime_type"].as_str().map(str::to_string);
        }
        Ok(fetched)
    }

    /// GETs `url`, following redirects within `allow`; the credentials go only to the first
    /// request's origin. A non-2xx final answer is an error.
    async fn get(
        &self,
        allow: &AllowList,
        url: Url,
        auth: Auth<'_>,
    ) -> Result<reqwest::Response, FetchError> {
        let http = self.http.as_ref().ok_or_else(|| {
            FetchError::permanent("the server cannot fetch files (no HTTP client)")
        })?;
        let first = url.origin();
        let mut url = url;
        for _ in 0..=HOPS {
            let mut req = http.get(url.clone());
            if url.origin() == first {
                req = match auth {
                    Auth::Basic(user, password) => req.basic_auth(user, Some(password)),
                    Auth::Bearer(token) => req.bearer_auth(token),
                };
            }
            let res = req.send().await.map_err(transport)?;
            let status = res.status();
            if status.is_redirection() {
                let next = res
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| FetchError::permanent("a redirect without a location"))?;
                if !allow.allows(&next) {
                    return Err(FetchError::permanent(
                        "redirected outside the provider's media hosts; not followed",
                    ));
                }
                url = next;
                continue;
            }
            if !status.is_success() {
                return Err(by_status(status));
            }
            return Ok(res);
        }
        Err(FetchError::permanent("too many redirects"))
    }
}

fn checked(allow: &AllowList, url: &str) -> Result<Url, FetchError> {
    let url = Url::parse(url).map_err(|_| FetchError::permanent("not a URL"))?;
    if !allow.allows(&url) {
        return Err(FetchError::permanent(
            "not one of the provider's media hosts; never fetched",
        ));
    }
    Ok(url)
}

/// Reads a file answer within the size limit.
async fn file(mut res: reqwest::Response) -> Result<Fetched, FetchError> {
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

fn transport(e: reqwest::Error) -> FetchError {
    FetchError::transient(e.without_url().to_string())
}

fn by_status(status: StatusCode) -> FetchError {
    let reason = format!("the provider answered HTTP {}", status.as_u16());
    // 401/403 pass once an operator sets the account's credentials right: retried too.
    if status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
    {
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
        let a = AllowList::twilio(&p);
        let w = AllowList::whatsapp(&p);
        let ok = |u: &str| a.allows(&Url::parse(u).unwrap());
        let wa = |u: &str| w.allows(&Url::parse(u).unwrap());
        assert!(ok(
            "http://127.0.0.1:8787/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
        ));
        assert!(wa("https://graph.facebook.com/v23.0/123"));
        assert!(wa(
            "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"
        ));
        assert!(
            !ok("https://lookaside.fbsbx.com/x"),
            "Twilio's credentials never go to Meta"
        );
        assert!(
            !wa("http://127.0.0.1:8787/x"),
            "nor WhatsApp's to Twilio's base"
        );
        assert!(ok("https://api.twilio.com:443/x"));
        assert!(!ok("http://127.0.0.1:8788/x"), "another port");
        assert!(!ok("http://api.twilio.com/x"), "another scheme");
        assert!(!ok("https://evil.example/x"));
        assert!(!ok("https://lookaside.fbsbx.com.evil.example/x"));
        assert!(!ok("file:///etc/passwd"));
    }
}
