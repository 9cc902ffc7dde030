//! Looking up customers (call reassignment, VOI-6) and work orders (link dialog, SDB-3; WO-1).

use async_trait::async_trait;
use inbox_core::{phone, Customer, Id, WorkOrder};

use super::rows::{self, load_customer, WORK_ORDER_SELECT};
use super::PgStore;
use crate::store::rows::like_pattern;
use crate::store::{Actor, DirectoryStore, StoreResult};

const LIMIT: i64 = 20;

#[async_trait]
impl DirectoryStore for PgStore {
    async fn search_customers(&self, actor: &Actor, q: &str) -> StoreResult<Vec<Customer>> {
        let org = actor.org_id;
        let number = phone::looks_like_phone(q)
            .then(|| phone::normalize(q).ok())
            .flatten();
        let mut c = self.conn().await?;
        let ids: Vec<Id> = sqlx::query_scalar(
            "SELECT id FROM customers c WHERE c.org_id = $1 AND (c.name ILIKE $2 OR c.email ILIKE $2
               OR EXISTS (SELECT 1 FROM customer_phones p WHERE p.customer_id = c.id AND p.e164 = $3))
             ORDER BY lower(c.name) COLLATE \"C\", c.id LIMIT $4",
        )
        .bind(org)
        .bind(like_pattern(q))
        .bind(number)
        .bind(LIMIT)
        .fetch_all(&mut *c)
        .await?;
        let mut customers = Vec::with_capacity(ids.len());
        for id in ids {
            customers.push(load_customer(&mut *c, org, id).await?);
        }
        Ok(customers)
    }

    async fn search_work_orders(&self, actor: &Actor, q: &str) -> StoreResult<Vec<WorkOrder>> {
        // ILIKE's default escape character is the backslash, as `like_pattern` writes.
        let sql = format!(
            "{WORK_ORDER_SELECT} WHERE w.org_id = $1 AND (w.number ILIKE $2 OR w.vehicle_registration ILIKE $2
               OR replace(w.vehicle_registration, ' ', '') ILIKE replace($2, ' ', '')
               OR w.description ILIKE $2 OR cu.name ILIKE $2)
             ORDER BY w.status = 'closed', w.number COLLATE \"C\" DESC LIMIT $3"
        );
        rows::all(
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(actor.org_id)
                .bind(like_pattern(q))
                .bind(LIMIT)
                .fetch_all(&self.pool)
                .await?,
            rows::work_order,
        )
    }

    async fn work_order(&self, actor: &Actor, id: Id) -> StoreResult<WorkOrder> {
        rows::load_work_order(&mut *self.conn().await?, actor.org_id, id).await
    }
}
