//! Which recording URLs the desktop may load (VOI-8). A recording URL arrives in a provider's
//! webhook, so the UI is only given one whose origin is the signed-in server's or a provider's
//! documented media host; any other is withheld and the call page says "Recording unavailable".

/// Origins of the providers' recordings (scheme, host, port): Twilio serves them from its REST
/// API host.
pub const PROVIDER_MEDIA_ORIGINS: [&str; 1] = ["https://api.twilio.com"];

/// Whether the desktop may load `url`: same origin as `server`, or a provider's media origin.
pub fn recording_allowed(url: &str, server: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    if !matches!(url.scheme(), "https" | "http") || !url.username().is_empty() {
        return false;
    }
    let origin = url.origin();
    let same = |base: &str| {
        reqwest::Url::parse(base)
            .map(|b| b.origin() == origin)
            .unwrap_or(false)
    };
    same(server) || PROVIDER_MEDIA_ORIGINS.iter().any(|o| same(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "https://inbox.garage.example";

    #[test]
    fn voi8_recordings_load_only_from_the_server_or_the_provider() {
        for ok in [
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
            "https://inbox.garage.example/api/v1/media/4",
            "https://INBOX.garage.example:443/rec.mp3",
        ] {
            assert!(recording_allowed(ok, SERVER), "{ok}");
        }
        for bad in [
            "https://evil.example/rec.mp3",
            "http://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
            "https://api.twilio.com.evil.example/rec",
            "https://api.twilio.com:8443/rec",
            "https://inbox.garage.example:8443/rec",
            "https://user@api.twilio.com/rec",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert!(!recording_allowed(bad, SERVER), "{bad}");
        }
        assert!(recording_allowed(
            "http://127.0.0.1:8787/rec",
            "http://127.0.0.1:8787"
        ));
    }
}
