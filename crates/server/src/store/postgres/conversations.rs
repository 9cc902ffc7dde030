//! The conversation list with its counts (LST-2 … LST-11), one conversation's details (THR-2,
//! SDB-2), mark read (THR-7), assignment (SDB-4) and work-order links (SDB-3).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::{ConversationPage, Counts, ListFilter, PAGE_SIZE};
use inbox_core::sync::Change;
use inbox_core::{ConversationDetail, ConversationSummary, Id, WorkOrderStatus};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::events::emit;
use super::rows::{self, load_summary, SUMMARY_SELECT, WORK_ORDER_SELECT};
use super::{audit, ensure_conversation, system_note, PgStore};
use crate::store::rows::ms;
use crate::store::search::pg_tsquery;
use crate::store::{
    Actor, ConversationStore, ListCursor, ListParams, ListScope, MarkedRead, StoreError,
    StoreResult,
};

/// Appends the scope's conditions (after `c.org_id = …`).
fn push_scope(q: &mut QueryBuilder<Postgres>, scope: &ListScope, org_id: Id) {
    match scope {
        ListScope::Range(iv) => {
            if let Some(start) = iv.start {
                q.push(" AND c.last_activity_at >= ").push_bind(ms(start));
            }
            if let Some(end) = iv.end {
                // The latest activity alone decides unless it is after the range; only then is
                // the activity index probed for something inside it (LST-9).
                let start = iv.start.map(ms).unwrap_or(i64::MIN);
                q.push(" AND (c.last_activity_at < ")
                    .push_bind(ms(end))
                    .push(" OR EXISTS (SELECT 1 FROM activity a WHERE a.conversation_id = c.id AND a.at >= ")
                    .push_bind(start)
                    .push(" AND a.at < ")
                    .push_bind(ms(end))
                    .push("))");
            }
        }
        ListScope::Search(text) => {
            q.push(" AND c.id IN (SELECT conversation_id FROM search_docs WHERE terms @@ ")
                .push_bind(pg_tsquery(text))
                .push("::tsquery AND org_id = ")
                .push_bind(org_id)
                .push(")");
        }
    }
}

fn push_filter(q: &mut QueryBuilder<Postgres>, filter: ListFilter, user_id: Id) {
    match filter {
        ListFilter::All => {}
        ListFilter::Unread => {
            q.push(" AND (c.unread_count > 0 OR c.unresolved_calls > 0)");
        }
        ListFilter::Unassigned => {
            q.push(" AND c.assignee_id IS NULL");
        }
        ListFilter::Mine => {
            q.push(" AND c.assignee_id = ").push_bind(user_id);
        }
    }
}

/// The four badges (LST-4), counted in one pass over the scope's conversations.
async fn counts(c: &mut PgConnection, actor: &Actor, p: &ListParams) -> StoreResult<Counts> {
    let mut q = QueryBuilder::new(
        "SELECT count(*),
                count(*) FILTER (WHERE c.unread_count > 0 OR c.unresolved_calls > 0),
                count(*) FILTER (WHERE c.assignee_id IS NULL),
                count(*) FILTER (WHERE c.assignee_id = ",
    );
    q.push_bind(actor.user_id)
        .push(") FROM conversations c WHERE c.org_id = ")
        .push_bind(actor.org_id);
    push_scope(&mut q, &p.scope, actor.org_id);
    let (all, unread, unassigned, mine): (i64, i64, i64, i64) =
        q.build_query_as().fetch_one(c).await?;
    let n = |v: i64| v.max(0) as u64;
    Ok(Counts {
        all: n(all),
        unread: n(unread),
        unassigned: n(unassigned),
        mine: n(mine),
    })
}

pub(crate) async fn list(
    c: &mut PgConnection,
    actor: &Actor,
    p: &ListParams,
) -> StoreResult<ConversationPage> {
    let counts = counts(c, actor, p).await?;
    let mut q = QueryBuilder::new(SUMMARY_SELECT);
    q.push(" WHERE c.org_id = ").push_bind(actor.org_id);
    push_scope(&mut q, &p.scope, actor.org_id);
    push_filter(&mut q, p.filter, actor.user_id);
    if let Some(ListCursor {
        last_activity_at,
        id,
    }) = p.after
    {
        q.push(" AND (c.last_activity_at, c.id) < (")
            .push_bind(ms(last_activity_at))
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(" ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ")
        .push_bind(PAGE_SIZE as i64 + 1);
    let items = rows::all(q.build().fetch_all(c).await?, rows::summary)?;
    Ok(crate::store::rows::list_page(items, counts))
}

pub(crate) async fn detail(
    c: &mut PgConnection,
    actor: &Actor,
    id: Id,
    now: DateTime<Utc>,
) -> StoreResult<ConversationDetail> {
    let summary = load_summary(c, actor.org_id, id).await?;
    let last_inbound_whatsapp: Option<i64> =
        sqlx::query_scalar("SELECT last_inbound_whatsapp_at FROM conversations WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *c)
            .await?;
    let customer = match summary.customer_id {
        Some(cid) => Some(rows::load_customer(c, actor.org_id, cid).await?),
        None => None,
    };
    let work_order = match &summary.work_order {
        Some(w) => Some(rows::load_work_order(c, actor.org_id, w.id).await?),
        None => None,
    };
    let work_order_candidates = match (summary.needs_work_order_pick, summary.customer_id) {
        (true, Some(cid)) => rows::all(
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{WORK_ORDER_SELECT} WHERE w.customer_id = $1 AND w.status = $2 ORDER BY w.number COLLATE \"C\""
            )))
            .bind(cid)
            .bind(WorkOrderStatus::Active.as_str())
            .fetch_all(&mut *c)
            .await?,
            rows::work_order,
        )?,
        _ => Vec::new(),
    };
    Ok(crate::store::rows::conversation_detail(
        summary,
        last_inbound_whatsapp,
        customer,
        work_order,
        work_order_candidates,
        now,
    ))
}

