//! Provider identities (which organisation a webhook is for) and what providers report: delivery
//! statuses, call progress, recordings and transcripts; portal tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::providers::status::advance;
use inbox_core::sync::Change;
use inbox_core::{Call, DeliveryStatus, Id, Message};
use sqlx::PgConnection;

use super::calls::refresh;
use super::events::{emit, emit_conversation};
use super::rows::{load_call, load_message};
use super::{activity_kind, exists, fts_kind, record_activity, search_put, PgStore, Tx};
use crate::secrets::Field;
use crate::store::rows::{from_ms, ms};
use crate::store::{
    CallUpdate, PortalRevoke, PortalToken, ProviderStore, ProviderUpdate, SecretsReport,
    StoreResult, TwilioAccount, WhatsappAccount,
};

/// Moves a message's status forward (PROVIDERS §4), with its activity and events.
pub(crate) async fn apply_status(
    tx: &mut Tx,
    org_id: Id,
    id: Id,
    status: DeliveryStatus,
    error: Option<String>,
    at: DateTime<Utc>,
) -> StoreResult<Option<Message>> {
    let current = load_message(tx, org_id, id).await?;
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
    sqlx::query("UPDATE messages SET status = $2, error = CASE WHEN $5 THEN $3 ELSE coalesce($3, error) END, updated_at = $4 WHERE id = $1")
        .bind(id)
        .bind(next.as_str())
        .bind(error)
        .bind(ms(at))
        .bind(settled)
        .execute(&mut **tx)
        .await?;
    record_activity(
        tx,
        org_id,
        current.conversation_id,
        at,
        activity_kind::STATUS,
        id,
    )
    .await?;
    let message = load_message(tx, org_id, id).await?;
    emit(tx, org_id, at, &Change::Message(message.clone())).await?;
    emit_conversation(tx, org_id, current.conversation_id, at).await?;
    Ok(Some(message))
}

/// Applies the statuses that arrived before the message's provider id was recorded.
pub(crate) async fn apply_early_statuses(
    tx: &mut Tx,
    org_id: Id,
    id: Id,
    provider: &str,
    provider_id: &str,
) -> StoreResult<()> {
    let early: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "DELETE FROM early_statuses WHERE org_id = $1 AND provider = $2 AND provider_id = $3 RETURNING status, error, at",
    )
    .bind(org_id)
    .bind(provider)
    .bind(provider_id)
    .fetch_all(&mut **tx)
    .await?;
    for (status, error, at) in early {
        if let Some(status) = DeliveryStatus::parse(&status) {
            apply_status(tx, org_id, id, status, error, from_ms(at)).await?;
        }
    }
    Ok(())
}

const TWILIO: &str = "SELECT org_id, twilio_account_sid, twilio_auth_token FROM provider_settings
                      WHERE twilio_account_sid IS NOT NULL AND twilio_auth_token IS NOT NULL";
const WHATSAPP: &str =
    "SELECT org_id, whatsapp_phone_number_id, whatsapp_access_token FROM provider_settings
                        WHERE whatsapp_phone_number_id IS NOT NULL";

impl PgStore {
    async fn twilio(&self, condition: &str, key: Key<'_>) -> StoreResult<Option<TwilioAccount>> {
        let mut c = self.conn().await?;
        let q = sqlx::query_as::<_, (Id, String, String)>(sqlx::AssertSqlSafe(format!(
            "{TWILIO} AND {condition}"
        )));
        let row = key.bind_to(q).fetch_optional(&mut *c).await?;
        let Some((org_id, account_sid, auth_token)) = row else {
            return Ok(None);
        };
        let numbers = sqlx::query_scalar(
            "SELECT e164 FROM org_numbers WHERE org_id = $1 ORDER BY e164 COLLATE \"C\"",
        )
        .bind(org_id)
        .fetch_all(&mut *c)
        .await?;
        Ok(Some(TwilioAccount {
            org_id,
            account_sid,
            auth_token: self
                .secrets
                .open(&auth_token, org_id, Field::TwilioAuthToken)?,
            numbers,
        }))
    }

