//! The `media:` protocol (issue 17): the webview loads messages' photos, thumbnails and voice
//! notes, and calls' recordings, from the engine (`media://localhost/thumb/{id}`, `…/file/{id}`,
//! `…/recording/{call id}`; on Windows `http://media.localhost/…`), which keeps them on this
//! computer for offline reading. The webview never fetches from the server or a provider
//! itself, so the CSP names no remote origin for media. Audio is fetched by the page and
//! played from a `blob:` URL (see the UI's `player`), so only the app's page may read a file.

use inbox_client::files::Variant;
use tauri::http::{header, Request, Response, StatusCode};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};

use crate::shell::Shell;

pub const SCHEME: &str = "media";

/// The app's own page on each platform. Audio is fetched from it (WebKitGTK's player cannot
/// read `media:` itself), which is a cross-origin request that only the page may make.
const APP_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// The `Access-Control-Allow-Origin` for a request from `origin`: only the app's own page.
pub fn allowed_origin(origin: Option<&str>) -> Option<&'static str> {
    let origin = origin?;
    APP_ORIGINS.into_iter().find(|o| *o == origin)
}

/// `/thumb/12`, `/file/12` or `/recording/7` (a call).
pub fn parse(path: &str) -> Option<(Variant, inbox_core::Id)> {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let variant = match parts.next()? {
        "thumb" => Variant::Thumbnail,
        "file" => Variant::Original,
        "recording" => Variant::Recording,
        _ => return None,
    };
    let id = parts.next()?.parse().ok().filter(|id: &i64| *id > 0)?;
    Some((variant, id))
}

fn status(code: StatusCode, text: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(text.as_bytes().to_vec())
        .unwrap_or_default()
}

pub fn handle<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = ctx.app_handle().clone();
    let path = request.uri().path().to_string();
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let origin = allowed_origin(
        request
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
    );
    tauri::async_runtime::spawn(async move {
        let Some((variant, id)) = parse(&path) else {
            return responder.respond(status(StatusCode::NOT_FOUND, "no such file"));
        };
        let shell = app.state::<Shell>();
        let Ok(running) = shell.running().await else {
            return responder.respond(status(StatusCode::UNAUTHORIZED, "signed out"));
        };
        let mut response = match running.engine.attachment(id, variant).await {
            Ok(file) => ranged(file, range.as_deref()),
            Err(e) => status(StatusCode::NOT_FOUND, &e.to_string()),
        };
        if let Some(origin) = origin {
            response.headers_mut().insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                header::HeaderValue::from_static(origin),
            );
        }
        responder.respond(response);
    });
}

/// `bytes=START-END`, `bytes=START-` or `bytes=-SUFFIX` of a file of `len` bytes, inclusive;
/// None for anything else (the whole file is sent).
pub fn byte_range(header: &str, len: usize) -> Option<(usize, usize)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: usize = suffix.parse().ok()?;
            (len.checked_sub(n.min(len))?, len - 1)
        }
        (s, "") => (s.parse().ok()?, len - 1),
        (s, e) => (s.parse().ok()?, e.parse::<usize>().ok()?.min(len - 1)),
    };
    (start <= end && start < len).then_some((start, end))
}

/// The file, or the part a media element asked for (WebKit's audio player asks in ranges and
/// expects 206 answers).
fn ranged(file: inbox_client::files::File, range: Option<&str>) -> Response<Vec<u8>> {
    let len = file.bytes.len();
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, file.content_type)
        .header(header::ACCEPT_RANGES, "bytes")
        .header("X-Content-Type-Options", "nosniff");
    match range.and_then(|r| byte_range(r, len)) {
        Some((start, end)) => builder
            .status(StatusCode::PARTIAL_CONTENT)
            .header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"))
            .body(file.bytes[start..=end].to_vec()),
        None => builder.status(StatusCode::OK).body(file.bytes),
    }
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_thumb_or_file_with_an_id_is_asked_for() {
        assert_eq!(parse("/thumb/12"), Some((Variant::Thumbnail, 12)));
        assert_eq!(parse("/file/7"), Some((Variant::Original, 7)));
        assert_eq!(parse("/file/0"), None);
        assert_eq!(parse("/file/../../etc"), None);
        assert_eq!(parse("/other/1"), None);
    }

    #[test]
    fn only_the_apps_own_page_may_fetch_a_file() {
        assert_eq!(
            allowed_origin(Some("tauri://localhost")),
            Some("tauri://localhost")
        );
        assert_eq!(
            allowed_origin(Some("http://tauri.localhost")),
            Some("http://tauri.localhost")
        );
        assert_eq!(allowed_origin(Some("https://evil.example")), None);
        assert_eq!(allowed_origin(Some("null")), None);
        assert_eq!(allowed_origin(None), None);
    }

    #[test]
    fn a_media_element_gets_the_range_it_asks_for() {
        assert_eq!(byte_range("bytes=0-", 100), Some((0, 99)));
        assert_eq!(byte_range("bytes=10-19", 100), Some((10, 19)));
        assert_eq!(byte_range("bytes=90-500", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=100-", 100), None);
        assert_eq!(byte_range("bytes=5-1", 100), None);
        assert_eq!(byte_range("bytes=0-1,5-6", 100), None);
        assert_eq!(byte_range("items=0-1", 100), None);
        let part = ranged(
            inbox_client::files::File {
                bytes: (0u8..100).collect(),
                content_type: "audio/ogg".into(),
            },
            Some("bytes=10-19"),
        );
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(part.headers()[header::CONTENT_RANGE], "bytes 10-19/100");
        assert_eq!(part.body(), &(10u8..20).collect::<Vec<_>>());
    }
}
