//! Analytics counters on SQLite (issue 16, AIA-1): moved inside each write's transaction,
//! rebuilt from history, and read for the report.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use inbox_core::analytics::report::{previous_period, Inputs, Waiting, WaitingItem, WAITING_SHOWN};
use inbox_core::analytics::rollup::{epoch_day, Counters, Metric};
use inbox_core::analytics::{ConversationState, Fact, OrgClock};
use inbox_core::{CallOutcome, Channel, Direction, Id};
use rusqlite::{params, Connection, OptionalExtension};

use super::db::Lite;
use super::rows::party_name;
use super::{from_ms, SqliteStore};
use crate::store::analytics::{
    corrected, replay, shown, HistoryDecision, HistoryItem, HistoryKind, ANALYTICS_VERSION,
};
use crate::store::db::now;
use crate::store::scripts::analytics as shared;
use crate::store::{Actor, AnalyticsStore, StoreResult};

fn clock(conn: &Connection, org: Id) -> StoreResult<OrgClock> {
    now(shared::clock(&mut Lite::new(conn), org))
}

fn put_state(conn: &Connection, conversation: Id, s: &ConversationState) -> StoreResult<()> {
    now(shared::put_state(&mut Lite::new(conn), conversation, s))
}

/// Moves the counters one write changes (`scripts::analytics::record`).
pub(crate) fn record(
    tx: &Connection,
    org: Id,
    conversation: Option<Id>,
    fact: Fact,
) -> StoreResult<()> {
    now(shared::record(&mut Lite::new(tx), org, conversation, fact))
}

/// The messages and calls a replay reads, in id order: an organisation's (`scope` "org_id")
/// or one conversation's ("conversation_id").
fn items(conn: &Connection, scope: &str, id: Id) -> rusqlite::Result<Vec<HistoryItem>> {
    let mut items = Vec::new();
    let mut messages = conn.prepare(&format!(
        "SELECT conversation_id, created_at, direction, channel, author_id, intent, intent_correction
         FROM messages WHERE {scope} = ?1 ORDER BY id"
    ))?;
    let mut rows = messages.query([id])?;
    while let Some(r) = rows.next()? {
        let direction: String = r.get(2)?;
        let kind = if direction == Direction::Inbound.as_str() {
            let (intent, correction) = (
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            );
            HistoryKind::Inbound {
                channel: Channel::parse(&r.get::<_, String>(3)?).unwrap_or(Channel::Sms),
                intent: shown(intent.as_deref(), correction.as_deref()),
                corrected: corrected(intent.as_deref(), correction.as_deref()),
            }
        } else {
            HistoryKind::Reply { staff: r.get(4)? }
        };
        items.push(HistoryItem {
            conversation_id: r.get(0)?,
            at: from_ms(r.get(1)?),
            kind,
        });
    }
    let mut calls = conn.prepare(&format!(
        "SELECT conversation_id, started_at, direction, outcome FROM calls WHERE {scope} = ?1 ORDER BY id"
    ))?;
    let mut rows = calls.query([id])?;
    while let Some(r) = rows.next()? {
        let direction = Direction::parse(&r.get::<_, String>(2)?).unwrap_or(Direction::Inbound);
        let outcome = CallOutcome::parse(&r.get::<_, String>(3)?).unwrap_or(CallOutcome::Errored);
        items.push(HistoryItem {
            conversation_id: r.get(0)?,
            at: from_ms(r.get(1)?),
            kind: HistoryKind::Call { direction, outcome },
        });
    }
    Ok(items)
}

