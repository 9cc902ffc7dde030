//! The Approval Queue (APQ-1, CMP-3): messages of gated senders wait here for an approver.

use axum::extract::State;
use axum::Json;
use inbox_core::api::{ListResponse, RejectRequest};
use inbox_core::{limits, ApprovalItem, Capability, Message};

use super::{ApiJson, IdPath};
use crate::auth::Caller;
use crate::error::AppResult;
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<ListResponse<ApprovalItem>>> {
    caller.require(Capability::MessagesApprove)?;
    Ok(Json(ListResponse {
        items: state.store.approvals(&caller.actor).await?,
    }))
}

/// The message becomes pending and is queued for sending.
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<Json<Message>> {
    caller.require(Capability::MessagesApprove)?;
    Ok(Json(
        state
            .store
            .approve(&caller.actor, id, state.clock.now())
            .await?,
    ))
}

/// The message becomes rejected; its author sees the reason.
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<RejectRequest>,
) -> AppResult<Json<Message>> {
    caller.require(Capability::MessagesApprove)?;
    limits::check("reason", &req.reason, limits::REJECT_REASON_MAX)?;
    Ok(Json(
        state
            .store
            .reject(&caller.actor, id, &req.reason, state.clock.now())
            .await?,
    ))
}
