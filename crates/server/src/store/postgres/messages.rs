//! Messages on PostgreSQL: `store::scripts::messages`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::{ApprovalItem, Id, Message};

use super::PgStore;
use crate::store::rows::classify_inbound;
use crate::store::scripts::messages as script;
use crate::store::{Actor, Ingested, MessageStore, NewInbound, NewOutbound, StoreResult};

#[async_trait]
impl MessageStore for PgStore {
    async fn message_by_client_id(
        &self,
        actor: &Actor,
        client_id: &str,
    ) -> StoreResult<Option<Message>> {
        script::by_client_id(&mut *self.conn().await?, actor.org_id, client_id).await
    }

    async fn create_outbound(
        &self,
        actor: &Actor,
        conversation_id: Id,
        msg: NewOutbound,
        now: DateTime<Utc>,
    ) -> StoreResult<(Message, bool)> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let (message, created) =
            script::create_outbound(&mut tx, org, user, conversation_id, &msg, now).await?;
        // A key seen before changed nothing: the transaction is rolled back.
        if created {
            self.commit(tx).await?;
        }
        Ok((message, created))
    }

    async fn approvals(&self, actor: &Actor) -> StoreResult<Vec<ApprovalItem>> {
        script::approvals(&mut *self.conn().await?, actor.org_id).await
    }

    async fn approve(
        &self,
        actor: &Actor,
        message_id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let message = script::approve(&mut tx, org, user, message_id, now).await?;
        self.commit(tx).await?;
        Ok(message)
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
        let mut tx = self.begin(org).await?;
        let message = script::reject(&mut tx, org, user, message_id, &reason, now).await?;
        self.commit(tx).await?;
        Ok(message)
    }

    async fn ingest_message(&self, org_id: Id, msg: NewInbound) -> StoreResult<Ingested> {
        // Decided before the transaction, which holds the organisation's lock.
        let (intent, confidence) = classify_inbound(&msg.body).await;
        self.ingest_grouped((org_id, msg, (intent, confidence)))
            .await
    }
}
