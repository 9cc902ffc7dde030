//! Rebuilding the cache from the server's snapshot pages (resync), and bulk loads that fill the
//! cache without per-row search maintenance.

use inbox_core::sync::{Change, Snapshot};
use inbox_core::ThreadItem;
use rusqlite::OptionalExtension;

use super::apply::{apply_change, Report};
use super::deferred::{Deferred, Index};
use super::rows::{self, Source};
use super::{schema, search, settings, write_cursor, Cache, CacheResult};

impl Cache {
    /// Resync from `GET /api/v1/sync/snapshot` pages, one transaction per page.
    ///
    /// The `first` page wipes conversations, threads and reference data (not settings, not the
    /// outbox) and clears the cursor; every page upserts its conversations and their newest
    /// thread items (the first also its quick messages, templates and staff); the `last` page
    /// sets the cursor to the **first** page's `seq` (later pages may be newer; replaying the
    /// events since the first page's position is harmless, skipping them is not). A crash
    /// mid-resync leaves the cursor None, so the next start resyncs again.
    pub fn apply_snapshot_page(
        &mut self,
        page: &Snapshot,
        first: bool,
        last: bool,
    ) -> CacheResult<()> {
        let tx = self.conn.transaction()?;
        if first {
            schema::clear(&tx, schema::SYNCED_TABLES)?;
            write_cursor(&tx, None)?;
            tx.prepare_cached(
                "INSERT INTO meta (key, value) VALUES ('resync_seq', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute([page.seq])?;
            for q in &page.quick_messages {
                settings::put_quick_message(&tx, q)?;
            }
            for t in &page.templates {
                settings::put_template(&tx, t)?;
            }
            for s in &page.staff {
                settings::put_staff(&tx, s)?;
            }
        }
        let mut deferred = Deferred::new(Index::Now);
        // Customers first: a conversation's search document includes its customer's numbers.
        for c in &page.customers {
            rows::customer(&tx, c, &mut deferred)?;
        }
        for s in &page.conversations {
            rows::conversation(&tx, s, &mut deferred)?;
        }
        for item in &page.items {
            store_item(&tx, item, &mut deferred)?;
        }
        deferred.finish(&tx)?;
        if last {
            let first_seq: Option<i64> = tx
                .prepare_cached("DELETE FROM meta WHERE key = 'resync_seq' RETURNING value")?
                .query_row([], |r| r.get(0))
                .optional()?
                .flatten();
            write_cursor(&tx, Some(first_seq.unwrap_or(page.seq)))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores many changes as events would (same upserts, outbox reconciliation included) in one
    /// transaction with prepared statements, then rebuilds the search index in one pass — far
    /// faster than keeping it in step row by row. The cursor is not touched: this is for filling
    /// a cache from data obtained out of band (an import, a benchmark), not for the event log.
    pub fn bulk_load<I>(&mut self, changes: I) -> CacheResult<()>
    where
        I: IntoIterator<Item = Change>,
    {
        let tx = self.conn.transaction()?;
        let mut deferred = Deferred::new(Index::Later);
        for change in changes {
            // Nothing reads the report; a fresh one per change keeps it from growing.
            apply_change(&tx, &change, &mut Report::default(), &mut deferred)?;
        }
        deferred.finish(&tx)?;
        search::rebuild(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Stores thread items fetched over REST (`GET /conversations/{id}/messages` pages). Does
    /// not touch the cursor. A fetched copy fills what the cache lacks and replaces a message
    /// only when its `updated_at` is newer: the page may predate events already applied, and
    /// the event log brings everything else up to date.
    pub fn store_thread_items(&mut self, items: &[ThreadItem]) -> CacheResult<()> {
        let tx = self.conn.transaction()?;
        let mut deferred = Deferred::new(Index::Now);
        for item in items {
            store_item(&tx, item, &mut deferred)?;
        }
        deferred.finish(&tx)?;
        tx.commit()?;
        Ok(())
    }
}

fn store_item(conn: &rusqlite::Connection, item: &ThreadItem, d: &mut Deferred) -> CacheResult<()> {
    match item {
        ThreadItem::Message(m) => {
            rows::message(conn, m, Source::Fetched, d)?;
        }
        ThreadItem::Call(c) => {
            rows::call(conn, c, Source::Fetched, d)?;
        }
        ThreadItem::Note(n) => {
            rows::note(conn, n, Source::Fetched, d)?;
        }
    }
    Ok(())
}
