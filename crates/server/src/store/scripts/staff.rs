//! Roles and staff accounts as an Owner administers them (issue 16: SET-1, ACC-2). Every change
//! runs under the organisation's write lock, so two admins' edits (and the last-Owner check)
//! never interleave.

use chrono::{DateTime, Utc};
use inbox_core::roles::{
    AuditEntry, Role, RoleUpdate, StaffAccount, StaffUpdate, OWNER, SYSTEM_ROLES,
};
use inbox_core::sync::Change;
use inbox_core::{CapabilitySet, Id, StaffRef};

use super::accounts::{capabilities, email_free, end_user_sessions, set_capabilities};
use super::{audit, emit};
use crate::store::backend::script;
use crate::store::db::{args, Db, Row, WriteTx};
use crate::store::rows::ms;
use crate::store::staff::{adoptable, refuse};
use crate::store::Store;
use crate::store::{Actor, StoreError, StoreResult};

/// (id, name, system) of a role of `org`, or NotFound.
async fn role_of(db: &mut impl Db, org: Id, id: Id) -> StoreResult<(Id, String, bool)> {
    db.one(
        "SELECT id, name, system FROM roles WHERE id = $1 AND org_id = $2",
        args![id, org],
        |r| Ok((r.int(0)?, r.text(1)?, r.flag(2)?)),
    )
    .await
}

async fn load_role(db: &mut impl Db, org: Id, id: Id) -> StoreResult<Role> {
    let (id, name, system) = role_of(db, org, id).await?;
    let users = db
        .int("SELECT count(*) FROM users WHERE role_id = $1", args![id])
        .await?;
    Ok(Role {
        id,
        name,
        system,
        capabilities: capabilities(db, id).await?,
        users,
    })
}

/// Conflict when another role of the organisation has the name.
async fn name_free(db: &mut impl Db, org: Id, name: &str, except: Id) -> StoreResult<()> {
    db.free(
        "SELECT 1 FROM roles WHERE org_id = $1 AND name = $2 AND id <> $3",
        args![org, name, except],
        || format!("a role named {name:?} already exists"),
    )
    .await
}

const ACCOUNT_SELECT: &str = "
    SELECT u.id, u.email, u.name, u.role_id, r.name, u.active, u.created_at
    FROM users u JOIN roles r ON r.id = u.role_id";

fn account(r: &Row) -> StoreResult<StaffAccount> {
    Ok(StaffAccount {
        id: r.int(0)?,
        email: r.text(1)?,
        name: r.text(2)?,
        role_id: r.int(3)?,
        role: r.text(4)?,
        active: r.flag(5)?,
        created_at: r.time(6)?,
    })
}

async fn load_account(db: &mut impl Db, org: Id, id: Id) -> StoreResult<StaffAccount> {
    let sql = format!("{ACCOUNT_SELECT} WHERE u.id = $1 AND u.org_id = $2");
    db.one(&sql, args![id, org], account).await
}

/// Whether `role` is the organisation's system Owner role.
async fn is_owner_role(db: &mut impl Db, role: Id) -> StoreResult<bool> {
    db.one(
        "SELECT name = $2 AND system FROM roles WHERE id = $1",
        args![role, OWNER],
        |r| r.flag(0),
    )
    .await
}

async fn other_active_owners(db: &mut impl Db, org: Id, user: Id) -> StoreResult<i64> {
    db.int(
        "SELECT count(*) FROM users u JOIN roles r ON r.id = u.role_id
         WHERE u.org_id = $1 AND u.id <> $2 AND u.active AND r.system AND r.name = $3",
        args![org, user, OWNER],
    )
    .await
}

/// A name for a role that must give up a system role's name: "<name> (custom)", then
/// "(custom 2)", … whichever the organisation has free.
async fn custom_name(db: &mut impl Db, org: Id, name: &str) -> StoreResult<String> {
    let mut n = 1;
    loop {
        let candidate = if n == 1 {
            format!("{name} (custom)")
        } else {
            format!("{name} (custom {n})")
        };
        let sql = "SELECT 1 FROM roles WHERE org_id = $1 AND name = $2";
        if !db.any(sql, args![org, &candidate]).await? {
            return Ok(candidate);
        }
        n += 1;
    }
}