/// Everything a rebuild reads.
fn history(
    conn: &Connection,
    org: Id,
) -> rusqlite::Result<(Vec<HistoryItem>, Vec<HistoryDecision>)> {
    let items = items(conn, "org_id", org)?;
    let decisions = conn
        .prepare(
            "SELECT m.created_at, a.at, a.action = 'message.approved' FROM audit_log a
             JOIN messages m ON m.id = a.subject_id
             WHERE a.org_id = ?1 AND a.subject_type = 'message'
               AND a.action IN ('message.approved', 'message.rejected')
             ORDER BY a.id",
        )?
        .query_map([org], |r| {
            Ok(HistoryDecision {
                written_at: from_ms(r.get(0)?),
                decided_at: from_ms(r.get(1)?),
                approved: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((items, decisions))
}

/// Works out these conversations' state again from their items, after something moved
/// between them (a call reassigned): what waits and what awaits a call-back follows the items.
pub(crate) fn restate(tx: &Connection, org: Id, conversations: &[Id]) -> StoreResult<()> {
    let clock = clock(tx, org)?;
    for &c in conversations {
        let (_, states) = replay(&clock, items(tx, "conversation_id", c)?, &[]);
        let state = states.first().map(|(_, s)| *s).unwrap_or_default();
        put_state(tx, c, &state)?;
    }
    Ok(())
}

/// Recounts one organisation inside the caller's transaction.
pub(crate) fn rebuild(tx: &Connection, org: Id) -> StoreResult<()> {
    let clock = clock(tx, org)?;
    let (items, decisions) = history(tx, org)?;
    let (counters, states): (Counters, _) = replay(&clock, items, &decisions);
    tx.prepare_cached("DELETE FROM analytics_daily WHERE org_id = ?1")?
        .execute([org])?;
    tx.prepare_cached(
        "UPDATE conversations SET awaiting_since = NULL, missed_call_at = NULL
         WHERE org_id = ?1 AND (awaiting_since IS NOT NULL OR missed_call_at IS NOT NULL)",
    )?
    .execute([org])?;
    for (conversation, s) in &states {
        put_state(tx, *conversation, s)?;
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO analytics_daily (org_id, metric, day, key, n) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for ((day, metric, key), n) in &counters {
        insert.execute(params![org, metric.as_str(), day, key, n])?;
    }
    tx.prepare_cached("UPDATE organisations SET analytics_version = ?2 WHERE id = ?1")?
        .execute(params![org, ANALYTICS_VERSION])?;
    Ok(())
}

/// (intent, correction, created_at) of an inbound message.
pub(crate) type IntentColumns = (Option<String>, Option<String>, i64);

/// The intent columns of an inbound message.
pub(crate) fn intent_columns(
    conn: &Connection,
    message: Id,
) -> rusqlite::Result<Option<IntentColumns>> {
    conn.prepare_cached(
        "SELECT intent, intent_correction, created_at FROM messages WHERE id = ?1 AND direction = 'inbound'",
    )?
    .query_row([message], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .optional()
}

fn waiting(conn: &Connection, org: Id) -> StoreResult<Waiting> {
    let total = conn
        .prepare_cached(
            "SELECT count(*) FROM conversations WHERE org_id = ?1 AND awaiting_since IS NOT NULL",
        )?
        .query_row([org], |r| r.get(0))?;
    let rows = conn
        .prepare_cached(
            "SELECT id, awaiting_since, last_channel, preview FROM conversations
             WHERE org_id = ?1 AND awaiting_since IS NOT NULL ORDER BY awaiting_since, id LIMIT ?2",
        )?
        .query_map(params![org, WAITING_SHOWN], |r| {
            Ok((
                r.get::<_, Id>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let items = rows
        .into_iter()
        .map(|(id, since, channel, preview)| {
            Ok(WaitingItem {
                conversation_id: id,
                title: party_name(conn, id)?,
                channel: Channel::parse(&channel).unwrap_or(Channel::Sms),
                since: from_ms(since),
                preview,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Waiting { total, items })
}

fn inputs(
    conn: &Connection,
    org: Id,
    from: Option<NaiveDate>,
    to: NaiveDate,
    per_staff: bool,
) -> StoreResult<Inputs> {
    let first_counted: Option<i64> = conn
        .prepare_cached(
            "SELECT min(day) FROM analytics_daily WHERE org_id = ?1 AND metric = 'inbound'",
        )?
        .query_row([org], |r| r.get(0))?;
    let to_day = epoch_day(to);
    let all_time = from.is_none();
    let from = match from {
        Some(f) => f,
        None => inbox_core::analytics::rollup::from_epoch_day(
            first_counted.unwrap_or(to_day).min(to_day),
        ),
    };
    let from_day = epoch_day(from);
    let mut daily = Vec::new();
    let mut by_day = conn.prepare_cached(
        "SELECT day, key, n FROM analytics_daily WHERE org_id = ?1 AND metric = ?2 AND day BETWEEN ?3 AND ?4",
    )?;
    for metric in [Metric::Inbound, Metric::Intent] {
        let rows = by_day.query_map(params![org, metric.as_str(), from_day, to_day], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                metric,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            daily.push(row?);
        }
    }
    let mut totals = Vec::new();
    let mut summed = conn.prepare_cached(
        "SELECT key, sum(n) FROM analytics_daily WHERE org_id = ?1 AND metric = ?2 AND day BETWEEN ?3 AND ?4
         GROUP BY key",
    )?;
    for metric in Metric::ALL
        .into_iter()
        .filter(|m| !matches!(m, Metric::Inbound | Metric::Intent))
    {
        let rows = summed.query_map(params![org, metric.as_str(), from_day, to_day], |r| {
            Ok((metric, r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            totals.push(row?);
        }
    }
    // All time has no period before it.
    let previous_total = if all_time {
        None
    } else {
        let (a, b) = previous_period(from, to);
        Some(
            conn.prepare_cached(
                "SELECT coalesce(sum(n), 0) FROM analytics_daily
                 WHERE org_id = ?1 AND metric = 'inbound' AND day BETWEEN ?2 AND ?3",
            )?
            .query_row(params![org, a, b], |r| r.get(0))?,
        )
    };
    let staff = if per_staff {
        let names = conn
            .prepare_cached("SELECT id, name FROM users WHERE org_id = ?1")?
            .query_map([org], |r| Ok((r.get::<_, Id>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<HashMap<_, _>>>()?;
        Some(names)
    } else {
        None
    };
    Ok(Inputs {
        from,
        to,
        daily,
        totals,
        previous_total,
        waiting: waiting(conn, org)?,
        staff,
    })
}

#[async_trait]
impl AnalyticsStore for SqliteStore {
    async fn analytics_inputs(
        &self,
        actor: &Actor,
        from: Option<NaiveDate>,
        to: NaiveDate,
        per_staff: bool,
    ) -> StoreResult<Inputs> {
        let org = actor.org_id;
        self.read(move |c| inputs(c, org, from, to, per_staff))
            .await
    }

    async fn rebuild_analytics(&self, org_id: Id) -> StoreResult<()> {
        self.write(move |tx| rebuild(tx, org_id)).await
    }

    async fn rebuild_stale_analytics(&self) -> StoreResult<Vec<Id>> {
        let stale: Vec<Id> = self
            .read(|c| {
                c.prepare("SELECT id FROM organisations WHERE analytics_version < ?1 ORDER BY id")?
                    .query_map([ANALYTICS_VERSION], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(Into::into)
            })
            .await?;
        for org in &stale {
            self.rebuild_analytics(*org).await?;
        }
        Ok(stale)
    }
}
