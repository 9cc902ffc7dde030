//! The conversation list read from the cache, with the same semantics as the server's
//! `GET /api/v1/conversations`: date range with "any activity" (LST-3, LST-9), read filters and
//! their counts (LST-4), search over all time (LST-2), keyset pages of 50 (LST-11).
//!
//! Range membership is exact for what the cache holds: a conversation is in [start, end) if its
//! `last_activity_at >= start` and either `last_activity_at < end` or some activity the cache
//! has seen (a message, status change, call, note, or an earlier row's `last_activity_at`) falls
//! inside. Activity the cache never saw — before a resync, in threads never opened — cannot count.

use chrono::{DateTime, Utc};
use inbox_core::api::{ConversationPage, Counts, ListFilter, PAGE_SIZE};
use inbox_core::range::UtcInterval;
use inbox_core::search::SearchText;
use inbox_core::{ConversationSummary, Id};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::{ms, Cache, CacheResult};

/// A local list query (same semantics as the server's GET /api/v1/conversations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalQuery {
    pub scope: LocalScope,
    pub filter: ListFilter,
    /// The last row of the previous page (see [`parse_list_cursor`]).
    pub after: Option<(DateTime<Utc>, Id)>,
    /// The signed-in user, for the Mine filter.
    pub me: Id,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalScope {
    Range(UtcInterval),
    /// Search text; ignores any range (LST-2). Text with nothing to search for (blank,
    /// punctuation only) matches every conversation, as an unbounded range would.
    Search(String),
}

/// `next_cursor` of a page: "<millis>:<id>" of its last row.
pub fn encode_list_cursor(last_activity_at: DateTime<Utc>, id: Id) -> String {
    format!("{}:{id}", ms(last_activity_at))
}

/// Reads a `next_cursor` back; None when it is not one.
pub fn parse_list_cursor(s: &str) -> Option<(DateTime<Utc>, Id)> {
    let (at, id) = s.split_once(':')?;
    let at = DateTime::from_timestamp_millis(at.parse().ok()?)?;
    Some((at, id.parse().ok()?))
}

/// A scope as SQL: what to read from, the WHERE terms after `WHERE 1`, and their arguments.
struct ScopeSql {
    from: &'static str,
    terms: String,
    args: Vec<Value>,
}

const FROM_TABLE: &str = "conversations c";
/// One pass over the list index, which holds every column the counts, filters and order need.
const FROM_LIST_INDEX: &str = "conversations c INDEXED BY conversations_list";

/// Above this share of all conversations (1 in N), a search's matches are probed during one pass
/// over the list index instead of being looked up one by one (measured at 100,000
/// conversations: 5,000 lookups cost about as much as the pass).
const SCAN_SHARE: i64 = 20;

fn scope_sql(conn: &Connection, scope: &LocalScope) -> CacheResult<ScopeSql> {
    let mut args = Vec::new();
    let interval = match scope {
        LocalScope::Range(iv) => *iv,
        LocalScope::Search(text) => match SearchText::parse(text) {
            Some(s) => {
                let query = s.fts5_query();
                let total: i64 = conn
                    .prepare_cached("SELECT coalesce(sum(total), 0) FROM conversation_counts")?
                    .query_row([], |r| r.get(0))?;
                let limit = total / SCAN_SHARE + 1;
                let matches: i64 = conn
                    .prepare_cached(
                        "SELECT count(*) FROM
                             (SELECT 1 FROM search WHERE search MATCH ?1 LIMIT ?2)",
                    )?
                    .query_row(rusqlite::params![query, limit], |r| r.get(0))?;
                args.push(Value::Text(query));
                return Ok(ScopeSql {
                    from: if matches >= limit {
                        FROM_LIST_INDEX
                    } else {
                        FROM_TABLE
                    },
                    terms: " AND c.id IN (SELECT rowid >> 32 FROM search WHERE search MATCH ?)"
                        .to_string(),
                    args,
                });
            }
            None => UtcInterval::UNBOUNDED,
        },
    };
    let mut terms = String::new();
    if let Some(start) = interval.start {
        args.push(Value::Integer(ms(start)));
        terms.push_str(" AND c.last_activity_at >= ?");
    }
    if let Some(end) = interval.end {
        // The latest activity decides unless it is after the range; only then is the activity
        // table probed for something inside it (LST-9).
        args.extend([
            Value::Integer(ms(end)),
            Value::Integer(interval.start.map(ms).unwrap_or(i64::MIN)),
            Value::Integer(ms(end)),
        ]);
        terms.push_str(
            " AND (c.last_activity_at < ? OR EXISTS (SELECT 1 FROM activity a
                 WHERE a.conversation_id = c.id AND a.at >= ? AND a.at < ?))",
        );
    }
    Ok(ScopeSql {
        from: FROM_TABLE,
        terms,
        args,
    })
}

