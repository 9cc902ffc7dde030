//! Analytics counters (issue 16, AIA-1), the part both backends share: the store trait, the
//! organisation's calendar as stored, and the replay of stored history that rebuilds the
//! counters with the same rules live writes use (`inbox_core::analytics::rollup::apply`).

use chrono::{DateTime, Utc};
use inbox_core::analytics::rollup::{accumulate, apply, Counters};
use inbox_core::analytics::{ConversationState, Fact, OpeningHours, OrgClock};
use inbox_core::intent::Intent;
use inbox_core::range::{parse_time_zone, DEFAULT_TIME_ZONE};
use inbox_core::{CallOutcome, Channel, Direction, Id};

/// Bumped when the rules change what a counter holds: organisations counted under an older
/// version are rebuilt when the store opens.
pub const ANALYTICS_VERSION: i64 = 1;

/// The calendar stored on an organisation's row: its zone and opening hours (JSON, NULL for
/// the default). A value that no longer parses falls back to the default rather than stopping
/// every write.
pub fn org_clock(time_zone: &str, opening_hours: Option<&str>) -> OrgClock {
    let tz = parse_time_zone(time_zone)
        .or_else(|_| parse_time_zone(DEFAULT_TIME_ZONE))
        .unwrap_or(chrono_tz::Europe::London);
    let hours = opening_hours
        .and_then(|h| serde_json::from_str::<OpeningHours>(h).ok())
        .filter(|h| h.validate().is_ok())
        .unwrap_or_default();
    OrgClock { tz, hours }
}

/// Whether a message's shown intent is a staff member's, different from the classifier's.
pub fn corrected(intent: Option<&str>, correction: Option<&str>) -> bool {
    correction.is_some_and(|c| Some(c) != intent)
}

/// The label a message shows: the correction, else the classifier's.
pub fn shown(intent: Option<&str>, correction: Option<&str>) -> Option<Intent> {
    correction.or(intent).and_then(Intent::parse)
}

/// The counters' view of a message's intent columns going from `before` to `after`
/// (`(intent, correction)` as stored); None when it shows no intent after.
pub fn relabel(
    at: DateTime<Utc>,
    before: (Option<&str>, Option<&str>),
    after: (Option<&str>, Option<&str>),
) -> Option<Fact> {
    Some(Fact::Relabel {
        at,
        before: shown(before.0, before.1),
        after: shown(after.0, after.1)?,
        corrected_before: corrected(before.0, before.1),
        corrected_after: corrected(after.0, after.1),
    })
}

/// One stored message or call, as a rebuild reads it.
#[derive(Debug, Clone)]
pub struct HistoryItem {
    pub conversation_id: Id,
    pub at: DateTime<Utc>,
    pub kind: HistoryKind,
}

#[derive(Debug, Clone)]
pub enum HistoryKind {
    Inbound {
        channel: Channel,
        intent: Option<Intent>,
        corrected: bool,
    },
    Reply {
        staff: Option<Id>,
    },
    Call {
        direction: Direction,
        outcome: CallOutcome,
    },
}

/// An approval decision from the audit log.
#[derive(Debug, Clone, Copy)]
pub struct HistoryDecision {
    pub written_at: DateTime<Utc>,
    pub decided_at: DateTime<Utc>,
    pub approved: bool,
}

/// Replays an organisation's history in time order: the counters, and each conversation's
/// state at the end (only those not at rest).
pub fn replay(
    clock: &OrgClock,
    mut items: Vec<HistoryItem>,
    decisions: &[HistoryDecision],
) -> (Counters, Vec<(Id, ConversationState)>) {
    // Stable: items of the same instant keep the order they were read in (by id).
    items.sort_by_key(|i| (i.conversation_id, i.at));
    let mut counters = Counters::new();
    let mut states = Vec::new();
    let mut current: Option<(Id, ConversationState)> = None;
    for item in items {
        let state = match &mut current {
            Some((id, state)) if *id == item.conversation_id => state,
            _ => {
                if let Some((id, state)) = current.take() {
                    if state != ConversationState::default() {
                        states.push((id, state));
                    }
                }
                &mut current
                    .insert((item.conversation_id, ConversationState::default()))
                    .1
            }
        };
        let fact = match item.kind {
            HistoryKind::Inbound {
                channel,
                intent,
                corrected,
            } => Fact::Inbound {
                at: item.at,
                channel,
                intent,
                corrected,
            },
            HistoryKind::Reply { staff } => Fact::Reply { at: item.at, staff },
            HistoryKind::Call { direction, outcome } => Fact::Call {
                started_at: item.at,
                direction,
                before: None,
                after: outcome,
            },
        };
        accumulate(&mut counters, apply(clock, state, &fact));
    }
    if let Some((id, state)) = current {
        if state != ConversationState::default() {
            states.push((id, state));
        }
    }
    let mut none = ConversationState::default();
    for d in decisions {
        let fact = Fact::Decision {
            written_at: d.written_at,
            decided_at: d.decided_at,
            approved: d.approved,
        };
        accumulate(&mut counters, apply(clock, &mut none, &fact));
    }
    (counters, states)
}
