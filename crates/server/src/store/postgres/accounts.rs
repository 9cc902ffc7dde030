//! Organisations, users, roles → capabilities, and sessions: `store::scripts::accounts` run in
//! PostgreSQL's transactions. A change to a user takes their organisation's lock.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::{Id, Organisation, StaffRef};

use super::PgStore;
use crate::store::scripts::accounts as script;
pub(crate) use crate::store::scripts::accounts::{
    insert_organisation, insert_user, organisation as load_organisation,
};
use crate::store::{
    AccountStore, Actor, LoginRecord, NewOrganisation, NewUser, SessionInfo, StoreResult,
    UserAccount,
};

#[async_trait]
impl AccountStore for PgStore {
    async fn create_organisation(
        &self,
        org: NewOrganisation,
        at: DateTime<Utc>,
    ) -> StoreResult<Id> {
        let mut tx = self.begin_any().await?;
        let id = insert_organisation(&mut tx, &org, false, at).await?;
        self.commit(tx).await?;
        Ok(id)
    }

    async fn create_user(&self, user: NewUser, at: DateTime<Utc>) -> StoreResult<Id> {
        let mut tx = self.begin(user.org_id).await?;
        let id = script::create_user(&mut tx, &user, at).await?;
        self.commit(tx).await?;
        Ok(id)
    }

    async fn find_login(&self, email: &str) -> StoreResult<Option<LoginRecord>> {
        script::find_login(&mut *self.conn().await?, email).await
    }

    async fn create_session(
        &self,
        user_id: Id,
        token_hash: [u8; 32],
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<SessionInfo> {
        let mut tx = self.begin_any().await?;
        let session = script::create_session(&mut tx, user_id, &token_hash, at, expires_at).await?;
        self.commit(tx).await?;
        Ok(session)
    }

    async fn session(
        &self,
        token_hash: [u8; 32],
        at: DateTime<Utc>,
    ) -> StoreResult<Option<SessionInfo>> {
        script::session(&mut *self.conn().await?, &token_hash, at).await
    }

    async fn delete_session(&self, token_hash: [u8; 32]) -> StoreResult<()> {
        script::delete_session(&mut *self.conn().await?, &token_hash).await
    }

    async fn touch_session(&self, token_hash: [u8; 32], at: DateTime<Utc>) -> StoreResult<()> {
        script::touch_session(&mut *self.conn().await?, &token_hash, at).await
    }

    async fn organisation(&self, id: Id) -> StoreResult<Option<Organisation>> {
        load_organisation(&mut *self.conn().await?, id).await
    }

    async fn create_organisation_with_owner(
        &self,
        org: NewOrganisation,
        owner: NewUser,
        at: DateTime<Utc>,
    ) -> StoreResult<(Id, Id)> {
        let mut tx = self.begin_any().await?;
        let ids = script::create_organisation_with_owner(&mut tx, &org, owner, at).await?;
        self.commit(tx).await?;
        Ok(ids)
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserAccount>> {
        script::user_by_email(&mut *self.conn().await?, email).await
    }

    async fn set_user_active(
        &self,
        user_id: Id,
        active: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_any().await?;
        let ended = script::set_user_active(&mut tx, user_id, active, at).await?;
        self.commit(tx).await?;
        Ok(ended)
    }

    async fn set_password_hash(
        &self,
        user_id: Id,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_any().await?;
        let ended = script::set_password_hash(&mut tx, user_id, password_hash, at).await?;
        self.commit(tx).await?;
        Ok(ended)
    }

    async fn end_sessions(&self, user_id: Id, at: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.begin_any().await?;
        let ended = script::end_sessions(&mut tx, user_id, at).await?;
        self.commit(tx).await?;
        Ok(ended)
    }

    fn session_ends(&self) -> tokio::sync::broadcast::Receiver<Id> {
        self.session_ends.subscribe()
    }

    async fn staff(&self, actor: &Actor) -> StoreResult<Vec<StaffRef>> {
        script::staff(&mut *self.conn().await?, actor.org_id).await
    }
}