fn filter_clause(filter: ListFilter, me: Id, args: &mut Vec<Value>) -> &'static str {
    match filter {
        ListFilter::All => "",
        ListFilter::Unread => " AND (c.unread_count > 0 OR c.unresolved_calls > 0)",
        ListFilter::Unassigned => " AND c.assignee_id IS NULL",
        ListFilter::Mine => {
            args.push(Value::Integer(me));
            " AND c.assignee_id = ?"
        }
    }
}

/// The four badges for a scope, whatever the filter (LST-4). All time (no scope terms) reads
/// the per-assignee totals the triggers keep; a range or a search counts its rows.
fn counts(conn: &Connection, scope: &ScopeSql, me: Id) -> CacheResult<Counts> {
    let read = |r: &rusqlite::Row<'_>| {
        let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
        Ok(Counts {
            all: n(0)?,
            unread: n(1)?,
            unassigned: n(2)?,
            mine: n(3)?,
        })
    };
    if scope.terms.is_empty() {
        return Ok(conn
            .prepare_cached(
                "SELECT coalesce(sum(total), 0), coalesce(sum(unread), 0),
                        coalesce(sum(CASE WHEN assignee_key = -1 THEN total END), 0),
                        coalesce(sum(CASE WHEN assignee_key = ?1 AND ?1 <> -1 THEN total END), 0)
                 FROM conversation_counts",
            )?
            .query_row([me], read)?);
    }
    let sql = format!(
        "SELECT count(*),
                coalesce(sum(c.unread_count > 0 OR c.unresolved_calls > 0), 0),
                coalesce(sum(c.assignee_id IS NULL), 0),
                coalesce(sum(c.assignee_id = ?), 0)
         FROM {} WHERE 1{}",
        scope.from, scope.terms
    );
    let args = std::iter::once(Value::Integer(me)).chain(scope.args.iter().cloned());
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params_from_iter(args), read)?)
}

fn decode(rows: Vec<String>) -> CacheResult<Vec<ConversationSummary>> {
    rows.iter()
        .map(|d| serde_json::from_str(d).map_err(Into::into))
        .collect()
}

impl Cache {
    /// One page of the list: at most PAGE_SIZE rows newest first (last_activity_at, then id),
    /// `next_cursor` when more follow, and the counts of the whole scope.
    pub fn list(&self, q: &LocalQuery) -> CacheResult<ConversationPage> {
        let scope = scope_sql(&self.conn, &q.scope)?;
        let counts = counts(&self.conn, &scope, q.me)?;

        let mut args = scope.args;
        let filter = filter_clause(q.filter, q.me, &mut args);
        let mut sql = format!(
            "SELECT c.data FROM {} WHERE 1{}{filter}",
            scope.from, scope.terms
        );
        if let Some((at, id)) = q.after {
            args.extend([Value::Integer(ms(at)), Value::Integer(id)]);
            sql.push_str(" AND (c.last_activity_at, c.id) < (?, ?)");
        }
        args.push(Value::Integer(PAGE_SIZE as i64 + 1));
        sql.push_str(" ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?");
        let rows = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut items = decode(rows)?;
        let next_cursor = if items.len() > PAGE_SIZE {
            items.truncate(PAGE_SIZE);
            items
                .last()
                .map(|c| encode_list_cursor(c.last_activity_at, c.id))
        } else {
            None
        };
        Ok(ConversationPage {
            items,
            next_cursor,
            counts,
        })
    }

    pub fn conversation(&self, id: Id) -> CacheResult<Option<ConversationSummary>> {
        let data: Option<String> = self
            .conn
            .prepare_cached("SELECT data FROM conversations WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
    }

    /// The conversation a work order's Messages tab shows (WO-1): one linked to it, else its
    /// customer's most recently active.
    pub fn work_order_conversation(
        &self,
        work_order_id: Id,
        customer_id: Id,
    ) -> CacheResult<Option<Id>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id FROM conversations
                 WHERE customer_id = ?2 OR json_extract(data, '$.work_order.id') = ?1
                 ORDER BY json_extract(data, '$.work_order.id') IS ?1 DESC,
                          last_activity_at DESC, id DESC
                 LIMIT 1",
            )?
            .query_row(rusqlite::params![work_order_id, customer_id], |r| r.get(0))
            .optional()?)
    }

    /// Conversations with an unread message or a call awaiting resolution (the app badge),
    /// from the totals the triggers keep.
    pub fn unread_conversations(&self) -> CacheResult<u64> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT coalesce(sum(unread), 0) FROM conversation_counts")?
            .query_row([], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }
}