#[async_trait]
impl ConversationStore for PgStore {
    async fn list_conversations(
        &self,
        actor: &Actor,
        params: &ListParams,
    ) -> StoreResult<ConversationPage> {
        // A read-only transaction so that the time budget applies to these queries only; a
        // cancelled query rolls it back and the connection returns to the pool.
        let mut tx = self.pool.begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SET LOCAL statement_timeout = {}",
            params.budget.as_millis().clamp(1, i32::MAX as u128)
        )))
        .execute(&mut *tx)
        .await?;
        let page = list(&mut tx, actor, params).await?;
        tx.commit().await?;
        Ok(page)
    }

    async fn conversation(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationDetail> {
        detail(&mut *self.conn().await?, actor, id, now).await
    }

    async fn mark_read(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<MarkedRead> {
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        ensure_conversation(&mut tx, org, id).await?;
        let newly_read: Vec<(i64, Id, Option<String>, Option<String>)> = sqlx::query_as(
            "UPDATE messages SET read_at = $2 WHERE conversation_id = $1 AND direction = 'inbound' AND read_at IS NULL
             RETURNING created_at, id, provider, provider_id",
        )
        .bind(id)
        .bind(ms(now))
        .fetch_all(&mut *tx)
        .await?;
        let changed = newly_read.len();
        sqlx::query("UPDATE conversations SET unread_count = 0 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let summary = load_summary(&mut tx, org, id).await?;
        // Opening an already-read thread is not news.
        if changed > 0 {
            emit(
                &mut tx,
                org,
                now,
                &Change::MessagesRead {
                    conversation_id: id,
                    read_at: now,
                },
            )
            .await?;
            emit(&mut tx, org, now, &Change::Conversation(summary.clone())).await?;
        }
        self.commit(tx).await?;
        Ok(MarkedRead {
            summary,
            whatsapp_receipt: crate::store::newest_whatsapp(newly_read),
        })
    }

    async fn assign(
        &self,
        actor: &Actor,
        id: Id,
        assignee: Option<Id>,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationSummary> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        ensure_conversation(&mut tx, org, id).await?;
        if let Some(a) = assignee {
            let active: Option<bool> =
                sqlx::query_scalar("SELECT active FROM users WHERE id = $1 AND org_id = $2")
                    .bind(a)
                    .bind(org)
                    .fetch_optional(&mut *tx)
                    .await?;
            match active {
                None => return Err(StoreError::NotFound),
                Some(false) => return Err(StoreError::Invalid("that user is disabled".into())),
                Some(true) => {}
            }
        }
        sqlx::query("UPDATE conversations SET assignee_id = $2 WHERE id = $1")
            .bind(id)
            .bind(assignee)
            .execute(&mut *tx)
            .await?;
        let action = if assignee.is_some() {
            "conversation.assigned"
        } else {
            "conversation.unassigned"
        };
        audit(
            &mut tx,
            org,
            Some(user),
            action,
            ("conversation", id),
            serde_json::json!({ "assignee_id": assignee }),
            now,
        )
        .await?;
        let summary = load_summary(&mut tx, org, id).await?;
        emit(&mut tx, org, now, &Change::Conversation(summary.clone())).await?;
        self.commit(tx).await?;
        Ok(summary)
    }

    async fn set_work_order(
        &self,
        actor: &Actor,
        id: Id,
        work_order: Option<Id>,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationDetail> {
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        ensure_conversation(&mut tx, org, id).await?;
        let current: Option<Id> =
            sqlx::query_scalar("SELECT work_order_id FROM conversations WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        match (work_order, current) {
            (Some(new), Some(cur)) if new == cur => {}
            (Some(new), _) => {
                let wo = rows::load_work_order(&mut tx, org, new).await?;
                sqlx::query("UPDATE conversations SET work_order_id = $2, needs_work_order_pick = false WHERE id = $1")
                    .bind(id)
                    .bind(new)
                    .execute(&mut *tx)
                    .await?;
                let body = crate::store::rows::work_order_note(&wo, true);
                system_note(&mut tx, org, id, &body, Some(actor.user_id), now).await?;
                audit(
                    &mut tx,
                    org,
                    Some(actor.user_id),
                    "conversation.work_order_linked",
                    ("conversation", id),
                    serde_json::json!({ "work_order_id": new }),
                    now,
                )
                .await?;
            }
            (None, Some(cur)) => {
                let wo = rows::load_work_order(&mut tx, org, cur).await?;
                sqlx::query("UPDATE conversations SET work_order_id = NULL WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let body = crate::store::rows::work_order_note(&wo, false);
                system_note(&mut tx, org, id, &body, Some(actor.user_id), now).await?;
                audit(
                    &mut tx,
                    org,
                    Some(actor.user_id),
                    "conversation.work_order_unlinked",
                    ("conversation", id),
                    serde_json::json!({ "work_order_id": cur }),
                    now,
                )
                .await?;
            }
            (None, None) => {
                return Err(StoreError::Conflict(
                    "no work order is linked to this conversation".into(),
                ))
            }
        }
        let detail = detail(&mut tx, actor, id, now).await?;
        if let Some(wo) = &detail.linked_work_order {
            emit(&mut tx, org, now, &Change::WorkOrder(wo.clone())).await?;
        }
        emit(
            &mut tx,
            org,
            now,
            &Change::Conversation(detail.summary.clone()),
        )
        .await?;
        self.commit(tx).await?;
        Ok(detail)
    }
}