    async fn whatsapp(
        &self,
        condition: &str,
        key: Key<'_>,
    ) -> StoreResult<Option<WhatsappAccount>> {
        let q = sqlx::query_as::<_, (Id, String, Option<String>)>(sqlx::AssertSqlSafe(format!(
            "{WHATSAPP} AND {condition}"
        )));
        let row = key.bind_to(q).fetch_optional(&self.pool).await?;
        let Some((org_id, phone_number_id, token)) = row else {
            return Ok(None);
        };
        Ok(Some(WhatsappAccount {
            org_id,
            phone_number_id,
            access_token: self.secrets.open(
                &token.unwrap_or_default(),
                org_id,
                Field::WhatsappAccessToken,
            )?,
        }))
    }
}

/// The one parameter of an account lookup.
enum Key<'a> {
    Text(&'a str),
    Org(Id),
}

impl Key<'_> {
    fn bind_to<'q, O>(
        self,
        q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
        match self {
            Key::Text(s) => q.bind(s.to_string()),
            Key::Org(id) => q.bind(id),
        }
    }
}

async fn message_id_of(
    c: &mut PgConnection,
    org_id: Id,
    provider: &str,
    provider_id: &str,
) -> StoreResult<Option<Id>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM messages WHERE org_id = $1 AND provider = $2 AND provider_id = $3 AND direction = 'outbound'",
    )
    .bind(org_id)
    .bind(provider)
    .bind(provider_id)
    .fetch_optional(c)
    .await?)
}

#[async_trait]
impl ProviderStore for PgStore {
    async fn twilio_account(&self, account_sid: &str) -> StoreResult<Option<TwilioAccount>> {
        self.twilio("twilio_account_sid = $1", Key::Text(account_sid))
            .await
    }

    async fn twilio_account_of(&self, org_id: Id) -> StoreResult<Option<TwilioAccount>> {
        self.twilio("org_id = $1", Key::Org(org_id)).await
    }

    async fn whatsapp_account(
        &self,
        phone_number_id: &str,
    ) -> StoreResult<Option<WhatsappAccount>> {
        self.whatsapp("whatsapp_phone_number_id = $1", Key::Text(phone_number_id))
            .await
    }

    async fn whatsapp_account_of(&self, org_id: Id) -> StoreResult<Option<WhatsappAccount>> {
        self.whatsapp("org_id = $1", Key::Org(org_id)).await
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
        let mut tx = self.begin(org_id).await?;
        let Some(id) = message_id_of(&mut tx, org_id, provider, provider_id).await? else {
            // Not known yet: the send's answer is still being recorded. Keep it for then.
            sqlx::query(
                "INSERT INTO early_statuses (org_id, provider, provider_id, status, error, at) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT DO NOTHING",
            )
            .bind(org_id)
            .bind(provider)
            .bind(provider_id)
            .bind(status.as_str())
            .bind(error)
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
            self.commit(tx).await?;
            return Ok(None);
        };
        let applied = apply_status(&mut tx, org_id, id, status, error, at).await?;
        self.commit(tx).await?;
        Ok(applied)
    }

