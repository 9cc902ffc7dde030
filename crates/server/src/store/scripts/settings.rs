//! What the admin tools change outside the inbox: an organisation's provider settings (sealed,
//! bound to the organisation), the re-seal of older secrets, and portal tokens.

use chrono::{DateTime, Utc};
use inbox_core::Id;

use super::audit;
use crate::secrets::{Field, SecretBox};
use crate::store::db::{args, Db, Dialect, Row};
use crate::store::language_model::model_key;
use crate::store::rows::{from_ms, ms};
use crate::store::{
    upgrade_values, PortalRevoke, PortalToken, ProviderUpdate, SecretsReport, StoreError,
    StoreResult,
};

/// Conflict when another organisation already holds `value` in `sql`'s column (`$1` the value,
/// `$2` this organisation).
async fn held_elsewhere(
    db: &mut impl Db,
    sql: &str,
    value: &str,
    org: Id,
    what: &str,
) -> StoreResult<()> {
    match db.opt(sql, args![value, org], |r| r.int(0)).await? {
        Some(other) => Err(StoreError::Conflict(format!(
            "{what} {value} belongs to organisation {other}"
        ))),
        None => Ok(()),
    }
}

/// Sets one column of the organisation's provider settings; empty clears it.
async fn set(db: &mut impl Db, org: Id, column: &str, value: &str) -> StoreResult<()> {
    let sql = format!("UPDATE provider_settings SET {column} = nullif($2, '') WHERE org_id = $1");
    db.exec(&sql, args![org, value]).await?;
    Ok(())
}

/// Seals a secret for the organisation and stores it in its column.
async fn set_sealed(
    db: &mut impl Db,
    secrets: &SecretBox,
    org: Id,
    field: Field,
    plain: &str,
) -> StoreResult<()> {
    set(db, org, field.column(), &secrets.seal(plain, org, field)?).await
}

pub(crate) async fn set_provider_settings(
    db: &mut impl Db,
    secrets: &SecretBox,
    org: Id,
    u: &ProviderUpdate,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    db.exists("SELECT 1 FROM organisations WHERE id = $1", args![org])
        .await?;
    db.exec(
        "INSERT INTO provider_settings (org_id) VALUES ($1) ON CONFLICT DO NOTHING",
        args![org],
    )
    .await?;
    let mut changed: Vec<&str> = Vec::new();
    if let Some(sid) = &u.twilio_account_sid {
        held_elsewhere(
            db,
            "SELECT org_id FROM provider_settings WHERE twilio_account_sid = $1 AND org_id <> $2",
            sid,
            org,
            "the Twilio account",
        )
        .await?;
        set(db, org, "twilio_account_sid", sid).await?;
        changed.push("twilio_account_sid");
    }
    if let Some(token) = &u.twilio_auth_token {
        let field = Field::TwilioAuthToken;
        set_sealed(db, secrets, org, field, token).await?;
        changed.push(field.column());
    }
    if let Some(id) = &u.whatsapp_phone_number_id {
        held_elsewhere(
            db,
            "SELECT org_id FROM provider_settings WHERE whatsapp_phone_number_id = $1 AND org_id <> $2",
            id,
            org,
            "the WhatsApp phone number id",
        )
        .await?;
        set(db, org, "whatsapp_phone_number_id", id).await?;
        changed.push("whatsapp_phone_number_id");
    }
    if let Some(token) = &u.whatsapp_access_token {
        let field = Field::WhatsappAccessToken;
        set_sealed(db, secrets, org, field, token).await?;
        changed.push(field.column());
    }
    if let Some(to) = &u.voice_forward_to {
        set(db, org, "voice_forward_to", to).await?;
        changed.push("voice_forward_to");
    }
    if let Some(numbers) = &u.twilio_numbers {
        for n in numbers {
            held_elsewhere(
                db,
                "SELECT org_id FROM org_numbers WHERE e164 = $1 AND org_id <> $2",
                n,
                org,
                "the number",
            )
            .await?;
        }
        db.exec("DELETE FROM org_numbers WHERE org_id = $1", args![org])
            .await?;
        for n in numbers {
            db.exec(
                "INSERT INTO org_numbers (e164, org_id) VALUES ($1, $2)",
                args![n, org],
            )
            .await?;
        }
        changed.push("twilio_numbers");
    }
    if let Some(m) = &u.ai_model {
        let url = db
            .one(
                "SELECT ai_model_url FROM provider_settings WHERE org_id = $1",
                args![org],
                |r| r.opt_text(0),
            )
            .await?;
        if let Some(key) = model_key(m, url.as_deref()) {
            let field = Field::AiModelKey;
            set_sealed(db, secrets, org, field, key).await?;
            changed.push(field.column());
        }
        // A new endpoint sees only what arrives from now on.
        let moved = db
            .exec(
                "UPDATE provider_settings SET ai_model_url = nullif($2, ''), ai_model_name = nullif($3, ''),
                        ai_model_floor = (SELECT coalesce(max(id), 0) FROM messages),
                        ai_model_cursor = (SELECT coalesce(max(id), 0) FROM messages),
                        ai_model_since = $4
                 WHERE org_id = $1 AND (coalesce(ai_model_url, '') <> $2 OR coalesce(ai_model_name, '') <> $3)",
                args![org, &m.url, &m.model, ms(at)],
            )
            .await?;
        if moved > 0 {
            changed.push("ai_model");
        }
    }
    let detail = serde_json::json!({ "changed": changed });
    let subject = ("organisation", org);
    audit(db, org, u.by, "provider.updated", subject, detail, at).await
}

