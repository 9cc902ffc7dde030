//! Roles and staff accounts (issue 16: SET-1, ACC-2): `store::scripts::staff` run in
//! PostgreSQL's transactions, each under the organisation's lock.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::roles::{AuditEntry, Role, RoleUpdate, StaffAccount, StaffUpdate};
use inbox_core::Id;

use super::PgStore;
pub(crate) use crate::store::scripts::staff::ensure_system_roles;
use crate::store::scripts::staff::{self as script, NewStaff};
use crate::store::{Actor, StaffStore, StoreResult};

#[async_trait]
impl StaffStore for PgStore {
    async fn ensure_system_roles(&self, _now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.begin_any().await?;
        ensure_system_roles(&mut tx).await?;
        self.commit(tx).await
    }

    async fn roles(&self, actor: &Actor) -> StoreResult<Vec<Role>> {
        script::roles(&mut *self.conn().await?, actor.org_id).await
    }

    async fn create_role(
        &self,
        actor: &Actor,
        name: String,
        copy_of: Id,
        at: DateTime<Utc>,
    ) -> StoreResult<Role> {
        let by = (actor.org_id, actor.user_id);
        let mut tx = self.begin(actor.org_id).await?;
        let role = script::create_role(&mut tx, by, &name, copy_of, at).await?;
        self.commit(tx).await?;
        Ok(role)
    }

    async fn update_role(
        &self,
        actor: &Actor,
        id: Id,
        update: RoleUpdate,
        at: DateTime<Utc>,
    ) -> StoreResult<Role> {
        let by = (actor.org_id, actor.user_id);
        let mut tx = self.begin(actor.org_id).await?;
        let role = script::update_role(&mut tx, by, id, &update, at).await?;
        self.commit(tx).await?;
        Ok(role)
    }

    async fn delete_role(&self, actor: &Actor, id: Id, at: DateTime<Utc>) -> StoreResult<()> {
        let by = (actor.org_id, actor.user_id);
        let mut tx = self.begin(actor.org_id).await?;
        script::delete_role(&mut tx, by, id, at).await?;
        self.commit(tx).await
    }

    async fn staff_accounts(&self, actor: &Actor) -> StoreResult<Vec<StaffAccount>> {
        script::staff_accounts(&mut *self.conn().await?, actor.org_id).await
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
        let new = NewStaff {
            email: &email,
            name: &name,
            role_id,
            password_hash: &password_hash,
        };
        let mut tx = self.begin(actor.org_id).await?;
        let account = script::add_staff(&mut tx, by, new, at).await?;
        self.commit(tx).await?;
        Ok(account)
    }

    async fn update_staff(
        &self,
        actor: &Actor,
        id: Id,
        update: StaffUpdate,
        at: DateTime<Utc>,
    ) -> StoreResult<StaffAccount> {
        let by = (actor.org_id, actor.user_id);
        let mut tx = self.begin(actor.org_id).await?;
        let account = script::update_staff(&mut tx, by, id, &update, at).await?;
        self.commit(tx).await?;
        Ok(account)
    }

    async fn reset_password(
        &self,
        actor: &Actor,
        id: Id,
        password_hash: String,
        at: DateTime<Utc>,
    ) -> StoreResult<StaffAccount> {
        let by = (actor.org_id, actor.user_id);
        let mut tx = self.begin(actor.org_id).await?;
        let account = script::reset_password(&mut tx, by, id, &password_hash, at).await?;
        self.commit(tx).await?;
        Ok(account)
    }

    async fn audit_log(
        &self,
        actor: &Actor,
        before: Option<Id>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        script::audit_log(&mut *self.conn().await?, actor.org_id, before, limit).await
    }
}
