//! Provider identities (which organisation a webhook is for) and what providers report: delivery
//! statuses (PROVIDERS §4), call progress, recordings and transcripts.

use chrono::{DateTime, Utc};
use inbox_core::analytics::Fact;
use inbox_core::providers::status::advance;
use inbox_core::providers::Provider;
use inbox_core::sync::Change;
use inbox_core::{Call, DeliveryStatus, Id, Message};

use super::settings;
use super::{analytics, emit, emit_conversation, index, load, record_activity};
use crate::secrets::{Field, SecretBox};
use crate::store::backend::script;
use crate::store::db::{args, Arg, Db, WriteTx};
use crate::store::rows::{activity_kind, from_ms, fts_kind, ms};
use crate::store::Store;
use crate::store::{
    CallUpdate, PortalRevoke, PortalToken, ProviderUpdate, SecretsReport, StoreResult,
    TwilioAccount, WhatsappAccount,
};

/// Moves a message's status forward (PROVIDERS §4), with its activity and events.
pub(crate) async fn apply_status(
    db: &mut impl WriteTx,
    org: Id,
    id: Id,
    status: DeliveryStatus,
    error: Option<String>,
    at: DateTime<Utc>,
) -> StoreResult<Option<Message>> {
    let current = load::message(db, org, id).await?;
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
    db.exec(
        "UPDATE messages SET status = $2, error = CASE WHEN $5 THEN $3 ELSE coalesce($3, error) END,
                updated_at = $4
         WHERE id = $1",
        args![id, next.as_str(), &error, ms(at), settled],
    )
    .await?;
    let conversation = current.conversation_id;
    record_activity(db, org, conversation, at, activity_kind::STATUS, id).await?;
    let message = load::message(db, org, id).await?;
    emit(db, org, at, &Change::Message(message.clone())).await?;
    emit_conversation(db, org, conversation, at).await?;
    Ok(Some(message))
}

/// Applies the statuses that arrived before the message's provider id was recorded.
pub(crate) async fn apply_early_statuses(
    db: &mut impl WriteTx,
    org: Id,
    id: Id,
    provider: Provider,
    provider_id: &str,
) -> StoreResult<()> {
    let early = db
        .all(
            "DELETE FROM early_statuses WHERE org_id = $1 AND provider = $2 AND provider_id = $3
             RETURNING status, error, at",
            args![org, provider.as_str(), provider_id],
            |r| Ok((r.text(0)?, r.opt_text(1)?, r.int(2)?)),
        )
        .await?;
    for (status, error, at) in early {
        if let Some(status) = DeliveryStatus::parse(&status) {
            apply_status(db, org, id, status, error, from_ms(at)).await?;
        }
    }
    Ok(())
}

/// A delivery status for a reply: applied, or kept for when the send's answer (with the
/// provider's id) is recorded.
pub(crate) async fn apply_delivery_status(
    db: &mut impl WriteTx,
    org: Id,
    (provider, provider_id): (Provider, &str),
    status: DeliveryStatus,
    error: Option<String>,
    at: DateTime<Utc>,
) -> StoreResult<Option<Message>> {
    let id = db
        .opt(
            "SELECT id FROM messages
             WHERE org_id = $1 AND provider = $2 AND provider_id = $3 AND direction = 'outbound'",
            args![org, provider.as_str(), provider_id],
            |r| r.int(0),
        )
        .await?;
    let Some(id) = id else {
        // Not known yet: the send's answer is still being recorded. Keep it for then.
        db.exec(
            "INSERT INTO early_statuses (org_id, provider, provider_id, status, error, at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            args![
                org,
                provider.as_str(),
                provider_id,
                status.as_str(),
                &error,
                ms(at)
            ],
        )
        .await?;
        return Ok(None);
    };
    apply_status(db, org, id, status, error, at).await
}

