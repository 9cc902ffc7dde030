//! Quick messages (CMP-6) and WhatsApp templates (CMP-2): the organisation's reusable texts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::{Id, QuickMessage, WhatsappTemplate};
use rusqlite::{params, Connection, ErrorCode};

use super::events::emit;
use super::{found, ms, SqliteStore};
use crate::store::{Actor, CatalogStore, StoreError, StoreResult};
use inbox_core::sync::Change;

fn load(conn: &Connection, org: Id, id: Id) -> StoreResult<QuickMessage> {
    found(
        conn.prepare_cached(
            "SELECT id, name, body FROM quick_messages WHERE id = ?1 AND org_id = ?2",
        )?
        .query_row([id, org], |r| {
            Ok(QuickMessage {
                id: r.get(0)?,
                name: r.get(1)?,
                body: r.get(2)?,
            })
        }),
    )
}

use crate::store::rows::quick_message_fields as validate;

/// A duplicate name is the user's conflict, not a server fault.
fn duplicate_name(e: rusqlite::Error, name: &str) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation => {
            StoreError::Conflict(format!("a quick message called {name:?} already exists"))
        }
        e => e.into(),
    }
}

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn quick_messages(&self, actor: &Actor) -> StoreResult<Vec<QuickMessage>> {
        let org = actor.org_id;
        self.read(move |c| {
            Ok(c.prepare_cached("SELECT id, name, body FROM quick_messages WHERE org_id = ?1 ORDER BY name COLLATE NOCASE")?
                .query_map([org], |r| Ok(QuickMessage { id: r.get(0)?, name: r.get(1)?, body: r.get(2)? }))?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn create_quick_message(
        &self,
        actor: &Actor,
        name: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<QuickMessage> {
        let (name, body) = validate(name, body)?;
        let org = actor.org_id;
        self.write(move |tx| {
            tx.prepare_cached("INSERT INTO quick_messages (org_id, name, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)")?
                .execute(params![org, name, body, ms(now)])
                .map_err(|e| duplicate_name(e, &name))?;
            let q = load(tx, org, tx.last_insert_rowid())?;
            emit(tx, org, now, &Change::QuickMessage(q.clone()))?;
            Ok(q)
        })
        .await
    }

    async fn update_quick_message(
        &self,
        actor: &Actor,
        id: Id,
        name: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<QuickMessage> {
        let (name, body) = validate(name, body)?;
        let org = actor.org_id;
        self.write(move |tx| {
            load(tx, org, id)?;
            tx.prepare_cached("UPDATE quick_messages SET name = ?3, body = ?4, updated_at = ?5 WHERE id = ?1 AND org_id = ?2")?
                .execute(params![id, org, name, body, ms(now)])
                .map_err(|e| duplicate_name(e, &name))?;
            let q = load(tx, org, id)?;
            emit(tx, org, now, &Change::QuickMessage(q.clone()))?;
            Ok(q)
        })
        .await
    }

    async fn delete_quick_message(&self, actor: &Actor, id: Id) -> StoreResult<()> {
        let org = actor.org_id;
        self.write(move |tx| {
            let n = tx
                .prepare_cached("DELETE FROM quick_messages WHERE id = ?1 AND org_id = ?2")?
                .execute([id, org])?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            emit(
                tx,
                org,
                chrono::Utc::now(),
                &Change::QuickMessageDeleted { id },
            )?;
            Ok(())
        })
        .await
    }

    async fn templates(&self, actor: &Actor) -> StoreResult<Vec<WhatsappTemplate>> {
        let org = actor.org_id;
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT id, name, language, body, param_count FROM whatsapp_templates WHERE org_id = ?1 ORDER BY name, language",
            )?
            .query_map([org], |r| {
                Ok(WhatsappTemplate { id: r.get(0)?, name: r.get(1)?, language: r.get(2)?, body: r.get(3)?, param_count: r.get(4)? })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }
}
