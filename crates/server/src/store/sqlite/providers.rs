//! Provider identities, what providers report, provider settings and portal tokens:
//! `store::scripts::{providers, settings}` run on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::{Call, DeliveryStatus, Id, Message};
use rusqlite::Connection;

use super::db::Lite;
use super::SqliteStore;
use crate::store::db::now;
use crate::store::scripts::providers::{self as script, Account};
use crate::store::scripts::settings;
use crate::store::{
    CallUpdate, PortalRevoke, PortalToken, ProviderStore, ProviderUpdate, SecretsReport,
    StoreResult, TwilioAccount, WhatsappAccount,
};

/// Applies the statuses that arrived before the message's provider id was recorded.
pub(crate) fn apply_early_statuses(
    tx: &Connection,
    org: Id,
    id: Id,
    provider: &str,
    provider_id: &str,
) -> StoreResult<()> {
    let mut db = Lite::new(tx);
    now(script::apply_early_statuses(
        &mut db,
        org,
        id,
        provider,
        provider_id,
    ))
}

#[async_trait]
impl ProviderStore for SqliteStore {
    async fn twilio_account(&self, account_sid: &str) -> StoreResult<Option<TwilioAccount>> {
        let (sid, secrets) = (account_sid.to_string(), self.secrets.clone());
        self.read(move |c| {
            let which = Account::Provider(&sid);
            now(script::twilio_account(&mut Lite::new(c), &secrets, which))
        })
        .await
    }

    async fn twilio_account_of(&self, org_id: Id) -> StoreResult<Option<TwilioAccount>> {
        let secrets = self.secrets.clone();
        self.read(move |c| {
            let which = Account::Org(org_id);
            now(script::twilio_account(&mut Lite::new(c), &secrets, which))
        })
        .await
    }

    async fn whatsapp_account(
        &self,
        phone_number_id: &str,
    ) -> StoreResult<Option<WhatsappAccount>> {
        let (id, secrets) = (phone_number_id.to_string(), self.secrets.clone());
        self.read(move |c| {
            let which = Account::Provider(&id);
            now(script::whatsapp_account(&mut Lite::new(c), &secrets, which))
        })
        .await
    }

    async fn whatsapp_account_of(&self, org_id: Id) -> StoreResult<Option<WhatsappAccount>> {
        let secrets = self.secrets.clone();
        self.read(move |c| {
            let which = Account::Org(org_id);
            now(script::whatsapp_account(&mut Lite::new(c), &secrets, which))
        })
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
            let mut db = Lite::new(tx);
            let ids = (provider.as_str(), provider_id.as_str());
            now(script::apply_delivery_status(
                &mut db, org_id, ids, status, error, at,
            ))
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
            let mut db = Lite::new(tx);
            now(script::update_call(&mut db, org_id, &call_sid, &u))
        })
        .await
    }

    async fn voice_forward_number(&self, org_id: Id) -> StoreResult<Option<String>> {
        self.read(move |c| now(script::voice_forward_number(&mut Lite::new(c), org_id)))
            .await
    }

    async fn call_by_provider_id(
        &self,
        org_id: Id,
        provider_call_id: &str,
    ) -> StoreResult<Option<Call>> {
        let sid = provider_call_id.to_string();
        self.read(move |c| {
            let mut db = Lite::new(c);
            now(script::call_by_provider_id(&mut db, org_id, &sid))
        })
        .await
    }

    async fn customer_conversation(&self, org_id: Id, customer_id: Id) -> StoreResult<Option<Id>> {
        self.read(move |c| {
            let mut db = Lite::new(c);
            now(script::customer_conversation(&mut db, org_id, customer_id))
        })
        .await
    }

    async fn portal_token(&self, token_hash: [u8; 32]) -> StoreResult<Option<PortalToken>> {
        self.read(move |c| now(settings::portal_token(&mut Lite::new(c), &token_hash)))
            .await
    }

    async fn revoke_portal_tokens(
        &self,
        which: PortalRevoke,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<(Id, Id)>> {
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(settings::revoke_portal_tokens(&mut db, &which, at))
        })
        .await
    }

    async fn set_provider_settings(
        &self,
        org_id: Id,
        update: ProviderUpdate,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let secrets = self.secrets.clone();
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(settings::set_provider_settings(
                &mut db, &secrets, org_id, &update, at,
            ))
        })
        .await
    }

    async fn upgrade_secrets(&self) -> StoreResult<SecretsReport> {
        let secrets = self.secrets.clone();
        self.write(move |tx| now(settings::upgrade_secrets(&mut Lite::new(tx), &secrets)))
            .await
    }

    async fn create_portal_token(
        &self,
        org_id: Id,
        customer_id: Id,
        token_hash: [u8; 32],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            let owner = (org_id, customer_id);
            now(settings::create_portal_token(
                &mut db,
                owner,
                &token_hash,
                at,
            ))
        })
        .await
    }
}
