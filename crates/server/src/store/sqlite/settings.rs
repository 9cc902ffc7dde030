//! What the admin tools change outside the inbox: an organisation's provider settings (sealed,
//! bound to the organisation), the re-seal of older secrets, and portal tokens.

use chrono::{DateTime, Utc};
use inbox_core::Id;
use rusqlite::{params, Connection, OptionalExtension};

use super::{audit, found, from_ms, ms};
use crate::secrets::{Field, SecretBox};
use crate::store::language_model::model_key;
use crate::store::{
    upgrade_values, PortalRevoke, PortalToken, ProviderUpdate, SecretsReport, StoreError,
    StoreResult,
};

/// Conflict when another organisation already holds `value` in `sql`'s column.
fn held_elsewhere(
    tx: &Connection,
    sql: &str,
    value: &str,
    org_id: Id,
    what: &str,
) -> StoreResult<()> {
    let other: Option<Id> = tx
        .prepare_cached(sql)?
        .query_row(params![value, org_id], |r| r.get(0))
        .optional()?;
    match other {
        Some(o) => Err(StoreError::Conflict(format!(
            "{what} {value} belongs to organisation {o}"
        ))),
        None => Ok(()),
    }
}

pub(super) fn set_provider_settings(
    tx: &Connection,
    secrets: &SecretBox,
    org_id: Id,
    u: &ProviderUpdate,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    found(
        tx.prepare_cached("SELECT 1 FROM organisations WHERE id = ?1")?
            .query_row([org_id], |_| Ok(())),
    )?;
    tx.prepare_cached("INSERT OR IGNORE INTO provider_settings (org_id) VALUES (?1)")?
        .execute([org_id])?;
    let mut changed = Vec::new();
    let mut set = |column: &str, value: &str| -> StoreResult<()> {
        tx.prepare_cached(&format!(
            "UPDATE provider_settings SET {column} = nullif(?2, '') WHERE org_id = ?1"
        ))?
        .execute(params![org_id, value])?;
        changed.push(column.to_string());
        Ok(())
    };
    if let Some(sid) = &u.twilio_account_sid {
        held_elsewhere(
            tx,
            "SELECT org_id FROM provider_settings WHERE twilio_account_sid = ?1 AND org_id <> ?2",
            sid,
            org_id,
            "the Twilio account",
        )?;
        set("twilio_account_sid", sid)?;
    }
    if let Some(token) = &u.twilio_auth_token {
        set(
            Field::TwilioAuthToken.column(),
            &secrets.seal(token, org_id, Field::TwilioAuthToken)?,
        )?;
    }
    if let Some(id) = &u.whatsapp_phone_number_id {
        held_elsewhere(
            tx,
            "SELECT org_id FROM provider_settings WHERE whatsapp_phone_number_id = ?1 AND org_id <> ?2",
            id,
            org_id,
            "the WhatsApp phone number id",
        )?;
        set("whatsapp_phone_number_id", id)?;
    }
    if let Some(token) = &u.whatsapp_access_token {
        set(
            Field::WhatsappAccessToken.column(),
            &secrets.seal(token, org_id, Field::WhatsappAccessToken)?,
        )?;
    }
    if let Some(to) = &u.voice_forward_to {
        set("voice_forward_to", to)?;
    }
    if let Some(m) = &u.ai_model {
        let url: Option<String> = tx
            .prepare_cached("SELECT ai_model_url FROM provider_settings WHERE org_id = ?1")?
            .query_row([org_id], |r| r.get(0))?;
        if let Some(key) = model_key(m, url.as_deref()) {
            set(
                Field::AiModelKey.column(),
                &secrets.seal(key, org_id, Field::AiModelKey)?,
            )?;
        }
        // A new endpoint sees only what arrives from now on.
        let moved = tx
            .prepare_cached(
                "UPDATE provider_settings SET ai_model_url = nullif(?2, ''), ai_model_name = nullif(?3, ''),
                        ai_model_floor = (SELECT coalesce(max(id), 0) FROM messages),
                        ai_model_cursor = (SELECT coalesce(max(id), 0) FROM messages),
                        ai_model_since = ?4
                 WHERE org_id = ?1 AND (coalesce(ai_model_url, '') <> ?2 OR coalesce(ai_model_name, '') <> ?3)",
            )?
            .execute(params![org_id, m.url, m.model, ms(now)])?;
        if moved > 0 {
            changed.push("ai_model".into());
        }
    }
    if let Some(numbers) = &u.twilio_numbers {
        for n in numbers {
            held_elsewhere(
                tx,
                "SELECT org_id FROM org_numbers WHERE e164 = ?1 AND org_id <> ?2",
                n,
                org_id,
                "the number",
            )?;
        }
        tx.prepare_cached("DELETE FROM org_numbers WHERE org_id = ?1")?
            .execute([org_id])?;
        for n in numbers {
            tx.prepare_cached("INSERT INTO org_numbers (e164, org_id) VALUES (?1, ?2)")?
                .execute(params![n, org_id])?;
        }
        changed.push("twilio_numbers".into());
    }
    audit(
        tx,
        org_id,
        u.by,
        "provider.updated",
        ("organisation", org_id),
        serde_json::json!({ "changed": changed }),
        now,
    )?;
    Ok(())
}

