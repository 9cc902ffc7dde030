//! The desktop's own settings (remembered range LST-7, dismissed banner LST-6 …) and the
//! reference data the server syncs: quick messages (CMP-6), WhatsApp templates (CMP-2), staff
//! (SDB-4), customers and work orders (SDB-2), listed in the server's orders.

use inbox_core::{Customer, Id, QuickMessage, StaffRef, WhatsappTemplate, WorkOrder};
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;

use super::{Cache, CacheResult};

pub(super) fn put_quick_message(conn: &Connection, q: &QuickMessage) -> CacheResult<()> {
    conn.prepare_cached(
        "INSERT INTO quick_messages (id, name, data) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data",
    )?
    .execute(params![q.id, q.name, serde_json::to_string(q)?])?;
    Ok(())
}

pub(super) fn put_template(conn: &Connection, t: &WhatsappTemplate) -> CacheResult<()> {
    conn.prepare_cached(
        "INSERT INTO templates (id, name, language, data) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, language = excluded.language, data = excluded.data",
    )?
    .execute(params![t.id, t.name, t.language, serde_json::to_string(t)?])?;
    Ok(())
}

/// A template deleted in Settings (SET-1); deleting one the cache never had is a no-op.
pub(super) fn delete_template(conn: &Connection, id: Id) -> CacheResult<()> {
    conn.prepare_cached("DELETE FROM templates WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

pub(super) fn put_staff(conn: &Connection, s: &StaffRef) -> CacheResult<()> {
    conn.prepare_cached(
        "INSERT INTO staff (id, name, data) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data",
    )?
    .execute(params![s.id, s.name, serde_json::to_string(s)?])?;
    Ok(())
}

/// Decodes the `data` column of every row `sql` returns.
fn all<T: DeserializeOwned>(conn: &Connection, sql: &str) -> CacheResult<Vec<T>> {
    let rows = conn
        .prepare_cached(sql)?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.iter()
        .map(|d| serde_json::from_str(d).map_err(Into::into))
        .collect()
}

fn one<T: DeserializeOwned>(conn: &Connection, sql: &str, id: Id) -> CacheResult<Option<T>> {
    let data: Option<String> = conn
        .prepare_cached(sql)?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
}

impl Cache {
    /// Quick messages by name, case-insensitively (as Settings lists them).
    pub fn quick_messages(&self) -> CacheResult<Vec<QuickMessage>> {
        all(
            &self.conn,
            "SELECT data FROM quick_messages ORDER BY name COLLATE NOCASE, id",
        )
    }

    /// Approved WhatsApp templates by name, then language.
    pub fn templates(&self) -> CacheResult<Vec<WhatsappTemplate>> {
        all(
            &self.conn,
            "SELECT data FROM templates ORDER BY name, language, id",
        )
    }

    /// Active staff by name (the assignment dropdown).
    pub fn staff(&self) -> CacheResult<Vec<StaffRef>> {
        all(&self.conn, "SELECT data FROM staff ORDER BY name, id")
    }

    /// A customer the cache learned from a `customer` event.
    pub fn customer(&self, id: Id) -> CacheResult<Option<Customer>> {
        one(&self.conn, "SELECT data FROM customers WHERE id = ?1", id)
    }

    /// A work order the cache learned from a `work_order` event.
    pub fn work_order(&self, id: Id) -> CacheResult<Option<WorkOrder>> {
        one(&self.conn, "SELECT data FROM work_orders WHERE id = ?1", id)
    }

    pub fn setting(&self, key: &str) -> CacheResult<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_setting(&mut self, key: &str, value: &str) -> CacheResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute([key, value])?;
        Ok(())
    }

    /// Forgets a setting.
    pub fn remove_setting(&mut self, key: &str) -> CacheResult<()> {
        self.conn
            .prepare_cached("DELETE FROM settings WHERE key = ?1")?
            .execute([key])?;
        Ok(())
    }
}
