//! Calls on SQLite: `store::scripts::calls`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::{CallDestination, CallMoved};
use inbox_core::{Call, Id};

use super::db::Lite;
use super::rows::load_call;
use super::SqliteStore;
use crate::store::db::now as run;
use crate::store::scripts::calls as script;
use crate::store::{Actor, CallStore, Ingested, NewCall, StoreResult};

#[async_trait]
impl CallStore for SqliteStore {
    async fn call(&self, actor: &Actor, id: Id) -> StoreResult<Call> {
        let org = actor.org_id;
        self.read(move |c| load_call(c, org, id)).await
    }

    async fn ingest_call(&self, org_id: Id, call: NewCall) -> StoreResult<Ingested> {
        self.write(move |tx| run(script::ingest(&mut Lite::new(tx), org_id, &call)))
            .await
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
        let reason = reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            let reason = reason.as_deref();
            let moved = run(script::reassign(
                &mut db, org, user, tz, id, to, reason, now,
            ))?;
            // Both conversations' analytics state follows their items (`analytics`' own).
            let both = [moved.from_conversation_id, moved.to_conversation_id];
            super::analytics::restate(tx, org, &both)?;
            Ok(moved)
        })
        .await
    }

    async fn resolve_call(&self, actor: &Actor, id: Id, now: DateTime<Utc>) -> StoreResult<Call> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| run(script::resolve(&mut Lite::new(tx), org, user, id, now)))
            .await
    }
}
