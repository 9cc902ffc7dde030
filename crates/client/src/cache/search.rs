//! The local search index (LST-2): one FTS5 document per conversation title, message body and
//! call transcript, matched like the server's (`inbox_core::search::SearchText`).
//!
//! A document's rowid is `conversation_id << 32 | doc`: the title is doc 0, messages and calls get
//! a number from `meta.next_doc` when first stored (see `deferred`). Matching therefore yields
//! conversation ids straight from the index (`rowid >> 32`) without reading a row per hit —
//! several times faster than an UNINDEXED column at a million documents. Conversation ids must
//! fit in 31 bits (two billion conversations on the server); anything else is refused with
//! `IdOutOfRange`.
//!
//! The table has external content (the `search_source` view over the rows), so documents are
//! kept in step with the 'delete' command and the exact text they were indexed with, never a
//! plain DELETE, and a bulk load ends with one 'rebuild' (STYLE, performance notes).

use inbox_core::search::indexed_phone_forms;
use inbox_core::{ConversationSummary, Id};
use rusqlite::Connection;

use super::{CacheError, CacheResult};

/// The title document's number.
pub(super) const TITLE_DOC: i64 = 0;

/// The rowid of document `doc` of a conversation.
pub(super) fn key(conversation_id: Id, doc: i64) -> CacheResult<i64> {
    if !(0..=i64::from(i32::MAX)).contains(&conversation_id) {
        return Err(CacheError::IdOutOfRange(conversation_id));
    }
    Ok((conversation_id << 32) | (doc & 0xFFFF_FFFF))
}

/// Adds a document. The rowid must not be in use.
pub(super) fn insert(conn: &Connection, rowid: i64, text: &str) -> CacheResult<()> {
    conn.prepare_cached("INSERT INTO search (rowid, text) VALUES (?1, ?2)")?
        .execute(rusqlite::params![rowid, text])?;
    Ok(())
}

/// Removes a document, given the exact text it was indexed with.
pub(super) fn remove(conn: &Connection, rowid: i64, text: &str) -> CacheResult<()> {
    conn.prepare_cached("INSERT INTO search (search, rowid, text) VALUES ('delete', ?1, ?2)")?
        .execute(rusqlite::params![rowid, text])?;
    Ok(())
}

/// Rebuilds the whole index from the rows in one pass (the view lists them in rowid order), then
/// merges it into one segment: after a bulk load far faster than keeping it in step row by row.
pub(super) fn rebuild(conn: &Connection) -> CacheResult<()> {
    conn.execute_batch(
        "INSERT INTO search (search) VALUES ('rebuild');
         INSERT INTO search (search) VALUES ('optimize');",
    )?;
    Ok(())
}

/// What a conversation is found by: its title (the customer's name, or the number), and every
/// number it is known by in national and international digits — the caller's number and, when
/// the cache has the customer, the customer's numbers (`customer_forms`).
pub(super) fn title_text(s: &ConversationSummary, customer_forms: Option<&str>) -> String {
    let mut text = s.title.clone();
    for forms in s
        .caller_number
        .as_deref()
        .map(indexed_phone_forms)
        .into_iter()
        .chain(customer_forms.map(str::to_string))
    {
        if !forms.is_empty() {
            text.push(' ');
            text.push_str(&forms);
        }
    }
    text
}

/// A customer's numbers as the index holds them.
pub(super) fn phone_forms(phones: &[String]) -> String {
    phones
        .iter()
        .map(|p| indexed_phone_forms(p))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use inbox_core::search::SearchText;

    #[test]
    fn lst2_keys_name_the_conversation_in_the_high_bits() {
        let k = key(12_345, 77).unwrap();
        assert_eq!(k >> 32, 12_345);
        assert_eq!(k & 0xFFFF_FFFF, 77);
        assert_eq!(key(7, TITLE_DOC).unwrap(), 7 << 32);
        assert!(matches!(key(-1, 1), Err(CacheError::IdOutOfRange(-1))));
        assert!(key(1 << 31, 1).is_err());
        assert!(key(i64::from(i32::MAX), 0xFFFF_FFFF).unwrap() > 0);
    }

    #[test]
    fn lst2_query_ors_phone_forms_with_all_words() {
        let s = SearchText::parse("07700 900123").unwrap();
        let q = s.fts5_query();
        assert!(q.contains("\"447700900123\"*"));
        assert!(q.contains("\"07700900123\"*"));
        assert!(q.contains("(\"07700\" AND \"900123\")"), "{q}");
        let w = SearchText::parse("Brake pads").unwrap().fts5_query();
        assert_eq!(w, "(\"brake\"* AND \"pads\"*)");
    }

    #[test]
    fn lst2_phone_forms_join_every_number() {
        assert_eq!(
            phone_forms(&["+447700900123".into(), "+14155552671".into()]),
            "447700900123 07700900123 14155552671"
        );
    }
}
