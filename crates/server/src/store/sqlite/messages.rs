//! Messages on SQLite: `store::scripts::messages`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::{ApprovalItem, Id, Message};

use super::db::Lite;
use super::SqliteStore;
use crate::store::db::now as run;
use crate::store::rows::classify_inbound;
use crate::store::scripts::messages as script;
use crate::store::{Actor, Ingested, MessageStore, NewInbound, NewOutbound, StoreResult};

#[async_trait]
impl MessageStore for SqliteStore {
    async fn message_by_client_id(
        &self,
        actor: &Actor,
        client_id: &str,
    ) -> StoreResult<Option<Message>> {
        let (org, client_id) = (actor.org_id, client_id.to_string());
        self.read(move |c| run(script::by_client_id(&mut Lite::new(c), org, &client_id)))
            .await
    }

    async fn create_outbound(
        &self,
        actor: &Actor,
        conversation_id: Id,
        msg: NewOutbound,
        now: DateTime<Utc>,
    ) -> StoreResult<(Message, bool)> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            run(script::create_outbound(
                &mut db,
                org,
                user,
                conversation_id,
                &msg,
                now,
            ))
        })
        .await
    }

    async fn approvals(&self, actor: &Actor) -> StoreResult<Vec<ApprovalItem>> {
        let org = actor.org_id;
        self.read(move |c| run(script::approvals(&mut Lite::new(c), org)))
            .await
    }

    async fn approve(
        &self,
        actor: &Actor,
        message_id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            run(script::approve(
                &mut Lite::new(tx),
                org,
                user,
                message_id,
                now,
            ))
        })
        .await
    }

    async fn reject(
        &self,
        actor: &Actor,
        message_id: Id,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let reason = crate::store::rows::rejection_reason(reason)?;
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            run(script::reject(&mut db, org, user, message_id, &reason, now))
        })
        .await
    }

    async fn ingest_message(&self, org_id: Id, msg: NewInbound) -> StoreResult<Ingested> {
        // Decided before the write, so the single writer never waits on the classifier.
        let (intent, confidence) = classify_inbound(&msg.body).await;
        self.ingest_grouped((org_id, msg, (intent, confidence)))
            .await
    }
}
