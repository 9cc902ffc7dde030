//! Quick messages (CMP-6) and WhatsApp templates (CMP-2), written once in
//! `store::scripts::catalog`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::TemplateInput;
use inbox_core::{Id, QuickMessage, WhatsappTemplate};

use super::PgStore;
use crate::store::rows::{quick_message_fields, template_fields};
use crate::store::scripts::catalog as script;
use crate::store::{Actor, CatalogStore, StoreResult};

#[async_trait]
impl CatalogStore for PgStore {
    async fn quick_messages(&self, actor: &Actor) -> StoreResult<Vec<QuickMessage>> {
        script::quick_messages(&mut *self.conn().await?, actor.org_id).await
    }

    async fn create_quick_message(
        &self,
        actor: &Actor,
        name: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<QuickMessage> {
        let (name, body) = quick_message_fields(name, body)?;
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        let q = script::create_quick_message(&mut tx, org, &name, &body, now).await?;
        self.commit(tx).await?;
        Ok(q)
    }

    async fn update_quick_message(
        &self,
        actor: &Actor,
        id: Id,
        name: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<QuickMessage> {
        let (name, body) = quick_message_fields(name, body)?;
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        let q = script::update_quick_message(&mut tx, org, id, (&name, &body), now).await?;
        self.commit(tx).await?;
        Ok(q)
    }

    async fn delete_quick_message(&self, actor: &Actor, id: Id) -> StoreResult<()> {
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        script::delete_quick_message(&mut tx, org, id, Utc::now()).await?;
        self.commit(tx).await
    }

    async fn templates(&self, actor: &Actor) -> StoreResult<Vec<WhatsappTemplate>> {
        script::templates(&mut *self.conn().await?, actor.org_id).await
    }

    async fn create_template(
        &self,
        actor: &Actor,
        input: &TemplateInput,
        now: DateTime<Utc>,
    ) -> StoreResult<WhatsappTemplate> {
        let v = template_fields(input)?;
        let who = (actor.org_id, actor.user_id);
        let mut tx = self.begin(actor.org_id).await?;
        let t = script::create_template(&mut tx, who, &v, input.header, now).await?;
        self.commit(tx).await?;
        Ok(t)
    }

    async fn update_template(
        &self,
        actor: &Actor,
        id: Id,
        input: &TemplateInput,
        now: DateTime<Utc>,
    ) -> StoreResult<WhatsappTemplate> {
        let v = template_fields(input)?;
        let who = (actor.org_id, actor.user_id);
        let mut tx = self.begin(actor.org_id).await?;
        let t = script::update_template(&mut tx, who, id, &v, input.header, now).await?;
        self.commit(tx).await?;
        Ok(t)
    }

    async fn delete_template(&self, actor: &Actor, id: Id, now: DateTime<Utc>) -> StoreResult<()> {
        let who = (actor.org_id, actor.user_id);
        let mut tx = self.begin(actor.org_id).await?;
        script::delete_template(&mut tx, who, id, now).await?;
        self.commit(tx).await
    }
}
