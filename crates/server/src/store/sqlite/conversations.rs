//! Conversations on SQLite: `store::scripts::conversations`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::ConversationPage;
use inbox_core::{ConversationDetail, ConversationSummary, Id};

use super::db::Lite;
use super::SqliteStore;
use crate::store::db::now as run;
use crate::store::scripts::conversations as script;
use crate::store::{Actor, ConversationStore, ListParams, MarkedRead, StoreResult};

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn list_conversations(
        &self,
        actor: &Actor,
        params: &ListParams,
    ) -> StoreResult<ConversationPage> {
        let (actor, params) = (actor.clone(), params.clone());
        self.read(move |c| {
            let _deadline = super::Deadline::arm(c, params.budget);
            run(script::list(&mut Lite::new(c), &actor, &params))
        })
        .await
    }

    async fn conversation(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationDetail> {
        let actor = actor.clone();
        self.read(move |c| run(script::detail(&mut Lite::new(c), &actor, id, now)))
            .await
    }

    async fn mark_read(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<MarkedRead> {
        let org = actor.org_id;
        self.write(move |tx| run(script::mark_read(&mut Lite::new(tx), org, id, now)))
            .await
    }

    async fn assign(
        &self,
        actor: &Actor,
        id: Id,
        assignee: Option<Id>,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationSummary> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            run(script::assign(&mut db, org, user, id, assignee, now))
        })
        .await
    }

    async fn set_work_order(
        &self,
        actor: &Actor,
        id: Id,
        work_order: Option<Id>,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationDetail> {
        let actor = actor.clone();
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            run(script::set_work_order(&mut db, &actor, id, work_order, now))
        })
        .await
    }
}
