//! The conversation list with its counts (LST-2 … LST-11), one conversation's details (THR-2,
//! SDB-2), mark read (THR-7), assignment (SDB-4) and work-order links (SDB-3).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::{ConversationPage, Counts, ListFilter, PAGE_SIZE};
use inbox_core::sync::Change;
use inbox_core::{ConversationDetail, ConversationSummary, Id, WorkOrderStatus};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::events::emit;
use super::rows::{self, load_summary, SUMMARY_SELECT, WORK_ORDER_SELECT};
use super::{audit, ensure_conversation, ms, system_note, SqliteStore};
use crate::store::{
    Actor, ConversationStore, ListCursor, ListParams, ListScope, MarkedRead, StoreError,
    StoreResult,
};

/// The four badges (LST-4). For a range that reaches the present each count reads its own
/// index (the rows in range of that index only); for a search or a past custom range one pass
/// over the candidates is cheaper. `+c.org_id` keeps the planner from scanning the organisation's
/// conversations when the search's matches are the smaller set.
fn counts(
    conn: &Connection,
    actor: &Actor,
    p: &ListParams,
    clause: &str,
    scope_args: &[Value],
) -> StoreResult<Counts> {
    let reaches_now = matches!(p.scope, ListScope::Range(iv) if iv.end.is_none_or(|e| e > p.now));
    let one = |sql: &str, args: Vec<Value>| -> StoreResult<u64> {
        Ok(conn
            .prepare_cached(sql)?
            .query_row(params_from_iter(args.iter()), |r| r.get::<_, i64>(0))?
            .max(0) as u64)
    };
    let org = Value::Integer(actor.org_id);
    let with = |head: Vec<Value>| {
        head.into_iter()
            .chain(scope_args.iter().cloned())
            .collect::<Vec<_>>()
    };
    if reaches_now {
        return Ok(Counts {
            all: one(&format!("SELECT count(*) FROM conversations c INDEXED BY conversations_list WHERE c.org_id = ?{clause}"), with(vec![org.clone()]))?,
            unread: one(
                &format!("SELECT count(*) FROM conversations c INDEXED BY conversations_unread WHERE c.org_id = ? AND (c.unread_count > 0 OR c.unresolved_calls > 0){clause}"),
                with(vec![org.clone()]),
            )?,
            unassigned: one(
                &format!("SELECT count(*) FROM conversations c INDEXED BY conversations_unassigned WHERE c.org_id = ? AND c.assignee_id IS NULL{clause}"),
                with(vec![org.clone()]),
            )?,
            mine: one(
                &format!("SELECT count(*) FROM conversations c INDEXED BY conversations_assignee WHERE c.org_id = ? AND c.assignee_id = ?{clause}"),
                with(vec![org, Value::Integer(actor.user_id)]),
            )?,
        });
    }
    let sql = format!(
        "SELECT count(*),
                coalesce(sum(c.unread_count > 0 OR c.unresolved_calls > 0), 0),
                coalesce(sum(c.assignee_id IS NULL), 0),
                coalesce(sum(c.assignee_id = ?), 0)
         FROM conversations c WHERE +c.org_id = ?{clause}"
    );
    let args = with(vec![Value::Integer(actor.user_id), org]);
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params_from_iter(args.iter()), |r| {
            let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
            Ok(Counts {
                all: n(0)?,
                unread: n(1)?,
                unassigned: n(2)?,
                mine: n(3)?,
            })
        })?)
}

/// The WHERE clause (after `c.org_id = ?`) and its parameters for a scope.
fn scope_clause(scope: &ListScope, org_id: Id, args: &mut Vec<Value>) -> String {
    match scope {
        ListScope::Range(iv) => {
            let mut sql = String::new();
            if let Some(start) = iv.start {
                args.push(Value::Integer(ms(start)));
                sql.push_str(" AND c.last_activity_at >= ?");
            }
            if let Some(end) = iv.end {
                // The latest activity alone decides unless it is after the range; only then is
                // the activity index probed for something inside it (LST-9).
                let start = iv.start.map(ms).unwrap_or(i64::MIN);
                args.extend([
                    Value::Integer(ms(end)),
                    Value::Integer(start),
                    Value::Integer(ms(end)),
                ]);
                sql.push_str(
                    " AND (c.last_activity_at < ? OR EXISTS (SELECT 1 FROM activity a
                       WHERE a.conversation_id = c.id AND a.at >= ? AND a.at < ?))",
                );
            }
            sql
        }
        ListScope::Search(text) => {
            args.push(Value::Text(text.fts5_query()));
            args.push(Value::Integer(org_id));
            " AND c.id IN (SELECT conversation_id FROM search_fts WHERE search_fts MATCH ? AND org_id = ?)".to_string()
        }
    }
}

