//! The `media:` protocol (issue 17): the webview loads messages' photos, thumbnails and voice
//! notes from the engine (`media://localhost/thumb/{id}`, `…/file/{id}`; on Windows
//! `http://media.localhost/…`), which keeps them on this computer for offline reading. The
//! webview never fetches from the server itself, so the CSP names no remote origin for media.

use inbox_client::files::Variant;
use tauri::http::{header, Request, Response, StatusCode};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};

use crate::shell::Shell;

pub const SCHEME: &str = "media";

/// `/thumb/12` or `/file/12`.
pub fn parse(path: &str) -> Option<(Variant, inbox_core::Id)> {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let variant = match parts.next()? {
        "thumb" => Variant::Thumbnail,
        "file" => Variant::Original,
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
    tauri::async_runtime::spawn(async move {
        let Some((variant, id)) = parse(&path) else {
            return responder.respond(status(StatusCode::NOT_FOUND, "no such file"));
        };
        let shell = app.state::<Shell>();
        let Ok(running) = shell.running().await else {
            return responder.respond(status(StatusCode::UNAUTHORIZED, "signed out"));
        };
        let response = match running.engine.attachment(id, variant).await {
            Ok(file) => Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, file.content_type)
                .header("X-Content-Type-Options", "nosniff")
                .body(file.bytes)
                .unwrap_or_default(),
            Err(e) => status(StatusCode::NOT_FOUND, &e.to_string()),
        };
        responder.respond(response);
    });
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
}