async fn ensure_org(db: &mut impl WriteTx, org: Id, now: DateTime<Utc>) -> StoreResult<()> {
    for (name, caps) in SYSTEM_ROLES {
        let caps = CapabilitySet::new(caps.iter().copied());
        let existing = db
            .opt(
                "SELECT id, system FROM roles WHERE org_id = $1 AND name = $2",
                args![org, name],
                |r| Ok((r.int(0)?, r.flag(1)?)),
            )
            .await?;
        let adopt = match existing {
            Some((id, false)) => adoptable(name, &capabilities(db, id).await?, &caps),
            _ => false,
        };
        match existing {
            Some((id, true)) => set_capabilities(db, id, &caps).await?,
            // Its holders lose nothing by becoming the system role: it is theirs.
            Some((id, false)) if adopt => {
                db.exec("UPDATE roles SET system = true WHERE id = $1", args![id])
                    .await?;
                set_capabilities(db, id, &caps).await?;
                let detail = serde_json::json!({ "name": name, "capabilities": caps });
                let subject = ("role", id);
                audit(db, org, None, "role.made_system", subject, detail, now).await?;
            }
            other => {
                if let Some((id, _)) = other {
                    // Its holders keep what they could do, under a name of its own.
                    let renamed = custom_name(db, org, name).await?;
                    db.exec(
                        "UPDATE roles SET name = $2 WHERE id = $1",
                        args![id, &renamed],
                    )
                    .await?;
                    let detail = serde_json::json!({ "from": name, "to": renamed });
                    audit(db, org, None, "role.renamed", ("role", id), detail, now).await?;
                }
                let id = db
                    .int(
                        "INSERT INTO roles (org_id, name, system) VALUES ($1, $2, true) RETURNING id",
                        args![org, name],
                    )
                    .await?;
                set_capabilities(db, id, &caps).await?;
            }
        }
    }
    // An organisation nobody owns (an import, say) gets an Owner as an upgrade does: its
    // earliest active approver, else its earliest user; never one left without.
    let owned = db
        .any(
            "SELECT 1 FROM users u JOIN roles r ON r.id = u.role_id
             WHERE u.org_id = $1 AND u.active AND r.system AND r.name = $2 LIMIT 1",
            args![org, OWNER],
        )
        .await?;
    if owned {
        return Ok(());
    }
    let heir = db
        .opt(
            "SELECT u.id FROM users u
             LEFT JOIN role_capabilities rc
                    ON rc.role_id = u.role_id AND rc.capability = 'messages.approve'
             WHERE u.org_id = $1 AND u.active
             ORDER BY rc.capability IS NULL, u.created_at, u.id LIMIT 1",
            args![org],
            |r| r.int(0),
        )
        .await?;
    if let Some(heir) = heir {
        db.exec(
            "UPDATE users SET role_id = (SELECT id FROM roles WHERE org_id = $1 AND system AND name = $2)
             WHERE id = $3",
            args![org, OWNER, heir],
        )
        .await?;
        let detail =
            serde_json::json!({ "to": OWNER, "why": "the organisation had no active Owner" });
        let subject = ("user", heir);
        audit(db, org, None, "user.role_changed", subject, detail, now).await?;
    }
    Ok(())
}

/// Every organisation's system roles, inside the caller's transaction (also after an import).
pub(crate) async fn ensure_system_roles(
    db: &mut impl WriteTx,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let orgs = db
        .all("SELECT id FROM organisations ORDER BY id", args![], |r| {
            r.int(0)
        })
        .await?;
    for org in orgs {
        db.lock(org).await?;
        ensure_org(db, org, now).await?;
    }
    Ok(())
}

/// Their desktops re-read what they may do.
async fn access_changed(
    db: &mut impl WriteTx,
    org: Id,
    users: Vec<Id>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    emit(db, org, at, &Change::Access { user_ids: users }).await?;
    Ok(())
}

