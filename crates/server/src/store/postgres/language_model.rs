//! The language model worker's reads and writes (issue 16, AIA-1), written once in
//! `store::scripts::language_model`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::LanguageModelSettings;
use inbox_core::intent::Classification;
use inbox_core::Id;

use super::PgStore;
use crate::store::language_model::{
    LanguageModelStore, ModelEndpoint, ModelWork, SummaryOf, ThreadText,
};
use crate::store::scripts::language_model as script;
use crate::store::StoreResult;

#[async_trait]
impl LanguageModelStore for PgStore {
    async fn language_model(&self, org_id: Id) -> StoreResult<Option<ModelEndpoint>> {
        script::language_model(&mut *self.conn().await?, org_id, &self.secrets).await
    }

    async fn model_organisations(&self) -> StoreResult<Vec<Id>> {
        script::model_organisations(&mut *self.conn().await?).await
    }

    async fn language_model_settings(&self, org_id: Id) -> StoreResult<LanguageModelSettings> {
        script::settings(&mut *self.conn().await?, org_id).await
    }

    async fn claim_model_work(&self, org_id: Id, limit: u32) -> StoreResult<ModelWork> {
        if !script::pending(&mut *self.conn().await?, org_id).await? {
            return Ok(ModelWork::default());
        }
        let mut tx = self.begin(org_id).await?;
        let work = script::claim_work(&mut tx, org_id, limit).await?;
        self.commit(tx).await?;
        Ok(work)
    }

    async fn refine_intent(
        &self,
        org_id: Id,
        message_id: Id,
        intent: Classification,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(org_id).await?;
        let refined = script::refine_intent(&mut tx, org_id, message_id, intent, now).await?;
        self.commit(tx).await?;
        Ok(refined)
    }

    async fn claim_thread(
        &self,
        org_id: Id,
        conversation_id: Id,
        every: u32,
        take: u32,
    ) -> StoreResult<Option<ThreadText>> {
        let mut tx = self.begin(org_id).await?;
        let thread = script::claim_thread(&mut tx, org_id, conversation_id, every, take).await?;
        self.commit(tx).await?;
        Ok(thread)
    }

    async fn add_summary(
        &self,
        org_id: Id,
        conversation_id: Id,
        of: SummaryOf,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(org_id).await?;
        script::add_summary(&mut tx, org_id, conversation_id, (of, text), now).await?;
        self.commit(tx).await
    }
}
