//! Conversations on PostgreSQL: `store::scripts::conversations`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::ConversationPage;
use inbox_core::{ConversationDetail, ConversationSummary, Id};

use super::PgStore;
use crate::store::scripts::conversations as script;
use crate::store::{Actor, ConversationStore, ListParams, MarkedRead, StoreResult};

#[async_trait]
impl ConversationStore for PgStore {
    async fn list_conversations(
        &self,
        actor: &Actor,
        params: &ListParams,
    ) -> StoreResult<ConversationPage> {
        // A read-only transaction so that the time budget applies to these queries only; a
        // cancelled query rolls it back and the connection returns to the pool.
        let mut tx = self.pool.begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SET LOCAL statement_timeout = {}",
            params.budget.as_millis().clamp(1, i32::MAX as u128)
        )))
        .execute(&mut *tx)
        .await?;
        let page = script::list(&mut *tx, actor, params).await?;
        tx.commit().await?;
        Ok(page)
    }

    async fn conversation(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationDetail> {
        script::detail(&mut *self.conn().await?, actor, id, now).await
    }

    async fn mark_read(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<MarkedRead> {
        let org = actor.org_id;
        let mut tx = self.begin(org).await?;
        let marked = script::mark_read(&mut tx, org, id, now).await?;
        self.commit(tx).await?;
        Ok(marked)
    }

    async fn assign(
        &self,
        actor: &Actor,
        id: Id,
        assignee: Option<Id>,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationSummary> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let summary = script::assign(&mut tx, org, user, id, assignee, now).await?;
        self.commit(tx).await?;
        Ok(summary)
    }

    async fn set_work_order(
        &self,
        actor: &Actor,
        id: Id,
        work_order: Option<Id>,
        now: DateTime<Utc>,
    ) -> StoreResult<ConversationDetail> {
        let mut tx = self.begin(actor.org_id).await?;
        let detail = script::set_work_order(&mut tx, actor, id, work_order, now).await?;
        self.commit(tx).await?;
        Ok(detail)
    }
}
