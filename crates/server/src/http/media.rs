//! A message's files (issue 17): `GET /api/v1/media/{id}` (the original, as a download) and
//! `GET /api/v1/media/{id}/thumbnail` (a small JPEG without EXIF), for anyone who reads
//! conversations, scoped to the caller's organisation like every other id; `POST
//! /api/v1/media` (a staff upload, for a reply to carry) and `DELETE /api/v1/media/{id}`
//! (removing a sensitive file); the portal's own upload and reads; and `GET /m/{token}`, a
//! signed, short-lived link for a customer's phone or a provider.

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use inbox_core::media::{self, Attachment, AttachmentStatus, Refused, FILES_MAX, MESSAGE_MAX};
use inbox_core::{Capability, Id};
use serde::Deserialize;

use super::{ApiQuery, IdPath};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::media::keep::{keep, NotKept};
use crate::media::links::{self, LinkError};
use crate::media::Blobs;
use crate::state::AppState;
use crate::store::media::{NewUpload, StoredAttachment, UploadOwner};
use crate::webhooks::portal::PortalCustomer;

/// Largest upload body: one file at the limit, with room for nothing else.
pub const UPLOAD_LIMIT: usize = media::FILE_MAX as usize;

/// The attachment and the blob store, once its file is there.
async fn ready(
    state: &AppState,
    caller: &Caller,
    id: Id,
) -> AppResult<(StoredAttachment, String, std::sync::Arc<Blobs>)> {
    caller.require(Capability::MessagesView)?;
    let a = state
        .store
        .attachment(caller.actor.org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    stored(state, a)
}

/// The attachment's file, or why there is none to give.
fn stored(
    state: &AppState,
    a: StoredAttachment,
) -> AppResult<(StoredAttachment, String, std::sync::Arc<Blobs>)> {
    match (a.status, a.sha256.clone()) {
        (AttachmentStatus::Ready, Some(sha)) => {
            let blobs = state.blobs.clone().ok_or(AppError::NotFound)?;
            Ok((a, sha, blobs))
        }
        (AttachmentStatus::Failed, _) => Err(AppError::Conflict(
            "this file is not available: it could not be downloaded, or it was removed".into(),
        )),
        _ => Err(AppError::Conflict(
            "this file is still being downloaded; try again in a moment".into(),
        )),
    }
}

/// A `Content-Disposition` that names the file without letting its name break the header.
fn disposition(name: &str) -> HeaderValue {
    disposition_as("attachment", name)
}

fn disposition_as(how: &str, name: &str) -> HeaderValue {
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
        "{how}; filename=\"{plain}\"; filename*=UTF-8''{encoded}"
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
    original(a, &sha, &blobs, disposition).await
}

/// The stored file itself, named by `disposition`.
async fn original(
    a: StoredAttachment,
    sha: &str,
    blobs: &Blobs,
    disposition: fn(&str) -> HeaderValue,
) -> AppResult<Response> {
    let bytes = blobs
        .get(sha)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("reading a stored file: {e}")))?;
    let mut res = file_response(bytes, &a.content_type)?;
    res.headers_mut()
        .insert(header::CONTENT_DISPOSITION, disposition(&a.file_name));
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    /// The file's name on the sender's machine (any path is dropped).
    pub file_name: Option<String>,
}

/// Checks and stores an uploaded body: its real type, the 10 MB a file, one copy per content.
async fn take_upload(
    state: &AppState,
    org_id: Id,
    owner: UploadOwner,
    file_name: Option<&str>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<Attachment> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge(format!(
                "{}: a file may be at most {} MB",
                Refused::TooLarge,
                media::FILE_MAX / (1024 * 1024)
            ))
        } else {
            AppError::Invalid(e.body_text())
        }
    })?;
    if body.is_empty() {
        return Err(AppError::Invalid("the file is empty".into()));
    }
    if let Some(n) = file_name {
        inbox_core::limits::check("file_name", n, 1000)?;
    }
    let claimed = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let blobs = state.blobs.clone().ok_or_else(|| {
        AppError::Conflict("this server has no place to keep files (INBOX_MEDIA_DIR)".into())
    })?;
    let kept = match keep(&blobs, body.to_vec(), claimed).await {
        Ok(k) => k,
        Err(NotKept::Refused(Refused::TooLarge)) => {
            return Err(AppError::PayloadTooLarge(Refused::TooLarge.to_string()))
        }
        Err(NotKept::Refused(r)) => return Err(AppError::Invalid(r.to_string())),
        Err(NotKept::Storage(e)) => {
            tracing::error!(error = %e, "an upload could not be stored");
            return Err(AppError::Busy {
                message: "the server could not store the file just now; try again shortly".into(),
                retry_after: 30,
            });
        }
    };
    let sha256 = kept.sha256.clone();
    let upload = NewUpload {
        owner,
        file_name: media::file_name(file_name, &kept.content_type, 0),
        content_type: kept.content_type,
        size: kept.size,
        sha256: kept.sha256,
        has_thumbnail: kept.has_thumbnail,
    };
    let attachment = state
        .store
        .add_upload(org_id, upload, state.clock.now())
        .await?;
    // A removal of the last other copy may have deleted the file between storing it and
    // recording it: now that this upload refers to it, it is written again if so.
    if !blobs.exists(&sha256).await.unwrap_or(true) {
        blobs
            .put(&body)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("storing an upload again: {e}")))?;
    }
    Ok(attachment)
}

