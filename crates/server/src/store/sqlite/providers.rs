//! Provider identities (which organisation a webhook is for) and what providers report: delivery
//! statuses, call progress, recordings and transcripts; portal tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::providers::status::advance;
use inbox_core::sync::Change;
use inbox_core::{Call, DeliveryStatus, Id, Message};
use rusqlite::{params, Connection, OptionalExtension};

use super::calls::refresh;
use super::events::{emit, emit_conversation};
use super::rows::{load_call, load_message};
use super::{activity_kind, fts_kind, fts_put, ms, record_activity, SqliteStore};
use crate::secrets::{Field, SecretBox};
use crate::store::{
    CallUpdate, PortalRevoke, PortalToken, ProviderStore, ProviderUpdate, SecretsReport,
    StoreResult, TwilioAccount, WhatsappAccount,
};

/// Moves a message's status forward (PROVIDERS §4), with its activity and events.
pub(crate) fn apply_status(
    tx: &Connection,
    org_id: Id,
    id: Id,
    status: DeliveryStatus,
    error: Option<String>,
    at: DateTime<Utc>,
) -> StoreResult<Option<Message>> {
    let current = load_message(tx, org_id, id)?;
    let Some(next) = advance(current.status, status) else {
        return Ok(None);
    };
    let error = if next == DeliveryStatus::Failed {
        error
    } else {
        None
    };
    // The doubt of an unknown send is over once the provider says anything.
    let settled = current.status == DeliveryStatus::Unknown;
    tx.prepare_cached("UPDATE messages SET status = ?2, error = CASE WHEN ?5 THEN ?3 ELSE coalesce(?3, error) END, updated_at = ?4 WHERE id = ?1")?
        .execute(params![id, next.as_str(), error, ms(at), settled])?;
    record_activity(
        tx,
        org_id,
        current.conversation_id,
        at,
        activity_kind::STATUS,
        id,
    )?;
    let message = load_message(tx, org_id, id)?;
    emit(tx, org_id, at, &Change::Message(message.clone()))?;
    emit_conversation(tx, org_id, current.conversation_id, at)?;
    Ok(Some(message))
}

