//! Looking up customers (call reassignment, VOI-6) and work orders (link dialog, SDB-3; WO-1):
//! `store::scripts::directory` on a pooled PostgreSQL connection.

use async_trait::async_trait;
use inbox_core::{Customer, Id, WorkOrder};

use super::rows::load_work_order;
use super::PgStore;
use crate::store::scripts::directory as script;
use crate::store::{Actor, DirectoryStore, StoreResult};

#[async_trait]
impl DirectoryStore for PgStore {
    async fn search_customers(&self, actor: &Actor, q: &str) -> StoreResult<Vec<Customer>> {
        script::customers(&mut *self.conn().await?, actor.org_id, q).await
    }

    async fn search_work_orders(&self, actor: &Actor, q: &str) -> StoreResult<Vec<WorkOrder>> {
        script::work_orders(&mut *self.conn().await?, actor.org_id, q).await
    }

    async fn work_order(&self, actor: &Actor, id: Id) -> StoreResult<WorkOrder> {
        load_work_order(&mut *self.conn().await?, actor.org_id, id).await
    }
}
