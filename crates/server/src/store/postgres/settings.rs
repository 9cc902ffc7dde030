//! What the admin tools change outside the inbox: an organisation's provider settings (sealed,
//! bound to the organisation), the re-seal of older secrets, and portal tokens.

use chrono::{DateTime, Utc};
use inbox_core::Id;
use sqlx::PgConnection;

use super::{audit, exists};
use crate::secrets::{Field, SecretBox};
use crate::store::language_model::model_key;
use crate::store::rows::{from_ms, ms};
use crate::store::{
    upgrade_values, PortalRevoke, PortalToken, ProviderUpdate, SecretsReport, StoreError,
    StoreResult,
};

/// Conflict when another organisation already holds `value` in `sql`'s column.
async fn held_elsewhere(
    c: &mut PgConnection,
    sql: &'static str,
    value: &str,
    org_id: Id,
    what: &str,
) -> StoreResult<()> {
    let other: Option<Id> = sqlx::query_scalar(sql)
        .bind(value)
        .bind(org_id)
        .fetch_optional(c)
        .await?;
    match other {
        Some(o) => Err(StoreError::Conflict(format!(
            "{what} {value} belongs to organisation {o}"
        ))),
        None => Ok(()),
    }
}

/// Sets one column of the organisation's provider settings; empty clears it.
async fn set(c: &mut PgConnection, org_id: Id, column: &str, value: &str) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE provider_settings SET {column} = nullif($2, '') WHERE org_id = $1"
    )))
    .bind(org_id)
    .bind(value)
    .execute(c)
    .await?;
    Ok(())
}

pub(super) async fn set_provider_settings(
    c: &mut PgConnection,
    secrets: &SecretBox,
    org_id: Id,
    u: &ProviderUpdate,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let org: Option<Id> = sqlx::query_scalar("SELECT id FROM organisations WHERE id = $1")
        .bind(org_id)
        .fetch_optional(&mut *c)
        .await?;
    if org.is_none() {
        return Err(StoreError::NotFound);
    }
    sqlx::query("INSERT INTO provider_settings (org_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(org_id)
        .execute(&mut *c)
        .await?;
    let mut changed: Vec<&str> = Vec::new();
    if let Some(sid) = &u.twilio_account_sid {
        held_elsewhere(
            c,
            "SELECT org_id FROM provider_settings WHERE twilio_account_sid = $1 AND org_id <> $2",
            sid,
            org_id,
            "the Twilio account",
        )
        .await?;
        set(c, org_id, "twilio_account_sid", sid).await?;
        changed.push("twilio_account_sid");
    }
    if let Some(token) = &u.twilio_auth_token {
        let field = Field::TwilioAuthToken;
        set(
            c,
            org_id,
            field.column(),
            &secrets.seal(token, org_id, field)?,
        )
        .await?;
        changed.push(field.column());
    }
    if let Some(id) = &u.whatsapp_phone_number_id {
        held_elsewhere(
            c,
            "SELECT org_id FROM provider_settings WHERE whatsapp_phone_number_id = $1 AND org_id <> $2",
            id,
            org_id,
            "the WhatsApp phone number id",
        )
        .await?;
        set(c, org_id, "whatsapp_phone_number_id", id).await?;
        changed.push("whatsapp_phone_number_id");
    }
    if let Some(token) = &u.whatsapp_access_token {
        let field = Field::WhatsappAccessToken;
        set(
            c,
            org_id,
            field.column(),
            &secrets.seal(token, org_id, field)?,
        )
        .await?;
        changed.push(field.column());
    }
    if let Some(to) = &u.voice_forward_to {
        set(c, org_id, "voice_forward_to", to).await?;
        changed.push("voice_forward_to");
    }
    if let Some(numbers) = &u.twilio_numbers {
        for n in numbers {
            held_elsewhere(
                c,
                "SELECT org_id FROM org_numbers WHERE e164 = $1 AND org_id <> $2",
                n,
                org_id,
                "the number",
            )
            .await?;
        }
        sqlx::query("DELETE FROM org_numbers WHERE org_id = $1")
            .bind(org_id)
            .execute(&mut *c)
            .await?;
        for n in numbers {
            sqlx::query("INSERT INTO org_numbers (e164, org_id) VALUES ($1, $2)")
                .bind(n)
                .bind(org_id)
                .execute(&mut *c)
                .await?;
        }
        changed.push("twilio_numbers");
    }
    if let Some(m) = &u.ai_model {
        let url: Option<String> =
            sqlx::query_scalar("SELECT ai_model_url FROM provider_settings WHERE org_id = $1")
                .bind(org_id)
                .fetch_one(&mut *c)
                .await?;
        if let Some(key) = model_key(m, url.as_deref()) {
            let field = Field::AiModelKey;
            set(
                c,
                org_id,
                field.column(),
                &secrets.seal(key, org_id, field)?,
            )
            .await?;
            changed.push(field.column());
        }
        // A new endpoint sees only what arrives from now on.
        let moved = sqlx::query(
            "UPDATE provider_settings SET ai_model_url = nullif($2, ''), ai_model_name = nullif($3, ''),
                    ai_model_floor = (SELECT coalesce(max(id), 0) FROM messages),
                    ai_model_cursor = (SELECT coalesce(max(id), 0) FROM messages),
                    ai_model_since = $4
             WHERE org_id = $1 AND (coalesce(ai_model_url, '') <> $2 OR coalesce(ai_model_name, '') <> $3)",
        )
        .bind(org_id)
        .bind(&m.url)
        .bind(&m.model)
        .bind(ms(now))
        .execute(&mut *c)
        .await?
        .rows_affected();
        if moved > 0 {
            changed.push("ai_model");
        }
    }
    audit(
        c,
        org_id,
        u.by,
        "provider.updated",
        ("organisation", org_id),
        serde_json::json!({ "changed": changed }),
        now,
    )
    .await
}

pub(super) async fn upgrade_secrets(
    c: &mut PgConnection,
    secrets: &SecretBox,
) -> StoreResult<SecretsReport> {
    // Instances starting together re-seal once: the first holds the rows, the others then find
    // them current.
    sqlx::query("SELECT 1 FROM provider_settings FOR UPDATE")
        .execute(&mut *c)
        .await?;
    let mut values = Vec::new();
    for field in Field::ALL {
        let column = field.column();
        let rows: Vec<(Id, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT org_id, {column} FROM provider_settings WHERE {column} IS NOT NULL"
        )))
        .fetch_all(&mut *c)
        .await?;
        values.extend(rows.into_iter().map(|(org, v)| (org, field, v)));
    }
    let (writes, report) = upgrade_values(secrets, values)?;
    for (org, field, sealed) in writes {
        set(c, org, field.column(), &sealed).await?;
    }
    Ok(report)
}