/// Applies the statuses that arrived before the message's provider id was recorded.
pub(crate) fn apply_early_statuses(
    tx: &Connection,
    org_id: Id,
    id: Id,
    provider: &str,
    provider_id: &str,
) -> StoreResult<()> {
    let early: Vec<(String, Option<String>, i64)> = tx
        .prepare_cached(
            "DELETE FROM early_statuses WHERE org_id = ?1 AND provider = ?2 AND provider_id = ?3 RETURNING status, error, at",
        )?
        .query_map(params![org_id, provider, provider_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (status, error, at) in early {
        if let Some(status) = DeliveryStatus::parse(&status) {
            apply_status(tx, org_id, id, status, error, super::from_ms(at))?;
        }
    }
    Ok(())
}

fn numbers(conn: &Connection, org: Id) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT e164 FROM org_numbers WHERE org_id = ?1 ORDER BY e164")?
        .query_map([org], |r| r.get(0))?
        .collect()
}

fn twilio(
    conn: &Connection,
    secrets: &SecretBox,
    sql: &str,
    key: &dyn rusqlite::ToSql,
) -> StoreResult<Option<TwilioAccount>> {
    let row = conn
        .prepare_cached(sql)?
        .query_row([key], |r| {
            Ok((
                r.get::<_, Id>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .optional()?;
    Ok(match row {
        Some((org_id, account_sid, auth_token)) => Some(TwilioAccount {
            org_id,
            account_sid,
            auth_token: secrets.open(&auth_token, org_id, Field::TwilioAuthToken)?,
            numbers: numbers(conn, org_id)?,
        }),
        None => None,
    })
}

fn whatsapp(
    conn: &Connection,
    secrets: &SecretBox,
    sql: &str,
    key: &dyn rusqlite::ToSql,
) -> StoreResult<Option<WhatsappAccount>> {
    let row = conn
        .prepare_cached(sql)?
        .query_row([key], |r| {
            Ok(WhatsappAccount {
                org_id: r.get(0)?,
                phone_number_id: r.get(1)?,
                access_token: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            })
        })
        .optional()?;
    match row {
        Some(mut a) => {
            a.access_token = secrets.open(&a.access_token, a.org_id, Field::WhatsappAccessToken)?;
            Ok(Some(a))
        }
        None => Ok(None),
    }
}

const TWILIO: &str = "SELECT org_id, twilio_account_sid, twilio_auth_token FROM provider_settings
                      WHERE twilio_account_sid IS NOT NULL AND twilio_auth_token IS NOT NULL";
const WHATSAPP: &str =
    "SELECT org_id, whatsapp_phone_number_id, whatsapp_access_token FROM provider_settings
                        WHERE whatsapp_phone_number_id IS NOT NULL";

#[async_trait]
impl ProviderStore for SqliteStore {
    async fn twilio_account(&self, account_sid: &str) -> StoreResult<Option<TwilioAccount>> {
        let sid = account_sid.to_string();
        let secrets = self.secrets.clone();
        self.read(move |c| {
            twilio(
                c,
                &secrets,
                &format!("{TWILIO} AND twilio_account_sid = ?1"),
                &sid,
            )
        })
        .await
    }

    async fn twilio_account_of(&self, org_id: Id) -> StoreResult<Option<TwilioAccount>> {
        let secrets = self.secrets.clone();
        self.read(move |c| twilio(c, &secrets, &format!("{TWILIO} AND org_id = ?1"), &org_id))
            .await
    }

    async fn whatsapp_account(
        &self,
        phone_number_id: &str,
    ) -> StoreResult<Option<WhatsappAccount>> {
        let id = phone_number_id.to_string();
        let secrets = self.secrets.clone();
        self.read(move |c| {
            whatsapp(
                c,
                &secrets,
                &format!("{WHATSAPP} AND whatsapp_phone_number_id = ?1"),
                &id,
            )
        })
        .await
    }

    async fn whatsapp_account_of(&self, org_id: Id) -> StoreResult<Option<WhatsappAccount>> {
        let secrets = self.secrets.clone();
        self.read(move |c| whatsapp(c, &secrets, &format!("{WHATSAPP} AND org_id = ?1"), &org_id))
            .await
    }

    async fn apply_delivery_status(
        &self,
        org_id: Id,
        provider: &str,
        provider_id: &str,
        status: DeliveryStatus,
        error: Option<String>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        let (provider, provider_id) = (provider.to_string(), provider_id.to_string());
        self.write(move |tx| {
            let id: Option<Id> = tx
                .prepare_cached("SELECT id FROM messages WHERE org_id = ?1 AND provider = ?2 AND provider_id = ?3 AND direction = 'outbound'")?
                .query_row(params![org_id, provider, provider_id], |r| r.get(0))
                .optional()?;
            let Some(id) = id else {
                // Not known yet: the send's answer is still being recorded. Keep it for then.
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO early_statuses (org_id, provider, provider_id, status, error, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![org_id, provider, provider_id, status.as_str(), error, ms(at)])?;
                return Ok(None);
            };
            apply_status(tx, org_id, id, status, error, at)
        })
        .await
    }

    async fn update_call(
        &self,
        org_id: Id,
        provider_call_id: &str,
        u: CallUpdate,
    ) -> StoreResult<Option<Call>> {
        let call_sid = provider_call_id.to_string();
        self.write(move |tx| {
            let row: Option<(Id, Option<u32>)> = tx
                .prepare_cached("SELECT id, provider_sequence FROM calls WHERE org_id = ?1 AND provider_call_id = ?2")?
                .query_row(params![org_id, call_sid], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((id, last_seq)) = row else { return Ok(None) };
            if let (Some(new), Some(old)) = (u.sequence, last_seq) {
                if new <= old {
                    return Ok(None);
                }
            }
            let before = load_call(tx, org_id, id)?;
            tx.prepare_cached(
                "UPDATE calls SET outcome = coalesce(?2, outcome), duration_secs = coalesce(?3, duration_secs),
                        recording_url = coalesce(?4, recording_url), recording_secs = coalesce(?5, recording_secs),
                        transcript = coalesce(?6, transcript), provider_sequence = coalesce(?7, provider_sequence),
                        updated_at = ?8
                 WHERE id = ?1",
            )?
            .execute(params![id, u.outcome.map(|o| o.as_str()), u.duration_secs, u.recording_url, u.recording_secs, u.transcript, u.sequence, ms(u.at)])?;
            let after = load_call(tx, org_id, id)?;
            if after == before {
                return Ok(None);
            }
            if after.outcome != before.outcome {
                let fact = inbox_core::analytics::Fact::Call {
                    started_at: after.started_at,
                    direction: after.direction,
                    before: Some(before.outcome),
                    after: after.outcome,
                };
                super::analytics::record(tx, org_id, Some(after.conversation_id), fact)?;
            }
            if let Some(t) = &after.transcript {
                fts_put(tx, fts_kind::CALL, id, org_id, after.conversation_id, t)?;
            }
            record_activity(tx, org_id, after.conversation_id, u.at, activity_kind::CALL_STATUS, id)?;
            // Preview, channel and the unresolved count follow the call's new outcome.
            refresh(tx, after.conversation_id)?;
            emit(tx, org_id, u.at, &Change::Call(after.clone()))?;
            emit_conversation(tx, org_id, after.conversation_id, u.at)?;
            Ok(Some(after))
        })
        .await
    }

    async fn voice_forward_number(&self, org_id: Id) -> StoreResult<Option<String>> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT voice_forward_to FROM provider_settings WHERE org_id = ?1",
            )?
            .query_row([org_id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
        })
        .await
    }

    async fn call_by_provider_id(
        &self,
        org_id: Id,
        provider_call_id: &str,
    ) -> StoreResult<Option<Call>> {
        let sid = provider_call_id.to_string();
        self.read(move |c| {
            let id: Option<Id> = c
                .prepare_cached("SELECT id FROM calls WHERE org_id = ?1 AND provider_call_id = ?2")?
                .query_row(params![org_id, sid], |r| r.get(0))
                .optional()?;
            match id {
                Some(id) => Ok(Some(load_call(c, org_id, id)?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn customer_conversation(&self, org_id: Id, customer_id: Id) -> StoreResult<Option<Id>> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT id FROM conversations WHERE org_id = ?1 AND customer_id = ?2",
            )?
            .query_row([org_id, customer_id], |r| r.get(0))
            .optional()?)
        })
        .await
    }

    async fn portal_token(&self, token_hash: [u8; 32]) -> StoreResult<Option<PortalToken>> {
        self.read(move |c| super::settings::portal_token(c, token_hash))
            .await
    }

    async fn revoke_portal_tokens(
        &self,
        which: PortalRevoke,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(Id, Id)>> {
        self.write(move |tx| super::settings::revoke_portal_tokens(tx, &which, now))
            .await
    }

    async fn set_provider_settings(
        &self,
        org_id: Id,
        update: ProviderUpdate,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let secrets = self.secrets.clone();
        self.write(move |tx| {
            super::settings::set_provider_settings(tx, &secrets, org_id, &update, now)
        })
        .await
    }

    async fn upgrade_secrets(&self) -> StoreResult<SecretsReport> {
        let secrets = self.secrets.clone();
        self.write(move |tx| super::settings::upgrade_secrets(tx, &secrets))
            .await
    }

    async fn create_portal_token(
        &self,
        org_id: Id,
        customer_id: Id,
        token_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            super::found(tx.prepare_cached("SELECT 1 FROM customers WHERE id = ?1 AND org_id = ?2")?.query_row([customer_id, org_id], |_| Ok(())))?;
            tx.prepare_cached("INSERT INTO portal_tokens (token_hash, org_id, customer_id, created_at) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![&token_hash[..], org_id, customer_id, ms(now)])?;
            Ok(())
        })
        .await
    }
}
