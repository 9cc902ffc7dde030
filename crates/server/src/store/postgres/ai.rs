//! The AI switch and intent corrections (issue 16, AIA-1), written once in `store::scripts::ai`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::analytics::OpeningHours;
use inbox_core::intent::Intent;
use inbox_core::{Id, Message, Organisation};

use super::PgStore;
use crate::store::scripts::ai as script;
use crate::store::{Actor, AiStore, StoreResult};

#[async_trait]
impl AiStore for PgStore {
    async fn set_ai_enabled(
        &self,
        actor: &Actor,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<Organisation> {
        let who = (actor.org_id, actor.user_id);
        let mut tx = self.begin(actor.org_id).await?;
        let organisation = script::set_ai_enabled(&mut tx, who, enabled, now).await?;
        self.commit(tx).await?;
        Ok(organisation)
    }

    async fn opening_hours(&self, actor: &Actor) -> StoreResult<OpeningHours> {
        script::opening_hours(&mut *self.conn().await?, actor.org_id).await
    }

    async fn set_opening_hours(
        &self,
        actor: &Actor,
        hours: OpeningHours,
        now: DateTime<Utc>,
    ) -> StoreResult<OpeningHours> {
        let who = (actor.org_id, actor.user_id);
        let mut tx = self.begin(actor.org_id).await?;
        let hours = script::set_opening_hours(&mut tx, who, hours, now).await?;
        self.commit(tx).await?;
        Ok(hours)
    }

    async fn unclassified(&self, after: Id, limit: u32) -> StoreResult<Vec<(Id, String)>> {
        script::unclassified(&mut *self.conn().await?, after, limit).await
    }

    async fn set_intents(&self, intents: Vec<(Id, &'static str, f64)>) -> StoreResult<()> {
        let ids: Vec<Id> = intents.iter().map(|(id, _, _)| *id).collect();
        let mut tx = self.begin_any().await?;
        // The organisations' locks first, in id order: their counters are written under them,
        // as every other write does, so a rebuild never interleaves.
        let orgs: Vec<Id> = sqlx::query_scalar(
            "SELECT DISTINCT org_id FROM messages WHERE id = ANY($1) ORDER BY org_id",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        for org in orgs {
            super::lock_org(&mut tx, org).await?;
        }
        script::set_intents(&mut tx, &intents).await?;
        self.commit(tx).await
    }

    async fn correct_intent(
        &self,
        actor: &Actor,
        message_id: Id,
        label: Intent,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let who = (actor.org_id, actor.user_id);
        let mut tx = self.begin(actor.org_id).await?;
        let message = script::correct_intent(&mut tx, who, message_id, label, now).await?;
        self.commit(tx).await?;
        Ok(message)
    }
}