const TWILIO: &str = "SELECT org_id, twilio_account_sid, twilio_auth_token FROM provider_settings
                      WHERE twilio_account_sid IS NOT NULL AND twilio_auth_token IS NOT NULL";
const WHATSAPP: &str =
    "SELECT org_id, whatsapp_phone_number_id, whatsapp_access_token FROM provider_settings
     WHERE whatsapp_phone_number_id IS NOT NULL";

/// Which account a lookup is for: by the provider's id for it, or by organisation.
#[derive(Debug, Clone)]
pub(crate) enum Account {
    Provider(String),
    Org(Id),
}

impl Account {
    /// The condition on `provider_settings` and its one argument.
    fn condition(&self, provider_column: &str) -> (String, Arg<'_>) {
        match self {
            Account::Provider(key) => (format!("{provider_column} = $1"), key.into()),
            Account::Org(org) => ("org_id = $1".to_string(), (*org).into()),
        }
    }
}

pub(crate) async fn twilio_account(
    db: &mut impl Db,
    secrets: &SecretBox,
    which: &Account,
) -> StoreResult<Option<TwilioAccount>> {
    let (condition, key) = which.condition("twilio_account_sid");
    let row = db
        .opt(&format!("{TWILIO} AND {condition}"), &[key], |r| {
            Ok((r.int(0)?, r.text(1)?, r.text(2)?))
        })
        .await?;
    let Some((org_id, account_sid, auth_token)) = row else {
        return Ok(None);
    };
    let numbers = db
        .all(
            "SELECT e164 FROM org_numbers WHERE org_id = $1 ORDER BY e164 COLLATE \"C\"",
            args![org_id],
            |r| r.text(0),
        )
        .await?;
    Ok(Some(TwilioAccount {
        org_id,
        account_sid,
        auth_token: secrets.open(&auth_token, org_id, Field::TwilioAuthToken)?,
        numbers,
    }))
}

pub(crate) async fn whatsapp_account(
    db: &mut impl Db,
    secrets: &SecretBox,
    which: &Account,
) -> StoreResult<Option<WhatsappAccount>> {
    let (condition, key) = which.condition("whatsapp_phone_number_id");
    let row = db
        .opt(&format!("{WHATSAPP} AND {condition}"), &[key], |r| {
            Ok((r.int(0)?, r.text(1)?, r.opt_text(2)?))
        })
        .await?;
    let Some((org_id, phone_number_id, token)) = row else {
        return Ok(None);
    };
    Ok(Some(WhatsappAccount {
        org_id,
        phone_number_id,
        access_token: secrets.open(
            &token.unwrap_or_default(),
            org_id,
            Field::WhatsappAccessToken,
        )?,
    }))
}

/// The garage's own phone that inbound calls ring before voicemail, if set.
pub(crate) async fn voice_forward_number(db: &mut impl Db, org: Id) -> StoreResult<Option<String>> {
    let number = db
        .opt(
            "SELECT voice_forward_to FROM provider_settings WHERE org_id = $1",
            args![org],
            |r| r.opt_text(0),
        )
        .await?;
    Ok(number.flatten())
}

async fn call_id(db: &mut impl Db, org: Id, provider_call_id: &str) -> StoreResult<Option<Id>> {
    db.opt(
        "SELECT id FROM calls WHERE org_id = $1 AND provider_call_id = $2",
        args![org, provider_call_id],
        |r| r.int(0),
    )
    .await
}

pub(crate) async fn call_by_provider_id(
    db: &mut impl Db,
    org: Id,
    provider_call_id: &str,
) -> StoreResult<Option<Call>> {
    match call_id(db, org, provider_call_id).await? {
        Some(id) => Ok(Some(load::call(db, org, id).await?)),
        None => Ok(None),
    }
}

