//! Organisations, users, roles → capabilities, and sessions.

use chrono::{DateTime, Utc};
use inbox_core::{Capability, CapabilitySet, Id, Organisation, StaffRef, User};

use super::audit;
use crate::store::backend::script;
use crate::store::db::{args, Arg, Db, Dialect, WriteTx};
use crate::store::rows::{from_ms, ms};
use crate::store::Store;
use crate::store::{
    Actor, LoginRecord, NewOrganisation, NewUser, SessionInfo, StoreError, StoreResult, UserAccount,
};

/// `column` equals the email in `$1`, without case, in the form each database's unique index
/// answers: SQLite's column is `COLLATE NOCASE`, PostgreSQL's index is on `lower(email)`.
fn email_is(db: &impl Db, column: &str) -> String {
    match db.dialect() {
        Dialect::Sqlite => format!("{column} = $1"),
        Dialect::Postgres => format!("lower({column}) = lower($1)"),
    }
}

/// Conflict when a user (of any organisation) already has the email.
pub(crate) async fn email_free(db: &mut impl Db, email: &str) -> StoreResult<()> {
    let sql = format!("SELECT 1 FROM users WHERE {}", email_is(db, "email"));
    db.free(&sql, args![email], || {
        format!("a user with email {email} already exists")
    })
    .await
}

pub(crate) async fn insert_organisation(
    db: &mut impl Db,
    org: &NewOrganisation,
    ai: bool,
    at: DateTime<Utc>,
) -> StoreResult<Id> {
    db.int(
        "INSERT INTO organisations (name, time_zone, ai_enabled, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        args![&org.name, &org.time_zone, ai, ms(at)],
    )
    .await
}

/// The capabilities a role grants.
pub(crate) async fn capabilities(db: &mut impl Db, role: Id) -> StoreResult<CapabilitySet> {
    let names = db
        .all(
            "SELECT capability FROM role_capabilities WHERE role_id = $1",
            args![role],
            |r| r.text(0),
        )
        .await?;
    Ok(CapabilitySet::new(
        names.iter().filter_map(|n| Capability::parse(n)),
    ))
}

/// Gives a role exactly these capabilities, in one statement.
pub(crate) async fn set_capabilities(
    db: &mut impl Db,
    role: Id,
    caps: &CapabilitySet,
) -> StoreResult<()> {
    db.exec(
        "DELETE FROM role_capabilities WHERE role_id = $1",
        args![role],
    )
    .await?;
    let names: Vec<&str> = caps.iter().map(Capability::as_str).collect();
    if names.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (2..names.len() + 2)
        .map(|i| format!("($1, ${i})"))
        .collect();
    let sql = format!(
        "INSERT INTO role_capabilities (role_id, capability) VALUES {}",
        rows.join(", ")
    );
    let mut values: Vec<Arg> = vec![role.into()];
    values.extend(names.into_iter().map(Arg::from));
    db.exec(&sql, &values).await?;
    Ok(())
}

/// The role's id, creating it with these capabilities when the organisation lacks it.
async fn role_id(db: &mut impl Db, org: Id, role: &str, caps: &CapabilitySet) -> StoreResult<Id> {
    let existing = db
        .opt(
            "SELECT id FROM roles WHERE org_id = $1 AND name = $2",
            args![org, role],
            |r| r.int(0),
        )
        .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id = db
        .int(
            "INSERT INTO roles (org_id, name) VALUES ($1, $2) RETURNING id",
            args![org, role],
        )
        .await?;
    set_capabilities(db, id, caps).await?;
    Ok(id)
}

pub(crate) async fn insert_user(
    db: &mut impl Db,
    u: &NewUser,
    at: DateTime<Utc>,
) -> StoreResult<Id> {
    let role = role_id(db, u.org_id, &u.role, &u.capabilities).await?;
    email_free(db, &u.email).await?;
    db.int(
        "INSERT INTO users (org_id, role_id, email, name, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        args![u.org_id, role, &u.email, &u.name, &u.password_hash, ms(at)],
    )
    .await
}