pub(super) async fn portal_token(
    c: &mut PgConnection,
    token_hash: [u8; 32],
) -> StoreResult<Option<PortalToken>> {
    let row: Option<(Id, Id, i64, Option<i64>)> = sqlx::query_as(
        "SELECT org_id, customer_id, created_at, revoked_at FROM portal_tokens WHERE token_hash = $1",
    )
    .bind(&token_hash[..])
    .fetch_optional(c)
    .await?;
    Ok(
        row.map(|(org_id, customer_id, created, revoked)| PortalToken {
            org_id,
            customer_id,
            created_at: from_ms(created),
            revoked_at: revoked.map(from_ms),
        }),
    )
}

pub(super) async fn revoke_portal_tokens(
    c: &mut PgConnection,
    which: &PortalRevoke,
    now: DateTime<Utc>,
) -> StoreResult<Vec<(Id, Id)>> {
    let revoked: Vec<(Id, Id)> = match which {
        PortalRevoke::Token(hash) => sqlx::query_as(
            "UPDATE portal_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL
                 RETURNING org_id, customer_id",
        )
        .bind(&hash[..])
        .bind(ms(now))
        .fetch_all(&mut *c)
        .await?,
        PortalRevoke::Customer {
            org_id,
            customer_id,
        } => {
            exists(
                c,
                "SELECT 1 FROM customers WHERE id = $1 AND org_id = $2",
                *customer_id,
                *org_id,
            )
            .await?;
            sqlx::query_as(
                "UPDATE portal_tokens SET revoked_at = $3 WHERE org_id = $1 AND customer_id = $2 AND revoked_at IS NULL
                 RETURNING org_id, customer_id",
            )
            .bind(org_id)
            .bind(customer_id)
            .bind(ms(now))
            .fetch_all(&mut *c)
            .await?
        }
    };
    for (org, customer) in &revoked {
        audit(
            c,
            *org,
            None,
            "portal.revoked",
            ("customer", *customer),
            serde_json::json!({}),
            now,
        )
        .await?;
    }
    Ok(revoked)
}
