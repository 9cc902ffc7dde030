//! Looking up customers (call reassignment, VOI-6) and work orders (link dialog, SDB-3; WO-1).

use inbox_core::{phone, Customer, Id, WorkOrder};

use super::load;
use crate::store::backend::script;
use crate::store::db::{args, Db};
use crate::store::rows::{self, WORK_ORDER_SELECT};
use crate::store::rules::like_pattern;
use crate::store::Store;
use crate::store::{Actor, StoreResult};

const LIMIT: i64 = 20;

/// Customers whose name or email contains `q`, or who have the number `q` looks like.
pub(crate) async fn customers(db: &mut impl Db, org: Id, q: &str) -> StoreResult<Vec<Customer>> {
    let number = phone::looks_like_phone(q)
        .then(|| phone::normalize(q).ok())
        .flatten();
    let like = db.dialect().ilike();
    let sql = format!(
        "SELECT id FROM customers c
         WHERE c.org_id = $1 AND (c.name {like} $2 ESCAPE '\\' OR c.email {like} $2 ESCAPE '\\'
               OR EXISTS (SELECT 1 FROM customer_phones p WHERE p.customer_id = c.id AND p.e164 = $3))
         ORDER BY lower(c.name) COLLATE \"C\", c.id LIMIT $4"
    );
    let ids = db
        .all(
            &sql,
            args![org, &like_pattern(q), number.as_deref(), LIMIT],
            |r| r.int(0),
        )
        .await?;
    let mut customers = Vec::with_capacity(ids.len());
    for id in ids {
        customers.push(load::customer(db, org, id).await?);
    }
    Ok(customers)
}

/// Work orders whose number, registration (spaces or not), description or customer's name
/// contains `q`; open ones first, the newest number first.
pub(crate) async fn work_orders(db: &mut impl Db, org: Id, q: &str) -> StoreResult<Vec<WorkOrder>> {
    let like = db.dialect().ilike();
    let sql = format!(
        "{WORK_ORDER_SELECT}
         WHERE w.org_id = $1 AND (w.number {like} $2 ESCAPE '\\' OR w.vehicle_registration {like} $2 ESCAPE '\\'
               OR replace(w.vehicle_registration, ' ', '') {like} replace($2, ' ', '') ESCAPE '\\'
               OR w.description {like} $2 ESCAPE '\\' OR cu.name {like} $2 ESCAPE '\\')
         ORDER BY w.status = 'closed', w.number COLLATE \"C\" DESC LIMIT $3"
    );
    db.all(&sql, args![org, &like_pattern(q), LIMIT], |r| {
        rows::work_order(r)
    })
    .await
}

impl Store {
    pub async fn search_customers(&self, actor: &Actor, q: &str) -> StoreResult<Vec<Customer>> {
        let (org, q) = (actor.org_id, q.to_owned());
        self.read(script!(|c| customers(c, org, &q))).await
    }

    pub async fn search_work_orders(&self, actor: &Actor, q: &str) -> StoreResult<Vec<WorkOrder>> {
        let (org, q) = (actor.org_id, q.to_owned());
        self.read(script!(|c| work_orders(c, org, &q))).await
    }

    pub async fn work_order(&self, actor: &Actor, id: Id) -> StoreResult<WorkOrder> {
        let org = actor.org_id;
        self.read(script!(|c| load::work_order(c, org, id))).await
    }
}
