//! Quick messages (CMP-6) and WhatsApp templates (CMP-2): the organisation's reusable texts.

use chrono::{DateTime, Utc};
use inbox_core::api::TemplateInput;
use inbox_core::sync::Change;
use inbox_core::template::ValidTemplate;
use inbox_core::{Id, QuickMessage, TemplateHeader, WhatsappTemplate};

use super::{audit, emit};
use crate::store::backend::script;
use crate::store::db::{args, Db, Row, WriteTx};
use crate::store::rows::{ms, template_header};
use crate::store::rules::{quick_message_fields, template_audit, template_fields};
use crate::store::Store;
use crate::store::{Actor, StoreError, StoreResult};

fn quick_message(r: &Row) -> StoreResult<QuickMessage> {
    Ok(QuickMessage {
        id: r.int(0)?,
        name: r.text(1)?,
        body: r.text(2)?,
    })
}

async fn load(db: &mut impl Db, org: Id, id: Id) -> StoreResult<QuickMessage> {
    db.one(
        "SELECT id, name, body FROM quick_messages WHERE id = $1 AND org_id = $2",
        args![id, org],
        quick_message,
    )
    .await
}

/// A duplicate name is the user's conflict, not a server fault. Asked before writing (the
/// organisation's writes are one at a time), so the unique index never fails the transaction.
async fn name_free(db: &mut impl Db, org: Id, name: &str, except: Option<Id>) -> StoreResult<()> {
    db.free(
        "SELECT 1 FROM quick_messages WHERE org_id = $1 AND name = $2 AND id IS DISTINCT FROM $3",
        args![org, name, except],
        || format!("a quick message called {name:?} already exists"),
    )
    .await
}

/// Case-insensitive by name (ASCII letters folded).
pub(crate) async fn quick_messages(db: &mut impl Db, org: Id) -> StoreResult<Vec<QuickMessage>> {
    db.all(
        "SELECT id, name, body FROM quick_messages WHERE org_id = $1 ORDER BY lower(name) COLLATE \"C\"",
        args![org],
        quick_message,
    )
    .await
}

/// `name` and `body` are checked already (`rules::quick_message_fields`).
pub(crate) async fn create_quick_message(
    db: &mut impl WriteTx,
    org: Id,
    name: &str,
    body: &str,
    now: DateTime<Utc>,
) -> StoreResult<QuickMessage> {
    name_free(db, org, name, None).await?;
    let id = db
        .int(
            "INSERT INTO quick_messages (org_id, name, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
             RETURNING id",
            args![org, name, body, ms(now)],
        )
        .await?;
    let q = load(db, org, id).await?;
    emit(db, org, now, &Change::QuickMessage(q.clone())).await?;
    Ok(q)
}

pub(crate) async fn update_quick_message(
    db: &mut impl WriteTx,
    org: Id,
    id: Id,
    (name, body): (&str, &str),
    now: DateTime<Utc>,
) -> StoreResult<QuickMessage> {
    load(db, org, id).await?;
    name_free(db, org, name, Some(id)).await?;
    db.exec(
        "UPDATE quick_messages SET name = $3, body = $4, updated_at = $5 WHERE id = $1 AND org_id = $2",
        args![id, org, name, body, ms(now)],
    )
    .await?;
    let q = load(db, org, id).await?;
    emit(db, org, now, &Change::QuickMessage(q.clone())).await?;
    Ok(q)
}

