//! Quick messages (CMP-6) and WhatsApp templates (CMP-2): the organisation's reusable texts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::TemplateInput;
use inbox_core::sync::Change;
use inbox_core::{Id, QuickMessage, WhatsappTemplate};
use sqlx::PgConnection;

use super::events::emit;
use super::{audit, PgStore};
use crate::store::rows::{
    ms, quick_message_fields, template_audit, template_fields, template_header,
};
use crate::store::{Actor, CatalogStore, StoreError, StoreResult};

async fn load(c: &mut PgConnection, org: Id, id: Id) -> StoreResult<QuickMessage> {
    let (id, name, body): (Id, String, String) =
        sqlx::query_as("SELECT id, name, body FROM quick_messages WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org)
            .fetch_optional(c)
            .await?
            .ok_or(StoreError::NotFound)?;
    Ok(QuickMessage { id, name, body })
}

/// A duplicate name is the user's conflict, not a server fault.
fn duplicate_name(e: sqlx::Error, name: &str) -> StoreError {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(format!("a quick message called {name:?} already exists"))
        }
        e => e.into(),
    }
}

type TemplateRow = (Id, String, String, String, i64, Option<String>);

const TEMPLATE_SELECT: &str =
    "SELECT id, name, language, body, param_count, header FROM whatsapp_templates";

fn template(
    (id, name, language, body, params, header): TemplateRow,
) -> StoreResult<WhatsappTemplate> {
    Ok(WhatsappTemplate {
        id,
        name,
        language,
        body,
        param_count: u32::try_from(params).map_err(anyhow::Error::from)?,
        header: template_header(header),
    })
}

async fn load_template(c: &mut PgConnection, org: Id, id: Id) -> StoreResult<WhatsappTemplate> {
    let row: TemplateRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TEMPLATE_SELECT} WHERE id = $1 AND org_id = $2"
    )))
    .bind(id)
    .bind(org)
    .fetch_optional(c)
    .await?
    .ok_or(StoreError::NotFound)?;
    template(row)
}

/// A (name, language) pair the organisation already has is the user's conflict.
fn duplicate_template(e: sqlx::Error, name: &str, language: &str) -> StoreError {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(format!(
            "a template called {name:?} in {language} already exists"
        )),
        e => e.into(),
    }
}

#[async_trait]
impl CatalogStore for PgStore {
    async fn quick_messages(&self, actor: &Actor) -> StoreResult<Vec<QuickMessage>> {
        let rows: Vec<(Id, String, String)> = sqlx::query_as(
            "SELECT id, name, body FROM quick_messages WHERE org_id = $1 ORDER BY lower(name) COLLATE \"C\"",
        )
        .bind(actor.org_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, body)| QuickMessage { id, name, body })
            .collect())
    }

    async fn create_quick_message(
        &self,
        actor: &Actor,
        name: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<QuickMessage> {
        let (name, body) = quick_message_fields(name, body)?;
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        let id: Id = sqlx::query_scalar(
            "INSERT INTO quick_messages (org_id, name, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(org)
        .bind(&name)
        .bind(&body)
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| duplicate_name(e, &name))?;
        let q = load(&mut tx, org, id).await?;
        emit(&mut tx, org, now, &Change::QuickMessage(q.clone())).await?;
        self.commit(tx).await?;
        Ok(q)
    }

    async fn update_quick_message(
        &self,
        actor: &Actor,
        id: Id,
        name: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<QuickMessage> {
        let (name, body) = quick_message_fields(name, body)?;
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        load(&mut tx, org, id).await?;
        sqlx::query("UPDATE quick_messages SET name = $3, body = $4, updated_at = $5 WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org)
            .bind(&name)
            .bind(&body)
            .bind(ms(now))
            .execute(&mut *tx)
            .await
            .map_err(|e| duplicate_name(e, &name))?;
        let q = load(&mut tx, org, id).await?;
        emit(&mut tx, org, now, &Change::QuickMessage(q.clone())).await?;
        self.commit(tx).await?;
        Ok(q)
    }

    async fn delete_quick_message(&self, actor: &Actor, id: Id) -> StoreResult<()> {
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        let n = sqlx::query("DELETE FROM quick_messages WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        emit(
            &mut tx,
            org,
            Utc::now(),
            &Change::QuickMessageDeleted { id },
        )
        .await?;
        self.commit(tx).await
    }

    async fn templates(&self, actor: &Actor) -> StoreResult<Vec<WhatsappTemplate>> {
        let rows: Vec<TemplateRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TEMPLATE_SELECT} WHERE org_id = $1 ORDER BY name COLLATE \"C\", language COLLATE \"C\""
        )))
        .bind(actor.org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(template).collect()
    }

    async fn create_template(
        &self,
        actor: &Actor,
        input: &TemplateInput,
        now: DateTime<Utc>,
    ) -> StoreResult<WhatsappTemplate> {
        let v = template_fields(input)?;
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        let id: Id = sqlx::query_scalar(
            "INSERT INTO whatsapp_templates (org_id, name, language, body, param_count, header)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(org)
        .bind(&v.name)
        .bind(&v.language)
        .bind(&v.body)
        .bind(i64::from(v.param_count))
        .bind(input.header.map(|h| h.as_str()))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| duplicate_template(e, &v.name, &v.language))?;
        let t = load_template(&mut tx, org, id).await?;
        audit(
            &mut tx,
            org,
            Some(actor.user_id),
            "template.created",
            ("template", id),
            template_audit(&t),
            now,
        )
        .await?;
        emit(&mut tx, org, now, &Change::Template(t.clone())).await?;
        self.commit(tx).await?;
        Ok(t)
    }

    async fn update_template(
        &self,
        actor: &Actor,
        id: Id,
        input: &TemplateInput,
        now: DateTime<Utc>,
    ) -> StoreResult<WhatsappTemplate> {
        let v = template_fields(input)?;
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        load_template(&mut tx, org, id).await?;
        sqlx::query(
            "UPDATE whatsapp_templates SET name = $3, language = $4, body = $5, param_count = $6,
                 header = $7
             WHERE id = $1 AND org_id = $2",
        )
        .bind(id)
        .bind(org)
        .bind(&v.name)
        .bind(&v.language)
        .bind(&v.body)
        .bind(i64::from(v.param_count))
        .bind(input.header.map(|h| h.as_str()))
        .execute(&mut *tx)
        .await
        .map_err(|e| duplicate_template(e, &v.name, &v.language))?;
        let t = load_template(&mut tx, org, id).await?;
        audit(
            &mut tx,
            org,
            Some(actor.user_id),
            "template.updated",
            ("template", id),
            template_audit(&t),
            now,
        )
        .await?;
        emit(&mut tx, org, now, &Change::Template(t.clone())).await?;
        self.commit(tx).await?;
        Ok(t)
    }

    async fn delete_template(&self, actor: &Actor, id: Id, now: DateTime<Utc>) -> StoreResult<()> {
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        let t = load_template(&mut tx, org, id).await?;
        sqlx::query("DELETE FROM whatsapp_templates WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            org,
            Some(actor.user_id),
            "template.deleted",
            ("template", id),
            template_audit(&t),
            now,
        )
        .await?;
        emit(&mut tx, org, now, &Change::TemplateDeleted { id }).await?;
        self.commit(tx).await
    }
}
