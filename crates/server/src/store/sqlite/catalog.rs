//! Quick messages (CMP-6) and WhatsApp templates (CMP-2), written once in
//! `store::scripts::catalog`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::TemplateInput;
use inbox_core::{Id, QuickMessage, WhatsappTemplate};

use super::db::Lite;
use super::SqliteStore;
use crate::store::db::now;
use crate::store::rows::{quick_message_fields, template_fields};
use crate::store::scripts::catalog as script;
use crate::store::{Actor, CatalogStore, StoreResult};

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn quick_messages(&self, actor: &Actor) -> StoreResult<Vec<QuickMessage>> {
        let org = actor.org_id;
        self.read(move |c| now(script::quick_messages(&mut Lite::new(c), org)))
            .await
    }

    async fn create_quick_message(
        &self,
        actor: &Actor,
        name: &str,
        body: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<QuickMessage> {
        let (name, body) = quick_message_fields(name, body)?;
        let org = actor.org_id;
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(script::create_quick_message(&mut db, org, &name, &body, at))
        })
        .await
    }

    async fn update_quick_message(
        &self,
        actor: &Actor,
        id: Id,
        name: &str,
        body: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<QuickMessage> {
        let (name, body) = quick_message_fields(name, body)?;
        let org = actor.org_id;
        self.write(move |tx| {
            let fields = (name.as_str(), body.as_str());
            now(script::update_quick_message(
                &mut Lite::new(tx),
                org,
                id,
                fields,
                at,
            ))
        })
        .await
    }

    async fn delete_quick_message(&self, actor: &Actor, id: Id) -> StoreResult<()> {
        let (org, at) = (actor.org_id, Utc::now());
        self.write(move |tx| {
            now(script::delete_quick_message(
                &mut Lite::new(tx),
                org,
                id,
                at,
            ))
        })
        .await
    }

    async fn templates(&self, actor: &Actor) -> StoreResult<Vec<WhatsappTemplate>> {
        let org = actor.org_id;
        self.read(move |c| now(script::templates(&mut Lite::new(c), org)))
            .await
    }

    async fn create_template(
        &self,
        actor: &Actor,
        input: &TemplateInput,
        at: DateTime<Utc>,
    ) -> StoreResult<WhatsappTemplate> {
        let (v, header) = (template_fields(input)?, input.header);
        let who = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            now(script::create_template(
                &mut Lite::new(tx),
                who,
                &v,
                header,
                at,
            ))
        })
        .await
    }

    async fn update_template(
        &self,
        actor: &Actor,
        id: Id,
        input: &TemplateInput,
        at: DateTime<Utc>,
    ) -> StoreResult<WhatsappTemplate> {
        let (v, header) = (template_fields(input)?, input.header);
        let who = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(script::update_template(&mut db, who, id, &v, header, at))
        })
        .await
    }

    async fn delete_template(&self, actor: &Actor, id: Id, at: DateTime<Utc>) -> StoreResult<()> {
        let who = (actor.org_id, actor.user_id);
        self.write(move |tx| now(script::delete_template(&mut Lite::new(tx), who, id, at)))
            .await
    }
}
