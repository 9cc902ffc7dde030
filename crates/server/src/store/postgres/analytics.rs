//! Analytics counters on PostgreSQL (issue 16, AIA-1): moved inside each write's transaction,
//! rebuilt from history, and read for the report.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use inbox_core::analytics::report::{previous_period, Inputs, Waiting, WaitingItem, WAITING_SHOWN};
use inbox_core::analytics::rollup::{epoch_day, from_epoch_day, Metric};
use inbox_core::{CallOutcome, Channel, Direction, Id};
use sqlx::PgConnection;

use super::rows::party_name;
use super::PgStore;
use crate::store::analytics::{
    corrected, replay, shown, HistoryDecision, HistoryItem, HistoryKind, ANALYTICS_VERSION,
};
use crate::store::rows::{from_ms, ms};
use crate::store::{Actor, AnalyticsStore, StoreResult};

pub(crate) use crate::store::scripts::analytics::{clock, put_state, record};

type MessageRow = (
    Id,
    i64,
    String,
    String,
    Option<Id>,
    Option<String>,
    Option<String>,
);

/// The messages and calls a replay reads, in id order: an organisation's (`scope` "org_id")
/// or one conversation's ("conversation_id").
async fn items(c: &mut PgConnection, scope: &str, id: Id) -> StoreResult<Vec<HistoryItem>> {
    let messages: Vec<MessageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT conversation_id, created_at, direction, channel, author_id, intent, intent_correction
         FROM messages WHERE {scope} = $1 ORDER BY id"
    )))
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    let mut items: Vec<HistoryItem> = messages
        .into_iter()
        .map(
            |(conversation_id, at, direction, channel, author, intent, correction)| {
                let kind = if direction == Direction::Inbound.as_str() {
                    HistoryKind::Inbound {
                        channel: Channel::parse(&channel).unwrap_or(Channel::Sms),
                        intent: shown(intent.as_deref(), correction.as_deref()),
                        corrected: corrected(intent.as_deref(), correction.as_deref()),
                    }
                } else {
                    HistoryKind::Reply { staff: author }
                };
                HistoryItem {
                    conversation_id,
                    at: from_ms(at),
                    kind,
                }
            },
        )
        .collect();
    let calls: Vec<(Id, i64, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT conversation_id, started_at, direction, outcome FROM calls WHERE {scope} = $1 ORDER BY id"
    )))
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    items.extend(
        calls
            .into_iter()
            .map(|(conversation_id, at, direction, outcome)| HistoryItem {
                conversation_id,
                at: from_ms(at),
                kind: HistoryKind::Call {
                    direction: Direction::parse(&direction).unwrap_or(Direction::Inbound),
                    outcome: CallOutcome::parse(&outcome).unwrap_or(CallOutcome::Errored),
                },
            }),
    );
    Ok(items)
}

async fn history(
    c: &mut PgConnection,
    org: Id,
) -> StoreResult<(Vec<HistoryItem>, Vec<HistoryDecision>)> {
    let items = items(c, "org_id", org).await?;
    let decisions: Vec<(i64, i64, bool)> = sqlx::query_as(
        "SELECT m.created_at, a.at, a.action = 'message.approved' FROM audit_log a
         JOIN messages m ON m.id = a.subject_id
         WHERE a.org_id = $1 AND a.subject_type = 'message'
           AND a.action IN ('message.approved', 'message.rejected')
         ORDER BY a.id",
    )
    .bind(org)
    .fetch_all(&mut *c)
    .await?;
    let decisions = decisions
        .into_iter()
        .map(|(written, decided, approved)| HistoryDecision {
            written_at: from_ms(written),
            decided_at: from_ms(decided),
            approved,
        })
        .collect();
    Ok((items, decisions))
}

/// Works out these conversations' state again from their items, after something moved
/// between them (a call reassigned): what waits and what awaits a call-back follows the items.
pub(crate) async fn restate(
    c: &mut PgConnection,
    org: Id,
    conversations: &[Id],
) -> StoreResult<()> {
    let clock = clock(c, org).await?;
    for &conversation in conversations {
        let (_, states) = replay(
            &clock,
            items(c, "conversation_id", conversation).await?,
            &[],
        );
        let state = states.first().map(|(_, s)| *s).unwrap_or_default();
        put_state(c, conversation, &state).await?;
    }
    Ok(())
}

/// Recounts one organisation inside the caller's transaction (which holds its lock, so no
/// write of that organisation interleaves).
pub(crate) async fn rebuild(c: &mut PgConnection, org: Id) -> StoreResult<()> {
    let clock = clock(c, org).await?;
    let (items, decisions) = history(c, org).await?;
    let (counters, states) = replay(&clock, items, &decisions);
    sqlx::query("DELETE FROM analytics_daily WHERE org_id = $1")
        .bind(org)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "UPDATE conversations SET awaiting_since = NULL, missed_call_at = NULL
         WHERE org_id = $1 AND (awaiting_since IS NOT NULL OR missed_call_at IS NOT NULL)",
    )
    .bind(org)
    .execute(&mut *c)
    .await?;
    // Written in bulk: a big organisation has a great many of both.
    let (ids, awaiting, missed): (Vec<Id>, Vec<Option<i64>>, Vec<Option<i64>>) = states
        .iter()
        .map(|(id, s)| (*id, s.awaiting_since.map(ms), s.missed_call_at.map(ms)))
        .fold((vec![], vec![], vec![]), |mut acc, (i, a, m)| {
            acc.0.push(i);
            acc.1.push(a);
            acc.2.push(m);
            acc
        });
    sqlx::query(
        "UPDATE conversations c SET awaiting_since = s.a, missed_call_at = s.m
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS s(id, a, m) WHERE c.id = s.id",
    )
    .bind(ids)
    .bind(awaiting)
    .bind(missed)
    .execute(&mut *c)
    .await?;
    let mut metrics = Vec::with_capacity(counters.len());
    let mut days = Vec::with_capacity(counters.len());
    let mut keys = Vec::with_capacity(counters.len());
    let mut ns = Vec::with_capacity(counters.len());
    for ((day, metric, key), n) in counters {
        metrics.push(metric.as_str());
        days.push(day);
        keys.push(key);
        ns.push(n);
    }
    sqlx::query(
        "INSERT INTO analytics_daily (org_id, metric, day, key, n)
         SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bigint[])",
    )
    .bind(org)
    .bind(metrics)
    .bind(days)
    .bind(keys)
    .bind(ns)
    .execute(&mut *c)
    .await?;
    sqlx::query("UPDATE organisations SET analytics_version = $2 WHERE id = $1")
        .bind(org)
        .bind(ANALYTICS_VERSION)
        .execute(&mut *c)
        .await?;
    Ok(())
}

