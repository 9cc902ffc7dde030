//! Desktop updates (DSK-1): the update check of tauri-plugin-updater and the update files, from
//! the releases folder (`crate::releases`), for signed-in users only.
//!
//! `GET /api/v1/updates/{target}/{arch}/{current_version}[?bundle_type=]` answers 204 when
//! nothing newer is published, else the plugin's "dynamic server" JSON whose `url` names
//! `GET /api/v1/updates/files/{version}/{target}/{arch}/{file}` on this same server, so the
//! desktop downloads from the address it signed in to, with the same bearer token.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use inbox_core::updates::{self, Arch, Target, UpdateManifest, Version};
use serde::Deserialize;
use tower_http::services::ServeFile;

use super::ApiQuery;
use crate::auth::throttle::Cidr;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::releases::{Published, ReleaseError, Releases};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct CheckQuery {
    /// The updater's `{{bundle_type}}`: `deb`, `rpm`, `appimage`, `nsis`, `msi`, `app`, `unknown`.
    bundle_type: Option<String>,
}

impl From<ReleaseError> for AppError {
    fn from(e: ReleaseError) -> Self {
        match e {
            ReleaseError::Invalid(m) | ReleaseError::BadSignature(m) => AppError::Invalid(m),
            ReleaseError::Conflict(m) => AppError::Conflict(m),
            e @ ReleaseError::Io { .. } => AppError::Internal(e.into()),
        }
    }
}

fn platform(target: &str, arch: &str) -> AppResult<(Target, Arch)> {
    let target = Target::parse(target).ok_or(AppError::NotFound)?;
    let arch = Arch::parse(arch).ok_or(AppError::NotFound)?;
    Ok((target, arch))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ReleaseError> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(AppError::from)
}

/// The update check.
pub async fn check(
    State(state): State<AppState>,
    _caller: Caller,
    path: Result<Path<(String, String, String)>, PathRejection>,
    ApiQuery(query): ApiQuery<CheckQuery>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let Path((target, arch, current)) = path.map_err(|_| AppError::NotFound)?;
    let (target, arch) = platform(&target, &arch)?;
    let current = updates::parse_version(&current)
        .map_err(|e| AppError::Invalid(format!("the current version: {e}")))?;
    let Some(releases) = state.releases.clone() else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    if !updates::offered_to(target, query.bundle_type.as_deref()) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let newest = blocking(move || releases.newest_after(target, arch, &current)).await?;
    let Some(release) = newest else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let base = base_url(
        &state.providers.public_url,
        &state.login.trusted_proxies,
        peer.map(|Extension(ConnectInfo(a))| a),
        &headers,
    );
    Ok(Json(manifest(&base, release)).into_response())
}

fn manifest(base: &str, r: Published) -> UpdateManifest {
    UpdateManifest {
        url: format!(
            "{base}/api/v1/updates/files/{}/{}/{}/{}",
            r.version, r.target, r.arch, r.file
        ),
        version: r.version,
        notes: r.notes,
        pub_date: r.pub_date,
        signature: r.signature,
    }
}

