//! The AI switch and intent corrections (issue 16, AIA-1). Intents are decided in the server
//! with no network (`inbox_core::intent`); with AI off they are neither shown nor correctable.

use axum::extract::State;
use axum::Json;
use inbox_core::analytics::report::build;
use inbox_core::analytics::{Analytics, AnalyticsQuery, OpeningHours};
use inbox_core::api::{AiSettings, IntentCorrection, LanguageModelSettings, LanguageModelUpdate};
use inbox_core::{Capability, Message};

use super::{ApiJson, ApiQuery, IdPath};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::ProviderUpdate;

/// Any signed-in user may read the switch: the desktop shows or hides the Analytics tab by it.
pub async fn get_switch(caller: Caller) -> Json<AiSettings> {
    Json(AiSettings {
        enabled: caller.organisation.ai_enabled,
    })
}

/// Only `settings.ai.manage` (the Owner role by default) turns it on or off.
pub async fn put_switch(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<AiSettings>,
) -> AppResult<Json<AiSettings>> {
    caller.require(Capability::SettingsAiManage)?;
    let org = state
        .store
        .set_ai_enabled(&caller.actor, req.enabled, state.clock.now())
        .await?;
    Ok(Json(AiSettings {
        enabled: org.ai_enabled,
    }))
}

/// The organisation's language model as Settings shows it (never its key): for whoever may
/// change it.
pub async fn get_model(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<LanguageModelSettings>> {
    caller.require(Capability::SettingsAiManage)?;
    Ok(Json(
        state
            .store
            .language_model_settings(caller.actor.org_id)
            .await?,
    ))
}

/// Sets, changes or removes it (empty URL and model); the key is sealed; audited. Messages are
/// sent to it only while AI is on.
pub async fn put_model(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<LanguageModelUpdate>,
) -> AppResult<Json<LanguageModelSettings>> {
    caller.require(Capability::SettingsAiManage)?;
    let update = req.validate().map_err(AppError::Invalid)?;
    let org = caller.actor.org_id;
    state
        .store
        .set_provider_settings(
            org,
            ProviderUpdate {
                ai_model: Some(update),
                by: Some(caller.actor.user_id),
                ..ProviderUpdate::default()
            },
            state.clock.now(),
        )
        .await?;
    Ok(Json(state.store.language_model_settings(org).await?))
}

fn ai_off() -> AppError {
    AppError::Forbidden(
        "AI is off for this organisation; an admin can turn it on in Settings".into(),
    )
}

/// The Analytics tab (AIA-1): anyone who reads conversations, while AI is on. Per-staff figures
/// only for approvers (managers).
pub async fn analytics(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> AppResult<Json<Analytics>> {
    caller.require(Capability::MessagesView)?;
    if !caller.organisation.ai_enabled {
        return Err(ai_off());
    }
    let (from, to) = q
        .dates(state.clock.now(), caller.actor.time_zone)
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    let per_staff = caller.actor.capabilities.has(Capability::MessagesApprove);
    let inputs = state
        .store
        .analytics_inputs(&caller.actor, from, to, per_staff)
        .await?;
    Ok(Json(build(inputs)))
}

/// The opening hours response times are measured in: any signed-in user may read them.
pub async fn get_hours(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<OpeningHours>> {
    Ok(Json(state.store.opening_hours(&caller.actor).await?))
}

/// Set with the AI switch's capability: they define what the analytics measure.
pub async fn put_hours(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(hours): ApiJson<OpeningHours>,
) -> AppResult<Json<OpeningHours>> {
    caller.require(Capability::SettingsAiManage)?;
    hours
        .validate()
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    Ok(Json(
        state
            .store
            .set_opening_hours(&caller.actor, hours, state.clock.now())
            .await?,
    ))
}

/// One click on a message's intent badge: anyone who may write to conversations.
pub async fn correct_intent(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<IntentCorrection>,
) -> AppResult<Json<Message>> {
    caller.require_write()?;
    if !caller.organisation.ai_enabled {
        return Err(ai_off());
    }
    Ok(Json(
        state
            .store
            .correct_intent(&caller.actor, id, req.label, state.clock.now())
            .await?,
    ))
}
