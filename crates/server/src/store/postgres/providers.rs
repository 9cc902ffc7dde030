//! Provider identities, what providers report, provider settings and portal tokens:
//! `store::scripts::{providers, settings}` run on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::{Call, DeliveryStatus, Id, Message};

use super::PgStore;
pub(crate) use crate::store::scripts::providers::apply_early_statuses;
use crate::store::scripts::providers::{self as script, Account};
use crate::store::scripts::settings;
use crate::store::{
    CallUpdate, PortalRevoke, PortalToken, ProviderStore, ProviderUpdate, SecretsReport,
    StoreResult, TwilioAccount, WhatsappAccount,
};

#[async_trait]
impl ProviderStore for PgStore {
    async fn twilio_account(&self, account_sid: &str) -> StoreResult<Option<TwilioAccount>> {
        let which = Account::Provider(account_sid);
        script::twilio_account(&mut *self.conn().await?, &self.secrets, which).await
    }

    async fn twilio_account_of(&self, org_id: Id) -> StoreResult<Option<TwilioAccount>> {
        let which = Account::Org(org_id);
        script::twilio_account(&mut *self.conn().await?, &self.secrets, which).await
    }

    async fn whatsapp_account(
        &self,
        phone_number_id: &str,
    ) -> StoreResult<Option<WhatsappAccount>> {
        let which = Account::Provider(phone_number_id);
        script::whatsapp_account(&mut *self.conn().await?, &self.secrets, which).await
    }

    async fn whatsapp_account_of(&self, org_id: Id) -> StoreResult<Option<WhatsappAccount>> {
        let which = Account::Org(org_id);
        script::whatsapp_account(&mut *self.conn().await?, &self.secrets, which).await
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
        let ids = (provider, provider_id);
        let applied =
            script::apply_delivery_status(&mut tx, org_id, ids, status, error, at).await?;
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
        let call = script::update_call(&mut tx, org_id, provider_call_id, &u).await?;
        self.commit(tx).await?;
        Ok(call)
    }

    async fn voice_forward_number(&self, org_id: Id) -> StoreResult<Option<String>> {
        script::voice_forward_number(&mut *self.conn().await?, org_id).await
    }

    async fn call_by_provider_id(
        &self,
        org_id: Id,
        provider_call_id: &str,
    ) -> StoreResult<Option<Call>> {
        script::call_by_provider_id(&mut *self.conn().await?, org_id, provider_call_id).await
    }

    async fn customer_conversation(&self, org_id: Id, customer_id: Id) -> StoreResult<Option<Id>> {
        script::customer_conversation(&mut *self.conn().await?, org_id, customer_id).await
    }

    async fn portal_token(&self, token_hash: [u8; 32]) -> StoreResult<Option<PortalToken>> {
        settings::portal_token(&mut *self.conn().await?, &token_hash).await
    }

    async fn revoke_portal_tokens(
        &self,
        which: PortalRevoke,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<(Id, Id)>> {
        let mut tx = match &which {
            PortalRevoke::Customer { org_id, .. } => self.begin(*org_id).await?,
            PortalRevoke::Token(_) => self.begin_any().await?,
        };
        let revoked = settings::revoke_portal_tokens(&mut tx, &which, at).await?;
        self.commit(tx).await?;
        Ok(revoked)
    }

    async fn set_provider_settings(
        &self,
        org_id: Id,
        update: ProviderUpdate,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(org_id).await?;
        settings::set_provider_settings(&mut tx, &self.secrets, org_id, &update, at).await?;
        self.commit(tx).await
    }

    async fn upgrade_secrets(&self) -> StoreResult<SecretsReport> {
        let mut tx = self.begin_any().await?;
        let report = settings::upgrade_secrets(&mut tx, &self.secrets).await?;
        self.commit(tx).await?;
        Ok(report)
    }

    async fn create_portal_token(
        &self,
        org_id: Id,
        customer_id: Id,
        token_hash: [u8; 32],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(org_id).await?;
        let owner = (org_id, customer_id);
        settings::create_portal_token(&mut tx, owner, &token_hash, at).await?;
        self.commit(tx).await
    }
}