/// The organisation's roles, system roles first (in their order), then by name.
pub(crate) async fn roles(db: &mut impl Db, org: Id) -> StoreResult<Vec<Role>> {
    let ids = db
        .all("SELECT id FROM roles WHERE org_id = $1", args![org], |r| {
            r.int(0)
        })
        .await?;
    let mut roles = Vec::with_capacity(ids.len());
    for id in ids {
        roles.push(load_role(db, org, id).await?);
    }
    roles.sort_by_key(|r| {
        let rank = SYSTEM_ROLES
            .iter()
            .position(|(n, _)| r.system && *n == r.name)
            .unwrap_or(SYSTEM_ROLES.len());
        (rank, r.name.to_lowercase())
    });
    Ok(roles)
}

pub(crate) async fn create_role(
    db: &mut impl WriteTx,
    (org, by): (Id, Id),
    name: &str,
    copy_of: Id,
    at: DateTime<Utc>,
) -> StoreResult<Role> {
    let (source, source_name, _) = role_of(db, org, copy_of).await?;
    name_free(db, org, name, 0).await?;
    let id = db
        .int(
            "INSERT INTO roles (org_id, name, system) VALUES ($1, $2, false) RETURNING id",
            args![org, name],
        )
        .await?;
    let caps = capabilities(db, source).await?;
    set_capabilities(db, id, &caps).await?;
    let detail = serde_json::json!({ "name": name, "copy_of": source_name });
    audit(db, org, Some(by), "role.created", ("role", id), detail, at).await?;
    load_role(db, org, id).await
}

pub(crate) async fn update_role(
    db: &mut impl WriteTx,
    (org, by): (Id, Id),
    id: Id,
    update: &RoleUpdate,
    at: DateTime<Utc>,
) -> StoreResult<Role> {
    let (_, old_name, system) = role_of(db, org, id).await?;
    if system {
        return Err(StoreError::Conflict(refuse::SYSTEM_ROLE.into()));
    }
    if let Some(name) = &update.name {
        name_free(db, org, name, id).await?;
        db.exec("UPDATE roles SET name = $2 WHERE id = $1", args![id, name])
            .await?;
    }
    let before = capabilities(db, id).await?;
    if let Some(caps) = update.capabilities.as_ref().filter(|c| **c != before) {
        set_capabilities(db, id, caps).await?;
        let holders = db
            .all("SELECT id FROM users WHERE role_id = $1", args![id], |r| {
                r.int(0)
            })
            .await?;
        access_changed(db, org, holders, at).await?;
    }
    let renamed = update.name.as_ref().is_some_and(|n| *n != old_name);
    let recapped = update.capabilities.as_ref().is_some_and(|c| *c != before);
    if renamed || recapped {
        let detail = serde_json::json!({
            "name": { "from": old_name, "to": update.name },
            "capabilities": { "from": before, "to": update.capabilities },
        });
        audit(db, org, Some(by), "role.updated", ("role", id), detail, at).await?;
    }
    load_role(db, org, id).await
}

pub(crate) async fn delete_role(
    db: &mut impl WriteTx,
    (org, by): (Id, Id),
    id: Id,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let (_, name, system) = role_of(db, org, id).await?;
    if system {
        return Err(StoreError::Conflict(refuse::SYSTEM_ROLE.into()));
    }
    let held = db
        .int("SELECT count(*) FROM users WHERE role_id = $1", args![id])
        .await?;
    if held > 0 {
        return Err(StoreError::Conflict(refuse::ROLE_HELD.into()));
    }
    db.exec(
        "DELETE FROM role_capabilities WHERE role_id = $1",
        args![id],
    )
    .await?;
    db.exec("DELETE FROM roles WHERE id = $1", args![id])
        .await?;
    let detail = serde_json::json!({ "name": name });
    audit(db, org, Some(by), "role.deleted", ("role", id), detail, at).await
}

/// Everyone in the organisation: the active first, then by name.
pub(crate) async fn staff_accounts(db: &mut impl Db, org: Id) -> StoreResult<Vec<StaffAccount>> {
    let sql =
        format!("{ACCOUNT_SELECT} WHERE u.org_id = $1 ORDER BY u.active DESC, lower(u.name) COLLATE \"C\", u.id");
    db.all(&sql, args![org], account).await
}

/// A new user with a one-time password's hash.
pub(crate) struct NewStaff<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role_id: Id,
    pub password_hash: &'a str,
}

