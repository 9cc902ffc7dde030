//! The conversation list with its counts (LST-2 … LST-11), one conversation's details (THR-2,
//! SDB-2), mark read (THR-7), assignment (SDB-4) and work-order links (SDB-3).

use chrono::{DateTime, Utc};
use inbox_core::api::{ConversationPage, Counts, ListFilter, PAGE_SIZE};
use inbox_core::sync::Change;
use inbox_core::{ConversationDetail, ConversationSummary, Id, WorkOrderStatus};

use super::{audit, emit, ensure_conversation, load, system_note};
use crate::store::backend::script;
use crate::store::db::{args, Arg, Db, Dialect, WriteTx};
use crate::store::rows::{self, ms, SUMMARY_SELECT, WORK_ORDER_SELECT};
use crate::store::rules;
use crate::store::search::{pg_tsquery, SearchText};
use crate::store::Store;
use crate::store::{Actor, ListCursor, ListParams, ListScope, MarkedRead, StoreError, StoreResult};

/// A statement built piece by piece, its placeholders numbered as values are bound.
struct Query<'a> {
    sql: String,
    args: Vec<Arg<'a>>,
}

impl<'a> Query<'a> {
    fn new(sql: &str) -> Query<'a> {
        Query {
            sql: sql.to_string(),
            args: Vec::new(),
        }
    }

    fn push(&mut self, sql: &str) -> &mut Query<'a> {
        self.sql.push_str(sql);
        self
    }

    fn bind(&mut self, value: impl Into<Arg<'a>>) -> &mut Query<'a> {
        self.args.push(value.into());
        self.sql.push_str(&format!("${}", self.args.len()));
        self
    }
}

/// One page of the list and the counts of its scope.
pub(crate) async fn list(
    db: &mut impl Db,
    actor: &Actor,
    p: &ListParams,
) -> StoreResult<ConversationPage> {
    let terms = match &p.scope {
        ListScope::Search(text) => search_terms(db.dialect(), text),
        ListScope::Range(_) => String::new(),
    };
    let counts = counts(db, actor, p, &terms).await?;
    let mut q = Query::new(SUMMARY_SELECT);
    q.push(" WHERE c.org_id = ").bind(actor.org_id);
    push_scope(&mut q, db.dialect(), &p.scope, actor.org_id, &terms);
    push_filter(&mut q, p.filter, actor.user_id);
    if let Some(ListCursor {
        last_activity_at,
        id,
    }) = p.after
    {
        q.push(" AND (c.last_activity_at, c.id) < (")
            .bind(ms(last_activity_at))
            .push(", ")
            .bind(id)
            .push(")");
    }
    q.push(" ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ")
        .bind(PAGE_SIZE as i64 + 1);
    let items = db.all(&q.sql, &q.args, |r| rows::summary(r)).await?;
    Ok(rules::list_page(items, counts))
}

/// A search as each database's full-text index reads it: an FTS5 query, a tsquery.
fn search_terms(dialect: Dialect, text: &SearchText) -> String {
    match dialect {
        Dialect::Sqlite => text.fts5_query(),
        Dialect::Postgres => pg_tsquery(text),
    }
}

/// Appends the scope's conditions (after `c.org_id = …`); `terms` is the search, as
/// [`search_terms`] wrote it.
fn push_scope<'a>(q: &mut Query<'a>, dialect: Dialect, scope: &ListScope, org: Id, terms: &'a str) {
    match scope {
        ListScope::Range(iv) => {
            if let Some(start) = iv.start {
                q.push(" AND c.last_activity_at >= ").bind(ms(start));
            }
            if let Some(end) = iv.end {
                // The latest activity alone decides unless it is after the range; only then is
                // the activity index probed for something inside it (LST-9).
                let start = iv.start.map(ms).unwrap_or(i64::MIN);
                q.push(" AND (c.last_activity_at < ")
                    .bind(ms(end))
                    .push(" OR EXISTS (SELECT 1 FROM activity a WHERE a.conversation_id = c.id AND a.at >= ")
                    .bind(start)
                    .push(" AND a.at < ")
                    .bind(ms(end))
                    .push("))");
            }
        }
        ListScope::Search(_) => {
            q.push(match dialect {
                Dialect::Sqlite => {
                    " AND c.id IN (SELECT conversation_id FROM search_fts WHERE search_fts MATCH "
                }
                Dialect::Postgres => {
                    " AND c.id IN (SELECT conversation_id FROM search_docs WHERE terms @@ CAST("
                }
            });
            q.bind(terms);
            if dialect == Dialect::Postgres {
                q.push(" AS tsquery)");
            }
            q.push(" AND org_id = ").bind(org).push(")");
        }
    }
}

