//! The customer portal's API: a signed-in customer writes to the garage and reads their own
//! thread (messages only; staff notes and calls stay internal). The portal authenticates with a
//! per-customer bearer token, which works for `INBOX_PORTAL_TOKEN_DAYS` (90 by default) from
//! its issue, is not extended by use, and can be revoked (`inbox-server portal revoke`).

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use inbox_core::providers::Provider;
use inbox_core::{limits, Channel, DeliveryStatus, Direction, Id, Message, ThreadItem};
use serde::{Deserialize, Serialize};

use crate::auth::{bearer, token};
use crate::error::{AppError, AppResult};
use crate::http::ApiJson;
use crate::state::AppState;
use crate::store::{Actor, NewInbound};

/// Days a portal token works after it is issued.
pub const DEFAULT_TOKEN_DAYS: i64 = 90;

/// The signed-in portal customer.
pub struct PortalCustomer {
    pub org_id: Id,
    pub customer_id: Id,
}

impl axum::extract::FromRequestParts<AppState> for PortalCustomer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let t = bearer(parts).ok_or(AppError::Unauthorized)?;
        let found = state
            .store
            .portal_token(token::hash(t))
            .await?
            .ok_or(AppError::Unauthorized)?;
        let expires_at = found.created_at + state.portal_token_ttl;
        if let Some(at) = found.revoked_at {
            return Err(AppError::SignInAgain(format!(
                "this portal link was revoked on {}; ask the garage for a new one",
                at.format("%Y-%m-%d")
            )));
        }
        if state.clock.now() >= expires_at {
            return Err(AppError::SignInAgain(format!(
                "this portal link expired on {}; ask the garage for a new one",
                expires_at.format("%Y-%m-%d")
            )));
        }
        Ok(PortalCustomer {
            org_id: found.org_id,
            customer_id: found.customer_id,
        })
    }
}

impl PortalCustomer {
    /// Issue 13: posts (messages and their files) per portal customer, whichever of their
    /// tokens they use; `what` names them in the refusal.
    pub fn take_a_post(&self, state: &AppState, what: &str) -> AppResult<()> {
        state
            .portal_posts
            .take(
                &format!("{}:{}", self.org_id, self.customer_id),
                std::time::Instant::now(),
            )
            .map_err(|wait| AppError::RateLimited {
                message: format!("too many {what} in a short time; wait a moment"),
                retry_after: crate::limit::retry_after_secs(wait),
            })
    }
}

#[derive(Debug, Deserialize)]
pub struct PortalPost {
    #[serde(default)]
    pub body: String,
    /// The portal's idempotency key; a repeat is stored once.
    pub client_id: Option<String>,
    /// Files uploaded with `POST /api/v1/portal/media`, in order (issue 17).
    #[serde(default)]
    pub attachments: Vec<Id>,
}

#[derive(Debug, Serialize)]
pub struct PortalMessage {
    pub id: Id,
    pub direction: Direction,
    pub body: String,
    pub sender_name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Read with `GET /api/v1/portal/media/{id}`.
    pub attachments: Vec<inbox_core::media::Attachment>,
}

impl From<Message> for PortalMessage {
    fn from(m: Message) -> Self {
        PortalMessage {
            id: m.id,
            direction: m.direction,
            body: m.body,
            sender_name: m.sender_name,
            created_at: m.created_at,
            attachments: m.attachments,
        }
    }
}

/// `POST /api/v1/portal/messages`
pub async fn post(
    State(state): State<AppState>,
    who: PortalCustomer,
    ApiJson(req): ApiJson<PortalPost>,
) -> AppResult<(StatusCode, Json<serde_json::Value>)> {
    who.take_a_post(&state, "messages")?;
    let body = req.body.trim();
    if body.is_empty() && req.attachments.is_empty() {
        return Err(AppError::Invalid("the message is empty".into()));
    }
    let owner = crate::store::media::UploadOwner::Portal(who.customer_id);
    crate::http::media::check_uploads(&state, who.org_id, owner, &req.attachments).await?;
    limits::check("body", body, limits::PORTAL_BODY_MAX)?;
    let provider_id = match req.client_id.as_deref().map(str::trim) {
        Some("") => return Err(AppError::Invalid("client_id must not be empty".into())),
        Some(c) => {
            limits::check("client_id", c, limits::CLIENT_ID_MAX)?;
            format!("{}:{c}", who.customer_id)
        }
        None => format!("{}:{}", who.customer_id, token::generate()),
    };
    let ingested = state
        .store
        .ingest_message(
            who.org_id,
            NewInbound {
                channel: Channel::Portal,
                from_number: None,
                customer_id: Some(who.customer_id),
                body: body.to_string(),
                provider: Provider::Portal,
                provider_id,
                at: state.clock.now(),
                attachments: Vec::new(),
                uploads: req.attachments,
            },
        )
        .await?;
    let status = if ingested.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(
            serde_json::json!({ "id": ingested.item_id, "conversation_id": ingested.conversation_id }),
        ),
    ))
}

/// What a portal customer sees of their thread (issue 13): what actually passed between them
/// and the garage. Everything the customer sent, on any channel, and the garage's replies on any
/// channel once they left: `sent`, `delivered` or `read`. Replies waiting for approval, rejected,
/// queued or failed never reached the customer, so the portal never shows them; notes and calls
/// are internal.
pub fn customer_sees(m: &Message) -> bool {
    customer_sees_as(m.direction, m.status)
}

/// [`customer_sees`] for a message's direction and status.
pub fn customer_sees_as(direction: Direction, status: DeliveryStatus) -> bool {
    match direction {
        Direction::Inbound => true,
        Direction::Outbound => matches!(
            status,
            DeliveryStatus::Sent | DeliveryStatus::Delivered | DeliveryStatus::Read
        ),
    }
}

/// `GET /api/v1/portal/messages`: the customer's own thread, newest first, as `customer_sees`
/// allows.
pub async fn list(
    State(state): State<AppState>,
    who: PortalCustomer,
) -> AppResult<Json<Vec<PortalMessage>>> {
    let Some(conversation_id) = state
        .store
        .customer_conversation(who.org_id, who.customer_id)
        .await?
    else {
        return Ok(Json(Vec::new()));
    };
    let actor = Actor {
        org_id: who.org_id,
        user_id: 0,
        capabilities: Default::default(),
        time_zone: chrono_tz::Europe::London,
    };
    let page = state
        .store
        .thread_page(&actor, conversation_id, None)
        .await?;
    let items = page
        .items
        .into_iter()
        .filter_map(|i| match i {
            ThreadItem::Message(m) if customer_sees(&m) => Some(PortalMessage::from(m)),
            _ => None,
        })
        .collect();
    Ok(Json(items))
}
