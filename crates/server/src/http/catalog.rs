//! Quick messages (CMP-6) and WhatsApp templates (CMP-2). Everyone who reads the inbox reads
//! them; `settings.templates.manage` (managers) administers both (SET-1).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use inbox_core::api::{ListResponse, QuickMessageInput, TemplateInput};
use inbox_core::{limits, Capability, QuickMessage, WhatsappTemplate};

use super::{ApiJson, IdPath};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// CMP-6 limits, checked before the store trims and stores anything.
fn quick_limits(req: &QuickMessageInput) -> Result<(), AppError> {
    limits::check("name", &req.name, limits::QUICK_NAME_MAX)?;
    limits::check("body", &req.body, limits::QUICK_BODY_MAX)?;
    Ok(())
}

pub async fn list_quick(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<ListResponse<QuickMessage>>> {
    caller.require(Capability::MessagesView)?;
    Ok(Json(ListResponse {
        items: state.store.quick_messages(&caller.actor).await?,
    }))
}

pub async fn create_quick(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<QuickMessageInput>,
) -> AppResult<(StatusCode, Json<QuickMessage>)> {
    caller.require(Capability::SettingsTemplatesManage)?;
    quick_limits(&req)?;
    let q = state
        .store
        .create_quick_message(&caller.actor, &req.name, &req.body, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(q)))
}

pub async fn update_quick(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<QuickMessageInput>,
) -> AppResult<Json<QuickMessage>> {
    caller.require(Capability::SettingsTemplatesManage)?;
    quick_limits(&req)?;
    Ok(Json(
        state
            .store
            .update_quick_message(&caller.actor, id, &req.name, &req.body, state.clock.now())
            .await?,
    ))
}

pub async fn delete_quick(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<StatusCode> {
    caller.require(Capability::SettingsTemplatesManage)?;
    state
        .store
        .delete_quick_message(&caller.actor, id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn templates(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<ListResponse<WhatsappTemplate>>> {
    caller.require(Capability::MessagesView)?;
    Ok(Json(ListResponse {
        items: state.store.templates(&caller.actor).await?,
    }))
}

pub async fn create_template(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<TemplateInput>,
) -> AppResult<(StatusCode, Json<WhatsappTemplate>)> {
    caller.require(Capability::SettingsTemplatesManage)?;
    let t = state
        .store
        .create_template(&caller.actor, &req, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

pub async fn update_template(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<TemplateInput>,
) -> AppResult<Json<WhatsappTemplate>> {
    caller.require(Capability::SettingsTemplatesManage)?;
    Ok(Json(
        state
            .store
            .update_template(&caller.actor, id, &req, state.clock.now())
            .await?,
    ))
}

pub async fn delete_template(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<StatusCode> {
    caller.require(Capability::SettingsTemplatesManage)?;
    state
        .store
        .delete_template(&caller.actor, id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
