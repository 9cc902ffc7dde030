//! Calls: detail (VOI-8), reassignment (VOI-6), resolution (VOI-7).

use axum::extract::State;
use axum::Json;
use inbox_core::api::{CallMoved, ReassignCallRequest};
use inbox_core::{limits, Call, Capability};

use super::{ApiJson, IdPath};
use crate::auth::Caller;
use crate::error::AppResult;
use crate::state::AppState;

pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<Json<Call>> {
    caller.require(Capability::MessagesView)?;
    Ok(Json(state.store.call(&caller.actor, id).await?))
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
