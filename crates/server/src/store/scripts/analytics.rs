//! Analytics counters (issue 16, AIA-1): moved inside each write's transaction, rebuilt from
//! history, and read for the report.

use std::collections::HashMap;

use chrono::NaiveDate;
use inbox_core::analytics::report::{previous_period, Inputs, Waiting, WaitingItem, WAITING_SHOWN};
use inbox_core::analytics::rollup::{apply, epoch_day, from_epoch_day, Counters, Metric};
use inbox_core::analytics::{ConversationState, Fact, OrgClock};
use inbox_core::{CallOutcome, Channel, Direction, Id};

use super::load::party_name;
use crate::store::analytics::{
    corrected, org_clock, replay, shown, HistoryDecision, HistoryItem, HistoryKind,
    ANALYTICS_VERSION,
};
use crate::store::backend::script;
use crate::store::db::{args, Arg, Db, Row};
use crate::store::rows::{from_ms, ms};
use crate::store::Store;
use crate::store::{Actor, StoreResult};

pub(crate) async fn clock(db: &mut impl Db, org: Id) -> StoreResult<OrgClock> {
    let (tz, hours) = db
        .one(
            "SELECT time_zone, opening_hours FROM organisations WHERE id = $1",
            args![org],
            |r| Ok((r.text(0)?, r.opt_text(1)?)),
        )
        .await?;
    Ok(org_clock(&tz, hours.as_deref()))
}

async fn state(db: &mut impl Db, conversation: Id) -> StoreResult<ConversationState> {
    db.one(
        "SELECT awaiting_since, missed_call_at FROM conversations WHERE id = $1",
        args![conversation],
        |r| {
            Ok(ConversationState {
                awaiting_since: r.opt_int(0)?.map(from_ms),
                missed_call_at: r.opt_int(1)?.map(from_ms),
            })
        },
    )
    .await
}

/// Saves what the rules remember about a conversation.
pub(crate) async fn put_state(
    db: &mut impl Db,
    conversation: Id,
    s: &ConversationState,
) -> StoreResult<()> {
    db.exec(
        "UPDATE conversations SET awaiting_since = $2, missed_call_at = $3 WHERE id = $1",
        args![
            conversation,
            s.awaiting_since.map(ms),
            s.missed_call_at.map(ms)
        ],
    )
    .await?;
    Ok(())
}

/// Moves the counters one write changes, inside that write's transaction. `conversation` is
/// None for facts that do not depend on a conversation's state (approvals, intents).
pub(crate) async fn record(
    db: &mut impl Db,
    org: Id,
    conversation: Option<Id>,
    fact: Fact,
) -> StoreResult<()> {
    let clock = clock(db, org).await?;
    let before = match conversation {
        Some(c) => state(db, c).await?,
        None => ConversationState::default(),
    };
    let mut after = before;
    let deltas = apply(&clock, &mut after, &fact);
    if let Some(c) = conversation.filter(|_| after != before) {
        put_state(db, c, &after).await?;
    }
    for d in deltas {
        db.exec(
            "INSERT INTO analytics_daily (org_id, metric, day, key, n) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (org_id, metric, day, key) DO UPDATE SET n = analytics_daily.n + excluded.n",
            args![org, d.metric.as_str(), d.day, &d.key, d.n],
        )
        .await?;
    }
    Ok(())
}

fn message_item(r: &Row) -> StoreResult<HistoryItem> {
    let kind = if r.text(2)? == Direction::Inbound.as_str() {
        let (intent, correction) = (r.opt_text(5)?, r.opt_text(6)?);
        let (intent, correction) = (intent.as_deref(), correction.as_deref());
        HistoryKind::Inbound {
            channel: Channel::parse(&r.text(3)?).unwrap_or(Channel::Sms),
            intent: shown(intent, correction),
            corrected: corrected(intent, correction),
        }
    } else {
        HistoryKind::Reply {
            staff: r.opt_int(4)?,
        }
    };
    Ok(HistoryItem {
        conversation_id: r.int(0)?,
        at: r.time(1)?,
        kind,
    })
}

