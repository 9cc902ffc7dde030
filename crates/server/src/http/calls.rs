//! Calls: detail (VOI-8), reassignment (VOI-6), resolution (VOI-7).

use axum::extract::State;
use axum::Json;
use inbox_core::api::{CallMoved, ReassignCallRequest};
use inbox_core::{limits, Call, Capability};

use super::{ApiJson, IdPath};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<Json<Call>> {
    caller.require(Capability::MessagesView)?;
    Ok(Json(state.store.call(&caller.actor, id).await?))
}

/// VOI-8, issue 17: a call's recording, fetched from the provider with the account's
/// credentials (only from the provider's allow-listed origins), so the desktop plays it through
/// its engine and its webview never loads from a provider itself.
pub async fn recording(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<axum::response::Response> {
    caller.require(Capability::MessagesView)?;
    let call = state.store.call(&caller.actor, id).await?;
    let url = call.recording_url.ok_or(AppError::NotFound)?;
    let account = state
        .store
        .twilio_account_of(caller.actor.org_id)
        .await?
        .ok_or_else(|| AppError::Conflict("voice is not set up for this garage".into()))?;
    let fetcher = crate::media::fetch::Fetcher::new(&state.providers);
    let f = fetcher
        .twilio(&url, &account.account_sid, &account.auth_token)
        .await
        .map_err(|e| {
            tracing::warn!(call = id, error = %e.reason, "a recording could not be fetched");
            AppError::Busy {
                message: format!(
                    "the recording could not be fetched from the provider: {}",
                    e.reason
                ),
                retry_after: 30,
            }
        })?;
    let content_type = f.content_type.unwrap_or_else(|| "audio/mpeg".into());
    let mut res = axum::response::Response::new(axum::body::Body::from(f.bytes));
    let h = res.headers_mut();
    if let Ok(v) = axum::http::HeaderValue::from_str(&content_type) {
        h.insert(axum::http::header::CONTENT_TYPE, v);
    }
    h.insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        axum::http::HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

pub async fn reassign(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<ReassignCallRequest>,
) -> AppResult<Json<CallMoved>> {
    caller.require_write()?;
    if let Some(reason) = req.reason.as_deref() {
        limits::check("reason", reason, limits::REASSIGN_REASON_MAX)?;
    }
    Ok(Json(
        state
            .store
            .reassign_call(
                &caller.actor,
                id,
                req.destination,
                req.reason.as_deref(),
                state.clock.now(),
            )
            .await?,
    ))
}

pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<Json<Call>> {
    caller.require_write()?;
    Ok(Json(
        state
            .store
            .resolve_call(&caller.actor, id, state.clock.now())
            .await?,
    ))
}
