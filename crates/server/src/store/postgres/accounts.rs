//! Organisations, users, roles → capabilities, and sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::{Capability, CapabilitySet, Id, Organisation, StaffRef, User};
use sqlx::PgConnection;

use super::{PgStore, Tx};
use crate::store::rows::{from_ms, ms};
use crate::store::{
    AccountStore, Actor, LoginRecord, NewOrganisation, NewUser, SessionInfo, StoreError,
    StoreResult, UserAccount,
};

pub(crate) async fn insert_organisation(
    c: &mut PgConnection,
    org: &NewOrganisation,
    ai: bool,
    now: DateTime<Utc>,
) -> StoreResult<Id> {
    Ok(sqlx::query_scalar(
        "INSERT INTO organisations (name, time_zone, ai_enabled, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&org.name)
    .bind(&org.time_zone)
    .bind(ai)
    .bind(ms(now))
    .fetch_one(c)
    .await?)
}

/// The role's id, creating it with these capabilities when the organisation lacks it.
async fn role_id(
    c: &mut PgConnection,
    org_id: Id,
    role: &str,
    caps: &CapabilitySet,
) -> StoreResult<Id> {
    let existing: Option<Id> =
        sqlx::query_scalar("SELECT id FROM roles WHERE org_id = $1 AND name = $2")
            .bind(org_id)
            .bind(role)
            .fetch_optional(&mut *c)
            .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id: Id =
        sqlx::query_scalar("INSERT INTO roles (org_id, name) VALUES ($1, $2) RETURNING id")
            .bind(org_id)
            .bind(role)
            .fetch_one(&mut *c)
            .await?;
    for cap in caps.iter() {
        sqlx::query("INSERT INTO role_capabilities (role_id, capability) VALUES ($1, $2)")
            .bind(id)
            .bind(cap.as_str())
            .execute(&mut *c)
            .await?;
    }
    Ok(id)
}

pub(crate) async fn insert_user(
    c: &mut PgConnection,
    u: &NewUser,
    now: DateTime<Utc>,
) -> StoreResult<Id> {
    let role = role_id(c, u.org_id, &u.role, &u.capabilities).await?;
    let taken: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM users WHERE lower(email) = lower($1)")
            .bind(&u.email)
            .fetch_optional(&mut *c)
            .await?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!(
            "a user with email {} already exists",
            u.email
        )));
    }
    Ok(sqlx::query_scalar(
        "INSERT INTO users (org_id, role_id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(u.org_id)
    .bind(role)
    .bind(&u.email)
    .bind(&u.name)
    .bind(&u.password_hash)
    .bind(ms(now))
    .fetch_one(c)
    .await?)
}

pub(crate) async fn load_organisation(
    c: &mut PgConnection,
    org_id: Id,
) -> StoreResult<Option<Organisation>> {
    let row: Option<(Id, String, String, bool)> =
        sqlx::query_as("SELECT id, name, time_zone, ai_enabled FROM organisations WHERE id = $1")
            .bind(org_id)
            .fetch_optional(c)
            .await?;
    Ok(row.map(|(id, name, time_zone, ai_enabled)| Organisation {
        id,
        name,
        time_zone,
        ai_enabled,
    }))
}

/// Ends every session of a user and tells every instance (NOTIFY `inbox_sessions`, delivered at
/// commit); returns how many.
pub(crate) async fn end_user_sessions(c: &mut PgConnection, user_id: Id) -> StoreResult<u64> {
    let n = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?
        .rows_affected();
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(super::SESSIONS_CHANNEL)
        .bind(user_id.to_string())
        .execute(&mut *c)
        .await?;
    Ok(n)
}

