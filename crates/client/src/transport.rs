//! How the engine reaches the server: one rustls configuration (the ring provider) shared by the
//! REST client and the WebSocket, trusting the operating system's certificate store (Windows and
//! macOS through their own verifiers, Linux through the system bundle) plus any certificate
//! authority a garage's IT names in `GARAGE_INBOX_EXTRA_CA` (a PEM file). And the rule for the
//! server's address, and for every redirect it answers with: `https://`, or plain `http://` only
//! to this computer (loopback), so a password never crosses a network in the clear.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::ClientConfig;

/// A PEM file of extra certificate authorities to trust beside the system's (for a garage whose
/// server certificate comes from its own CA).
pub const EXTRA_CA_ENV: &str = "GARAGE_INBOX_EXTRA_CA";

#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    #[error("the extra certificate authority file {path} cannot be read: {reason}")]
    ExtraCa { path: PathBuf, reason: String },
    #[error("TLS cannot be set up: {0}")]
    Tls(String),
}

/// The HTTP client and the WebSocket's TLS configuration, built once from the same trust roots.
#[derive(Debug, Clone)]
pub struct Transport {
    http: reqwest::Client,
    tls: Arc<ClientConfig>,
}

impl Transport {
    /// Trusts the operating system's store and the certificate authorities in `extra_ca` (PEM).
    pub fn new(extra_ca: Option<&Path>) -> Result<Transport, TransportError> {
        let extra = match extra_ca {
            Some(path) => read_roots(path)?,
            None => Vec::new(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
                .map_err(|e| TransportError::Tls(e.to_string()))?;
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError::Tls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .use_preconfigured_tls(config.clone())
            .redirect(redirect_policy())
            .build()
            .map_err(|e| TransportError::Tls(e.to_string()))?;
        Ok(Transport {
            http,
            tls: Arc::new(config),
        })
    }

    /// The system's store plus `GARAGE_INBOX_EXTRA_CA` when set.
    pub fn from_env() -> Result<Transport, TransportError> {
        let extra = std::env::var_os(EXTRA_CA_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Transport::new(extra.as_deref())
    }

    /// The TLS configuration, for another HTTPS client of the app that must trust exactly what
    /// the engine trusts (the updater's, DSK-1).
    pub fn tls_config(&self) -> Arc<ClientConfig> {
        Arc::clone(&self.tls)
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The WebSocket's connector (used for `wss://`; `ws://` stays plain).
    pub(crate) fn websocket(&self) -> tokio_tungstenite::Connector {
        tokio_tungstenite::Connector::Rustls(Arc::clone(&self.tls))
    }
}

/// Why a server address was refused, in the words the sign-in screen shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerAddressError {
    #[error("Enter the server address.")]
    Empty,
    #[error("Use an https:// address; plain http is only allowed for this computer.")]
    PlainHttp,
    #[error("The server address must start with https://.")]
    Scheme,
    #[error("That server address is not valid ({0}).")]
    Invalid(String),
}

/// `garage.example.com` → `https://garage.example.com` (trailing slashes dropped). `http://` is
/// accepted only for loopback (127.0.0.0/8, ::1, `localhost`): anything else must be `https://`.
pub fn server_address(raw: &str) -> Result<String, ServerAddressError> {
    let raw = raw.trim().trim_end_matches('/');
    if raw.is_empty() {
        return Err(ServerAddressError::Empty);
    }
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let url = reqwest::Url::parse(&with_scheme)
        .map_err(|e| ServerAddressError::Invalid(e.to_string()))?;
    let host = url
        .host_str()
        .ok_or_else(|| ServerAddressError::Invalid("no host".into()))?;
    match url.scheme() {
        "https" => Ok(with_scheme),
        "http" if loopback(host) => Ok(with_scheme),
        "http" => Err(ServerAddressError::PlainHttp),
        _ => Err(ServerAddressError::Scheme),
    }
}

/// 127.0.0.0/8, ::1 or `localhost`.
fn loopback(host: &str) -> bool {
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// Redirects as many as a browser follows.
const MAX_REDIRECTS: usize = 10;

/// Redirects go only where a server address may point: `https://`, or plain `http://` to this
/// computer. A 307 or 308 resends the body, so a redirect to plain http on the network would
/// carry the password (or, from any call, the data) across it in the clear.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let url = attempt.url();
        let allowed = match url.scheme() {
            "https" => true,
            "http" => url.host_str().is_some_and(loopback),
            _ => false,
        };
        if !allowed {
            let refused = format!(
                "the server redirected to {url}, which is not https:// \
                 (plain http is only allowed for this computer)"
            );
            attempt.error(refused)
        } else if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else {
            attempt.follow()
        }
    })
}

fn read_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let fail = |reason: String| TransportError::ExtraCa {
        path: path.to_path_buf(),
        reason,
    };
    let roots = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(e.to_string()))?;
    if roots.is_empty() {
        return Err(fail("it holds no PEM certificate".into()));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acc3_plain_http_is_only_for_this_computer() {
        for ok in [
            "http://127.0.0.1:8787",
            "http://127.8.9.10",
            "http://localhost:8787/",
            "http://LOCALHOST",
            "http://[::1]:8787",
            "https://garage.example.com",
            "https://192.168.1.20:8443",
        ] {
            assert!(server_address(ok).is_ok(), "{ok}");
        }
        for plain in [
            "http://garage.example.com",
            "http://192.168.1.20:8787",
            "http://[::2]",
            "http://localhost.example.com",
            "http://127.0.0.1.example.com",
        ] {
            assert_eq!(
                server_address(plain),
                Err(ServerAddressError::PlainHttp),
                "{plain}"
            );
        }
        assert_eq!(
            server_address(" garage.example.com/ ").unwrap(),
            "https://garage.example.com"
        );
        assert_eq!(server_address(""), Err(ServerAddressError::Empty));
        assert_eq!(server_address("ftp://x"), Err(ServerAddressError::Scheme));
        assert_eq!(
            ServerAddressError::PlainHttp.to_string(),
            "Use an https:// address; plain http is only allowed for this computer."
        );
    }

    #[test]
    fn an_extra_ca_file_without_certificates_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let e = Transport::new(Some(&path)).unwrap_err();
        assert!(e.to_string().contains("ca.pem"), "{e}");
        let missing = dir.path().join("missing.pem");
        assert!(Transport::new(Some(&missing)).is_err());
    }
}