/// The customer's conversation, if they have one.
pub(crate) async fn customer_conversation(
    db: &mut impl Db,
    org: Id,
    customer: Id,
) -> StoreResult<Option<Id>> {
    db.opt(
        "SELECT id FROM conversations WHERE org_id = $1 AND customer_id = $2",
        args![org, customer],
        |r| r.int(0),
    )
    .await
}

/// Applies a provider's report on a call; the call when it changed anything a desktop shows.
/// A report older than the last one applied (by Twilio's sequence number) is ignored.
pub(crate) async fn update_call(
    db: &mut impl WriteTx,
    org: Id,
    provider_call_id: &str,
    u: &CallUpdate,
) -> StoreResult<Option<Call>> {
    let row = db
        .opt(
            "SELECT id, provider_sequence FROM calls WHERE org_id = $1 AND provider_call_id = $2",
            args![org, provider_call_id],
            |r| Ok((r.int(0)?, r.opt_int(1)?)),
        )
        .await?;
    let Some((id, last_seq)) = row else {
        return Ok(None);
    };
    if let (Some(new), Some(old)) = (u.sequence, last_seq) {
        if i64::from(new) <= old {
            return Ok(None);
        }
    }
    let before = load::call(db, org, id).await?;
    db.exec(
        "UPDATE calls SET outcome = coalesce($2, outcome), duration_secs = coalesce($3, duration_secs),
                recording_url = coalesce($4, recording_url), recording_secs = coalesce($5, recording_secs),
                transcript = coalesce($6, transcript), provider_sequence = coalesce($7, provider_sequence),
                updated_at = $8
         WHERE id = $1",
        args![
            id,
            u.outcome.map(|o| o.as_str()),
            u.duration_secs,
            &u.recording_url,
            u.recording_secs,
            &u.transcript,
            u.sequence,
            ms(u.at)
        ],
    )
    .await?;
    let after = load::call(db, org, id).await?;
    if after == before {
        // Nothing changed but the bookkeeping (kept: the sequence number moved on).
        return Ok(None);
    }
    let conversation = after.conversation_id;
    if after.outcome != before.outcome {
        let fact = Fact::Call {
            started_at: after.started_at,
            direction: after.direction,
            before: Some(before.outcome),
            after: after.outcome,
        };
        analytics::record(db, org, Some(conversation), fact).await?;
    }
    if let Some(t) = &after.transcript {
        index(db, fts_kind::CALL, id, org, conversation, t).await?;
    }
    record_activity(db, org, conversation, u.at, activity_kind::CALL_STATUS, id).await?;
    // Preview, channel and the unresolved count follow the call's new outcome.
    super::calls::refresh(db, conversation).await?;
    emit(db, org, u.at, &Change::Call(after.clone())).await?;
    emit_conversation(db, org, conversation, u.at).await?;
    Ok(Some(after))
}

/// Provider identities and the facts providers report (issue 5).
impl Store {
    pub async fn twilio_account(&self, account_sid: &str) -> StoreResult<Option<TwilioAccount>> {
        let which = Account::Provider(account_sid.to_owned());
        let secrets = self.secret_box().clone();
        self.read(script!(|c| twilio_account(c, &secrets, &which)))
            .await
    }

    pub async fn twilio_account_of(&self, org_id: Id) -> StoreResult<Option<TwilioAccount>> {
        let which = Account::Org(org_id);
        let secrets = self.secret_box().clone();
        self.read(script!(|c| twilio_account(c, &secrets, &which)))
            .await
    }

    pub async fn whatsapp_account(
        &self,
        phone_number_id: &str,
    ) -> StoreResult<Option<WhatsappAccount>> {
        let which = Account::Provider(phone_number_id.to_owned());
        let secrets = self.secret_box().clone();
        self.read(script!(|c| whatsapp_account(c, &secrets, &which)))
            .await
    }

    pub async fn whatsapp_account_of(&self, org_id: Id) -> StoreResult<Option<WhatsappAccount>> {
        let which = Account::Org(org_id);
        let secrets = self.secret_box().clone();
        self.read(script!(|c| whatsapp_account(c, &secrets, &which)))
            .await
    }

