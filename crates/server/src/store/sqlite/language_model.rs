//! The language model worker's reads and writes (issue 16, AIA-1), written once in
//! `store::scripts::language_model`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::LanguageModelSettings;
use inbox_core::intent::Classification;
use inbox_core::Id;

use super::db::Lite;
use super::SqliteStore;
use crate::store::db::now;
use crate::store::language_model::{
    LanguageModelStore, ModelEndpoint, ModelWork, SummaryOf, ThreadText,
};
use crate::store::scripts::language_model as script;
use crate::store::StoreResult;

#[async_trait]
impl LanguageModelStore for SqliteStore {
    async fn language_model(&self, org_id: Id) -> StoreResult<Option<ModelEndpoint>> {
        let secrets = self.secrets.clone();
        self.read(move |c| now(script::language_model(&mut Lite::new(c), org_id, &secrets)))
            .await
    }

    async fn model_organisations(&self) -> StoreResult<Vec<Id>> {
        self.read(|c| now(script::model_organisations(&mut Lite::new(c))))
            .await
    }

    async fn language_model_settings(&self, org_id: Id) -> StoreResult<LanguageModelSettings> {
        self.read(move |c| now(script::settings(&mut Lite::new(c), org_id)))
            .await
    }

    async fn claim_model_work(&self, org_id: Id, limit: u32) -> StoreResult<ModelWork> {
        let pending = self.read(move |c| now(script::pending(&mut Lite::new(c), org_id)));
        if !pending.await? {
            return Ok(ModelWork::default());
        }
        self.write(move |tx| now(script::claim_work(&mut Lite::new(tx), org_id, limit)))
            .await
    }

    async fn refine_intent(
        &self,
        org_id: Id,
        message_id: Id,
        intent: Classification,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(script::refine_intent(
                &mut db, org_id, message_id, intent, at,
            ))
        })
        .await
    }

    async fn claim_thread(
        &self,
        org_id: Id,
        conversation_id: Id,
        every: u32,
        take: u32,
    ) -> StoreResult<Option<ThreadText>> {
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(script::claim_thread(
                &mut db,
                org_id,
                conversation_id,
                every,
                take,
            ))
        })
        .await
    }

    async fn add_summary(
        &self,
        org_id: Id,
        conversation_id: Id,
        of: SummaryOf,
        text: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let text = text.to_string();
        self.write(move |tx| {
            let summary = (of, text.as_str());
            now(script::add_summary(
                &mut Lite::new(tx),
                org_id,
                conversation_id,
                summary,
                at,
            ))
        })
        .await
    }
}
