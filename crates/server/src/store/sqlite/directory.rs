//! Looking up customers (call reassignment, VOI-6) and work orders (link dialog, SDB-3; WO-1):
//! `store::scripts::directory` on a pooled SQLite connection.

use async_trait::async_trait;
use inbox_core::{Customer, Id, WorkOrder};

use super::db::Lite;
use super::rows::load_work_order;
use super::SqliteStore;
use crate::store::db::now;
use crate::store::scripts::directory as script;
use crate::store::{Actor, DirectoryStore, StoreResult};

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn search_customers(&self, actor: &Actor, q: &str) -> StoreResult<Vec<Customer>> {
        let (org, q) = (actor.org_id, q.to_string());
        self.read(move |c| now(script::customers(&mut Lite::new(c), org, &q)))
            .await
    }

    async fn search_work_orders(&self, actor: &Actor, q: &str) -> StoreResult<Vec<WorkOrder>> {
        let (org, q) = (actor.org_id, q.to_string());
        self.read(move |c| now(script::work_orders(&mut Lite::new(c), org, &q)))
            .await
    }

    async fn work_order(&self, actor: &Actor, id: Id) -> StoreResult<WorkOrder> {
        let org = actor.org_id;
        self.read(move |c| load_work_order(c, org, id)).await
    }
}
