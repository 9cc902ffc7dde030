//! The send queue on PostgreSQL, shared by every instance: `store::scripts::dispatch`. Results
//! lock the message's organisation as they learn it; the claim itself locks only the queue rows
//! it takes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::{DeliveryStatus, Id, Message};

use super::providers::apply_early_statuses;
use super::PgStore;
use crate::store::scripts::dispatch as script;
use crate::store::{
    Actor, Awaiting, AwaitingAt, DispatchStore, OutboundJob, StoreResult, UnlinkedReply,
};

#[async_trait]
impl DispatchStore for PgStore {
    async fn claim_outbound(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<OutboundJob>> {
        let mut tx = self.begin_any().await?;
        let jobs = script::claim(&mut tx, now, lease_until, limit).await?;
        self.commit(tx).await?;
        Ok(jobs)
    }

    async fn outbound_sending(
        &self,
        message_id: Id,
        claim: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        script::sending(&mut *self.conn().await?, message_id, claim, now).await
    }

    async fn outbound_accepted(
        &self,
        message_id: Id,
        claim: i64,
        provider: &str,
        provider_id: &str,
        status: DeliveryStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_any().await?;
        let recorded = script::accepted(
            &mut tx,
            message_id,
            claim,
            provider,
            provider_id,
            status,
            now,
        )
        .await?;
        if let Some(org) = recorded {
            apply_early_statuses(&mut tx, org, message_id, provider, provider_id).await?;
        }
        self.commit(tx).await
    }

    async fn outbound_retry_later(
        &self,
        message_id: Id,
        claim: i64,
        next_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        script::retry_later(&mut *c, message_id, claim, next_at, error).await
    }

    async fn outbound_release(
        &self,
        message_id: Id,
        claim: i64,
        due_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        script::release(&mut *self.conn().await?, message_id, claim, due_at).await
    }

    async fn outbound_failed(
        &self,
        message_id: Id,
        claim: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_any().await?;
        script::failed(&mut tx, message_id, claim, reason, now).await?;
        self.commit(tx).await
    }

    async fn outbound_unknown(
        &self,
        message_id: Id,
        claim: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_any().await?;
        script::unknown(&mut tx, message_id, claim, reason, now).await?;
        self.commit(tx).await
    }

    async fn awaiting_status(
        &self,
        provider: &str,
        quiet_since: DateTime<Utc>,
        sent_after: DateTime<Utc>,
        after: Option<AwaitingAt>,
        limit: usize,
    ) -> StoreResult<Vec<Awaiting>> {
        let mut c = self.conn().await?;
        script::awaiting(&mut *c, provider, quiet_since, sent_after, after, limit).await
    }

    async fn unknown_unlinked(
        &self,
        channel: &str,
        quiet_since: DateTime<Utc>,
        sent_after: DateTime<Utc>,
        after: Option<AwaitingAt>,
        limit: usize,
    ) -> StoreResult<Vec<UnlinkedReply>> {
        let mut c = self.conn().await?;
        script::unknown_unlinked(&mut *c, channel, quiet_since, sent_after, after, limit).await
    }

    async fn known_provider_ids(
        &self,
        org_id: Id,
        provider: &str,
        provider_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        let mut c = self.conn().await?;
        script::known_provider_ids(&mut *c, org_id, provider, provider_ids).await
    }

    async fn unknown_not_taken(
        &self,
        org_id: Id,
        message_id: Id,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(org_id).await?;
        let failed = script::not_taken(&mut tx, org_id, message_id, reason, now).await?;
        self.commit(tx).await?;
        Ok(failed)
    }

    async fn link_provider_id(
        &self,
        org_id: Id,
        message_id: Id,
        provider: &str,
        provider_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(org_id).await?;
        let linked =
            script::link_provider_id(&mut tx, org_id, message_id, provider, provider_id, now)
                .await?;
        if linked {
            apply_early_statuses(&mut tx, org_id, message_id, provider, provider_id).await?;
        }
        self.commit(tx).await?;
        Ok(linked)
    }

    async fn retry_message(
        &self,
        actor: &Actor,
        message_id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        let message = script::retry(&mut tx, org, message_id, now).await?;
        self.commit(tx).await?;
        Ok(message)
    }
}