    /// Moves an outbound message's status forward only (PROVIDERS §4); None when the id is
    /// unknown or nothing changed.
    pub async fn apply_delivery_status(
        &self,
        org_id: Id,
        provider: Provider,
        provider_id: &str,
        status: DeliveryStatus,
        error: Option<String>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        let provider_id = provider_id.to_owned();
        self.write(
            Some(org_id),
            script!(|tx| apply_delivery_status(
                tx,
                org_id,
                (provider, &provider_id),
                status,
                error,
                at
            )),
        )
        .await
    }

    /// Applies a voice callback to a call; None when the call is unknown or the update is stale.
    pub async fn update_call(
        &self,
        org_id: Id,
        provider_call_id: &str,
        u: CallUpdate,
    ) -> StoreResult<Option<Call>> {
        let sid = provider_call_id.to_owned();
        self.write(
            Some(org_id),
            script!(|tx| update_call(tx, org_id, &sid, &u)),
        )
        .await
    }

    /// The phone an inbound call rings before voicemail (E.164), if the garage set one.
    pub async fn voice_forward_number(&self, org_id: Id) -> StoreResult<Option<String>> {
        self.read(script!(|c| voice_forward_number(c, org_id)))
            .await
    }

    pub async fn call_by_provider_id(
        &self,
        org_id: Id,
        provider_call_id: &str,
    ) -> StoreResult<Option<Call>> {
        let sid = provider_call_id.to_owned();
        self.read(script!(|c| call_by_provider_id(c, org_id, &sid)))
            .await
    }

    /// The conversation of a customer, if they have one.
    pub async fn customer_conversation(
        &self,
        org_id: Id,
        customer_id: Id,
    ) -> StoreResult<Option<Id>> {
        self.read(script!(|c| customer_conversation(c, org_id, customer_id)))
            .await
    }

    /// A portal token, live or not (the portal says which: expired, revoked).
    pub async fn portal_token(&self, token_hash: [u8; 32]) -> StoreResult<Option<PortalToken>> {
        self.read(script!(|c| settings::portal_token(c, &token_hash)))
            .await
    }

    /// Revokes live portal tokens; returns the (organisation, customer) of each one revoked.
    pub async fn revoke_portal_tokens(
        &self,
        which: PortalRevoke,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<(Id, Id)>> {
        let lock = match &which {
            PortalRevoke::Customer { org_id, .. } => Some(*org_id),
            PortalRevoke::Token(_) => None,
        };
        self.write(
            lock,
            script!(|tx| settings::revoke_portal_tokens(tx, &which, at)),
        )
        .await
    }

    /// Sets or rotates an organisation's provider settings (`provider set`); secrets are sealed
    /// bound to the organisation. NotFound for an unknown organisation, Conflict for an account
    /// or number another organisation holds.
    pub async fn set_provider_settings(
        &self,
        org_id: Id,
        update: ProviderUpdate,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let secrets = self.secret_box().clone();
        self.write(
            Some(org_id),
            script!(|tx| settings::set_provider_settings(tx, &secrets, org_id, &update, at)),
        )
        .await
    }

    /// Re-seals secrets stored before they were bound to their organisation, and reports the
    /// ones stored in plain text. Runs when the store opens.
    pub async fn upgrade_secrets(&self) -> StoreResult<SecretsReport> {
        let secrets = self.secret_box().clone();
        self.write(None, script!(|tx| settings::upgrade_secrets(tx, &secrets)))
            .await
    }

    pub async fn create_portal_token(
        &self,
        org_id: Id,
        customer_id: Id,
        token_hash: [u8; 32],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(
            Some(org_id),
            script!(|tx| settings::create_portal_token(tx, (org_id, customer_id), &token_hash, at)),
        )
        .await
    }
}
