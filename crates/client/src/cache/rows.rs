//! Storing one row of each kind the server sends — conversations, messages, calls, notes,
//! customers — keeping the activity table (LST-9), the search index (LST-2) and the outbox
//! (DSK-5) in step. Shared by events, snapshots, REST thread pages and bulk loads.

use chrono::{DateTime, Utc};
use inbox_core::{Call, ConversationSummary, Customer, Direction, Id, Message, Note};
use rusqlite::{params, Connection, OptionalExtension};

use super::deferred::Deferred;
use super::search::{self, TITLE_DOC};
use super::{ms, CacheResult};

/// Where a row comes from. Events arrive in log order, so an event's copy always wins. A REST
/// page may have been read before events the cache has since applied, so a fetched copy only
/// fills gaps (or, for a message, replaces an older `updated_at`); the log brings the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Event,
    Fetched,
}

/// What storing a row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stored {
    /// The cache had never seen it.
    Inserted,
    Updated,
    /// Identical to the cached copy, or a fetched copy that does not replace it.
    Unchanged,
}

/// `activity.kind`: the first three are thread entries, in the server's thread order.
pub(super) mod kind {
    pub const MESSAGE: i64 = 0;
    pub const CALL: i64 = 1;
    pub const NOTE: i64 = 2;
    pub const CONVERSATION: i64 = 3;
    pub const STATUS: i64 = 4;
}

fn record_activity(
    conn: &Connection,
    conversation_id: Id,
    at: DateTime<Utc>,
    kind: i64,
    ref_id: Id,
) -> CacheResult<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO activity (conversation_id, at, kind, ref_id) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![conversation_id, ms(at), kind, ref_id])?;
    Ok(())
}

/// Forgets where an item used to be, when it moved to another conversation or time.
fn forget_activity(
    conn: &Connection,
    conversation_id: Id,
    kind: i64,
    ref_id: Id,
) -> CacheResult<()> {
    conn.prepare_cached(
        "DELETE FROM activity WHERE conversation_id = ?1 AND kind = ?2 AND ref_id = ?3",
    )?
    .execute(params![conversation_id, kind, ref_id])?;
    Ok(())
}

