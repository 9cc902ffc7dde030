//! Quick messages (CMP-6) and WhatsApp templates (CMP-2): the organisation's reusable texts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::TemplateInput;
use inbox_core::{Id, QuickMessage, WhatsappTemplate};
use rusqlite::{params, Connection, ErrorCode};

use super::events::emit;
use super::{audit, found, ms, SqliteStore};
use crate::store::rows::{template_audit, template_fields, template_header};
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

const TEMPLATE_SELECT: &str =
    "SELECT id, name, language, body, param_count, header FROM whatsapp_templates";

fn template_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WhatsappTemplate> {
    Ok(WhatsappTemplate {
        id: r.get(0)?,
        name: r.get(1)?,
        language: r.get(2)?,
        body: r.get(3)?,
        param_count: r.get(4)?,
        header: template_header(r.get(5)?),
    })
}

fn load_template(conn: &Connection, org: Id, id: Id) -> StoreResult<WhatsappTemplate> {
    found(
        conn.prepare_cached(&format!("{TEMPLATE_SELECT} WHERE id = ?1 AND org_id = ?2"))?
            .query_row([id, org], template_row),
    )
}

/// A (name, language) pair the organisation already has is the user's conflict.
fn duplicate_template(e: rusqlite::Error, name: &str, language: &str) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation => {
            StoreError::Conflict(format!(
                "a template called {name:?} in {language} already exists"
            ))
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
            Ok(c.prepare_cached(&format!(
                "{TEMPLATE_SELECT} WHERE org_id = ?1 ORDER BY name, language"
            ))?
            .query_map([org], template_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn create_template(
        &self,
        actor: &Actor,
        input: &TemplateInput,
        now: DateTime<Utc>,
    ) -> StoreResult<WhatsappTemplate> {
        let v = template_fields(input)?;
        let header = input.header.map(|h| h.as_str());
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT INTO whatsapp_templates (org_id, name, language, body, param_count, header)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                org,
                v.name,
                v.language,
                v.body,
                v.param_count,
                header
            ])
            .map_err(|e| duplicate_template(e, &v.name, &v.language))?;
            let t = load_template(tx, org, tx.last_insert_rowid())?;
            audit(
                tx,
                org,
                Some(user),
                "template.created",
                ("template", t.id),
                template_audit(&t),
                now,
            )?;
            emit(tx, org, now, &Change::Template(t.clone()))?;
            Ok(t)
        })
        .await
    }

    async fn update_template(
        &self,
        actor: &Actor,
        id: Id,
        input: &TemplateInput,
        now: DateTime<Utc>,
    ) -> StoreResult<WhatsappTemplate> {
        let v = template_fields(input)?;
        let header = input.header.map(|h| h.as_str());
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            load_template(tx, org, id)?;
            tx.prepare_cached(
                "UPDATE whatsapp_templates SET name = ?3, language = ?4, body = ?5, param_count = ?6,
                     header = ?7
                 WHERE id = ?1 AND org_id = ?2",
            )?
            .execute(params![id, org, v.name, v.language, v.body, v.param_count, header])
            .map_err(|e| duplicate_template(e, &v.name, &v.language))?;
            let t = load_template(tx, org, id)?;
            audit(
                tx,
                org,
                Some(user),
                "template.updated",
                ("template", id),
                template_audit(&t),
                now,
            )?;
            emit(tx, org, now, &Change::Template(t.clone()))?;
            Ok(t)
        })
        .await
    }

    async fn delete_template(&self, actor: &Actor, id: Id, now: DateTime<Utc>) -> StoreResult<()> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let t = load_template(tx, org, id)?;
            tx.prepare_cached("DELETE FROM whatsapp_templates WHERE id = ?1 AND org_id = ?2")?
                .execute([id, org])?;
            audit(
                tx,
                org,
                Some(user),
                "template.deleted",
                ("template", id),
                template_audit(&t),
                now,
            )?;
            emit(tx, org, now, &Change::TemplateDeleted { id })?;
            Ok(())
        })
        .await
    }
}
