//! Calls on PostgreSQL: `store::scripts::calls`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::{CallDestination, CallMoved};
use inbox_core::{Call, Id};

use super::rows::load_call;
use super::PgStore;
use crate::store::scripts::calls as script;
use crate::store::{Actor, CallStore, Ingested, NewCall, StoreResult};

#[async_trait]
impl CallStore for PgStore {
    async fn call(&self, actor: &Actor, id: Id) -> StoreResult<Call> {
        load_call(&mut *self.conn().await?, actor.org_id, id).await
    }

    async fn ingest_call(&self, org_id: Id, call: NewCall) -> StoreResult<Ingested> {
        let mut tx = self.begin(org_id).await?;
        let ingested = script::ingest(&mut tx, org_id, &call).await?;
        // A call seen before changed nothing: the transaction is rolled back.
        if ingested.created {
            self.commit(tx).await?;
        }
        Ok(ingested)
    }

    async fn reassign_call(
        &self,
        actor: &Actor,
        id: Id,
        to: CallDestination,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<CallMoved> {
        let (org, user, tz) = (actor.org_id, actor.user_id, actor.time_zone);
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        let mut tx = self.begin(org).await?;
        let moved = script::reassign(&mut tx, org, user, tz, id, to, reason, now).await?;
        // Both conversations' analytics state follows their items (`analytics`' own).
        let both = [moved.from_conversation_id, moved.to_conversation_id];
        super::analytics::restate(&mut tx, org, &both).await?;
        self.commit(tx).await?;
        Ok(moved)
    }

    async fn resolve_call(&self, actor: &Actor, id: Id, now: DateTime<Utc>) -> StoreResult<Call> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let call = script::resolve(&mut tx, org, user, id, now).await?;
        self.commit(tx).await?;
        Ok(call)
    }
}
