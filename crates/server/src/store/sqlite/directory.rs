//! Looking up customers (call reassignment, VOI-6) and work orders (link dialog, SDB-3; WO-1).

use async_trait::async_trait;
use inbox_core::{phone, Customer, Id, WorkOrder};
use rusqlite::{params, Connection};

use super::rows::{self, load_customer, WORK_ORDER_SELECT};
use super::SqliteStore;
use crate::store::rows::like_pattern;
use crate::store::{Actor, DirectoryStore, StoreResult};

const LIMIT: i64 = 20;

fn customers(conn: &Connection, org: Id, q: &str) -> StoreResult<Vec<Customer>> {
    let number = phone::looks_like_phone(q)
        .then(|| phone::normalize(q).ok())
        .flatten();
    let ids: Vec<Id> = conn
        .prepare_cached(
            "SELECT id FROM customers c WHERE c.org_id = ?1 AND (c.name LIKE ?2 ESCAPE '\\' OR c.email LIKE ?2 ESCAPE '\\'
               OR EXISTS (SELECT 1 FROM customer_phones p WHERE p.customer_id = c.id AND p.e164 = ?3))
             ORDER BY c.name COLLATE NOCASE, c.id LIMIT ?4",
        )?
        .query_map(params![org, like_pattern(q), number, LIMIT], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    ids.into_iter()
        .map(|id| load_customer(conn, org, id))
        .collect()
}

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn search_customers(&self, actor: &Actor, q: &str) -> StoreResult<Vec<Customer>> {
        let (org, q) = (actor.org_id, q.to_string());
        self.read(move |c| customers(c, org, &q)).await
    }

    async fn search_work_orders(&self, actor: &Actor, q: &str) -> StoreResult<Vec<WorkOrder>> {
        let (org, pattern) = (actor.org_id, like_pattern(q));
        self.read(move |c| {
            let sql = format!(
                "{WORK_ORDER_SELECT} WHERE w.org_id = ?1 AND (w.number LIKE ?2 ESCAPE '\\' OR w.vehicle_registration LIKE ?2 ESCAPE '\\'
                   OR replace(w.vehicle_registration, ' ', '') LIKE replace(?2, ' ', '') ESCAPE '\\'
                   OR w.description LIKE ?2 ESCAPE '\\' OR cu.name LIKE ?2 ESCAPE '\\')
                 ORDER BY w.status = 'closed', w.number DESC LIMIT ?3"
            );
            Ok(c.prepare_cached(&sql)?
                .query_map(params![org, pattern, LIMIT], rows::work_order)?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn work_order(&self, actor: &Actor, id: Id) -> StoreResult<WorkOrder> {
        let org = actor.org_id;
        self.read(move |c| rows::load_work_order(c, org, id)).await
    }
}