fn filter_clause(filter: ListFilter, user_id: Id, args: &mut Vec<Value>) -> &'static str {
    match filter {
        ListFilter::All => "",
        ListFilter::Unread => " AND (c.unread_count > 0 OR c.unresolved_calls > 0)",
        ListFilter::Unassigned => " AND c.assignee_id IS NULL",
        ListFilter::Mine => {
            args.push(Value::Integer(user_id));
            " AND c.assignee_id = ?"
        }
    }
}

pub(crate) fn list(
    conn: &Connection,
    actor: &Actor,
    p: &ListParams,
) -> StoreResult<ConversationPage> {
    // Placeholders are positional: arguments go in the order their `?` appear in the text.
    let mut scope_args = Vec::new();
    let scope = scope_clause(&p.scope, actor.org_id, &mut scope_args);
    let counts = counts(conn, actor, p, &scope, &scope_args)?;

    let mut args = vec![Value::Integer(actor.org_id)];
    args.extend(scope_args);
    let filter = filter_clause(p.filter, actor.user_id, &mut args);
    let mut sql = format!("{SUMMARY_SELECT} WHERE c.org_id = ?{scope}{filter}");
    if let Some(ListCursor {
        last_activity_at,
        id,
    }) = p.after
    {
        args.extend([Value::Integer(ms(last_activity_at)), Value::Integer(id)]);
        sql.push_str(" AND (c.last_activity_at, c.id) < (?, ?)");
    }
    args.push(Value::Integer(PAGE_SIZE as i64 + 1));
    sql.push_str(" ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?");
    let items = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(args.iter()), rows::summary)?
        .collect::<rusqlite::Result<Vec<ConversationSummary>>>()?;
    Ok(crate::store::rows::list_page(items, counts))
}

