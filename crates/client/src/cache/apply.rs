//! Applying sync events (DSK-3): one transaction per batch together with the new cursor, every
//! change an idempotent upsert, replays skipped — and reporting what changed for the UI (LST-12)
//! and the notification policy (DSK-4).

use std::collections::HashSet;

use inbox_core::sync::{Change, Event};
use inbox_core::{Call, Direction, Id, Message, Organisation};
use rusqlite::{params, Connection};

use super::deferred::{Deferred, Index};
use super::rows::{self, Source, Stored};
use super::{read_cursor, write_cursor, Cache, CacheError, CacheResult};

/// What applying events changed, for the UI and the notification policy.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Applied {
    /// The cursor after the batch.
    pub cursor: i64,
    /// Conversation ids whose row or thread changed (deduped, in order of first touch).
    pub conversations: Vec<Id>,
    /// Inbound messages not seen before by this cache (first insert only).
    pub new_inbound: Vec<Message>,
    /// Calls not seen before (first insert only).
    pub new_calls: Vec<Call>,
    /// Every message upserted (outbox reconciliation uses client_id).
    pub messages: Vec<Message>,
    /// Events with seq <= cursor, ignored.
    pub skipped: usize,
    /// The organisation's settings, when they changed (the newest in the batch).
    pub organisation: Option<Organisation>,
    /// Users whose capabilities changed (ACC-2).
    pub access: Vec<Id>,
}

/// Collects `Applied` while a batch runs.
#[derive(Default)]
pub(super) struct Report {
    applied: Applied,
    seen: HashSet<Id>,
}

impl Report {
    fn touch(&mut self, id: Id) {
        if self.seen.insert(id) {
            self.applied.conversations.push(id);
        }
    }
}

impl Cache {
    /// Applies events in ONE transaction together with the new cursor. Events with seq <= the
    /// current cursor (or an earlier event of the batch) are skipped, so applying a batch twice
    /// changes nothing. A failure rolls back the whole batch: cursor and data never disagree.
    ///
    /// A batch that would skip a sequence number after the cursor fails with
    /// [`CacheError::Gap`] and changes nothing.
    ///
    /// A cache that has never synced (cursor None) starts from 0; the sync loop is expected to
    /// load a snapshot first unless the log is replayed from its start.
    pub fn apply_events(&mut self, events: &[Event]) -> CacheResult<Applied> {
        let tx = self.conn.transaction()?;
        let start = read_cursor(&tx)?;
        let mut cursor = start.unwrap_or(0);
        let mut report = Report::default();
        let mut deferred = Deferred::new(Index::Now);
        // The server's log has no gaps: once the cache holds a position, the next event must be
        // the one right after it. Anything else means events were lost in between (a pruned
        // hole, a server bug): the batch is refused and the caller rebuilds from a snapshot
        // rather than silently skipping what it never saw.
        let mut positioned = start.is_some();
        for event in events {
            if event.seq <= cursor {
                report.applied.skipped += 1;
                continue;
            }
            if positioned && event.seq != cursor + 1 {
                return Err(CacheError::Gap {
                    expected: cursor + 1,
                    got: event.seq,
                });
            }
            positioned = true;
            apply_change(&tx, &event.change, &mut report, &mut deferred)?;
            cursor = event.seq;
        }
        deferred.finish(&tx)?;
        if report.applied.skipped < events.len() {
            write_cursor(&tx, Some(cursor))?;
        }
        tx.commit()?;
        report.applied.cursor = cursor;
        Ok(report.applied)
    }
}

impl Cache {
    /// Stores what the server answered to a write of this desktop (a note, an assignment, a
    /// moved call …) at once, without moving the cursor: the same rows arrive again as events,
    /// and applying them twice changes nothing. A message answer never replaces a newer copy.
    /// Returns the conversations touched.
    pub fn apply_answer(&mut self, changes: &[Change]) -> CacheResult<Vec<Id>> {
        let tx = self.conn.transaction()?;
        let mut report = Report::default();
        let mut deferred = Deferred::new(Index::Now);
        for change in changes {
            match change {
                // A message's status can move on between the server's answer and its arrival
                // here (a retried reply failing again at once): the copy with the newer
                // `updated_at` wins, as for fetched thread pages.
                Change::Message(m) => {
                    rows::message(&tx, m, Source::Fetched, &mut deferred)?;
                    report.touch(m.conversation_id);
                }
                other => apply_change(&tx, other, &mut report, &mut deferred)?,
            }
        }
        deferred.finish(&tx)?;
        tx.commit()?;
        Ok(report.applied.conversations)
    }
}

/// Stores one change; what it defers is finished by the caller when the batch ends.
pub(super) fn apply_change(
    tx: &Connection,
    change: &Change,
    report: &mut Report,
    d: &mut Deferred,
) -> CacheResult<()> {
    match change {
        Change::Conversation(s) => {
            rows::conversation(tx, s, d)?;
            report.touch(s.id);
        }
        Change::Message(m) => {
            let stored = rows::message(tx, m, Source::Event, d)?;
            report.touch(m.conversation_id);
            if stored == Stored::Inserted && m.direction == Direction::Inbound {
                report.applied.new_inbound.push(m.clone());
            }
            report.applied.messages.push(m.clone());
        }
        Change::MessagesRead {
            conversation_id,
            read_at,
        } => {
            rows::messages_read(tx, *conversation_id, *read_at)?;
            report.touch(*conversation_id);
        }
        Change::Call(c) => {
            let (stored, moved_from) = rows::call(tx, c, Source::Event, d)?;
            if let Some(from) = moved_from {
                report.touch(from);
            }
            report.touch(c.conversation_id);
            if stored == Stored::Inserted {
                report.applied.new_calls.push(c.clone());
            }
        }
        Change::Note(n) => {
            rows::note(tx, n, Source::Event, d)?;
            report.touch(n.conversation_id);
        }
        Change::Customer(c) => rows::customer(tx, c, d)?,
        Change::WorkOrder(w) => {
            tx.prepare_cached(
                "INSERT INTO work_orders (id, data) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            )?
            .execute(params![w.id, serde_json::to_string(w)?])?;
        }
        Change::QuickMessage(q) => super::settings::put_quick_message(tx, q)?,
        Change::QuickMessageDeleted { id } => {
            tx.prepare_cached("DELETE FROM quick_messages WHERE id = ?1")?
                .execute([id])?;
        }
        Change::Template(t) => super::settings::put_template(tx, t)?,
        Change::TemplateDeleted { id } => super::settings::delete_template(tx, *id)?,
        Change::Staff(s) => super::settings::put_staff(tx, s)?,
        // The session holds the organisation; the engine passes it on (see `sync::apply`).
        Change::Organisation(o) => report.applied.organisation = Some(o.clone()),
        Change::Access { user_ids } => report.applied.access.extend(user_ids),
        // A newer server's kind of event: nothing here reads it.
        Change::Unsupported => {}
    }
    Ok(())
}