    async fn update_call(
        &self,
        org_id: Id,
        provider_call_id: &str,
        u: CallUpdate,
    ) -> StoreResult<Option<Call>> {
        let mut tx = self.begin(org_id).await?;
        let row: Option<(Id, Option<i64>)> = sqlx::query_as(
            "SELECT id, provider_sequence FROM calls WHERE org_id = $1 AND provider_call_id = $2",
        )
        .bind(org_id)
        .bind(provider_call_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, last_seq)) = row else {
            return Ok(None);
        };
        if let (Some(new), Some(old)) = (u.sequence, last_seq) {
            if i64::from(new) <= old {
                return Ok(None);
            }
        }
        let before = load_call(&mut tx, org_id, id).await?;
        sqlx::query(
            "UPDATE calls SET outcome = coalesce($2, outcome), duration_secs = coalesce($3, duration_secs),
                    recording_url = coalesce($4, recording_url), recording_secs = coalesce($5, recording_secs),
                    transcript = coalesce($6, transcript), provider_sequence = coalesce($7, provider_sequence),
                    updated_at = $8
             WHERE id = $1",
        )
        .bind(id)
        .bind(u.outcome.map(|o| o.as_str()))
        .bind(u.duration_secs.map(i64::from))
        .bind(&u.recording_url)
        .bind(u.recording_secs.map(i64::from))
        .bind(&u.transcript)
        .bind(u.sequence.map(i64::from))
        .bind(ms(u.at))
        .execute(&mut *tx)
        .await?;
        let after = load_call(&mut tx, org_id, id).await?;
        if after == before {
            // Nothing changed but the bookkeeping: keep it, as SQLite does.
            self.commit(tx).await?;
            return Ok(None);
        }
        if after.outcome != before.outcome {
            let fact = inbox_core::analytics::Fact::Call {
                started_at: after.started_at,
                direction: after.direction,
                before: Some(before.outcome),
                after: after.outcome,
            };
            super::analytics::record(&mut tx, org_id, Some(after.conversation_id), fact).await?;
        }
        if let Some(t) = &after.transcript {
            search_put(
                &mut tx,
                fts_kind::CALL,
                id,
                org_id,
                after.conversation_id,
                t,
            )
            .await?;
        }
        record_activity(
            &mut tx,
            org_id,
            after.conversation_id,
            u.at,
            activity_kind::CALL_STATUS,
            id,
        )
        .await?;
        // Preview, channel and the unresolved count follow the call's new outcome.
        refresh(&mut tx, after.conversation_id).await?;
        emit(&mut tx, org_id, u.at, &Change::Call(after.clone())).await?;
        emit_conversation(&mut tx, org_id, after.conversation_id, u.at).await?;
        self.commit(tx).await?;
        Ok(Some(after))
    }

    async fn voice_forward_number(&self, org_id: Id) -> StoreResult<Option<String>> {
        let v: Option<Option<String>> =
            sqlx::query_scalar("SELECT voice_forward_to FROM provider_settings WHERE org_id = $1")
                .bind(org_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(v.flatten())
    }

    async fn call_by_provider_id(
        &self,
        org_id: Id,
        provider_call_id: &str,
    ) -> StoreResult<Option<Call>> {
        let mut c = self.conn().await?;
        let id: Option<Id> =
            sqlx::query_scalar("SELECT id FROM calls WHERE org_id = $1 AND provider_call_id = $2")
                .bind(org_id)
                .bind(provider_call_id)
                .fetch_optional(&mut *c)
                .await?;
        match id {
            Some(id) => Ok(Some(load_call(&mut *c, org_id, id).await?)),
            None => Ok(None),
        }
    }

    async fn customer_conversation(&self, org_id: Id, customer_id: Id) -> StoreResult<Option<Id>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM conversations WHERE org_id = $1 AND customer_id = $2",
        )
        .bind(org_id)
        .bind(customer_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn portal_token(&self, token_hash: [u8; 32]) -> StoreResult<Option<PortalToken>> {
        let mut c = self.conn().await?;
        super::settings::portal_token(&mut c, token_hash).await
    }

    async fn revoke_portal_tokens(
        &self,
        which: PortalRevoke,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(Id, Id)>> {
        let mut tx = match &which {
            PortalRevoke::Customer { org_id, .. } => self.begin(*org_id).await?,
            PortalRevoke::Token(_) => self.begin_any().await?,
        };
        let revoked = super::settings::revoke_portal_tokens(&mut tx, &which, now).await?;
        self.commit(tx).await?;
        Ok(revoked)
    }

    async fn set_provider_settings(
        &self,
        org_id: Id,
        update: ProviderUpdate,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(org_id).await?;
        super::settings::set_provider_settings(&mut tx, &self.secrets, org_id, &update, now)
            .await?;
        self.commit(tx).await
    }

    async fn upgrade_secrets(&self) -> StoreResult<SecretsReport> {
        let mut tx = self.begin_any().await?;
        let report = super::settings::upgrade_secrets(&mut tx, &self.secrets).await?;
        self.commit(tx).await?;
        Ok(report)
    }

    async fn create_portal_token(
        &self,
        org_id: Id,
        customer_id: Id,
        token_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(org_id).await?;
        exists(
            &mut tx,
            "SELECT 1 FROM customers WHERE id = $1 AND org_id = $2",
            customer_id,
            org_id,
        )
        .await?;
        sqlx::query("INSERT INTO portal_tokens (token_hash, org_id, customer_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&token_hash[..])
            .bind(org_id)
            .bind(customer_id)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await
    }
}