/// The user's organisation, or NotFound.
async fn org_of(c: &mut PgConnection, user_id: Id) -> StoreResult<Id> {
    sqlx::query_scalar("SELECT org_id FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound)
}

async fn load_session(
    c: &mut PgConnection,
    user_id: Id,
    expires_at: i64,
    last_seen_at: i64,
) -> StoreResult<SessionInfo> {
    let (id, email, name, role, org_id, role_id): (Id, String, String, String, Id, Id) =
        sqlx::query_as(
            "SELECT u.id, u.email, u.name, r.name, u.org_id, u.role_id FROM users u
         JOIN roles r ON r.id = u.role_id WHERE u.id = $1",
        )
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    let caps: Vec<String> =
        sqlx::query_scalar("SELECT capability FROM role_capabilities WHERE role_id = $1")
            .bind(role_id)
            .fetch_all(&mut *c)
            .await?;
    let organisation = load_organisation(c, org_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(SessionInfo {
        user: User {
            id,
            email,
            name,
            role,
            capabilities: CapabilitySet::new(caps.iter().filter_map(|c| Capability::parse(c))),
        },
        organisation,
        expires_at: from_ms(expires_at),
        last_seen_at: from_ms(last_seen_at),
    })
}

/// A transaction holding the write lock of the user's organisation.
async fn begin_for_user(store: &PgStore, user_id: Id) -> StoreResult<Tx> {
    let mut tx = store.begin_any().await?;
    let org: Option<Id> = sqlx::query_scalar("SELECT org_id FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(org) = org {
        super::lock_org(&mut tx, org).await?;
    }
    Ok(tx)
}

#[async_trait]
impl AccountStore for PgStore {
    async fn create_organisation(
        &self,
        org: NewOrganisation,
        now: DateTime<Utc>,
    ) -> StoreResult<Id> {
        let mut tx = self.begin_any().await?;
        let id = insert_organisation(&mut tx, &org, false, now).await?;
        self.commit(tx).await?;
        Ok(id)
    }

    async fn create_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<Id> {
        let mut tx = self.begin(user.org_id).await?;
        let org: Option<Id> = sqlx::query_scalar("SELECT id FROM organisations WHERE id = $1")
            .bind(user.org_id)
            .fetch_optional(&mut *tx)
            .await?;
        if org.is_none() {
            return Err(StoreError::NotFound);
        }
        let id = insert_user(&mut tx, &user, now).await?;
        self.commit(tx).await?;
        Ok(id)
    }

    async fn find_login(&self, email: &str) -> StoreResult<Option<LoginRecord>> {
        let row: Option<(Id, String, bool)> = sqlx::query_as(
            "SELECT id, password_hash, active FROM users WHERE lower(email) = lower($1)",
        )
        .bind(email.trim())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(user_id, password_hash, active)| LoginRecord {
            user_id,
            password_hash,
            active,
        }))
    }

    async fn create_session(
        &self,
        user_id: Id,
        token_hash: [u8; 32],
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<SessionInfo> {
        let mut tx = begin_for_user(self, user_id).await?;
        // Expired sessions of this user are swept as a new one starts.
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2")
            .bind(user_id)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $3)")
            .bind(&token_hash[..])
            .bind(user_id)
            .bind(ms(now))
            .bind(ms(expires_at))
            .execute(&mut *tx)
            .await?;
        let session = load_session(&mut tx, user_id, ms(expires_at), ms(now)).await?;
        self.commit(tx).await?;
        Ok(session)
    }

    async fn session(
        &self,
        token_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<SessionInfo>> {
        let mut c = self.conn().await?;
        let row: Option<(Id, i64, i64)> = sqlx::query_as(
            "SELECT s.user_id, s.expires_at, greatest(s.last_seen_at, s.created_at) FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active",
        )
        .bind(&token_hash[..])
        .bind(ms(now))
        .fetch_optional(&mut *c)
        .await?;
        match row {
            Some((user_id, expires, seen)) => {
                Ok(Some(load_session(&mut c, user_id, expires, seen).await?))
            }
            None => Ok(None),
        }
    }

    async fn delete_session(&self, token_hash: [u8; 32]) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&token_hash[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn touch_session(&self, token_hash: [u8; 32], now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = greatest(last_seen_at, $2) WHERE token_hash = $1",
        )
        .bind(&token_hash[..])
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn organisation(&self, id: Id) -> StoreResult<Option<Organisation>> {
        let mut c = self.conn().await?;
        load_organisation(&mut c, id).await
    }

    async fn create_organisation_with_owner(
        &self,
        org: NewOrganisation,
        owner: NewUser,
        now: DateTime<Utc>,
    ) -> StoreResult<(Id, Id)> {
        let mut tx = self.begin_any().await?;
        let org_id = insert_organisation(&mut tx, &org, false, now).await?;
        let user_id = insert_user(&mut tx, &NewUser { org_id, ..owner }, now).await?;
        super::audit(
            &mut tx,
            org_id,
            None,
            "organisation.created",
            ("user", user_id),
            serde_json::json!({ "owner": user_id }),
            now,
        )
        .await?;
        self.commit(tx).await?;
        Ok((org_id, user_id))
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserAccount>> {
        let row: Option<(Id, Id, String, String, String, bool)> = sqlx::query_as(
            "SELECT u.id, u.org_id, u.email, u.name, r.name, u.active FROM users u
             JOIN roles r ON r.id = u.role_id WHERE lower(u.email) = lower($1)",
        )
        .bind(email.trim())
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map(|(id, org_id, email, name, role, active)| UserAccount {
                id,
                org_id,
                email,
                name,
                role,
                active,
            }),
        )
    }

    async fn set_user_active(
        &self,
        user_id: Id,
        active: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = begin_for_user(self, user_id).await?;
        let org_id = org_of(&mut tx, user_id).await?;
        sqlx::query("UPDATE users SET active = $2 WHERE id = $1")
            .bind(user_id)
            .bind(active)
            .execute(&mut *tx)
            .await?;
        let ended = if active {
            0
        } else {
            end_user_sessions(&mut tx, user_id).await?
        };
        let action = if active {
            "user.enabled"
        } else {
            "user.disabled"
        };
        let detail = serde_json::json!({ "sessions_ended": ended });
        super::audit(
            &mut tx,
            org_id,
            None,
            action,
            ("user", user_id),
            detail,
            now,
        )
        .await?;
        self.commit(tx).await?;
        Ok(ended)
    }

    async fn set_password_hash(
        &self,
        user_id: Id,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = begin_for_user(self, user_id).await?;
        let org_id = org_of(&mut tx, user_id).await?;
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user_id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        let ended = end_user_sessions(&mut tx, user_id).await?;
        let detail = serde_json::json!({ "sessions_ended": ended });
        super::audit(
            &mut tx,
            org_id,
            None,
            "user.password_set",
            ("user", user_id),
            detail,
            now,
        )
        .await?;
        self.commit(tx).await?;
        Ok(ended)
    }

    async fn end_sessions(&self, user_id: Id, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = begin_for_user(self, user_id).await?;
        let org_id = org_of(&mut tx, user_id).await?;
        let ended = end_user_sessions(&mut tx, user_id).await?;
        let detail = serde_json::json!({ "sessions_ended": ended });
        super::audit(
            &mut tx,
            org_id,
            None,
            "user.sessions_ended",
            ("user", user_id),
            detail,
            now,
        )
        .await?;
        self.commit(tx).await?;
        Ok(ended)
    }

    fn session_ends(&self) -> tokio::sync::broadcast::Receiver<Id> {
        self.session_ends.subscribe()
    }

    async fn staff(&self, actor: &Actor) -> StoreResult<Vec<StaffRef>> {
        let rows: Vec<(Id, String)> = sqlx::query_as(
            "SELECT id, name FROM users WHERE org_id = $1 AND active ORDER BY name COLLATE \"C\"",
        )
        .bind(actor.org_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| StaffRef { id, name })
            .collect())
    }
}