pub(crate) async fn create_user(
    db: &mut impl Db,
    u: &NewUser,
    at: DateTime<Utc>,
) -> StoreResult<Id> {
    db.exists("SELECT 1 FROM organisations WHERE id = $1", args![u.org_id])
        .await?;
    insert_user(db, u, at).await
}

pub(crate) async fn create_organisation_with_owner(
    db: &mut impl Db,
    org: &NewOrganisation,
    owner: NewUser,
    at: DateTime<Utc>,
) -> StoreResult<(Id, Id)> {
    let org_id = insert_organisation(db, org, false, at).await?;
    let user_id = insert_user(db, &NewUser { org_id, ..owner }, at).await?;
    let detail = serde_json::json!({ "owner": user_id });
    audit(
        db,
        org_id,
        None,
        "organisation.created",
        ("user", user_id),
        detail,
        at,
    )
    .await?;
    Ok((org_id, user_id))
}

pub(crate) async fn organisation(db: &mut impl Db, id: Id) -> StoreResult<Option<Organisation>> {
    db.opt(
        "SELECT id, name, time_zone, ai_enabled FROM organisations WHERE id = $1",
        args![id],
        |r| {
            Ok(Organisation {
                id: r.int(0)?,
                name: r.text(1)?,
                time_zone: r.text(2)?,
                ai_enabled: r.flag(3)?,
            })
        },
    )
    .await
}

pub(crate) async fn find_login(db: &mut impl Db, email: &str) -> StoreResult<Option<LoginRecord>> {
    let sql = format!(
        "SELECT id, password_hash, active FROM users WHERE {}",
        email_is(db, "email")
    );
    db.opt(&sql, args![email.trim()], |r| {
        Ok(LoginRecord {
            user_id: r.int(0)?,
            password_hash: r.text(1)?,
            active: r.flag(2)?,
        })
    })
    .await
}

pub(crate) async fn user_by_email(
    db: &mut impl Db,
    email: &str,
) -> StoreResult<Option<UserAccount>> {
    let sql = format!(
        "SELECT u.id, u.org_id, u.email, u.name, r.name, u.active FROM users u
         JOIN roles r ON r.id = u.role_id WHERE {}",
        email_is(db, "u.email")
    );
    db.opt(&sql, args![email.trim()], |r| {
        Ok(UserAccount {
            id: r.int(0)?,
            org_id: r.int(1)?,
            email: r.text(2)?,
            name: r.text(3)?,
            role: r.text(4)?,
            active: r.flag(5)?,
        })
    })
    .await
}

/// The organisation's active staff, by name.
pub(crate) async fn staff(db: &mut impl Db, org: Id) -> StoreResult<Vec<StaffRef>> {
    db.all(
        "SELECT id, name FROM users WHERE org_id = $1 AND active ORDER BY name COLLATE \"C\"",
        args![org],
        |r| {
            Ok(StaffRef {
                id: r.int(0)?,
                name: r.text(1)?,
            })
        },
    )
    .await
}

