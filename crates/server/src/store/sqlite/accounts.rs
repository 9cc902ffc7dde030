//! Organisations, users, roles → capabilities, and sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::{Capability, CapabilitySet, Id, Organisation, StaffRef, User};
use rusqlite::{params, Connection, OptionalExtension};

use super::{from_ms, ms, SqliteStore};
use crate::store::{
    AccountStore, Actor, LoginRecord, NewOrganisation, NewUser, SessionInfo, StoreError,
    StoreResult, UserAccount,
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

pub(crate) fn load_organisation(
    conn: &Connection,
    org_id: Id,
) -> rusqlite::Result<Option<Organisation>> {
    conn.prepare_cached("SELECT id, name, time_zone, ai_enabled FROM organisations WHERE id = ?1")?
        .query_row([org_id], |r| {
            Ok(Organisation {
                id: r.get(0)?,
                name: r.get(1)?,
                time_zone: r.get(2)?,
                ai_enabled: r.get(3)?,
            })
        })
        .optional()
}

/// Ends every session of a user and tells every server (`session_ends`); returns how many.
pub(crate) fn end_user_sessions(
    tx: &Connection,
    user_id: Id,
    now: DateTime<Utc>,
) -> rusqlite::Result<u64> {
    let n = tx
        .prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
        .execute([user_id])?;
    tx.prepare_cached("DELETE FROM session_ends WHERE at < ?1")?
        .execute([ms(now - chrono::Duration::days(1))])?;
    tx.prepare_cached("INSERT INTO session_ends (user_id, at) VALUES (?1, ?2)")?
        .execute(params![user_id, ms(now)])?;
    Ok(n as u64)
}

/// The user's organisation, or NotFound; for the audit entry of an admin change.
fn org_of(tx: &Connection, user_id: Id) -> StoreResult<Id> {
    super::found(
        tx.prepare_cached("SELECT org_id FROM users WHERE id = ?1")?
            .query_row([user_id], |r| r.get(0)),
    )
}

fn audit_user(
    tx: &Connection,
    org_id: Id,
    user_id: Id,
    action: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    super::audit(tx, org_id, None, action, ("user", user_id), detail, now)
}

fn load_session(
    conn: &Connection,
    user_id: Id,
    expires_at: i64,
    last_seen_at: i64,
) -> StoreResult<SessionInfo> {
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
    let organisation = load_organisation(conn, org_id)?.ok_or(StoreError::NotFound)?;
    Ok(SessionInfo {
        user: User {
            capabilities,
            ..user
        },
        organisation,
        expires_at: from_ms(expires_at),
        last_seen_at: from_ms(last_seen_at),
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
            tx.prepare_cached("INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?3)")?
                .execute(params![&token_hash[..], user_id, ms(now), ms(expires_at)])?;
            load_session(tx, user_id, ms(expires_at), ms(now))
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
                    "SELECT s.user_id, s.expires_at, max(s.last_seen_at, s.created_at) FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.active = 1",
                )?
                .query_row(params![&token_hash[..], ms(now)], |r| Ok((r.get::<_, Id>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))
                .optional()?;
            match row {
                Some((user_id, expires, seen)) => Ok(Some(load_session(c, user_id, expires, seen)?)),
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

    async fn touch_session(&self, token_hash: [u8; 32], now: DateTime<Utc>) -> StoreResult<()> {
        self.write(move |tx| {
            tx.prepare_cached(
                "UPDATE sessions SET last_seen_at = max(last_seen_at, ?2) WHERE token_hash = ?1",
            )?
            .execute(params![&token_hash[..], ms(now)])?;
            Ok(())
        })
        .await
    }

    async fn organisation(&self, id: Id) -> StoreResult<Option<Organisation>> {
        self.read(move |c| Ok(load_organisation(c, id)?)).await
    }

    async fn create_organisation_with_owner(
        &self,
        org: NewOrganisation,
        owner: NewUser,
        now: DateTime<Utc>,
    ) -> StoreResult<(Id, Id)> {
        self.write(move |tx| {
            let org_id = insert_organisation(tx, &org, false, now)?;
            let user_id = insert_user(tx, &NewUser { org_id, ..owner }, now)?;
            super::audit(
                tx,
                org_id,
                None,
                "organisation.created",
                ("user", user_id),
                serde_json::json!({ "owner": user_id }),
                now,
            )?;
            Ok((org_id, user_id))
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserAccount>> {
        let email = email.trim().to_string();
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT u.id, u.org_id, u.email, u.name, r.name, u.active FROM users u
                 JOIN roles r ON r.id = u.role_id WHERE u.email = ?1",
            )?
            .query_row([email], |r| {
                Ok(UserAccount {
                    id: r.get(0)?,
                    org_id: r.get(1)?,
                    email: r.get(2)?,
                    name: r.get(3)?,
                    role: r.get(4)?,
                    active: r.get(5)?,
                })
            })
            .optional()?)
        })
        .await
    }

    async fn set_user_active(
        &self,
        user_id: Id,
        active: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.write(move |tx| {
            let org_id = org_of(tx, user_id)?;
            tx.prepare_cached("UPDATE users SET active = ?2 WHERE id = ?1")?
                .execute(params![user_id, active])?;
            let ended = if active {
                0
            } else {
                end_user_sessions(tx, user_id, now)?
            };
            let action = if active {
                "user.enabled"
            } else {
                "user.disabled"
            };
            audit_user(
                tx,
                org_id,
                user_id,
                action,
                serde_json::json!({ "sessions_ended": ended }),
                now,
            )?;
            Ok(ended)
        })
        .await
    }

    async fn set_password_hash(
        &self,
        user_id: Id,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let hash = password_hash.to_string();
        self.write(move |tx| {
            let org_id = org_of(tx, user_id)?;
            tx.prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
                .execute(params![user_id, hash])?;
            let ended = end_user_sessions(tx, user_id, now)?;
            audit_user(
                tx,
                org_id,
                user_id,
                "user.password_set",
                serde_json::json!({ "sessions_ended": ended }),
                now,
            )?;
            Ok(ended)
        })
        .await
    }

    async fn end_sessions(&self, user_id: Id, now: DateTime<Utc>) -> StoreResult<u64> {
        self.write(move |tx| {
            let org_id = org_of(tx, user_id)?;
            let ended = end_user_sessions(tx, user_id, now)?;
            audit_user(
                tx,
                org_id,
                user_id,
                "user.sessions_ended",
                serde_json::json!({ "sessions_ended": ended }),
                now,
            )?;
            Ok(ended)
        })
        .await
    }

    fn session_ends(&self) -> tokio::sync::broadcast::Receiver<Id> {
        self.session_ends.subscribe()
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
