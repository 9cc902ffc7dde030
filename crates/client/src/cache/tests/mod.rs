//! Unit tests of the cache, by area, over shared fixtures: builders for the wire types, an event
//! log that numbers events, and a dump of everything the cache holds for state comparisons.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apply;
mod list;
mod props;
mod resync;

use chrono::{DateTime, Duration, TimeZone, Utc};
use inbox_core::sync::{Change, Event};
use inbox_core::{
    CallOutcome, Channel, ContextBadge, ConversationSummary, DeliveryStatus, Direction, Id,
    Message, Note, NoteKind, StaffRef,
};
use rusqlite::types::Value;

use super::Cache;

/// 10 May 2026 (a Sunday), `hour`:00 UTC, shifted by `days`.
pub(super) fn t(days: i64, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 10, hour, 0, 0).unwrap() + Duration::days(days)
}

pub(super) fn summary(id: Id, title: &str, at: DateTime<Utc>) -> ConversationSummary {
    ConversationSummary {
        id,
        title: title.into(),
        customer_id: None,
        caller_number: None,
        withheld: false,
        preview: format!("preview of {id}"),
        last_channel: Channel::Sms,
        last_activity_at: at,
        unread_count: 0,
        unresolved_calls: 0,
        assignee: None,
        context_badge: ContextBadge::General,
        work_order: None,
        needs_work_order_pick: false,
        intent: None,
    }
}

pub(super) fn staff(id: Id) -> StaffRef {
    StaffRef {
        id,
        name: format!("Staff {id}"),
    }
}

pub(super) fn message(
    id: Id,
    conversation_id: Id,
    direction: Direction,
    body: &str,
    at: DateTime<Utc>,
) -> Message {
    Message {
        attachments: Vec::new(),
        id,
        conversation_id,
        direction,
        channel: Channel::Sms,
        body: body.into(),
        template: None,
        status: DeliveryStatus::Delivered,
        author: None,
        sender_name: "Sam".into(),
        client_id: None,
        error: None,
        created_at: at,
        updated_at: at,
        read_at: None,
        intent: None,
    }
}

pub(super) fn call(
    id: Id,
    conversation_id: Id,
    at: DateTime<Utc>,
    transcript: Option<&str>,
) -> inbox_core::Call {
    inbox_core::Call {
        id,
        conversation_id,
        direction: Direction::Inbound,
        outcome: CallOutcome::Voicemail,
        from_number: Some("+447700900123".into()),
        duration_secs: 38,
        recording_url: None,
        recording_secs: Some(38),
        transcript: transcript.map(str::to_string),
        resolved: false,
        started_at: at,
        summary: "Voicemail - 0:38".into(),
    }
}

pub(super) fn note(id: Id, conversation_id: Id, body: &str, at: DateTime<Utc>) -> Note {
    Note {
        id,
        conversation_id,
        kind: NoteKind::Note,
        body: body.into(),
        author: Some(staff(1)),
        created_at: at,
    }
}

/// Numbers events like the server's log: 1, 2, 3 …
#[derive(Default)]
pub(super) struct Log {
    pub seq: i64,
}

impl Log {
    pub fn ev(&mut self, change: Change) -> Event {
        self.seq += 1;
        Event {
            seq: self.seq,
            at: t(0, 0),
            change,
        }
    }
}

pub(super) fn cache() -> Cache {
    Cache::open_in_memory().unwrap()
}

/// Every table's rows and every indexed (term, document) pair, as text: two caches hold the
/// same state exactly when their dumps are equal.
pub(super) fn dump(cache: &Cache) -> Vec<String> {
    let conn = cache.conn();
    conn.execute_batch(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_terms USING fts5vocab(main, search, 'instance')",
    )
    .unwrap();
    let mut out = Vec::new();
    let tables = super::schema::ALL_TABLES
        .iter()
        .map(|t| format!("SELECT '{t}', * FROM {t}"))
        .chain([
            "SELECT 'meta', * FROM meta".to_string(),
            "SELECT 'fts', term, doc, offset FROM temp.search_terms".to_string(),
        ]);
    for sql in tables {
        let mut stmt = conn.prepare(&sql).unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| r.get::<_, Value>(i).map(|v| format!("{v:?}")))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .unwrap();
        for row in rows {
            out.push(row.unwrap().join("|"));
        }
    }
    out.sort();
    out
}
