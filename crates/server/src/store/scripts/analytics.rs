//! Analytics counters moved inside each write's transaction (issue 16, AIA-1).

use inbox_core::analytics::rollup::apply;
use inbox_core::analytics::{ConversationState, Fact, OrgClock};
use inbox_core::Id;

use crate::store::analytics::org_clock;
use crate::store::db::{args, Db};
use crate::store::rows::{from_ms, ms};
use crate::store::StoreResult;

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
