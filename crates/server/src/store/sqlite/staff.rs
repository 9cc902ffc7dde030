//! Roles and staff accounts (issue 16: SET-1, ACC-2): `store::scripts::staff` run in SQLite's
//! transactions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::roles::{AuditEntry, Role, RoleUpdate, StaffAccount, StaffUpdate};
use inbox_core::Id;
use rusqlite::Connection;

use super::db::Lite;
use super::SqliteStore;
use crate::store::db::now;
use crate::store::scripts::staff::{self as script, NewStaff};
use crate::store::{Actor, StaffStore, StoreResult};

/// Every organisation's system roles, inside the caller's transaction (also after an import).
pub(crate) fn ensure_system_roles(tx: &Connection) -> StoreResult<()> {
    now(script::ensure_system_roles(&mut Lite::new(tx)))
}

#[async_trait]
impl StaffStore for SqliteStore {
    async fn ensure_system_roles(&self, _now: DateTime<Utc>) -> StoreResult<()> {
        self.write(|tx| ensure_system_roles(tx)).await
    }

    async fn roles(&self, actor: &Actor) -> StoreResult<Vec<Role>> {
        let org = actor.org_id;
        self.read(move |c| now(script::roles(&mut Lite::new(c), org)))
            .await
    }

    async fn create_role(
        &self,
        actor: &Actor,
        name: String,
        copy_of: Id,
        at: DateTime<Utc>,
    ) -> StoreResult<Role> {
        let by = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(script::create_role(&mut db, by, &name, copy_of, at))
        })
        .await
    }

    async fn update_role(
        &self,
        actor: &Actor,
        id: Id,
        update: RoleUpdate,
        at: DateTime<Utc>,
    ) -> StoreResult<Role> {
        let by = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(script::update_role(&mut db, by, id, &update, at))
        })
        .await
    }

    async fn delete_role(&self, actor: &Actor, id: Id, at: DateTime<Utc>) -> StoreResult<()> {
        let by = (actor.org_id, actor.user_id);
        self.write(move |tx| now(script::delete_role(&mut Lite::new(tx), by, id, at)))
            .await
    }

    async fn staff_accounts(&self, actor: &Actor) -> StoreResult<Vec<StaffAccount>> {
        let org = actor.org_id;
        self.read(move |c| now(script::staff_accounts(&mut Lite::new(c), org)))
            .await
    }

    async fn add_staff(
        &self,
        actor: &Actor,
        email: String,
        name: String,
        role_id: Id,
        password_hash: String,
        at: DateTime<Utc>,
    ) -> StoreResult<StaffAccount> {
        let by = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let new = NewStaff {
                email: &email,
                name: &name,
                role_id,
                password_hash: &password_hash,
            };
            now(script::add_staff(&mut Lite::new(tx), by, new, at))
        })
        .await
    }

    async fn update_staff(
        &self,
        actor: &Actor,
        id: Id,
        update: StaffUpdate,
        at: DateTime<Utc>,
    ) -> StoreResult<StaffAccount> {
        let by = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(script::update_staff(&mut db, by, id, &update, at))
        })
        .await
    }

    async fn reset_password(
        &self,
        actor: &Actor,
        id: Id,
        password_hash: String,
        at: DateTime<Utc>,
    ) -> StoreResult<StaffAccount> {
        let by = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(script::reset_password(&mut db, by, id, &password_hash, at))
        })
        .await
    }

    async fn audit_log(
        &self,
        actor: &Actor,
        before: Option<Id>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        let org = actor.org_id;
        self.read(move |c| now(script::audit_log(&mut Lite::new(c), org, before, limit)))
            .await
    }
}
