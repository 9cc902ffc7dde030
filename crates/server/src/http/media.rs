//! A message's files (issue 17): `GET /api/v1/media/{id}` (the original, as a download) and
//! `GET /api/v1/media/{id}/thumbnail` (a small JPEG without EXIF), for anyone who reads
//! conversations, scoped to the caller's organisation like every other id.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use inbox_core::media::AttachmentStatus;
use inbox_core::Capability;

use super::IdPath;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::media::Blobs;
use crate::state::AppState;
use crate::store::media::StoredAttachment;

/// The attachment and the blob store, once its file is there.
async fn ready(
    state: &AppState,
    caller: &Caller,
    id: inbox_core::Id,
) -> AppResult<(StoredAttachment, String, std::sync::Arc<Blobs>)> {
    caller.require(Capability::MessagesView)?;
    let a = state
        .store
        .attachment(caller.actor.org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    match (a.status, a.sha256.clone()) {
        (AttachmentStatus::Ready, Some(sha)) => {
            let blobs = state.blobs.clone().ok_or(AppError::NotFound)?;
            Ok((a, sha, blobs))
        }
        (AttachmentStatus::Failed, _) => Err(AppError::Conflict(
            "this file could not be downloaded from the provider".into(),
        )),
        _ => Err(AppError::Conflict(
            "this file is still being downloaded; try again in a moment".into(),
        )),
    }
}

/// A `Content-Disposition` that names the file without letting its name break the header.
fn disposition(name: &str) -> HeaderValue {
    let plain: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

fn file_response(bytes: Vec<u8>, content_type: &str) -> AppResult<Response> {
    let mut res = Response::new(Body::from(bytes));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Stored by content: it never changes under its id.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(res)
}

pub async fn file(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<Response> {
    let (a, sha, blobs) = ready(&state, &caller, id).await?;
    let bytes = blobs
        .get(&sha)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("reading a stored file: {e}")))?;
    let mut res = file_response(bytes, &a.content_type)?;
    res.headers_mut()
        .insert(header::CONTENT_DISPOSITION, disposition(&a.file_name));
    Ok(res)
}

pub async fn thumbnail(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<Response> {
    let (a, sha, blobs) = ready(&state, &caller, id).await?;
    if !a.has_thumbnail {
        return Err(AppError::NotFound);
    }
    let bytes = blobs
        .get_thumbnail(&sha)
        .await
        .map_err(|_| AppError::NotFound)?;
    file_response(bytes, "image/jpeg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_cannot_break_its_header() {
        let v = disposition("quote \"final\"\r\n.pdf");
        let s = v.to_str().unwrap();
        assert!(
            s.starts_with("attachment; filename=\"quote _final___.pdf\""),
            "{s}"
        );
        assert!(
            s.contains("filename*=UTF-8''quote%20%22final%22%0D%0A.pdf"),
            "{s}"
        );
        let v = disposition("V5C – Ford.pdf");
        assert!(v.to_str().unwrap().contains("%E2%80%93"));
    }
}
