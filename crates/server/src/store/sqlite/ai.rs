//! The AI switch and intent corrections (issue 16, AIA-1), written once in `store::scripts::ai`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::analytics::OpeningHours;
use inbox_core::intent::Intent;
use inbox_core::{Id, Message, Organisation};

use super::db::Lite;
use super::SqliteStore;
use crate::store::db::now;
use crate::store::scripts::ai as script;
use crate::store::{Actor, AiStore, StoreResult};

#[async_trait]
impl AiStore for SqliteStore {
    async fn set_ai_enabled(
        &self,
        actor: &Actor,
        enabled: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<Organisation> {
        let who = (actor.org_id, actor.user_id);
        self.write(move |tx| now(script::set_ai_enabled(&mut Lite::new(tx), who, enabled, at)))
            .await
    }

    async fn opening_hours(&self, actor: &Actor) -> StoreResult<OpeningHours> {
        let org = actor.org_id;
        self.read(move |c| now(script::opening_hours(&mut Lite::new(c), org)))
            .await
    }

    async fn set_opening_hours(
        &self,
        actor: &Actor,
        hours: OpeningHours,
        at: DateTime<Utc>,
    ) -> StoreResult<OpeningHours> {
        let who = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            now(script::set_opening_hours(
                &mut Lite::new(tx),
                who,
                hours,
                at,
            ))
        })
        .await
    }

    async fn unclassified(&self, after: Id, limit: u32) -> StoreResult<Vec<(Id, String)>> {
        self.read(move |c| now(script::unclassified(&mut Lite::new(c), after, limit)))
            .await
    }

    async fn set_intents(&self, intents: Vec<(Id, &'static str, f64)>) -> StoreResult<()> {
        self.write(move |tx| now(script::set_intents(&mut Lite::new(tx), &intents)))
            .await
    }

    async fn correct_intent(
        &self,
        actor: &Actor,
        message_id: Id,
        label: Intent,
        at: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let who = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(script::correct_intent(&mut db, who, message_id, label, at))
        })
        .await
    }
}