fn call_item(r: &Row) -> StoreResult<HistoryItem> {
    let direction = Direction::parse(&r.text(2)?).unwrap_or(Direction::Inbound);
    let outcome = CallOutcome::parse(&r.text(3)?).unwrap_or(CallOutcome::Errored);
    Ok(HistoryItem {
        conversation_id: r.int(0)?,
        at: r.time(1)?,
        kind: HistoryKind::Call { direction, outcome },
    })
}

/// The messages and calls a replay reads, in id order: an organisation's (`scope` "org_id")
/// or one conversation's ("conversation_id").
async fn items(db: &mut impl Db, scope: &str, id: Id) -> StoreResult<Vec<HistoryItem>> {
    let messages = format!(
        "SELECT conversation_id, created_at, direction, channel, author_id, intent, intent_correction
         FROM messages WHERE {scope} = $1 ORDER BY id"
    );
    let mut items = db.all(&messages, args![id], message_item).await?;
    let calls = format!(
        "SELECT conversation_id, started_at, direction, outcome FROM calls WHERE {scope} = $1 ORDER BY id"
    );
    items.extend(db.all(&calls, args![id], call_item).await?);
    Ok(items)
}

/// Everything a rebuild reads.
async fn history(
    db: &mut impl Db,
    org: Id,
) -> StoreResult<(Vec<HistoryItem>, Vec<HistoryDecision>)> {
    let items = items(db, "org_id", org).await?;
    let decisions = db
        .all(
            "SELECT m.created_at, a.at, a.action = 'message.approved' FROM audit_log a
             JOIN messages m ON m.id = a.subject_id
             WHERE a.org_id = $1 AND a.subject_type = 'message'
               AND a.action IN ('message.approved', 'message.rejected')
             ORDER BY a.id",
            args![org],
            |r| {
                Ok(HistoryDecision {
                    written_at: r.time(0)?,
                    decided_at: r.time(1)?,
                    approved: r.flag(2)?,
                })
            },
        )
        .await?;
    Ok((items, decisions))
}

/// Works out these conversations' state again from their items, after something moved
/// between them (a call reassigned): what waits and what awaits a call-back follows the items.
pub(crate) async fn restate(db: &mut impl Db, org: Id, conversations: &[Id]) -> StoreResult<()> {
    let clock = clock(db, org).await?;
    for &c in conversations {
        let (_, states) = replay(&clock, items(db, "conversation_id", c).await?, &[]);
        let state = states.first().map(|(_, s)| *s).unwrap_or_default();
        put_state(db, c, &state).await?;
    }
    Ok(())
}

/// Recounts one organisation inside the caller's transaction (which holds its lock, so no
/// write of that organisation interleaves).
pub(crate) async fn rebuild(db: &mut impl Db, org: Id) -> StoreResult<()> {
    let clock = clock(db, org).await?;
    let (items, decisions) = history(db, org).await?;
    let (counters, states) = replay(&clock, items, &decisions);
    db.exec("DELETE FROM analytics_daily WHERE org_id = $1", args![org])
        .await?;
    db.exec(
        "UPDATE conversations SET awaiting_since = NULL, missed_call_at = NULL
         WHERE org_id = $1 AND (awaiting_since IS NOT NULL OR missed_call_at IS NOT NULL)",
        args![org],
    )
    .await?;
    put_states(db, &states).await?;
    put_counters(db, org, &counters).await?;
    db.exec(
        "UPDATE organisations SET analytics_version = $2 WHERE id = $1",
        args![org, ANALYTICS_VERSION],
    )
    .await?;
    Ok(())
}

/// Rows a bulk statement writes at once: a big organisation has a great many states and
/// counters, and one statement per row would cost PostgreSQL a round trip each. Well inside
/// both databases' limit on parameters (SQLite 32766, PostgreSQL 65535).
pub(crate) const BULK_ROWS: usize = 1000;

