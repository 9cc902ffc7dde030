//! Settings › Roles, Settings › Users and the audit log (issue 16: SET-1, ACC-2). Roles need
//! `settings.roles.manage`; staff accounts and the audit log `settings.users.manage` (by
//! default only the Owner role has either).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use inbox_core::api::ListResponse;
use inbox_core::roles::{
    role_name, AuditEntry, NewRole, NewStaff, OneTimePassword, Role, RoleUpdate, StaffAccount,
    StaffUpdate,
};
use inbox_core::{Capability, CapabilitySet, Id};
use rand::Rng;
use serde::Deserialize;

use super::{ApiJson, ApiQuery, IdPath};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::staff::covers;

/// A role's capabilities, from the caller's organisation (404 for anyone else's).
async fn role_capabilities(state: &AppState, caller: &Caller, id: Id) -> AppResult<CapabilitySet> {
    state
        .store
        .roles(&caller.actor)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .map(|r| r.capabilities)
        .ok_or(AppError::NotFound)
}

/// The capabilities of a user's current role.
async fn user_capabilities(
    state: &AppState,
    caller: &Caller,
    user: Id,
) -> AppResult<CapabilitySet> {
    let account = state
        .store
        .staff_accounts(&caller.actor)
        .await?
        .into_iter()
        .find(|u| u.id == user)
        .ok_or(AppError::NotFound)?;
    role_capabilities(state, caller, account.role_id).await
}

/// Nobody gives, or changes someone holding, more than their own role allows: a user manager
/// cannot make themselves Owner, nor reset an Owner's password.
fn within(caller: &Caller, caps: &CapabilitySet) -> AppResult<()> {
    if covers(&caller.actor.capabilities, caps) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "that role can do more than yours: only someone who holds all of it may give it or change its holders".into(),
        ))
    }
}

pub async fn roles(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<ListResponse<Role>>> {
    caller.require(Capability::SettingsRolesManage)?;
    Ok(Json(ListResponse {
        items: state.store.roles(&caller.actor).await?,
    }))
}

pub async fn create_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewRole>,
) -> AppResult<(StatusCode, Json<Role>)> {
    caller.require(Capability::SettingsRolesManage)?;
    let name = role_name(&req.name).map_err(AppError::Invalid)?;
    within(
        &caller,
        &role_capabilities(&state, &caller, req.copy_of).await?,
    )?;
    let role = state
        .store
        .create_role(&caller.actor, name, req.copy_of, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(role)))
}

pub async fn update_role(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(mut req): ApiJson<RoleUpdate>,
) -> AppResult<Json<Role>> {
    caller.require(Capability::SettingsRolesManage)?;
    if let Some(name) = &req.name {
        req.name = Some(role_name(name).map_err(AppError::Invalid)?);
    }
    within(&caller, &role_capabilities(&state, &caller, id).await?)?;
    if let Some(caps) = &req.capabilities {
        within(&caller, caps)?;
    }
    Ok(Json(
        state
            .store
            .update_role(&caller.actor, id, req, state.clock.now())
            .await?,
    ))
}

pub async fn delete_role(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<StatusCode> {
    caller.require(Capability::SettingsRolesManage)?;
    state
        .store
        .delete_role(&caller.actor, id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn users(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<ListResponse<StaffAccount>>> {
    caller.require(Capability::SettingsUsersManage)?;
    Ok(Json(ListResponse {
        items: state.store.staff_accounts(&caller.actor).await?,
    }))
}

/// Letters and digits nobody misreads (no 0/O, 1/l/I), 14 of them: ~80 bits.
fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..14)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

async fn hashed(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || crate::auth::password::hash(&password))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(AppError::Internal)
}

fn check_staff(req: &NewStaff) -> Result<(String, String), AppError> {
    let email = req.email.trim().to_lowercase();
    let name = req.name.trim().to_string();
    let plausible = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(a, d)| !a.is_empty() && d.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !plausible {
        return Err(AppError::Invalid(format!(
            "{:?} is not an email address",
            req.email
        )));
    }
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::Invalid("a name is 1 to 100 characters".into()));
    }
    Ok((email, name))
}

/// Adds a member of staff; the answer holds their one-time password, shown once.
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewStaff>,
) -> AppResult<(StatusCode, Json<OneTimePassword>)> {
    caller.require(Capability::SettingsUsersManage)?;
    let (email, name) = check_staff(&req)?;
    within(
        &caller,
        &role_capabilities(&state, &caller, req.role_id).await?,
    )?;
    let password = one_time_password();
    let hash = hashed(password.clone()).await?;
    let user = state
        .store
        .add_staff(
            &caller.actor,
            email,
            name,
            req.role_id,
            hash,
            state.clock.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(OneTimePassword { user, password }),
    ))
}

pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<StaffUpdate>,
) -> AppResult<Json<StaffAccount>> {
    caller.require(Capability::SettingsUsersManage)?;
    within(&caller, &user_capabilities(&state, &caller, id).await?)?;
    if let Some(role) = req.role_id {
        within(&caller, &role_capabilities(&state, &caller, role).await?)?;
    }
    Ok(Json(
        state
            .store
            .update_staff(&caller.actor, id, req, state.clock.now())
            .await?,
    ))
}

/// A new one-time password for someone who forgot theirs; their sessions end.
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<Json<OneTimePassword>> {
    caller.require(Capability::SettingsUsersManage)?;
    within(&caller, &user_capabilities(&state, &caller, id).await?)?;
    let password = one_time_password();
    let hash = hashed(password.clone()).await?;
    let user = state
        .store
        .reset_password(&caller.actor, id, hash, state.clock.now())
        .await?;
    Ok(Json(OneTimePassword { user, password }))
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    before: Option<Id>,
    limit: Option<u32>,
}

pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Json<ListResponse<AuditEntry>>> {
    caller.require(Capability::SettingsUsersManage)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    Ok(Json(ListResponse {
        items: state
            .store
            .audit_log(&caller.actor, q.before, limit)
            .await?,
    }))
}
