//! Sign-in, sign-out, who am I, and the staff list for assignment.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use inbox_core::api::{ListResponse, LoginRequest, LoginResponse};
use inbox_core::{limits, Capability, StaffRef, User};

use super::ApiJson;
use crate::auth::{password, token, Caller};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Issue 13: throttled per account (and per address behind trusted proxies) before any
/// password is hashed, and hashed in a bounded number of slots.
pub async fn login(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    limits::check("email", &req.email, limits::EMAIL_MAX)?;
    limits::check("password", &req.password, limits::PASSWORD_MAX)?;
    let attempt = state.login.check(
        &req.email,
        peer.map(|Extension(ConnectInfo(a))| a),
        &headers,
    )?;
    let record = state.store.find_login(&req.email).await?;
    // Verify even for an unknown email so timing does not tell which accounts exist.
    let hash = record
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| password::decoy().to_string());
    let pw = req.password;
    let slot = state.login.hashing_slot().await?;
    let ok = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        password::verify(&pw, &hash)
    })
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
        _ => {
            state.login.failed(&attempt);
            return Err(AppError::WrongCredentials);
        }
    };
    state.login.succeeded(&attempt);
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
