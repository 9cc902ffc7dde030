//! Analytics counters (issue 16, AIA-1), written once in `store::scripts::analytics`.

use async_trait::async_trait;
use chrono::NaiveDate;
use inbox_core::analytics::report::Inputs;
use inbox_core::Id;
use rusqlite::Connection;

use super::db::Lite;
use super::SqliteStore;
use crate::store::db::now;
use crate::store::scripts::analytics as script;
use crate::store::{Actor, AnalyticsStore, StoreResult};

/// Works out conversations' state again (`scripts::analytics::restate`).
pub(crate) fn restate(tx: &Connection, org: Id, conversations: &[Id]) -> StoreResult<()> {
    now(script::restate(&mut Lite::new(tx), org, conversations))
}

#[async_trait]
impl AnalyticsStore for SqliteStore {
    async fn analytics_inputs(
        &self,
        actor: &Actor,
        from: Option<NaiveDate>,
        to: NaiveDate,
        per_staff: bool,
    ) -> StoreResult<Inputs> {
        let org = actor.org_id;
        self.read(move |c| now(script::inputs(&mut Lite::new(c), org, from, to, per_staff)))
            .await
    }

    async fn rebuild_analytics(&self, org_id: Id) -> StoreResult<()> {
        self.write(move |tx| now(script::rebuild(&mut Lite::new(tx), org_id)))
            .await
    }

    async fn rebuild_stale_analytics(&self) -> StoreResult<Vec<Id>> {
        let stale = self.read(|c| now(script::stale(&mut Lite::new(c)))).await?;
        for org in &stale {
            self.rebuild_analytics(*org).await?;
        }
        Ok(stale)
    }
}
