//! Sign-in, sign-out, who am I, and the staff list for assignment.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use inbox_core::api::{ListResponse, LoginRequest, LoginResponse};
use inbox_core::{Capability, StaffRef, User};

use super::ApiJson;
use crate::auth::{password, token, Caller};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let record = state.store.find_login(&req.email).await?;
    // Verify even for an unknown email so timing does not tell which accounts exist.
    let hash = record
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| password::decoy().to_string());
    let pw = req.password;
    let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &hash))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let record = match record {
        Some(r) if ok && r.active => r,
        // Said only to someone who knows the password.
        Some(_) if ok => {
            return Err(AppError::Forbidden(
                "this account is disabled; ask the garage's owner to enable it".into(),
            ))
        }
        _ => return Err(AppError::WrongCredentials),
    };
    let token = token::generate();
    let now = state.clock.now();
    let session = state
        .store
        .create_session(
            record.user_id,
            token::hash(&token),
            now,
            now + state.session_ttl,
        )
        .await?;
    tracing::info!(
        user_id = session.user.id,
        org_id = session.organisation.id,
        "signed in"
    );
    Ok(Json(LoginResponse {
        token,
        expires_at: session.expires_at,
        user: session.user,
        organisation: session.organisation,
    }))
}

pub async fn logout(State(state): State<AppState>, caller: Caller) -> AppResult<StatusCode> {
    state.store.delete_session(caller.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize)]
pub struct Me {
    user: User,
    organisation: inbox_core::Organisation,
}

pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me {
        user: caller.user,
        organisation: caller.organisation,
    })
}

pub async fn staff(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<ListResponse<StaffRef>>> {
    caller.require(Capability::MessagesView)?;
    Ok(Json(ListResponse {
        items: state.store.staff(&caller.actor).await?,
    }))
}