/// `POST /api/v1/media?file_name=…`: the body is the file, `Content-Type` its type (checked
/// against its bytes). 201 with the attachment, `ready`, for a reply's `attachments`.
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<(StatusCode, Json<Attachment>)> {
    caller.require_write()?;
    let owner = UploadOwner::Staff(caller.actor.user_id);
    let org = caller.actor.org_id;
    let a = take_upload(&state, org, owner, q.file_name.as_deref(), &headers, body).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// A message's `attachments`: at most 4, each once, each the owner's own upload, 25 MB
/// together. Whether one is on another message already is the store's to say, in the write that
/// takes it, after a repeated post (the same client id) has been answered with its message.
pub async fn check_uploads(
    state: &AppState,
    org_id: Id,
    owner: UploadOwner,
    ids: &[Id],
) -> AppResult<Vec<StoredAttachment>> {
    let owns = |a: &StoredAttachment| match owner {
        UploadOwner::Staff(u) => a.uploaded_by == Some(u),
        UploadOwner::Portal(c) => a.uploaded_by.is_none() && a.customer_id == Some(c),
    };
    if ids.len() > FILES_MAX {
        return Err(AppError::Invalid(Refused::TooMany.to_string()));
    }
    let mut total = 0;
    let mut found = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return Err(AppError::Invalid(format!(
                "attachment {id} is listed twice"
            )));
        }
        let a = state
            .store
            .attachment(org_id, *id)
            .await?
            .filter(owns)
            .ok_or_else(|| AppError::from(crate::store::media::not_yours(*id)))?;
        total += a.size;
        found.push(a);
    }
    if total > MESSAGE_MAX {
        return Err(AppError::Invalid(Refused::MessageTooLarge.to_string()));
    }
    Ok(found)
}

/// `DELETE /api/v1/media/{id}`: a sensitive file (a bank card, a V5C) is removed from the
/// server, the blob store (unless another message holds the same file) and, through the
/// message's sync event, every desktop's cache. Needs `messages.approve`; audited.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<Response> {
    caller.require(Capability::MessagesView)?;
    let a = state
        .store
        .attachment(caller.actor.org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    // Staff may take back their own upload before it is sent; anything else needs a manager.
    let own_upload = a.message_id.is_none() && a.uploaded_by == Some(caller.actor.user_id);
    if !own_upload {
        caller.require(Capability::MessagesApprove)?;
    }
    let removed = state
        .store
        .remove_attachment(&caller.actor, id, state.clock.now())
        .await?;
    if let (Some(sha), Some(blobs)) = (removed.orphan, state.blobs.as_ref()) {
        if let Err(e) = blobs.delete(&sha).await {
            tracing::error!(error = %e, attachment = id, "a removed file could not be deleted from the blob store");
        }
    }
    Ok(match removed.message {
        Some(m) => Json(m).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `POST /api/v1/portal/media?file_name=…`: a customer's upload, for their next portal message.
pub async fn portal_upload(
    State(state): State<AppState>,
    who: PortalCustomer,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<(StatusCode, Json<Attachment>)> {
    // Issue 13's limit for portal posts covers their files too: a token cannot fill the disk.
    who.take_a_post(&state, "files")?;
    let owner = UploadOwner::Portal(who.customer_id);
    let name = q.file_name.as_deref();
    let a = take_upload(&state, who.org_id, owner, name, &headers, body).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// `GET /api/v1/portal/media/{id}`: a file of the customer's own thread, as the portal shows it
/// (what they sent, and what the garage's sent replies carry); anything else is 404.
pub async fn portal_file(
    State(state): State<AppState>,
    who: PortalCustomer,
    IdPath(id): IdPath,
) -> AppResult<Response> {
    let a = state
        .store
        .attachment(who.org_id, id)
        .await?
        .filter(|a| a.customer_id == Some(who.customer_id))
        .ok_or(AppError::NotFound)?;
    if let Some((direction, status)) = a.message {
        if !crate::webhooks::portal::customer_sees_as(direction, status) {
            return Err(AppError::NotFound);
        }
    }
    let (a, sha, blobs) = stored(&state, a)?;
    original(a, &sha, &blobs, disposition).await
}

/// `GET /m/{token}`: a file through a signed link, shown in the browser (a customer's phone) or
/// fetched by a provider. An expired link says so; a removed file is gone.
pub async fn link(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let key = state.store.link_key();
    let id = match links::verify(&key, &token, state.clock.now()) {
        Ok(id) => id,
        Err(LinkError::Expired) => {
            return (
                StatusCode::GONE,
                "This link has expired. Ask the garage to send the file again.",
            )
                .into_response()
        }
        Err(LinkError::Invalid) => return AppError::NotFound.into_response(),
    };
    let found = match state.store.attachment_org(id).await {
        Ok(Some(org)) => state.store.attachment(org, id).await,
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    };
    let found = match found {
        Ok(Some(a)) => a,
        Ok(None) => return AppError::NotFound.into_response(),
        Err(e) => return AppError::from(e).into_response(),
    };
    let inline = |name: &str| disposition_as("inline", name);
    match stored(&state, found) {
        Ok((a, sha, blobs)) => match original(a, &sha, &blobs, inline).await {
            Ok(mut res) => {
                // A phone must not keep a file that may be removed (a V5C sent by mistake).
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                res
            }
            Err(e) => e.into_response(),
        },
        Err(_) => AppError::NotFound.into_response(),
    }
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