async fn load_session(
    db: &mut impl Db,
    user: Id,
    expires_at: i64,
    last_seen_at: i64,
) -> StoreResult<SessionInfo> {
    let (id, email, name, role, org_id, role_id) = db
        .one(
            "SELECT u.id, u.email, u.name, r.name, u.org_id, u.role_id FROM users u
             JOIN roles r ON r.id = u.role_id WHERE u.id = $1",
            args![user],
            |r| {
                Ok((
                    r.int(0)?,
                    r.text(1)?,
                    r.text(2)?,
                    r.text(3)?,
                    r.int(4)?,
                    r.int(5)?,
                ))
            },
        )
        .await?;
    let capabilities = capabilities(db, role_id).await?;
    let organisation = organisation(db, org_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(SessionInfo {
        user: User {
            id,
            email,
            name,
            role,
            capabilities,
        },
        organisation,
        expires_at: from_ms(expires_at),
        last_seen_at: from_ms(last_seen_at),
    })
}

pub(crate) async fn create_session(
    db: &mut impl WriteTx,
    user: Id,
    token_hash: &[u8; 32],
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> StoreResult<SessionInfo> {
    let org = db
        .opt("SELECT org_id FROM users WHERE id = $1", args![user], |r| {
            r.int(0)
        })
        .await?;
    if let Some(org) = org {
        db.lock(org).await?;
    }
    // Expired sessions of this user are swept as a new one starts.
    db.exec(
        "DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2",
        args![user, ms(at)],
    )
    .await?;
    db.exec(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $3)",
        args![token_hash, user, ms(at), ms(expires_at)],
    )
    .await?;
    load_session(db, user, ms(expires_at), ms(at)).await
}

/// The live session of an active user with this token.
pub(crate) async fn session(
    db: &mut impl Db,
    token_hash: &[u8; 32],
    at: DateTime<Utc>,
) -> StoreResult<Option<SessionInfo>> {
    let row = db
        .opt(
            "SELECT s.user_id, s.expires_at, greatest(s.last_seen_at, s.created_at)
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active",
            args![token_hash, ms(at)],
            |r| Ok((r.int(0)?, r.int(1)?, r.int(2)?)),
        )
        .await?;
    match row {
        Some((user, expires, seen)) => Ok(Some(load_session(db, user, expires, seen).await?)),
        None => Ok(None),
    }
}

pub(crate) async fn delete_session(db: &mut impl Db, token_hash: &[u8; 32]) -> StoreResult<()> {
    db.exec(
        "DELETE FROM sessions WHERE token_hash = $1",
        args![token_hash],
    )
    .await?;
    Ok(())
}

pub(crate) async fn touch_session(
    db: &mut impl Db,
    token_hash: &[u8; 32],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    db.exec(
        "UPDATE sessions SET last_seen_at = greatest(last_seen_at, $2) WHERE token_hash = $1",
        args![token_hash, ms(at)],
    )
    .await?;
    Ok(())
}

/// Ends every session of a user and tells every server; returns how many.
pub(crate) async fn end_user_sessions(
    db: &mut impl WriteTx,
    user: Id,
    at: DateTime<Utc>,
) -> StoreResult<u64> {
    let n = db
        .exec("DELETE FROM sessions WHERE user_id = $1", args![user])
        .await?;
    db.sessions_ended(user, at).await?;
    Ok(n)
}

/// The user's organisation, or NotFound.
async fn org_of(db: &mut impl Db, user: Id) -> StoreResult<Id> {
    db.int("SELECT org_id FROM users WHERE id = $1", args![user])
        .await
}

/// The user's organisation, locked for an admin change to the user (NotFound when there is no
/// such user).
async fn lock_user_org(db: &mut impl WriteTx, user: Id) -> StoreResult<Id> {
    let org = org_of(db, user).await?;
    db.lock(org).await?;
    Ok(org)
}

/// An admin change to a user from the command line (no one signed in does it): audited as the
/// system's.
async fn audit_user(
    db: &mut impl Db,
    org: Id,
    user: Id,
    action: &str,
    ended: u64,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let detail = serde_json::json!({ "sessions_ended": ended });
    audit(db, org, None, action, ("user", user), detail, at).await
}

pub(crate) async fn set_user_active(
    db: &mut impl WriteTx,
    user: Id,
    active: bool,
    at: DateTime<Utc>,
) -> StoreResult<u64> {
    let org = lock_user_org(db, user).await?;
    db.exec(
        "UPDATE users SET active = $2 WHERE id = $1",
        args![user, active],
    )
    .await?;
    let (ended, action) = if active {
        (0, "user.enabled")
    } else {
        (end_user_sessions(db, user, at).await?, "user.disabled")
    };
    audit_user(db, org, user, action, ended, at).await?;
    Ok(ended)
}

pub(crate) async fn set_password_hash(
    db: &mut impl WriteTx,
    user: Id,
    password_hash: &str,
    at: DateTime<Utc>,
) -> StoreResult<u64> {
    let org = lock_user_org(db, user).await?;
    db.exec(
        "UPDATE users SET password_hash = $2 WHERE id = $1",
        args![user, password_hash],
    )
    .await?;
    let ended = end_user_sessions(db, user, at).await?;
    audit_user(db, org, user, "user.password_set", ended, at).await?;
    Ok(ended)
}

pub(crate) async fn end_sessions(
    db: &mut impl WriteTx,
    user: Id,
    at: DateTime<Utc>,
) -> StoreResult<u64> {
    let org = lock_user_org(db, user).await?;
    let ended = end_user_sessions(db, user, at).await?;
    audit_user(db, org, user, "user.sessions_ended", ended, at).await?;
    Ok(ended)
}

impl Store {
    pub async fn create_organisation(
        &self,
        org: NewOrganisation,
        at: DateTime<Utc>,
    ) -> StoreResult<Id> {
        self.write(None, script!(|tx| insert_organisation(tx, &org, false, at)))
            .await
    }

    pub async fn create_user(&self, user: NewUser, at: DateTime<Utc>) -> StoreResult<Id> {
        self.write(Some(user.org_id), script!(|tx| create_user(tx, &user, at)))
            .await
    }

    pub async fn find_login(&self, email: &str) -> StoreResult<Option<LoginRecord>> {
        let email = email.to_owned();
        self.read(script!(|c| find_login(c, &email))).await
    }

    pub async fn create_session(
        &self,
        user_id: Id,
        token_hash: [u8; 32],
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<SessionInfo> {
        self.write(
            None,
            script!(|tx| create_session(tx, user_id, &token_hash, at, expires_at)),
        )
        .await
    }

    /// The live session of a token, or None when unknown, expired or the user is disabled.
    pub async fn session(
        &self,
        token_hash: [u8; 32],
        at: DateTime<Utc>,
    ) -> StoreResult<Option<SessionInfo>> {
        self.read(script!(|c| session(c, &token_hash, at))).await
    }

    pub async fn delete_session(&self, token_hash: [u8; 32]) -> StoreResult<()> {
        self.write_one(script!(|c| delete_session(c, &token_hash)))
            .await
    }

    /// Records a use of the session (its idle clock restarts).
    pub async fn touch_session(&self, token_hash: [u8; 32], at: DateTime<Utc>) -> StoreResult<()> {
        self.write_one(script!(|c| touch_session(c, &token_hash, at)))
            .await
    }

    /// Colleagues a conversation can be assigned to (SDB-4).
    pub async fn staff(&self, actor: &Actor) -> StoreResult<Vec<StaffRef>> {
        let org = actor.org_id;
        self.read(script!(|c| staff(c, org))).await
    }

    pub async fn organisation(&self, id: Id) -> StoreResult<Option<Organisation>> {
        self.read(script!(|c| organisation(c, id))).await
    }

    /// A new organisation with its first user (`org add`), in one transaction; `owner.org_id`
    /// is ignored. Returns (organisation id, user id).
    pub async fn create_organisation_with_owner(
        &self,
        org: NewOrganisation,
        owner: NewUser,
        at: DateTime<Utc>,
    ) -> StoreResult<(Id, Id)> {
        self.write(
            None,
            script!(|tx| create_organisation_with_owner(tx, &org, owner, at)),
        )
        .await
    }

    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserAccount>> {
        let email = email.to_owned();
        self.read(script!(|c| user_by_email(c, &email))).await
    }

    /// Enables or disables a user; disabling ends their sessions. Returns the sessions ended.
    pub async fn set_user_active(
        &self,
        user_id: Id,
        active: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.write(None, script!(|tx| set_user_active(tx, user_id, active, at)))
            .await
    }

    /// Replaces a user's password hash and ends their sessions. Returns the sessions ended.
    pub async fn set_password_hash(
        &self,
        user_id: Id,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let hash = password_hash.to_owned();
        self.write(
            None,
            script!(|tx| set_password_hash(tx, user_id, &hash, at)),
        )
        .await
    }

    /// Ends every session of a user. Returns how many there were.
    pub async fn end_sessions(&self, user_id: Id, at: DateTime<Utc>) -> StoreResult<u64> {
        self.write(None, script!(|tx| end_sessions(tx, user_id, at)))
            .await
    }

    /// Users whose sessions were ended by an administrator, in this process or another (the
    /// CLI, another instance): sync sockets re-check their session at once.
    pub fn session_ends(&self) -> tokio::sync::broadcast::Receiver<Id> {
        self.subscribe_session_ends()
    }
}