async fn waiting(c: &mut PgConnection, org: Id) -> StoreResult<Waiting> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM conversations WHERE org_id = $1 AND awaiting_since IS NOT NULL",
    )
    .bind(org)
    .fetch_one(&mut *c)
    .await?;
    let rows: Vec<(Id, i64, String, String)> = sqlx::query_as(
        "SELECT id, awaiting_since, last_channel, preview FROM conversations
         WHERE org_id = $1 AND awaiting_since IS NOT NULL ORDER BY awaiting_since, id LIMIT $2",
    )
    .bind(org)
    .bind(i64::from(WAITING_SHOWN))
    .fetch_all(&mut *c)
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for (id, since, channel, preview) in rows {
        items.push(WaitingItem {
            conversation_id: id,
            title: party_name(c, id).await?,
            channel: Channel::parse(&channel).unwrap_or(Channel::Sms),
            since: from_ms(since),
            preview,
        });
    }
    Ok(Waiting { total, items })
}

#[async_trait]
impl AnalyticsStore for PgStore {
    async fn analytics_inputs(
        &self,
        actor: &Actor,
        from: Option<NaiveDate>,
        to: NaiveDate,
        per_staff: bool,
    ) -> StoreResult<Inputs> {
        let org = actor.org_id;
        let mut c = self.conn().await?;
        let first_counted: Option<i64> = sqlx::query_scalar(
            "SELECT min(day) FROM analytics_daily WHERE org_id = $1 AND metric = 'inbound'",
        )
        .bind(org)
        .fetch_one(&mut *c)
        .await?;
        let to_day = epoch_day(to);
        let all_time = from.is_none();
        let from =
            from.unwrap_or_else(|| from_epoch_day(first_counted.unwrap_or(to_day).min(to_day)));
        let from_day = epoch_day(from);
        // One range of the primary key per metric: each figure reads only its own rows.
        let mut daily = Vec::new();
        for metric in [Metric::Inbound, Metric::Intent] {
            let rows: Vec<(i64, String, i64)> = sqlx::query_as(
                "SELECT day, key, n FROM analytics_daily
                 WHERE org_id = $1 AND metric = $2 AND day BETWEEN $3 AND $4",
            )
            .bind(org)
            .bind(metric.as_str())
            .bind(from_day)
            .bind(to_day)
            .fetch_all(&mut *c)
            .await?;
            daily.extend(rows.into_iter().map(|(day, key, n)| (day, metric, key, n)));
        }
        let mut totals = Vec::new();
        for metric in Metric::ALL
            .into_iter()
            .filter(|m| !matches!(m, Metric::Inbound | Metric::Intent))
        {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT key, sum(n)::bigint FROM analytics_daily
                 WHERE org_id = $1 AND metric = $2 AND day BETWEEN $3 AND $4 GROUP BY key",
            )
            .bind(org)
            .bind(metric.as_str())
            .bind(from_day)
            .bind(to_day)
            .fetch_all(&mut *c)
            .await?;
            totals.extend(rows.into_iter().map(|(key, n)| (metric, key, n)));
        }
        // All time has no period before it.
        let previous_total = if all_time {
            None
        } else {
            let (a, b) = previous_period(from, to);
            Some(
                sqlx::query_scalar(
                    "SELECT coalesce(sum(n), 0)::bigint FROM analytics_daily
                     WHERE org_id = $1 AND metric = 'inbound' AND day BETWEEN $2 AND $3",
                )
                .bind(org)
                .bind(a)
                .bind(b)
                .fetch_one(&mut *c)
                .await?,
            )
        };
        let staff = if per_staff {
            let names: Vec<(Id, String)> =
                sqlx::query_as("SELECT id, name FROM users WHERE org_id = $1")
                    .bind(org)
                    .fetch_all(&mut *c)
                    .await?;
            Some(names.into_iter().collect::<HashMap<_, _>>())
        } else {
            None
        };
        Ok(Inputs {
            from,
            to,
            daily,
            totals,
            previous_total,
            waiting: waiting(&mut c, org).await?,
            staff,
        })
    }

    async fn rebuild_analytics(&self, org_id: Id) -> StoreResult<()> {
        let mut tx = self.begin(org_id).await?;
        rebuild(&mut tx, org_id).await?;
        self.commit(tx).await
    }

    async fn rebuild_stale_analytics(&self) -> StoreResult<Vec<Id>> {
        let stale: Vec<Id> = sqlx::query_scalar(
            "SELECT id FROM organisations WHERE analytics_version < $1 ORDER BY id",
        )
        .bind(ANALYTICS_VERSION)
        .fetch_all(&self.pool)
        .await?;
        for org in &stale {
            self.rebuild_analytics(*org).await?;
        }
        Ok(stale)
    }
}
