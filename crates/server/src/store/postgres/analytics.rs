//! Analytics counters (issue 16, AIA-1), written once in `store::scripts::analytics`.

use async_trait::async_trait;
use chrono::NaiveDate;
use inbox_core::analytics::report::Inputs;
use inbox_core::Id;

use super::PgStore;
use crate::store::scripts::analytics as script;
use crate::store::{Actor, AnalyticsStore, StoreResult};

pub(crate) use crate::store::scripts::analytics::restate;

#[async_trait]
impl AnalyticsStore for PgStore {
    async fn analytics_inputs(
        &self,
        actor: &Actor,
        from: Option<NaiveDate>,
        to: NaiveDate,
        per_staff: bool,
    ) -> StoreResult<Inputs> {
        let mut c = self.conn().await?;
        script::inputs(&mut *c, actor.org_id, from, to, per_staff).await
    }

    async fn rebuild_analytics(&self, org_id: Id) -> StoreResult<()> {
        let mut tx = self.begin(org_id).await?;
        script::rebuild(&mut tx, org_id).await?;
        self.commit(tx).await
    }

    async fn rebuild_stale_analytics(&self) -> StoreResult<Vec<Id>> {
        let stale = script::stale(&mut *self.conn().await?).await?;
        for org in &stale {
            self.rebuild_analytics(*org).await?;
        }
        Ok(stale)
    }
}