/// The placeholders of `rows` rows of `width` values, numbered from `$first`:
/// `($2, $3), ($4, $5)` for `bulk_values(2, 2, 2)`.
pub(crate) fn bulk_values(rows: usize, width: usize, first: usize) -> String {
    let row = |i: usize| {
        let cols: Vec<String> = (0..width)
            .map(|c| format!("${}", first + i * width + c))
            .collect();
        format!("({})", cols.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

/// Saves the states a rebuild worked out, in bulk.
async fn put_states(db: &mut impl Db, states: &[(Id, ConversationState)]) -> StoreResult<()> {
    for chunk in states.chunks(BULK_ROWS) {
        let sql = format!(
            "WITH s (id, a, m) AS (VALUES {})
             UPDATE conversations SET awaiting_since = s.a, missed_call_at = s.m
             FROM s WHERE conversations.id = s.id",
            bulk_values(chunk.len(), 3, 1)
        );
        let args: Vec<Arg> = chunk
            .iter()
            .flat_map(|(id, s)| {
                [
                    Arg::from(*id),
                    s.awaiting_since.map(ms).into(),
                    s.missed_call_at.map(ms).into(),
                ]
            })
            .collect();
        db.exec(&sql, &args).await?;
    }
    Ok(())
}

/// Writes a rebuild's counters, in bulk.
async fn put_counters(db: &mut impl Db, org: Id, counters: &Counters) -> StoreResult<()> {
    let rows: Vec<_> = counters.iter().collect();
    for chunk in rows.chunks(BULK_ROWS) {
        let sql = format!(
            "INSERT INTO analytics_daily (org_id, metric, day, key, n) VALUES {}",
            bulk_values(chunk.len(), 5, 1)
        );
        let args: Vec<Arg> = chunk
            .iter()
            .flat_map(|((day, metric, key), n)| {
                [
                    Arg::from(org),
                    metric.as_str().into(),
                    (*day).into(),
                    key.as_str().into(),
                    (**n).into(),
                ]
            })
            .collect();
        db.exec(&sql, &args).await?;
    }
    Ok(())
}

/// Organisations counted under an older `ANALYTICS_VERSION`, to rebuild.
pub(crate) async fn stale(db: &mut impl Db) -> StoreResult<Vec<Id>> {
    db.all(
        "SELECT id FROM organisations WHERE analytics_version < $1 ORDER BY id",
        args![ANALYTICS_VERSION],
        |r| r.int(0),
    )
    .await
}

/// The conversations waiting for a reply, oldest first.
async fn waiting(db: &mut impl Db, org: Id) -> StoreResult<Waiting> {
    let total = db
        .int(
            "SELECT count(*) FROM conversations WHERE org_id = $1 AND awaiting_since IS NOT NULL",
            args![org],
        )
        .await?;
    let rows = db
        .all(
            "SELECT id, awaiting_since, last_channel, preview FROM conversations
             WHERE org_id = $1 AND awaiting_since IS NOT NULL ORDER BY awaiting_since, id LIMIT $2",
            args![org, WAITING_SHOWN],
            |r| Ok((r.int(0)?, r.time(1)?, r.text(2)?, r.text(3)?)),
        )
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for (id, since, channel, preview) in rows {
        items.push(WaitingItem {
            conversation_id: id,
            title: party_name(db, id).await?,
            channel: Channel::parse(&channel).unwrap_or(Channel::Sms),
            since,
            preview,
        });
    }
    Ok(Waiting { total, items })
}

/// Day by day, for the metrics the report charts. One range of the primary key per metric:
/// each figure reads only its own rows.
async fn daily(
    db: &mut impl Db,
    org: Id,
    (from_day, to_day): (i64, i64),
) -> StoreResult<Vec<(i64, Metric, String, i64)>> {
    let mut daily = Vec::new();
    for metric in [Metric::Inbound, Metric::Intent] {
        let rows = db
            .all(
                "SELECT day, key, n FROM analytics_daily
                 WHERE org_id = $1 AND metric = $2 AND day BETWEEN $3 AND $4",
                args![org, metric.as_str(), from_day, to_day],
                |r| Ok((r.int(0)?, metric, r.text(1)?, r.int(2)?)),
            )
            .await?;
        daily.extend(rows);
    }
    Ok(daily)
}

/// Every other metric, summed over the range.
async fn totals(
    db: &mut impl Db,
    org: Id,
    (from_day, to_day): (i64, i64),
) -> StoreResult<Vec<(Metric, String, i64)>> {
    let mut totals = Vec::new();
    for metric in Metric::ALL
        .into_iter()
        .filter(|m| !matches!(m, Metric::Inbound | Metric::Intent))
    {
        let rows = db
            .all(
                "SELECT key, CAST(sum(n) AS bigint) FROM analytics_daily
                 WHERE org_id = $1 AND metric = $2 AND day BETWEEN $3 AND $4 GROUP BY key",
                args![org, metric.as_str(), from_day, to_day],
                |r| Ok((metric, r.text(0)?, r.int(1)?)),
            )
            .await?;
        totals.extend(rows);
    }
    Ok(totals)
}

/// What the report is built from (`Store::analytics_inputs`).
pub(crate) async fn inputs(
    db: &mut impl Db,
    org: Id,
    from: Option<NaiveDate>,
    to: NaiveDate,
    per_staff: bool,
) -> StoreResult<Inputs> {
    let first_counted = db
        .one(
            "SELECT min(day) FROM analytics_daily WHERE org_id = $1 AND metric = 'inbound'",
            args![org],
            |r| r.opt_int(0),
        )
        .await?;
    let to_day = epoch_day(to);
    let all_time = from.is_none();
    let from = from.unwrap_or_else(|| from_epoch_day(first_counted.unwrap_or(to_day).min(to_day)));
    let days = (epoch_day(from), to_day);
    // All time has no period before it.
    let previous_total = if all_time {
        None
    } else {
        let (a, b) = previous_period(from, to);
        let sql = "SELECT CAST(coalesce(sum(n), 0) AS bigint) FROM analytics_daily
                   WHERE org_id = $1 AND metric = 'inbound' AND day BETWEEN $2 AND $3";
        Some(db.int(sql, args![org, a, b]).await?)
    };
    let staff = if per_staff {
        let sql = "SELECT id, name FROM users WHERE org_id = $1";
        let names = db
            .all(sql, args![org], |r| Ok((r.int(0)?, r.text(1)?)))
            .await?;
        Some(names.into_iter().collect::<HashMap<_, _>>())
    } else {
        None
    };
    Ok(Inputs {
        from,
        to,
        daily: daily(db, org, days).await?,
        totals: totals(db, org, days).await?,
        previous_total,
        waiting: waiting(db, org).await?,
        staff,
    })
}

/// The Analytics tab's data (issue 16, AIA-1).
impl Store {
    /// What the report is built from, for local dates `[from, to]` of the caller's
    /// organisation; `from` None starts at its first counted day. Names for per-staff figures
    /// only when `per_staff`.
    pub async fn analytics_inputs(
        &self,
        actor: &Actor,
        from: Option<NaiveDate>,
        to: NaiveDate,
        per_staff: bool,
    ) -> StoreResult<Inputs> {
        let org = actor.org_id;
        self.read(script!(|c| inputs(c, org, from, to, per_staff)))
            .await
    }

    /// Recounts an organisation from its stored history.
    pub async fn rebuild_analytics(&self, org_id: Id) -> StoreResult<()> {
        self.write(Some(org_id), script!(|tx| rebuild(tx, org_id)))
            .await
    }

    /// Recounts every organisation counted under an older [`ANALYTICS_VERSION`]; returns them.
    pub async fn rebuild_stale_analytics(&self) -> StoreResult<Vec<Id>> {
        let stale = self.read(script!(|c| stale(c))).await?;
        for org in &stale {
            self.rebuild_analytics(*org).await?;
        }
        Ok(stale)
    }
}

#[cfg(test)]
mod tests {
    use super::bulk_values;

    #[test]
    fn bulk_values_number_rows_after_the_first_placeholders() {
        assert_eq!(bulk_values(2, 2, 2), "($2, $3), ($4, $5)");
        assert_eq!(bulk_values(1, 3, 1), "($1, $2, $3)");
    }
}
