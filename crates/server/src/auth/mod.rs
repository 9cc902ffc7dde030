//! Sign-in: argon2id password hashes, opaque bearer tokens stored as SHA-256, and the extractor
//! that turns a request's token into the caller's organisation, user and capabilities.

pub mod password;
pub mod session;
pub mod throttle;
pub mod token;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use inbox_core::{Capability, Organisation, User};

use crate::error::AppError;
use crate::state::AppState;
use crate::store::Actor;

/// The signed-in caller. Every handler of the inbox API takes one.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub user: User,
    pub organisation: Organisation,
    pub token_hash: [u8; 32],
}

impl Caller {
    /// 403 unless the caller holds the capability.
    pub fn require(&self, cap: Capability) -> Result<(), AppError> {
        if self.actor.capabilities.has(cap) {
            Ok(())
        } else {
            Err(AppError::missing(cap))
        }
    }

    /// Writes to a conversation need a sending capability, direct or gated.
    pub fn require_write(&self) -> Result<(), AppError> {
        self.require(Capability::MessagesView)?;
        if self.actor.capabilities.can_write() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "your role can read conversations but not change them (needs messages.send or messages.send_gated)".into(),
            ))
        }
    }
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, AppError> {
        let token = bearer(parts).ok_or(AppError::Unauthorized)?;
        let token_hash = token::hash(token);
        let session = session::resolve(state, token_hash).await??;
        let time_zone = inbox_core::range::parse_time_zone(&session.organisation.time_zone)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("organisation time zone: {e}")))?;
        Ok(Caller {
            actor: Actor {
                org_id: session.organisation.id,
                user_id: session.user.id,
                capabilities: session.user.capabilities.clone(),
                time_zone,
            },
            user: session.user,
            organisation: session.organisation,
            token_hash,
        })
    }
}