pub(super) fn conversation(
    conn: &Connection,
    s: &ConversationSummary,
    d: &mut Deferred,
) -> CacheResult<()> {
    let title_key = search::key(s.id, TITLE_DOC)?;
    let json = serde_json::to_string(s)?;
    let assignee = s.assignee.as_ref().map(|a| a.id);
    type Title = (String, Option<String>, Option<Id>, String);
    let old: Option<Title> = conn
        .prepare_cached(
            "SELECT title, caller_number, customer_id, search_text FROM conversations WHERE id = ?1",
        )?
        .query_row([s.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    match old {
        Some((title, number, customer, old_text)) => {
            // Only the columns that move with every event: assigning a column costs its
            // indexes a write even when the value is the same.
            conn.prepare_cached(
                "UPDATE conversations SET last_activity_at = ?2, unread_count = ?3,
                     unresolved_calls = ?4, assignee_id = ?5, data = ?6
                 WHERE id = ?1",
            )?
            .execute(params![
                s.id,
                ms(s.last_activity_at),
                s.unread_count,
                s.unresolved_calls,
                assignee,
                json,
            ])?;
            // Formatting phone numbers is the costly part of a row; most updates keep the title.
            if title != s.title || number != s.caller_number || customer != s.customer_id {
                let text = search::title_text(s, customer_forms(conn, s.customer_id)?.as_deref());
                conn.prepare_cached(
                    "UPDATE conversations SET customer_id = ?2, title = ?3, caller_number = ?4,
                         search_text = ?5
                     WHERE id = ?1",
                )?
                .execute(params![
                    s.id,
                    s.customer_id,
                    s.title,
                    s.caller_number,
                    text
                ])?;
                d.unindex(title_key, &old_text);
                d.index(title_key, &text);
            }
        }
        None => {
            let text = search::title_text(s, customer_forms(conn, s.customer_id)?.as_deref());
            conn.prepare_cached(
                "INSERT INTO conversations (id, last_activity_at, unread_count, unresolved_calls,
                     assignee_id, customer_id, title, caller_number, search_text, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                s.id,
                ms(s.last_activity_at),
                s.unread_count,
                s.unresolved_calls,
                assignee,
                s.customer_id,
                s.title,
                s.caller_number,
                text,
                json,
            ])?;
            d.index(title_key, &text);
        }
    }
    d.row(s.id);
    record_activity(conn, s.id, s.last_activity_at, kind::CONVERSATION, s.id)
}

fn customer_forms(conn: &Connection, customer_id: Option<Id>) -> CacheResult<Option<String>> {
    let Some(id) = customer_id else {
        return Ok(None);
    };
    Ok(conn
        .prepare_cached("SELECT phone_forms FROM customers WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// Stores a customer; when their numbers change, their conversations' title documents follow so
/// a search by any of the numbers finds them.
pub(super) fn customer(conn: &Connection, c: &Customer, d: &mut Deferred) -> CacheResult<()> {
    let forms = search::phone_forms(&c.phones);
    let old = customer_forms(conn, Some(c.id))?;
    conn.prepare_cached(
        "INSERT INTO customers (id, phone_forms, data) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET phone_forms = excluded.phone_forms, data = excluded.data",
    )?
    .execute(params![c.id, forms, serde_json::to_string(c)?])?;
    if old.as_deref() == Some(forms.as_str()) {
        return Ok(());
    }
    let rows: Vec<(Id, String, String)> = conn
        .prepare_cached("SELECT id, search_text, data FROM conversations WHERE customer_id = ?1")?
        .query_map([c.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, old_text, data) in rows {
        let summary: ConversationSummary = serde_json::from_str(&data)?;
        let text = search::title_text(&summary, Some(&forms));
        conn.prepare_cached("UPDATE conversations SET search_text = ?2 WHERE id = ?1")?
            .execute(params![id, text])?;
        let key = search::key(id, TITLE_DOC)?;
        d.unindex(key, &old_text);
        d.index(key, &text);
    }
    Ok(())
}

/// What the cache holds of an item: (conversation, document number, time, JSON, searched text).
type Held = (Id, i64, i64, String, Option<String>);
/// A message: (conversation, document number, created, updated, JSON, body).
type HeldMessage = (Id, i64, i64, i64, String, Option<String>);

/// What the search index holds of a message: its text and its files' names.
fn searched(body: &str, files: &[inbox_core::media::Attachment]) -> String {
    let mut text = body.to_string();
    for f in files {
        text.push(' ');
        text.push_str(&f.file_name);
    }
    text
}

pub(super) fn message(
    conn: &Connection,
    m: &Message,
    source: Source,
    d: &mut Deferred,
) -> CacheResult<Stored> {
    search::key(m.conversation_id, TITLE_DOC)?;
    let json = serde_json::to_string(m)?;
    let old: Option<HeldMessage> = conn
        .prepare_cached(
            "SELECT conversation_id, doc, created_at, updated_at, data, data ->> '$.body'
             FROM messages WHERE id = ?1",
        )?
        .query_row([m.id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    // The server now has this reply: its copy replaces the desktop's (DSK-5).
    if let Some(client_id) = &m.client_id {
        conn.prepare_cached("DELETE FROM outbox WHERE client_id = ?1")?
            .execute([client_id])?;
        // Its files' bytes with it: the server has them now.
        conn.prepare_cached("DELETE FROM outbox_files WHERE client_id = ?1")?
            .execute([client_id])?;
    }
    if let Some((_, _, _, updated, data, _)) = &old {
        let stale = source == Source::Fetched && ms(m.updated_at) <= *updated;
        if *data == json || stale {
            return Ok(Stored::Unchanged);
        }
    }
    let doc = match &old {
        Some((_, doc, ..)) => *doc,
        None => d.next_doc(conn)?,
    };
    conn.prepare_cached(
        "INSERT INTO messages (id, conversation_id, created_at, updated_at, inbound, read_at, doc, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET
             conversation_id = excluded.conversation_id,
             created_at = excluded.created_at,
             updated_at = excluded.updated_at,
             inbound = excluded.inbound,
             read_at = excluded.read_at,
             data = excluded.data",
    )?
    .execute(params![
        m.id,
        m.conversation_id,
        ms(m.created_at),
        ms(m.updated_at),
        m.direction == Direction::Inbound,
        m.read_at.map(ms),
        doc,
        json,
    ])?;
    let moved_from = old
        .as_ref()
        .map(|o| o.0)
        .filter(|c| *c != m.conversation_id);
    // Issue 17: a message is found by its files' names too ("V5C", "quote.pdf").
    let text = searched(&m.body, &m.attachments);
    let old_text = old.as_ref().and_then(|o| {
        let body = o.5.as_deref()?;
        let files = serde_json::from_str::<Message>(&o.4)
            .map(|old| old.attachments)
            .unwrap_or_default();
        Some(searched(body, &files))
    });
    let text_changed = old_text.as_deref() != Some(text.as_str());
    if text_changed || moved_from.is_some() {
        if let (Some((from, ..)), Some(old_text)) = (&old, &old_text) {
            d.unindex(search::key(*from, doc)?, old_text);
        }
        d.index(search::key(m.conversation_id, doc)?, &text);
    }
    if let Some((from, _, created, ..)) = &old {
        if moved_from.is_some() || *created != ms(m.created_at) {
            forget_activity(conn, *from, kind::MESSAGE, m.id)?;
        }
        if moved_from.is_some() {
            forget_activity(conn, *from, kind::STATUS, m.id)?;
        }
    }
    // Creation (the thread's order) and every status change seen are activity (LST-9).
    record_activity(conn, m.conversation_id, m.created_at, kind::MESSAGE, m.id)?;
    if m.updated_at != m.created_at {
        record_activity(conn, m.conversation_id, m.updated_at, kind::STATUS, m.id)?;
    }
    d.bump(m.conversation_id, m.created_at.max(m.updated_at));
    Ok(if old.is_some() {
        Stored::Updated
    } else {
        Stored::Inserted
    })
}

/// Stores a call; returns what happened and, when the call moved (VOI-6), where it came from.
pub(super) fn call(
    conn: &Connection,
    c: &Call,
    source: Source,
    d: &mut Deferred,
) -> CacheResult<(Stored, Option<Id>)> {
    search::key(c.conversation_id, TITLE_DOC)?;
    let json = serde_json::to_string(c)?;
    let old: Option<Held> = conn
        .prepare_cached(
            "SELECT conversation_id, doc, started_at, data, data ->> '$.transcript' FROM calls WHERE id = ?1",
        )?
        .query_row([c.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .optional()?;
    if let Some((_, _, _, data, _)) = &old {
        if *data == json || source == Source::Fetched {
            return Ok((Stored::Unchanged, None));
        }
    }
    let doc = match &old {
        Some((_, doc, ..)) => *doc,
        None => d.next_doc(conn)?,
    };
    conn.prepare_cached(
        "INSERT INTO calls (id, conversation_id, started_at, doc, data) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET
             conversation_id = excluded.conversation_id,
             started_at = excluded.started_at,
             data = excluded.data",
    )?
    .execute(params![
        c.id,
        c.conversation_id,
        ms(c.started_at),
        doc,
        json
    ])?;
    let moved_from = old
        .as_ref()
        .map(|o| o.0)
        .filter(|from| *from != c.conversation_id);
    let transcript = c.transcript.as_deref().unwrap_or("");
    let text_changed = old
        .as_ref()
        .is_none_or(|o| o.4.as_deref().unwrap_or("") != transcript);
    if text_changed || moved_from.is_some() {
        if let Some((from, _, _, _, Some(text))) = &old {
            d.unindex(search::key(*from, doc)?, text);
        }
        d.index(search::key(c.conversation_id, doc)?, transcript);
    }
    if let Some((from, _, started, ..)) = &old {
        if moved_from.is_some() || *started != ms(c.started_at) {
            forget_activity(conn, *from, kind::CALL, c.id)?;
        }
    }
    record_activity(conn, c.conversation_id, c.started_at, kind::CALL, c.id)?;
    d.bump(c.conversation_id, c.started_at);
    let stored = if old.is_some() {
        Stored::Updated
    } else {
        Stored::Inserted
    };
    Ok((stored, moved_from))
}

pub(super) fn note(
    conn: &Connection,
    n: &Note,
    source: Source,
    d: &mut Deferred,
) -> CacheResult<Stored> {
    let json = serde_json::to_string(n)?;
    let old: Option<(Id, i64, String)> = conn
        .prepare_cached("SELECT conversation_id, created_at, data FROM notes WHERE id = ?1")?
        .query_row([n.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    if let Some((from, at, data)) = &old {
        if *data == json || source == Source::Fetched {
            return Ok(Stored::Unchanged);
        }
        if *from != n.conversation_id || *at != ms(n.created_at) {
            forget_activity(conn, *from, kind::NOTE, n.id)?;
        }
    }
    conn.prepare_cached(
        "INSERT INTO notes (id, conversation_id, created_at, data) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET
             conversation_id = excluded.conversation_id,
             created_at = excluded.created_at,
             data = excluded.data",
    )?
    .execute(params![n.id, n.conversation_id, ms(n.created_at), json])?;
    record_activity(conn, n.conversation_id, n.created_at, kind::NOTE, n.id)?;
    d.bump(n.conversation_id, n.created_at);
    Ok(if old.is_some() {
        Stored::Updated
    } else {
        Stored::Inserted
    })
}

/// THR-7: every inbound message of the conversation not yet read is read at `read_at` (the
/// JSON copy too, so reads return what the server would). Returns how many changed.
pub(super) fn messages_read(
    conn: &Connection,
    conversation_id: Id,
    read_at: DateTime<Utc>,
) -> CacheResult<usize> {
    let wire = serde_json::to_value(read_at)?;
    // The thread's messages are found through `activity`, the only per-conversation index.
    let n = conn
        .prepare_cached(
            "UPDATE messages SET read_at = ?2, data = json_set(data, '$.read_at', json(?3))
             WHERE id IN (SELECT ref_id FROM activity WHERE conversation_id = ?1 AND kind = 0)
               AND conversation_id = ?1 AND inbound = 1 AND read_at IS NULL",
        )?
        .execute(params![conversation_id, ms(read_at), wire.to_string()])?;
    Ok(n)
}