pub(super) fn upgrade_secrets(tx: &Connection, secrets: &SecretBox) -> StoreResult<SecretsReport> {
    let mut values = Vec::new();
    for field in Field::ALL {
        let column = field.column();
        let rows = tx
            .prepare_cached(&format!(
                "SELECT org_id, {column} FROM provider_settings WHERE {column} IS NOT NULL"
            ))?
            .query_map([], |r| Ok((r.get::<_, Id>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        values.extend(rows.into_iter().map(|(org, v)| (org, field, v)));
    }
    let (writes, report) = upgrade_values(secrets, values)?;
    for (org, field, sealed) in writes {
        tx.prepare_cached(&format!(
            "UPDATE provider_settings SET {} = ?2 WHERE org_id = ?1",
            field.column()
        ))?
        .execute(params![org, sealed])?;
    }
    Ok(report)
}

pub(super) fn portal_token(
    c: &Connection,
    token_hash: [u8; 32],
) -> StoreResult<Option<PortalToken>> {
    Ok(c.prepare_cached(
        "SELECT org_id, customer_id, created_at, revoked_at FROM portal_tokens WHERE token_hash = ?1",
    )?
    .query_row([&token_hash[..]], |r| {
        Ok(PortalToken {
            org_id: r.get(0)?,
            customer_id: r.get(1)?,
            created_at: from_ms(r.get(2)?),
            revoked_at: r.get::<_, Option<i64>>(3)?.map(from_ms),
        })
    })
    .optional()?)
}

pub(super) fn revoke_portal_tokens(
    tx: &Connection,
    which: &PortalRevoke,
    now: DateTime<Utc>,
) -> StoreResult<Vec<(Id, Id)>> {
    let revoked: Vec<(Id, Id)> = match which {
        PortalRevoke::Token(hash) => tx
            .prepare_cached(
                "UPDATE portal_tokens SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL
                 RETURNING org_id, customer_id",
            )?
            .query_map(params![&hash[..], ms(now)], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?,
        PortalRevoke::Customer {
            org_id,
            customer_id,
        } => {
            found(
                tx.prepare_cached("SELECT 1 FROM customers WHERE id = ?1 AND org_id = ?2")?
                    .query_row([customer_id, org_id], |_| Ok(())),
            )?;
            tx.prepare_cached(
                "UPDATE portal_tokens SET revoked_at = ?3 WHERE org_id = ?1 AND customer_id = ?2 AND revoked_at IS NULL
                 RETURNING org_id, customer_id",
            )?
            .query_map(params![org_id, customer_id, ms(now)], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
        }
    };
    for (org, customer) in &revoked {
        audit(
            tx,
            *org,
            None,
            "portal.revoked",
            ("customer", *customer),
            serde_json::json!({}),
            now,
        )?;
    }
    Ok(revoked)
}