/// Re-seals every stored secret that an older key or format sealed.
pub(crate) async fn upgrade_secrets(
    db: &mut impl Db,
    secrets: &SecretBox,
) -> StoreResult<SecretsReport> {
    if db.dialect() == Dialect::Postgres {
        // Instances starting together re-seal once: the first holds the rows, the others then
        // find them current. (SQLite's one writer already makes them wait.)
        db.exec("SELECT 1 FROM provider_settings FOR UPDATE", args![])
            .await?;
    }
    let mut values = Vec::new();
    for field in Field::ALL {
        let column = field.column();
        let sql =
            format!("SELECT org_id, {column} FROM provider_settings WHERE {column} IS NOT NULL");
        let rows = db
            .all(&sql, args![], |r| Ok((r.int(0)?, r.text(1)?)))
            .await?;
        values.extend(rows.into_iter().map(|(org, v)| (org, field, v)));
    }
    let (writes, report) = upgrade_values(secrets, values)?;
    for (org, field, sealed) in writes {
        set(db, org, field.column(), &sealed).await?;
    }
    Ok(report)
}

pub(crate) async fn portal_token(
    db: &mut impl Db,
    token_hash: &[u8; 32],
) -> StoreResult<Option<PortalToken>> {
    db.opt(
        "SELECT org_id, customer_id, created_at, revoked_at FROM portal_tokens WHERE token_hash = $1",
        args![token_hash],
        |r| {
            Ok(PortalToken {
                org_id: r.int(0)?,
                customer_id: r.int(1)?,
                created_at: r.time(2)?,
                revoked_at: r.opt_int(3)?.map(from_ms),
            })
        },
    )
    .await
}

pub(crate) async fn create_portal_token(
    db: &mut impl Db,
    (org, customer): (Id, Id),
    token_hash: &[u8; 32],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    db.exists(
        "SELECT 1 FROM customers WHERE id = $1 AND org_id = $2",
        args![customer, org],
    )
    .await?;
    db.exec(
        "INSERT INTO portal_tokens (token_hash, org_id, customer_id, created_at) VALUES ($1, $2, $3, $4)",
        args![token_hash, org, customer, ms(at)],
    )
    .await?;
    Ok(())
}

fn pair(r: &Row) -> StoreResult<(Id, Id)> {
    Ok((r.int(0)?, r.int(1)?))
}

/// Revokes live tokens; returns (organisation, customer) of each.
pub(crate) async fn revoke_portal_tokens(
    db: &mut impl Db,
    which: &PortalRevoke,
    at: DateTime<Utc>,
) -> StoreResult<Vec<(Id, Id)>> {
    let revoked = match which {
        PortalRevoke::Token(hash) => {
            db.all(
                "UPDATE portal_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL
                 RETURNING org_id, customer_id",
                args![hash, ms(at)],
                pair,
            )
            .await?
        }
        PortalRevoke::Customer {
            org_id,
            customer_id,
        } => {
            db.exists(
                "SELECT 1 FROM customers WHERE id = $1 AND org_id = $2",
                args![*customer_id, *org_id],
            )
            .await?;
            db.all(
                "UPDATE portal_tokens SET revoked_at = $3
                 WHERE org_id = $1 AND customer_id = $2 AND revoked_at IS NULL
                 RETURNING org_id, customer_id",
                args![*org_id, *customer_id, ms(at)],
                pair,
            )
            .await?
        }
    };
    for (org, customer) in &revoked {
        let subject = ("customer", *customer);
        audit(
            db,
            *org,
            None,
            "portal.revoked",
            subject,
            serde_json::json!({}),
            at,
        )
        .await?;
    }
    Ok(revoked)
}