fn push_filter(q: &mut Query, filter: ListFilter, user: Id) {
    match filter {
        ListFilter::All => {}
        ListFilter::Unread => {
            q.push(" AND (c.unread_count > 0 OR c.unresolved_calls > 0)");
        }
        ListFilter::Unassigned => {
            q.push(" AND c.assignee_id IS NULL");
        }
        ListFilter::Mine => {
            q.push(" AND c.assignee_id = ").bind(user);
        }
    }
}

/// The four badges (LST-4). On SQLite, for a range that reaches the present each count reads
/// its own index (the rows in range of that index only); for a search or a past custom range,
/// and always on PostgreSQL, one pass over the candidates is cheaper.
async fn counts(
    db: &mut impl Db,
    actor: &Actor,
    p: &ListParams,
    terms: &str,
) -> StoreResult<Counts> {
    let reaches_now = matches!(p.scope, ListScope::Range(iv) if iv.end.is_none_or(|e| e > p.now));
    if reaches_now && db.dialect() == Dialect::Sqlite {
        return counts_by_index(db, actor, p).await;
    }
    // `+c.org_id` keeps SQLite's planner from scanning the organisation's conversations when
    // the search's matches are the smaller set (PostgreSQL's would lose the index instead).
    let org_column = match db.dialect() {
        Dialect::Sqlite => "+c.org_id",
        Dialect::Postgres => "c.org_id",
    };
    let mut q = Query::new(
        "SELECT count(*),
                count(*) FILTER (WHERE c.unread_count > 0 OR c.unresolved_calls > 0),
                count(*) FILTER (WHERE c.assignee_id IS NULL),
                count(*) FILTER (WHERE c.assignee_id = ",
    );
    q.bind(actor.user_id)
        .push(&format!(") FROM conversations c WHERE {org_column} = "))
        .bind(actor.org_id);
    push_scope(&mut q, db.dialect(), &p.scope, actor.org_id, terms);
    let n = |v: i64| v.max(0) as u64;
    db.one(&q.sql, &q.args, |r| {
        Ok(Counts {
            all: n(r.int(0)?),
            unread: n(r.int(1)?),
            unassigned: n(r.int(2)?),
            mine: n(r.int(3)?),
        })
    })
    .await
}

/// SQLite's counts for a range that reaches the present, each on its own index.
async fn counts_by_index(db: &mut impl Db, actor: &Actor, p: &ListParams) -> StoreResult<Counts> {
    let unread = " AND (c.unread_count > 0 OR c.unresolved_calls > 0)";
    let unassigned = " AND c.assignee_id IS NULL";
    let mine = Some(actor.user_id);
    Ok(Counts {
        all: count_on(db, "conversations_list", actor, p, "", None).await?,
        unread: count_on(db, "conversations_unread", actor, p, unread, None).await?,
        unassigned: count_on(db, "conversations_unassigned", actor, p, unassigned, None).await?,
        mine: count_on(
            db,
            "conversations_assignee",
            actor,
            p,
            " AND c.assignee_id = ",
            mine,
        )
        .await?,
    })
}

/// Counts the scope's conversations on one index; `condition` ends with the placeholder of
/// `user` when there is one.
async fn count_on(
    db: &mut impl Db,
    index: &str,
    actor: &Actor,
    p: &ListParams,
    condition: &str,
    user: Option<Id>,
) -> StoreResult<u64> {
    let mut q = Query::new(&format!(
        "SELECT count(*) FROM conversations c INDEXED BY {index} WHERE c.org_id = "
    ));
    q.bind(actor.org_id).push(condition);
    if let Some(user) = user {
        q.bind(user);
    }
    push_scope(&mut q, Dialect::Sqlite, &p.scope, actor.org_id, "");
    Ok(db.int(&q.sql, &q.args).await?.max(0) as u64)
}

/// One conversation with what its side panel shows (THR-2, SDB-2).
pub(crate) async fn detail(
    db: &mut impl Db,
    actor: &Actor,
    id: Id,
    now: DateTime<Utc>,
) -> StoreResult<ConversationDetail> {
    let org = actor.org_id;
    let summary = load::summary(db, org, id).await?;
    let last_inbound_whatsapp = db
        .one(
            "SELECT last_inbound_whatsapp_at FROM conversations WHERE id = $1",
            args![id],
            |r| r.opt_int(0),
        )
        .await?;
    let customer = match summary.customer_id {
        Some(cid) => Some(load::customer(db, org, cid).await?),
        None => None,
    };
    let work_order = match &summary.work_order {
        Some(w) => Some(load::work_order(db, org, w.id).await?),
        None => None,
    };
    let work_order_candidates = match (summary.needs_work_order_pick, summary.customer_id) {
        (true, Some(cid)) => active_work_orders(db, cid).await?,
        _ => Vec::new(),
    };
    Ok(rules::conversation_detail(
        summary,
        last_inbound_whatsapp,
        customer,
        work_order,
        work_order_candidates,
        now,
    ))
}

/// The customer's active work orders, the candidates to link when they have several.
async fn active_work_orders(
    db: &mut impl Db,
    customer: Id,
) -> StoreResult<Vec<inbox_core::WorkOrder>> {
    let sql = format!(
        "{WORK_ORDER_SELECT} WHERE w.customer_id = $1 AND w.status = $2 ORDER BY w.number COLLATE \"C\""
    );
    let active = WorkOrderStatus::Active.as_str();
    db.all(&sql, args![customer, active], |r| rows::work_order(r))
        .await
}

/// Marks a conversation's inbound messages read (THR-7); returns the newest WhatsApp message
/// newly read, for the read receipt.
pub(crate) async fn mark_read(
    db: &mut impl WriteTx,
    org: Id,
    id: Id,
    now: DateTime<Utc>,
) -> StoreResult<MarkedRead> {
    ensure_conversation(db, org, id).await?;
    let newly_read = db
        .all(
            "UPDATE messages SET read_at = $2 WHERE conversation_id = $1 AND direction = 'inbound' AND read_at IS NULL
             RETURNING created_at, id, provider, provider_id",
            args![id, ms(now)],
            |r| Ok((r.int(0)?, r.int(1)?, r.opt_text(2)?, r.opt_text(3)?)),
        )
        .await?;
    db.exec(
        "UPDATE conversations SET unread_count = 0 WHERE id = $1",
        args![id],
    )
    .await?;
    let summary = load::summary(db, org, id).await?;
    // Opening an already-read thread is not news.
    if !newly_read.is_empty() {
        let read = Change::MessagesRead {
            conversation_id: id,
            read_at: now,
        };
        emit(db, org, now, &read).await?;
        emit(db, org, now, &Change::Conversation(summary.clone())).await?;
    }
    Ok(MarkedRead {
        summary,
        whatsapp_receipt: crate::store::newest_whatsapp(newly_read),
    })
}

/// Assigns a conversation to an active member of staff, or to no one (SDB-4).
pub(crate) async fn assign(
    db: &mut impl WriteTx,
    org: Id,
    user: Id,
    id: Id,
    assignee: Option<Id>,
    now: DateTime<Utc>,
) -> StoreResult<ConversationSummary> {
    ensure_conversation(db, org, id).await?;
    if let Some(a) = assignee {
        let active = db
            .opt(
                "SELECT active FROM users WHERE id = $1 AND org_id = $2",
                args![a, org],
                |r| r.flag(0),
            )
            .await?;
        match active {
            None => return Err(StoreError::NotFound),
            Some(false) => return Err(StoreError::Invalid("that user is disabled".into())),
            Some(true) => {}
        }
    }
    db.exec(
        "UPDATE conversations SET assignee_id = $2 WHERE id = $1",
        args![id, assignee],
    )
    .await?;
    let action = if assignee.is_some() {
        "conversation.assigned"
    } else {
        "conversation.unassigned"
    };
    let detail = serde_json::json!({ "assignee_id": assignee });
    audit(
        db,
        org,
        Some(user),
        action,
        ("conversation", id),
        detail,
        now,
    )
    .await?;
    let summary = load::summary(db, org, id).await?;
    emit(db, org, now, &Change::Conversation(summary.clone())).await?;
    Ok(summary)
}

/// Links a work order to a conversation, or unlinks its own (SDB-3), with a system note in the
/// thread; linking the one already linked changes nothing.
pub(crate) async fn set_work_order(
    db: &mut impl WriteTx,
    actor: &Actor,
    id: Id,
    work_order: Option<Id>,
    now: DateTime<Utc>,
) -> StoreResult<ConversationDetail> {
    let (org, user) = (actor.org_id, actor.user_id);
    ensure_conversation(db, org, id).await?;
    let current = db
        .one(
            "SELECT work_order_id FROM conversations WHERE id = $1",
            args![id],
            |r| r.opt_int(0),
        )
        .await?;
    match (work_order, current) {
        (Some(new), Some(cur)) if new == cur => {}
        (Some(new), _) => link(db, (org, user), id, new, true, now).await?,
        (None, Some(cur)) => link(db, (org, user), id, cur, false, now).await?,
        (None, None) => {
            return Err(StoreError::Conflict(
                "no work order is linked to this conversation".into(),
            ))
        }
    }
    let detail = detail(db, actor, id, now).await?;
    if let Some(wo) = &detail.linked_work_order {
        emit(db, org, now, &Change::WorkOrder(wo.clone())).await?;
    }
    let summary = Change::Conversation(detail.summary.clone());
    emit(db, org, now, &summary).await?;
    Ok(detail)
}

/// Links `work_order` to the conversation, or unlinks it, with its system note and audit entry.
async fn link(
    db: &mut impl WriteTx,
    (org, user): (Id, Id),
    id: Id,
    work_order: Id,
    linked: bool,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let wo = load::work_order(db, org, work_order).await?;
    let (sql, action) = match linked {
        true => (
            "UPDATE conversations SET work_order_id = $2, needs_work_order_pick = false WHERE id = $1",
            "conversation.work_order_linked",
        ),
        false => (
            "UPDATE conversations SET work_order_id = NULL WHERE id = $1 AND work_order_id = $2",
            "conversation.work_order_unlinked",
        ),
    };
    db.exec(sql, args![id, work_order]).await?;
    let body = rules::work_order_note(&wo, linked);
    system_note(db, org, id, &body, Some(user), now).await?;
    let detail = serde_json::json!({ "work_order_id": work_order });
    let subject = ("conversation", id);
    audit(db, org, Some(user), action, subject, detail, now).await
}

impl Store {
    pub async fn list_conversations(
        &self,
        actor: &Actor,
        params: &ListParams,
    ) -> StoreResult<ConversationPage> {
        let (actor, params) = (actor.clone(), params.clone());
        // One snapshot, so the counts and the page agree; the time budget bounds it.
        self.read_snapshot(Some(params.budget), script!(|c| list(c, &actor, &params)))
            .await
    }

    pub async fn conversation(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationDetail> {
        let actor = actor.clone();
        self.read(script!(|c| detail(c, &actor, id, now))).await
    }

    /// THR-7: every unread inbound message of the conversation becomes read.
    pub async fn mark_read(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<MarkedRead> {
        let org = actor.org_id;
        self.write(Some(org), script!(|tx| mark_read(tx, org, id, now)))
            .await
    }

    pub async fn assign(
        &self,
        actor: &Actor,
        id: Id,
        assignee: Option<Id>,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationSummary> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(
            Some(org),
            script!(|tx| assign(tx, org, user, id, assignee, now)),
        )
        .await
    }

    /// SDB-3: link (Some) or unlink (None), writing a system message either way.
    pub async fn set_work_order(
        &self,
        actor: &Actor,
        id: Id,
        work_order: Option<Id>,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationDetail> {
        let actor = actor.clone();
        self.write(
            Some(actor.org_id),
            script!(|tx| set_work_order(tx, &actor, id, work_order, now)),
        )
        .await
    }
}
