//! The conversation list and one conversation: read, assign, link work orders.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use inbox_core::api::{AssignRequest, ConversationPage, ConversationQuery, LinkWorkOrderRequest};
use inbox_core::range::{resolve, RangePreset};
use inbox_core::{Capability, ConversationDetail, ConversationSummary};

use super::{ApiJson, ApiQuery, IdPath};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{ListParams, ListScope, SearchText};

/// LST-2 … LST-11: a page of the list and the four counts; `q` searches all time.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ConversationQuery>,
) -> AppResult<Json<ConversationPage>> {
    caller.require(Capability::MessagesView)?;
    let text = match q.q.as_deref() {
        Some(q) => SearchText::parse_limited(q).map_err(|e| AppError::Invalid(e.to_string()))?,
        None => None,
    };
    let scope = match text {
        Some(text) => ListScope::Search(text),
        None => {
            let custom = match (q.range, q.from, q.to) {
                (RangePreset::Custom, Some(f), Some(t)) => Some((f, t)),
                _ => None,
            };
            let interval = resolve(q.range, custom, state.clock.now(), caller.actor.time_zone)
                .map_err(|e| AppError::Invalid(e.to_string()))?;
            ListScope::Range(interval)
        }
    };
    let after = match q.cursor.as_deref() {
        Some(c) => Some(crate::cursor::decode_list(c).ok_or_else(|| {
            AppError::Invalid("the cursor is not one this server gave out".into())
        })?),
        None => None,
    };
    let page = state
        .store
        .list_conversations(
            &caller.actor,
            &ListParams {
                scope,
                filter: q.filter,
                after,
                now: state.clock.now(),
                budget: state.list_budget,
            },
        )
        .await?;
    Ok(Json(page))
}

pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<Json<ConversationDetail>> {
    caller.require(Capability::MessagesView)?;
    Ok(Json(
        state
            .store
            .conversation(&caller.actor, id, state.clock.now())
            .await?,
    ))
}

/// THR-7: opening a thread marks it read for everyone; with WhatsApp read receipts switched on,
/// the customer's WhatsApp shows it read too (best effort, after answering), and only when this
/// opening read something new from WhatsApp: an already-read thread sends no receipt.
pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<Json<ConversationSummary>> {
    caller.require(Capability::MessagesView)?;
    let marked = state
        .store
        .mark_read(&caller.actor, id, state.clock.now())
        .await?;
    if let (true, Some(inbound)) = (
        state.providers.whatsapp_read_receipts,
        marked.whatsapp_receipt,
    ) {
        let (store, base, org) = (
            state.store.clone(),
            state.providers.whatsapp_api_base.clone(),
            caller.actor.org_id,
        );
        tokio::spawn(async move {
            let Ok(Some(account)) = store.whatsapp_account_of(org).await else {
                return;
            };
            if let Err(e) = crate::providers::whatsapp::WhatsappSender::new(
                &base,
                crate::providers::SEND_TIMEOUT,
            )
            .mark_read(&account, &inbound)
            .await
            {
                tracing::info!(reason = %e.reason, "WhatsApp read receipt not sent");
            }
        });
    }
    Ok(Json(marked.summary))
}

/// SDB-4.
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<AssignRequest>,
) -> AppResult<Json<ConversationSummary>> {
    caller.require_write()?;
    Ok(Json(
        state
            .store
            .assign(&caller.actor, id, req.user_id, state.clock.now())
            .await?,
    ))
}

/// SDB-3: link, writing a system message in the thread.
pub async fn link_work_order(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<LinkWorkOrderRequest>,
) -> AppResult<Json<ConversationDetail>> {
    caller.require_write()?;
    Ok(Json(
        state
            .store
            .set_work_order(
                &caller.actor,
                id,
                Some(req.work_order_id),
                state.clock.now(),
            )
            .await?,
    ))
}

pub async fn unlink_work_order(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<(StatusCode, Json<ConversationDetail>)> {
    caller.require_write()?;
    Ok((
        StatusCode::OK,
        Json(
            state
                .store
                .set_work_order(&caller.actor, id, None, state.clock.now())
                .await?,
        ),
    ))
}