pub(crate) async fn add_staff(
    db: &mut impl WriteTx,
    (org, by): (Id, Id),
    new: NewStaff<'_>,
    at: DateTime<Utc>,
) -> StoreResult<StaffAccount> {
    let NewStaff {
        email,
        name,
        role_id,
        password_hash,
    } = new;
    let (_, role, _) = role_of(db, org, role_id).await?;
    email_free(db, email).await?;
    let id = db
        .int(
            "INSERT INTO users (org_id, role_id, email, name, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            args![org, role_id, email, name, password_hash, ms(at)],
        )
        .await?;
    let detail = serde_json::json!({ "email": email, "name": name, "role": role });
    audit(db, org, Some(by), "user.created", ("user", id), detail, at).await?;
    let staff = StaffRef {
        id,
        name: name.to_string(),
    };
    emit(db, org, at, &Change::Staff(staff)).await?;
    load_account(db, org, id).await
}

pub(crate) async fn update_staff(
    db: &mut impl WriteTx,
    (org, by): (Id, Id),
    id: Id,
    update: &StaffUpdate,
    at: DateTime<Utc>,
) -> StoreResult<StaffAccount> {
    let before = load_account(db, org, id).await?;
    let new_role = match update.role_id {
        Some(r) if r != before.role_id => Some(role_of(db, org, r).await?),
        _ => None,
    };
    let disabling = update.active == Some(false) && before.active;
    let demoting = match &new_role {
        Some((r, _, _)) => !is_owner_role(db, *r).await?,
        None => false,
    };
    if (disabling || demoting)
        && before.active
        && is_owner_role(db, before.role_id).await?
        && other_active_owners(db, org, id).await? == 0
    {
        return Err(StoreError::Conflict(refuse::LAST_OWNER.into()));
    }
    if let Some((role, role_name, _)) = &new_role {
        db.exec(
            "UPDATE users SET role_id = $2 WHERE id = $1",
            args![id, *role],
        )
        .await?;
        let detail = serde_json::json!({ "from": before.role, "to": role_name });
        audit(
            db,
            org,
            Some(by),
            "user.role_changed",
            ("user", id),
            detail,
            at,
        )
        .await?;
        access_changed(db, org, vec![id], at).await?;
    }
    if let Some(active) = update.active.filter(|a| *a != before.active) {
        db.exec(
            "UPDATE users SET active = $2 WHERE id = $1",
            args![id, active],
        )
        .await?;
        let (ended, action) = if active {
            (0, "user.enabled")
        } else {
            (end_user_sessions(db, id, at).await?, "user.disabled")
        };
        let detail = serde_json::json!({ "sessions_ended": ended });
        audit(db, org, Some(by), action, ("user", id), detail, at).await?;
    }
    load_account(db, org, id).await
}

pub(crate) async fn reset_password(
    db: &mut impl WriteTx,
    (org, by): (Id, Id),
    id: Id,
    password_hash: &str,
    at: DateTime<Utc>,
) -> StoreResult<StaffAccount> {
    load_account(db, org, id).await?;
    db.exec(
        "UPDATE users SET password_hash = $2 WHERE id = $1",
        args![id, password_hash],
    )
    .await?;
    let ended = end_user_sessions(db, id, at).await?;
    let detail = serde_json::json!({ "sessions_ended": ended });
    audit(
        db,
        org,
        Some(by),
        "user.password_reset",
        ("user", id),
        detail,
        at,
    )
    .await?;
    load_account(db, org, id).await
}

pub(crate) async fn audit_log(
    db: &mut impl Db,
    org: Id,
    before: Option<Id>,
    limit: u32,
) -> StoreResult<Vec<AuditEntry>> {
    db.all(
        "SELECT a.id, a.at, u.name, a.action, a.subject_type, a.subject_id, a.detail
         FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
         WHERE a.org_id = $1 AND ($2 IS NULL OR a.id < $2) ORDER BY a.id DESC LIMIT $3",
        args![org, before, limit],
        |r| {
            Ok(AuditEntry {
                id: r.int(0)?,
                at: r.time(1)?,
                by: r.opt_text(2)?,
                action: r.text(3)?,
                subject_type: r.text(4)?,
                subject_id: r.int(5)?,
                detail: serde_json::from_str(&r.text(6)?).unwrap_or_default(),
            })
        },
    )
    .await
}