/// An update file, exactly as published (the app checks its signature before installing).
pub async fn file(
    State(state): State<AppState>,
    _caller: Caller,
    path: Result<Path<(String, String, String, String)>, PathRejection>,
    request: Request,
) -> AppResult<Response> {
    // Anything that does not name a published file exactly (a bad version, `..`, an encoded
    // slash) is simply not there.
    let Path((version, target, arch, name)) = path.map_err(|_| AppError::NotFound)?;
    let (target, arch) = platform(&target, &arch)?;
    let version: Version = updates::parse_version(&version).map_err(|_| AppError::NotFound)?;
    let releases: Releases = state
        .releases
        .as_deref()
        .cloned()
        .ok_or(AppError::NotFound)?;
    let lookup = name.clone();
    let (path, _size) = blocking(move || releases.file(&version, target, arch, &lookup))
        .await?
        .ok_or(AppError::NotFound)?;
    let mime = content_type(&name);
    let served = ServeFile::new_with_mime(&path, &mime)
        .try_call(request)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let (mut parts, body) = served.into_parts();
    if parts.status == StatusCode::NOT_FOUND {
        return Err(AppError::NotFound);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        parts.headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(Response::from_parts(parts, Body::new(body)))
}

/// The media type of an update file, from how its name ends.
pub fn content_type(name: &str) -> mime::Mime {
    let kind = if name.ends_with(".deb") {
        "application/vnd.debian.binary-package"
    } else if name.ends_with(".rpm") {
        "application/x-rpm"
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        "application/gzip"
    } else if name.ends_with(".zip") {
        "application/zip"
    } else if name.ends_with(".msi") {
        "application/x-msi"
    } else if name.ends_with(".exe") {
        "application/vnd.microsoft.portable-executable"
    } else {
        "application/octet-stream"
    };
    kind.parse().unwrap_or(mime::APPLICATION_OCTET_STREAM)
}

/// The base URL the desktop reached this server at, for the download link. The configured
/// public URL when the request came to its host (behind the proxy that terminates TLS this is
/// the only way to know the scheme for sure); otherwise the request's `Host`, with `https` only
/// when a trusted proxy says so in `X-Forwarded-Proto` (the server itself speaks plain HTTP).
pub fn base_url(
    public_url: &str,
    trusted_proxies: &[Cidr],
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
) -> String {
    let public_url = public_url.trim_end_matches('/');
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| host_ok(h))
    else {
        return public_url.to_string();
    };
    let public_host = public_url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(rest))
        .unwrap_or_default();
    if public_host.eq_ignore_ascii_case(host) {
        return public_url.to_string();
    }
    let behind_trusted_proxy =
        peer.is_some_and(|p| trusted_proxies.iter().any(|c| c.contains(p.ip())));
    let forwarded_https = behind_trusted_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let scheme = if forwarded_https { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// A `Host` value fit to put in a URL: a name or address and an optional port, nothing else.
fn host_ok(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::throttle::parse_trusted_proxies;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn dsk1_the_download_link_uses_the_public_url_for_its_own_host() {
        let h = headers(&[("host", "inbox.example.co.uk")]);
        let peer = Some("127.0.0.1:5000".parse().unwrap());
        assert_eq!(
            base_url("https://inbox.example.co.uk/", &[], peer, &h),
            "https://inbox.example.co.uk"
        );
    }

    #[test]
    fn dsk1_the_download_link_follows_the_request_and_trusts_only_trusted_proxies() {
        let trusted = parse_trusted_proxies("10.0.0.1/32").unwrap();
        let h = headers(&[("host", "inbox.lan:8443"), ("x-forwarded-proto", "https")]);
        let proxy = Some("10.0.0.1:4000".parse().unwrap());
        let stranger = Some("192.0.2.7:4000".parse().unwrap());
        assert_eq!(
            base_url("https://other.example", &trusted, proxy, &h),
            "https://inbox.lan:8443"
        );
        assert_eq!(
            base_url("https://other.example", &trusted, stranger, &h),
            "http://inbox.lan:8443"
        );
        let bad = headers(&[("host", "evil/path?x")]);
        assert_eq!(
            base_url("https://other.example", &trusted, proxy, &bad),
            "https://other.example"
        );
    }

    #[test]
    fn dsk1_update_files_have_their_own_media_types() {
        assert_eq!(
            content_type("Garage-Inbox_0.2.0_amd64.deb").essence_str(),
            "application/vnd.debian.binary-package"
        );
        assert_eq!(
            content_type("Garage-Inbox_0.2.0_aarch64.app.tar.gz").essence_str(),
            "application/gzip"
        );
        assert_eq!(
            content_type("Garage-Inbox_0.2.0_x64-setup.exe").essence_str(),
            "application/vnd.microsoft.portable-executable"
        );
        assert_eq!(
            content_type("something.bin").essence_str(),
            "application/octet-stream"
        );
    }
}
