//! Organisations, users, roles → capabilities, and sessions: `store::scripts::accounts` run in
//! SQLite's transactions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::{Id, Organisation, StaffRef};
use rusqlite::Connection;

use super::db::Lite;
use super::SqliteStore;
use crate::store::db::now;
use crate::store::scripts::accounts as script;
use crate::store::{
    AccountStore, Actor, LoginRecord, NewOrganisation, NewUser, SessionInfo, StoreResult,
    UserAccount,
};

pub(crate) fn insert_organisation(
    tx: &Connection,
    org: &NewOrganisation,
    ai: bool,
    at: DateTime<Utc>,
) -> StoreResult<Id> {
    now(script::insert_organisation(&mut Lite::new(tx), org, ai, at))
}

pub(crate) fn insert_user(tx: &Connection, u: &NewUser, at: DateTime<Utc>) -> StoreResult<Id> {
    now(script::insert_user(&mut Lite::new(tx), u, at))
}

pub(crate) fn load_organisation(conn: &Connection, id: Id) -> StoreResult<Option<Organisation>> {
    now(script::organisation(&mut Lite::new(conn), id))
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_organisation(
        &self,
        org: NewOrganisation,
        at: DateTime<Utc>,
    ) -> StoreResult<Id> {
        self.write(move |tx| insert_organisation(tx, &org, false, at))
            .await
    }

    async fn create_user(&self, user: NewUser, at: DateTime<Utc>) -> StoreResult<Id> {
        self.write(move |tx| now(script::create_user(&mut Lite::new(tx), &user, at)))
            .await
    }

    async fn find_login(&self, email: &str) -> StoreResult<Option<LoginRecord>> {
        let email = email.to_string();
        self.read(move |c| now(script::find_login(&mut Lite::new(c), &email)))
            .await
    }

    async fn create_session(
        &self,
        user_id: Id,
        token_hash: [u8; 32],
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<SessionInfo> {
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(script::create_session(
                &mut db,
                user_id,
                &token_hash,
                at,
                expires_at,
            ))
        })
        .await
    }

    async fn session(
        &self,
        token_hash: [u8; 32],
        at: DateTime<Utc>,
    ) -> StoreResult<Option<SessionInfo>> {
        self.read(move |c| now(script::session(&mut Lite::new(c), &token_hash, at)))
            .await
    }

    async fn delete_session(&self, token_hash: [u8; 32]) -> StoreResult<()> {
        self.write(move |tx| now(script::delete_session(&mut Lite::new(tx), &token_hash)))
            .await
    }

    async fn touch_session(&self, token_hash: [u8; 32], at: DateTime<Utc>) -> StoreResult<()> {
        self.write(move |tx| now(script::touch_session(&mut Lite::new(tx), &token_hash, at)))
            .await
    }

    async fn organisation(&self, id: Id) -> StoreResult<Option<Organisation>> {
        self.read(move |c| load_organisation(c, id)).await
    }

    async fn create_organisation_with_owner(
        &self,
        org: NewOrganisation,
        owner: NewUser,
        at: DateTime<Utc>,
    ) -> StoreResult<(Id, Id)> {
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(script::create_organisation_with_owner(
                &mut db, &org, owner, at,
            ))
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserAccount>> {
        let email = email.to_string();
        self.read(move |c| now(script::user_by_email(&mut Lite::new(c), &email)))
            .await
    }

    async fn set_user_active(
        &self,
        user_id: Id,
        active: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(script::set_user_active(&mut db, user_id, active, at))
        })
        .await
    }

    async fn set_password_hash(
        &self,
        user_id: Id,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let hash = password_hash.to_string();
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            now(script::set_password_hash(&mut db, user_id, &hash, at))
        })
        .await
    }

    async fn end_sessions(&self, user_id: Id, at: DateTime<Utc>) -> StoreResult<u64> {
        self.write(move |tx| now(script::end_sessions(&mut Lite::new(tx), user_id, at)))
            .await
    }

    fn session_ends(&self) -> tokio::sync::broadcast::Receiver<Id> {
        self.session_ends.subscribe()
    }

    async fn staff(&self, actor: &Actor) -> StoreResult<Vec<StaffRef>> {
        let org = actor.org_id;
        self.read(move |c| now(script::staff(&mut Lite::new(c), org)))
            .await
    }
}