pub(crate) async fn delete_quick_message(
    db: &mut impl WriteTx,
    org: Id,
    id: Id,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let n = db
        .exec(
            "DELETE FROM quick_messages WHERE id = $1 AND org_id = $2",
            args![id, org],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    emit(db, org, now, &Change::QuickMessageDeleted { id }).await?;
    Ok(())
}

const TEMPLATE_SELECT: &str =
    "SELECT id, name, language, body, param_count, header FROM whatsapp_templates";

fn template(r: &Row) -> StoreResult<WhatsappTemplate> {
    Ok(WhatsappTemplate {
        id: r.int(0)?,
        name: r.text(1)?,
        language: r.text(2)?,
        body: r.text(3)?,
        param_count: r.count(4)?,
        header: template_header(r.opt_text(5)?),
    })
}

async fn load_template(db: &mut impl Db, org: Id, id: Id) -> StoreResult<WhatsappTemplate> {
    let sql = format!("{TEMPLATE_SELECT} WHERE id = $1 AND org_id = $2");
    db.one(&sql, args![id, org], template).await
}

/// A (name, language) pair the organisation already has is the user's conflict (asked before
/// writing, as for quick messages).
async fn template_free(
    db: &mut impl Db,
    org: Id,
    v: &ValidTemplate,
    except: Option<Id>,
) -> StoreResult<()> {
    db.free(
        "SELECT 1 FROM whatsapp_templates
         WHERE org_id = $1 AND name = $2 AND language = $3 AND id IS DISTINCT FROM $4",
        args![org, &v.name, &v.language, except],
        || {
            format!(
                "a template called {:?} in {} already exists",
                v.name, v.language
            )
        },
    )
    .await
}

/// By name, then language, in byte order.
pub(crate) async fn templates(db: &mut impl Db, org: Id) -> StoreResult<Vec<WhatsappTemplate>> {
    let sql = format!(
        "{TEMPLATE_SELECT} WHERE org_id = $1 ORDER BY name COLLATE \"C\", language COLLATE \"C\""
    );
    db.all(&sql, args![org], template).await
}

/// Who changed a template, and how, in the audit log.
async fn audited(
    db: &mut impl Db,
    (org, user): (Id, Id),
    action: &str,
    t: &WhatsappTemplate,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let subject = ("template", t.id);
    audit(db, org, Some(user), action, subject, template_audit(t), now).await
}

/// Creates a template (`id` None) or replaces one of the organisation's; `v` is checked already
/// (`rules::template_fields`).
pub(crate) async fn save_template(
    db: &mut impl WriteTx,
    (org, user): (Id, Id),
    id: Option<Id>,
    v: &ValidTemplate,
    header: Option<TemplateHeader>,
    now: DateTime<Utc>,
) -> StoreResult<WhatsappTemplate> {
    if let Some(id) = id {
        load_template(db, org, id).await?;
    }
    template_free(db, org, v, id).await?;
    let header = header.map(|h| h.as_str());
    let fields = args![org, &v.name, &v.language, &v.body, v.param_count, header];
    let (id, action) = match id {
        None => {
            let sql =
                "INSERT INTO whatsapp_templates (org_id, name, language, body, param_count, header)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
            (db.int(sql, fields).await?, "template.created")
        }
        Some(id) => {
            let sql = "UPDATE whatsapp_templates
                 SET name = $2, language = $3, body = $4, param_count = $5, header = $6
                 WHERE org_id = $1 AND id = $7";
            db.exec(sql, &[fields.as_slice(), args![id]].concat())
                .await?;
            (id, "template.updated")
        }
    };
    let t = load_template(db, org, id).await?;
    audited(db, (org, user), action, &t, now).await?;
    emit(db, org, now, &Change::Template(t.clone())).await?;
    Ok(t)
}

pub(crate) async fn delete_template(
    db: &mut impl WriteTx,
    (org, user): (Id, Id),
    id: Id,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let t = load_template(db, org, id).await?;
    db.exec(
        "DELETE FROM whatsapp_templates WHERE id = $1 AND org_id = $2",
        args![id, org],
    )
    .await?;
    audited(db, (org, user), "template.deleted", &t, now).await?;
    emit(db, org, now, &Change::TemplateDeleted { id }).await?;
    Ok(())
}

impl Store {
    pub async fn quick_messages(&self, actor: &Actor) -> StoreResult<Vec<QuickMessage>> {
        let org = actor.org_id;
        self.read(script!(|c| quick_messages(c, org))).await
    }

    pub async fn create_quick_message(
        &self,
        actor: &Actor,
        name: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<QuickMessage> {
        let (name, body) = quick_message_fields(name, body)?;
        let org = actor.org_id;
        self.write(
            Some(org),
            script!(|tx| create_quick_message(tx, org, &name, &body, now)),
        )
        .await
    }

    pub async fn update_quick_message(
        &self,
        actor: &Actor,
        id: Id,
        name: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<QuickMessage> {
        let (name, body) = quick_message_fields(name, body)?;
        let org = actor.org_id;
        self.write(
            Some(org),
            script!(|tx| update_quick_message(tx, org, id, (&name, &body), now)),
        )
        .await
    }

    pub async fn delete_quick_message(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let org = actor.org_id;
        self.write(
            Some(org),
            script!(|tx| delete_quick_message(tx, org, id, now)),
        )
        .await
    }

    pub async fn templates(&self, actor: &Actor) -> StoreResult<Vec<WhatsappTemplate>> {
        let org = actor.org_id;
        self.read(script!(|c| templates(c, org))).await
    }

    /// SET-1: checked by `inbox_core::template::validate`; audited.
    pub async fn create_template(
        &self,
        actor: &Actor,
        input: &TemplateInput,
        now: DateTime<Utc>,
    ) -> StoreResult<WhatsappTemplate> {
        let v = template_fields(input)?;
        let (who, header) = ((actor.org_id, actor.user_id), input.header);
        self.write(
            Some(who.0),
            script!(|tx| save_template(tx, who, None, &v, header, now)),
        )
        .await
    }

    pub async fn update_template(
        &self,
        actor: &Actor,
        id: Id,
        input: &TemplateInput,
        now: DateTime<Utc>,
    ) -> StoreResult<WhatsappTemplate> {
        let v = template_fields(input)?;
        let (who, header) = ((actor.org_id, actor.user_id), input.header);
        self.write(
            Some(who.0),
            script!(|tx| save_template(tx, who, Some(id), &v, header, now)),
        )
        .await
    }

    pub async fn delete_template(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let who = (actor.org_id, actor.user_id);
        self.write(Some(who.0), script!(|tx| delete_template(tx, who, id, now)))
            .await
    }
}