pub(crate) fn detail(
    conn: &Connection,
    actor: &Actor,
    id: Id,
    now: DateTime<Utc>,
) -> StoreResult<ConversationDetail> {
    let summary = load_summary(conn, actor.org_id, id)?;
    let last_inbound_whatsapp: Option<i64> = conn
        .prepare_cached("SELECT last_inbound_whatsapp_at FROM conversations WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    let customer = match summary.customer_id {
        Some(cid) => Some(rows::load_customer(conn, actor.org_id, cid)?),
        None => None,
    };
    let work_order = match &summary.work_order {
        Some(w) => Some(rows::load_work_order(conn, actor.org_id, w.id)?),
        None => None,
    };
    let work_order_candidates = match (summary.needs_work_order_pick, summary.customer_id) {
        (true, Some(cid)) => conn
            .prepare_cached(&format!(
                "{WORK_ORDER_SELECT} WHERE w.customer_id = ?1 AND w.status = ?2 ORDER BY w.number"
            ))?
            .query_map(
                params![cid, WorkOrderStatus::Active.as_str()],
                rows::work_order,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?,
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

fn current_work_order(conn: &Connection, id: Id) -> rusqlite::Result<Option<Id>> {
    conn.prepare_cached("SELECT work_order_id FROM conversations WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()
        .map(Option::flatten)
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn list_conversations(
        &self,
        actor: &Actor,
        params: &ListParams,
    ) -> StoreResult<ConversationPage> {
        let (actor, params) = (actor.clone(), params.clone());
        self.read(move |c| {
            let _deadline = super::Deadline::arm(c, params.budget);
            list(c, &actor, &params)
        })
        .await
    }

    async fn conversation(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationDetail> {
        let actor = actor.clone();
        self.read(move |c| detail(c, &actor, id, now)).await
    }

    async fn mark_read(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<MarkedRead> {
        let org = actor.org_id;
        self.write(move |tx| {
            ensure_conversation(tx, org, id)?;
            let newly_read = tx
                .prepare_cached(
                    "UPDATE messages SET read_at = ?2 WHERE conversation_id = ?1 AND direction = 'inbound' AND read_at IS NULL
                     RETURNING created_at, id, provider, provider_id",
                )?
                .query_map(params![id, ms(now)], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            tx.prepare_cached("UPDATE conversations SET unread_count = 0 WHERE id = ?1")?.execute([id])?;
            let summary = load_summary(tx, org, id)?;
            // Opening an already-read thread is not news.
            if !newly_read.is_empty() {
                emit(tx, org, now, &Change::MessagesRead { conversation_id: id, read_at: now })?;
                emit(tx, org, now, &Change::Conversation(summary.clone()))?;
            }
            Ok(MarkedRead {
                summary,
                whatsapp_receipt: crate::store::newest_whatsapp(newly_read),
            })
        })
        .await
    }

    async fn assign(
        &self,
        actor: &Actor,
        id: Id,
        assignee: Option<Id>,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationSummary> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            ensure_conversation(tx, org, id)?;
            if let Some(a) = assignee {
                let ok = tx
                    .prepare_cached("SELECT active FROM users WHERE id = ?1 AND org_id = ?2")?
                    .query_row([a, org], |r| r.get::<_, bool>(0))
                    .optional()?;
                match ok {
                    None => return Err(StoreError::NotFound),
                    Some(false) => return Err(StoreError::Invalid("that user is disabled".into())),
                    Some(true) => {}
                }
            }
            tx.prepare_cached("UPDATE conversations SET assignee_id = ?2 WHERE id = ?1")?
                .execute(params![id, assignee])?;
            let action = if assignee.is_some() {
                "conversation.assigned"
            } else {
                "conversation.unassigned"
            };
            audit(
                tx,
                org,
                Some(user),
                action,
                ("conversation", id),
                serde_json::json!({ "assignee_id": assignee }),
                now,
            )?;
            let summary = load_summary(tx, org, id)?;
            emit(tx, org, now, &Change::Conversation(summary.clone()))?;
            Ok(summary)
        })
        .await
    }

    async fn set_work_order(
        &self,
        actor: &Actor,
        id: Id,
        work_order: Option<Id>,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationDetail> {
        let actor = actor.clone();
        self.write(move |tx| {
            let org = actor.org_id;
            ensure_conversation(tx, org, id)?;
            let current = current_work_order(tx, id)?;
            match (work_order, current) {
                (Some(new), Some(cur)) if new == cur => {}
                (Some(new), _) => {
                    let wo = rows::load_work_order(tx, org, new)?;
                    tx.prepare_cached(
                        "UPDATE conversations SET work_order_id = ?2, needs_work_order_pick = 0 WHERE id = ?1",
                    )?
                    .execute(params![id, new])?;
                    let body = crate::store::rows::work_order_note(&wo, true);
                    system_note(tx, org, id, &body, Some(actor.user_id), now)?;
                    audit(tx, org, Some(actor.user_id), "conversation.work_order_linked", ("conversation", id), serde_json::json!({ "work_order_id": new }), now)?;
                }
                (None, Some(cur)) => {
                    let wo = rows::load_work_order(tx, org, cur)?;
                    tx.prepare_cached("UPDATE conversations SET work_order_id = NULL WHERE id = ?1")?.execute([id])?;
                    let body = crate::store::rows::work_order_note(&wo, false);
                    system_note(tx, org, id, &body, Some(actor.user_id), now)?;
                    audit(tx, org, Some(actor.user_id), "conversation.work_order_unlinked", ("conversation", id), serde_json::json!({ "work_order_id": cur }), now)?;
                }
                (None, None) => return Err(StoreError::Conflict("no work order is linked to this conversation".into())),
            }
            let detail = detail(tx, &actor, id, now)?;
            if let Some(wo) = &detail.linked_work_order {
                emit(tx, org, now, &Change::WorkOrder(wo.clone()))?;
            }
            emit(tx, org, now, &Change::Conversation(detail.summary.clone()))?;
            Ok(detail)
        })
        .await
    }
}