impl Store {
    /// Gives every organisation the four system roles with their capabilities (at open and
    /// after an import). A role already named like a system role becomes it when that takes
    /// nothing from its holders; one that could do something else keeps its holders and
    /// capabilities under the name "<name> (custom)".
    pub async fn ensure_system_roles(&self, now: DateTime<Utc>) -> StoreResult<()> {
        self.write(None, script!(|tx| ensure_system_roles(tx, now)))
            .await
    }

    /// The organisation's roles, system roles first.
    pub async fn roles(&self, actor: &Actor) -> StoreResult<Vec<Role>> {
        let org = actor.org_id;
        self.read(script!(|c| roles(c, org))).await
    }

    /// A custom role copied from `copy_of` (any of the organisation's roles).
    pub async fn create_role(
        &self,
        actor: &Actor,
        name: String,
        copy_of: Id,
        at: DateTime<Utc>,
    ) -> StoreResult<Role> {
        let by = (actor.org_id, actor.user_id);
        self.write(
            Some(by.0),
            script!(|tx| create_role(tx, by, &name, copy_of, at)),
        )
        .await
    }

    /// Renames a custom role and/or sets its capabilities (`name` already checked).
    pub async fn update_role(
        &self,
        actor: &Actor,
        id: Id,
        update: RoleUpdate,
        at: DateTime<Utc>,
    ) -> StoreResult<Role> {
        let by = (actor.org_id, actor.user_id);
        self.write(
            Some(by.0),
            script!(|tx| update_role(tx, by, id, &update, at)),
        )
        .await
    }

    /// Deletes a custom role nobody holds.
    pub async fn delete_role(&self, actor: &Actor, id: Id, at: DateTime<Utc>) -> StoreResult<()> {
        let by = (actor.org_id, actor.user_id);
        self.write(Some(by.0), script!(|tx| delete_role(tx, by, id, at)))
            .await
    }

    /// Everyone in the organisation, active or not.
    pub async fn staff_accounts(&self, actor: &Actor) -> StoreResult<Vec<StaffAccount>> {
        let org = actor.org_id;
        self.read(script!(|c| staff_accounts(c, org))).await
    }

    /// Adds a user with a one-time password's hash. Conflict when the email is taken.
    pub async fn add_staff(
        &self,
        actor: &Actor,
        email: String,
        name: String,
        role_id: Id,
        password_hash: String,
        at: DateTime<Utc>,
    ) -> StoreResult<StaffAccount> {
        let by = (actor.org_id, actor.user_id);
        self.write(
            Some(by.0),
            script!(|tx| add_staff(
                tx,
                by,
                NewStaff {
                    email: &email,
                    name: &name,
                    role_id,
                    password_hash: &password_hash,
                },
                at
            )),
        )
        .await
    }

    /// Changes a user's role and/or disables or re-enables them; disabling ends their sessions
    /// (and so their sockets). The last active Owner can be neither demoted nor disabled.
    pub async fn update_staff(
        &self,
        actor: &Actor,
        id: Id,
        update: StaffUpdate,
        at: DateTime<Utc>,
    ) -> StoreResult<StaffAccount> {
        let by = (actor.org_id, actor.user_id);
        self.write(
            Some(by.0),
            script!(|tx| update_staff(tx, by, id, &update, at)),
        )
        .await
    }

    /// Sets a reset password's hash; the user's sessions end.
    pub async fn reset_password(
        &self,
        actor: &Actor,
        id: Id,
        password_hash: String,
        at: DateTime<Utc>,
    ) -> StoreResult<StaffAccount> {
        let by = (actor.org_id, actor.user_id);
        self.write(
            Some(by.0),
            script!(|tx| reset_password(tx, by, id, &password_hash, at)),
        )
        .await
    }

    /// The organisation's audit log, newest first, before `before` (an entry id).
    pub async fn audit_log(
        &self,
        actor: &Actor,
        before: Option<Id>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        let org = actor.org_id;
        self.read(script!(|c| audit_log(c, org, before, limit)))
            .await
    }
}
