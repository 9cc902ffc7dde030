//! The outbox table (DSK-5): replies written on this desktop, kept until the server's copy of
//! the message (same `client_id`) arrives and replaces them. Storage only; sending is the
//! engine's.

use inbox_core::Id;
use rusqlite::{params, OptionalExtension};

use super::{ms, Cache, CacheResult};

pub use inbox_core::desktop::{OutboxEntry, OutboxFile, OutboxState};

fn decode(rows: Vec<String>) -> CacheResult<Vec<OutboxEntry>> {
    rows.iter()
        .map(|d| serde_json::from_str(d).map_err(Into::into))
        .collect()
}

impl Cache {
    /// Queues an entry; a duplicate client_id is a no-op (the first entry stands).
    pub fn outbox_add(&mut self, entry: &OutboxEntry) -> CacheResult<()> {
        self.outbox_add_with_files(entry, &[])
    }

    /// Entries still to send, oldest first.
    pub fn outbox_pending(&self) -> CacheResult<Vec<OutboxEntry>> {
        let rows = self
            .conn
            .prepare_cached("SELECT data FROM outbox WHERE queued = 1 ORDER BY created_at, n")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        decode(rows)
    }

    /// A conversation's entries not yet replaced by the server's copy, oldest first.
    pub fn outbox_all(&self, conversation_id: Id) -> CacheResult<Vec<OutboxEntry>> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT data FROM outbox WHERE conversation_id = ?1 ORDER BY created_at, n",
            )?
            .query_map([conversation_id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        decode(rows)
    }

    /// Moves an entry to `state`; an unknown client_id is a no-op (it was reconciled).
    pub fn outbox_set_state(&mut self, client_id: &str, state: &OutboxState) -> CacheResult<()> {
        self.outbox_update(client_id, |e| e.state = state.clone())
    }

    /// Changes a queued entry in place; an unknown client_id is a no-op (it was reconciled).
    fn outbox_update(
        &mut self,
        client_id: &str,
        change: impl FnOnce(&mut OutboxEntry),
    ) -> CacheResult<()> {
        let tx = self.conn.transaction()?;
        let data: Option<String> = tx
            .prepare_cached("SELECT data FROM outbox WHERE client_id = ?1")?
            .query_row([client_id], |r| r.get(0))
            .optional()?;
        if let Some(data) = data {
            let mut entry: OutboxEntry = serde_json::from_str(&data)?;
            change(&mut entry);
            tx.prepare_cached("UPDATE outbox SET queued = ?2, data = ?3 WHERE client_id = ?1")?
                .execute(params![
                    client_id,
                    entry.state == OutboxState::Queued,
                    serde_json::to_string(&entry)?
                ])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn outbox_remove(&mut self, client_id: &str) -> CacheResult<()> {
        let tx = self.conn.transaction()?;
        tx.prepare_cached("DELETE FROM outbox WHERE client_id = ?1")?
            .execute([client_id])?;
        tx.prepare_cached("DELETE FROM outbox_files WHERE client_id = ?1")?
            .execute([client_id])?;
        tx.commit()?;
        Ok(())
    }

    /// Queues an entry with the bytes of its files (in the order of `entry.files`), at once; a
    /// duplicate client_id is a no-op.
    pub fn outbox_add_with_files(
        &mut self,
        entry: &OutboxEntry,
        bytes: &[Vec<u8>],
    ) -> CacheResult<()> {
        let tx = self.conn.transaction()?;
        let added = tx
            .prepare_cached(
                "INSERT INTO outbox (client_id, conversation_id, created_at, queued, data)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (client_id) DO NOTHING",
            )?
            .execute(params![
                entry.client_id,
                entry.conversation_id,
                ms(entry.created_at),
                entry.state == OutboxState::Queued,
                serde_json::to_string(entry)?,
            ])?;
        if added > 0 {
            for (position, b) in bytes.iter().enumerate() {
                tx.prepare_cached(
                    "INSERT INTO outbox_files (client_id, position, bytes) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![entry.client_id, position as i64, b])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The bytes of an outbox entry's file, if it is still queued.
    pub fn outbox_file(&self, client_id: &str, position: usize) -> CacheResult<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT bytes FROM outbox_files WHERE client_id = ?1 AND position = ?2",
            )?
            .query_row(params![client_id, position as i64], |r| r.get(0))
            .optional()?)
    }

    /// Forgets an entry's uploads (the server no longer has them): they go up again.
    pub fn outbox_files_reupload(&mut self, client_id: &str) -> CacheResult<()> {
        self.outbox_update(client_id, |e| {
            for f in &mut e.files {
                f.uploaded = None;
            }
        })
    }

    /// Records that an entry's file is on the server as attachment `id`.
    pub fn outbox_file_uploaded(
        &mut self,
        client_id: &str,
        position: usize,
        id: Id,
    ) -> CacheResult<()> {
        self.outbox_update(client_id, |e| {
            if let Some(f) = e.files.get_mut(position) {
                f.uploaded = Some(id);
            }
        })
    }
}
