//! Customer and work-order look-ups for the link dialog (SDB-3), call reassignment (VOI-6) and
//! the work-order page (WO-1).

use axum::extract::State;
use axum::Json;
use inbox_core::api::{ListResponse, SearchQuery};
use inbox_core::{limits, Capability, Customer, WorkOrder};

use super::{ApiQuery, IdPath};
use crate::auth::Caller;
use crate::error::AppResult;
use crate::state::AppState;

pub async fn customers(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> AppResult<Json<ListResponse<Customer>>> {
    caller.require(Capability::MessagesView)?;
    limits::check("q", &q.q, limits::LOOKUP_QUERY_MAX)?;
    Ok(Json(ListResponse {
        items: state.store.search_customers(&caller.actor, &q.q).await?,
    }))
}

pub async fn work_orders(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> AppResult<Json<ListResponse<WorkOrder>>> {
    caller.require(Capability::MessagesView)?;
    limits::check("q", &q.q, limits::LOOKUP_QUERY_MAX)?;
    Ok(Json(ListResponse {
        items: state.store.search_work_orders(&caller.actor, &q.q).await?,
    }))
}

pub async fn work_order(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<Json<WorkOrder>> {
    caller.require(Capability::MessagesView)?;
    Ok(Json(state.store.work_order(&caller.actor, id).await?))
}
