//! Organisations, users, roles → capabilities, and sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::{Capability, CapabilitySet, Id, Organisation, StaffRef, User};
use rusqlite::{params, Connection, OptionalExtension};

use super::{from_ms, ms, SqliteStore};
use crate::store::{
    AccountStore, Actor, LoginRecord, NewOrganisation, NewUser, SessionInfo, StoreError,
    StoreResult,
};

pub(crate) fn insert_organisation(
    tx: &Connection,
    org: &NewOrganisation,
    ai: bool,
    now: DateTime<Utc>,
) -> rusqlite::Result<Id> {
    tx.prepare_cached("INSERT INTO organisations (name, time_zone, ai_enabled, created_at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![org.name, org.time_zone, ai, ms(now)])?;
    Ok(tx.last_insert_rowid())
}

/// The role's id, creating it with these capabilities when the organisation lacks it.
fn role_id(tx: &Connection, org_id: Id, role: &str, caps: &CapabilitySet) -> rusqlite::Result<Id> {
    let existing = tx
        .prepare_cached("SELECT id FROM roles WHERE org_id = ?1 AND name = ?2")?
        .query_row(params![org_id, role], |r| r.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    tx.prepare_cached("INSERT INTO roles (org_id, name) VALUES (?1, ?2)")?
        .execute(params![org_id, role])?;
    let id = tx.last_insert_rowid();
    for cap in caps.iter() {
        tx.prepare_cached("INSERT INTO role_capabilities (role_id, capability) VALUES (?1, ?2)")?
            .execute(params![id, cap.as_str()])?;
    }
    Ok(id)
}

pub(crate) fn insert_user(tx: &Connection, u: &NewUser, now: DateTime<Utc>) -> StoreResult<Id> {
    let role = role_id(tx, u.org_id, &u.role, &u.capabilities)?;
    let taken = tx
        .prepare_cached("SELECT 1 FROM users WHERE email = ?1")?
        .query_row([&u.email], |_| Ok(()))
        .optional()?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!(
            "a user with email {} already exists",
            u.email
        )));
    }
    tx.prepare_cached(
        "INSERT INTO users (org_id, role_id, email, name, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![u.org_id, role, u.email, u.name, u.password_hash, ms(now)])?;
    Ok(tx.last_insert_rowid())
}

fn load_session(conn: &Connection, user_id: Id, expires_at: i64) -> StoreResult<SessionInfo> {
    let (user, org_id, role_id) = super::found(
        conn.prepare_cached(
            "SELECT u.id, u.email, u.name, r.name, u.org_id, u.role_id FROM users u
             JOIN roles r ON r.id = u.role_id WHERE u.id = ?1",
        )?
        .query_row([user_id], |r| {
            Ok((
                User {
                    id: r.get(0)?,
                    email: r.get(1)?,
                    name: r.get(2)?,
                    role: r.get(3)?,
                    capabilities: CapabilitySet::default(),
                },
                r.get::<_, Id>(4)?,
                r.get::<_, Id>(5)?,
            ))
        }),
    )?;
    let caps = conn
        .prepare_cached("SELECT capability FROM role_capabilities WHERE role_id = ?1")?
        .query_map([role_id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    let capabilities = CapabilitySet::new(caps.iter().filter_map(|c| Capability::parse(c)));
    let organisation = conn
        .prepare_cached("SELECT id, name, time_zone, ai_enabled FROM organisations WHERE id = ?1")?
        .query_row([org_id], |r| {
            Ok(Organisation {
                id: r.get(0)?,
                name: r.get(1)?,
                time_zone: r.get(2)?,
                ai_enabled: r.get(3)?,
            })
        })?;
    Ok(SessionInfo {
        user: User {
            capabilities,
            ..user
        },
        organisation,
        expires_at: from_ms(expires_at),
    })
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_organisation(
        &self,
        org: NewOrganisation,
        now: DateTime<Utc>,
    ) -> StoreResult<Id> {
        self.write(move |tx| Ok(insert_organisation(tx, &org, false, now)?))
            .await
    }

    async fn create_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<Id> {
        self.write(move |tx| {
            super::found(
                tx.prepare_cached("SELECT 1 FROM organisations WHERE id = ?1")?
                    .query_row([user.org_id], |_| Ok(())),
            )?;
            insert_user(tx, &user, now)
        })
        .await
    }

    async fn find_login(&self, email: &str) -> StoreResult<Option<LoginRecord>> {
        let email = email.trim().to_string();
        self.read(move |c| {
            Ok(
                c.prepare_cached("SELECT id, password_hash, active FROM users WHERE email = ?1")?
                    .query_row([email], |r| {
                        Ok(LoginRecord {
                            user_id: r.get(0)?,
                            password_hash: r.get(1)?,
                            active: r.get(2)?,
                        })
                    })
                    .optional()?,
            )
        })
        .await
    }

    async fn create_session(
        &self,
        user_id: Id,
        token_hash: [u8; 32],
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<SessionInfo> {
        self.write(move |tx| {
            // Expired sessions of this user are swept as a new one starts.
            tx.prepare_cached("DELETE FROM sessions WHERE user_id = ?1 AND expires_at <= ?2")?
                .execute(params![user_id, ms(now)])?;
            tx.prepare_cached("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![&token_hash[..], user_id, ms(now), ms(expires_at)])?;
            load_session(tx, user_id, ms(expires_at))
        })
        .await
    }

    async fn session(
        &self,
        token_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<SessionInfo>> {
        self.read(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT s.user_id, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.active = 1",
                )?
                .query_row(params![&token_hash[..], ms(now)], |r| Ok((r.get::<_, Id>(0)?, r.get::<_, i64>(1)?)))
                .optional()?;
            match row {
                Some((user_id, expires)) => Ok(Some(load_session(c, user_id, expires)?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn delete_session(&self, token_hash: [u8; 32]) -> StoreResult<()> {
        self.write(move |tx| {
            tx.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
                .execute([&token_hash[..]])?;
            Ok(())
        })
        .await
    }

    async fn staff(&self, actor: &Actor) -> StoreResult<Vec<StaffRef>> {
        let org = actor.org_id;
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT id, name FROM users WHERE org_id = ?1 AND active = 1 ORDER BY name",
            )?
            .query_map([org], |r| {
                Ok(StaffRef {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }
}
