//! The send queue on SQLite: `store::scripts::dispatch`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::{DeliveryStatus, Id, Message};

use super::db::Lite;
use super::providers::apply_early_statuses;
use super::SqliteStore;
use crate::store::db::now as run;
use crate::store::scripts::dispatch as script;
use crate::store::{
    Actor, Awaiting, AwaitingAt, DispatchStore, OutboundJob, StoreResult, UnlinkedReply,
};

#[async_trait]
impl DispatchStore for SqliteStore {
    async fn claim_outbound(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<OutboundJob>> {
        self.write(move |tx| run(script::claim(&mut Lite::new(tx), now, lease_until, limit)))
            .await
    }

    async fn outbound_sending(
        &self,
        message_id: Id,
        claim: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.write(move |tx| run(script::sending(&mut Lite::new(tx), message_id, claim, now)))
            .await
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
        let (provider, provider_id) = (provider.to_string(), provider_id.to_string());
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            let (p, id) = (provider.as_str(), provider_id.as_str());
            let recorded = run(script::accepted(
                &mut db, message_id, claim, p, id, status, now,
            ))?;
            match recorded {
                Some(org) => apply_early_statuses(tx, org, message_id, p, id),
                None => Ok(()),
            }
        })
        .await
    }

    async fn outbound_retry_later(
        &self,
        message_id: Id,
        claim: i64,
        next_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let error = error.to_string();
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            run(script::retry_later(
                &mut db, message_id, claim, next_at, &error,
            ))
        })
        .await
    }

    async fn outbound_release(
        &self,
        message_id: Id,
        claim: i64,
        due_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            run(script::release(
                &mut Lite::new(tx),
                message_id,
                claim,
                due_at,
            ))
        })
        .await
    }

    async fn outbound_failed(
        &self,
        message_id: Id,
        claim: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let reason = reason.to_string();
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            run(script::failed(&mut db, message_id, claim, &reason, now))
        })
        .await
    }

    async fn outbound_unknown(
        &self,
        message_id: Id,
        claim: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let reason = reason.to_string();
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            run(script::unknown(&mut db, message_id, claim, &reason, now))
        })
        .await
    }

    async fn awaiting_status(
        &self,
        provider: &str,
        quiet_since: DateTime<Utc>,
        sent_after: DateTime<Utc>,
        after: Option<AwaitingAt>,
        limit: usize,
    ) -> StoreResult<Vec<Awaiting>> {
        let provider = provider.to_string();
        self.read(move |c| {
            let mut db = Lite::new(c);
            run(script::awaiting(
                &mut db,
                &provider,
                quiet_since,
                sent_after,
                after,
                limit,
            ))
        })
        .await
    }

    async fn unknown_unlinked(
        &self,
        channel: &str,
        quiet_since: DateTime<Utc>,
        sent_after: DateTime<Utc>,
        after: Option<AwaitingAt>,
        limit: usize,
    ) -> StoreResult<Vec<UnlinkedReply>> {
        let channel = channel.to_string();
        self.read(move |c| {
            let mut db = Lite::new(c);
            run(script::unknown_unlinked(
                &mut db,
                &channel,
                quiet_since,
                sent_after,
                after,
                limit,
            ))
        })
        .await
    }

    async fn known_provider_ids(
        &self,
        org_id: Id,
        provider: &str,
        provider_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        let (provider, ids) = (provider.to_string(), provider_ids.to_vec());
        self.read(move |c| {
            let mut db = Lite::new(c);
            run(script::known_provider_ids(&mut db, org_id, &provider, &ids))
        })
        .await
    }

    async fn unknown_not_taken(
        &self,
        org_id: Id,
        message_id: Id,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let reason = reason.to_string();
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            run(script::not_taken(&mut db, org_id, message_id, &reason, now))
        })
        .await
    }

    async fn link_provider_id(
        &self,
        org_id: Id,
        message_id: Id,
        provider: &str,
        provider_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (provider, provider_id) = (provider.to_string(), provider_id.to_string());
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            let (p, id) = (provider.as_str(), provider_id.as_str());
            let linked = run(script::link_provider_id(
                &mut db, org_id, message_id, p, id, now,
            ))?;
            if linked {
                apply_early_statuses(tx, org_id, message_id, p, id)?;
            }
            Ok(linked)
        })
        .await
    }

    async fn retry_message(
        &self,
        actor: &Actor,
        message_id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let org = actor.org_id;
        self.write(move |tx| run(script::retry(&mut Lite::new(tx), org, message_id, now)))
            .await
    }
}
