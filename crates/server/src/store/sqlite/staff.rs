//! Roles and staff accounts on SQLite (issue 16: SET-1, ACC-2).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::roles::{
    AuditEntry, Role, RoleUpdate, StaffAccount, StaffUpdate, OWNER, SYSTEM_ROLES,
};
use inbox_core::sync::Change;
use inbox_core::{Capability, CapabilitySet, Id, StaffRef};
use rusqlite::{params, Connection, OptionalExtension};

use super::accounts::end_user_sessions;
use super::events::emit;
use super::{audit, found, from_ms, ms, SqliteStore};
use crate::store::staff::{adoptable, refuse};
use crate::store::{Actor, StaffStore, StoreError, StoreResult};

fn capabilities(conn: &Connection, role: Id) -> rusqlite::Result<CapabilitySet> {
    let names = conn
        .prepare_cached("SELECT capability FROM role_capabilities WHERE role_id = ?1")?
        .query_map([role], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(CapabilitySet::new(
        names.iter().filter_map(|n| Capability::parse(n)),
    ))
}

fn set_capabilities(tx: &Connection, role: Id, caps: &CapabilitySet) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM role_capabilities WHERE role_id = ?1")?
        .execute([role])?;
    for c in caps.iter() {
        tx.prepare_cached("INSERT INTO role_capabilities (role_id, capability) VALUES (?1, ?2)")?
            .execute(params![role, c.as_str()])?;
    }
    Ok(())
}

/// (id, name, system) of a role of `org`, or NotFound.
fn role_of(conn: &Connection, org: Id, id: Id) -> StoreResult<(Id, String, bool)> {
    found(
        conn.prepare_cached("SELECT id, name, system FROM roles WHERE id = ?1 AND org_id = ?2")?
            .query_row([id, org], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))),
    )
}

fn load_role(conn: &Connection, org: Id, id: Id) -> StoreResult<Role> {
    let (id, name, system) = role_of(conn, org, id)?;
    let users = conn
        .prepare_cached("SELECT count(*) FROM users WHERE role_id = ?1")?
        .query_row([id], |r| r.get(0))?;
    Ok(Role {
        id,
        name,
        system,
        capabilities: capabilities(conn, id)?,
        users,
    })
}

fn name_free(conn: &Connection, org: Id, name: &str, except: Id) -> StoreResult<()> {
    let taken = conn
        .prepare_cached("SELECT 1 FROM roles WHERE org_id = ?1 AND name = ?2 AND id <> ?3")?
        .query_row(params![org, name, except], |_| Ok(()))
        .optional()?;
    match taken {
        Some(()) => Err(StoreError::Conflict(format!(
            "a role named {name:?} already exists"
        ))),
        None => Ok(()),
    }
}

fn load_account(conn: &Connection, org: Id, id: Id) -> StoreResult<StaffAccount> {
    found(
        conn.prepare_cached(
            "SELECT u.id, u.email, u.name, u.role_id, r.name, u.active, u.created_at
             FROM users u JOIN roles r ON r.id = u.role_id WHERE u.id = ?1 AND u.org_id = ?2",
        )?
        .query_row([id, org], account),
    )
}

fn account(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffAccount> {
    Ok(StaffAccount {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        role_id: r.get(3)?,
        role: r.get(4)?,
        active: r.get(5)?,
        created_at: from_ms(r.get(6)?),
    })
}

/// Whether `role` is the organisation's system Owner role.
fn is_owner_role(conn: &Connection, role: Id) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT name = ?2 AND system FROM roles WHERE id = ?1")?
        .query_row(params![role, OWNER], |r| r.get(0))
}

fn other_active_owners(conn: &Connection, org: Id, user: Id) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT count(*) FROM users u JOIN roles r ON r.id = u.role_id
         WHERE u.org_id = ?1 AND u.id <> ?2 AND u.active AND r.system AND r.name = ?3",
    )?
    .query_row(params![org, user, OWNER], |r| r.get(0))
}

fn ensure_org(tx: &Connection, org: Id) -> StoreResult<()> {
    for (name, caps) in SYSTEM_ROLES {
        let caps = CapabilitySet::new(caps.iter().copied());
        let existing: Option<(Id, bool)> = tx
            .prepare_cached("SELECT id, system FROM roles WHERE org_id = ?1 AND name = ?2")?
            .query_row(params![org, name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match existing {
            Some((id, true)) => set_capabilities(tx, id, &caps)?,
            // Its holders lose nothing by becoming the system role: it is theirs.
            Some((id, false)) if adoptable(name, &capabilities(tx, id)?, &caps) => {
                tx.prepare_cached("UPDATE roles SET system = 1 WHERE id = ?1")?
                    .execute([id])?;
                set_capabilities(tx, id, &caps)?;
                let detail = serde_json::json!({ "name": name, "capabilities": caps });
                audit(
                    tx,
                    org,
                    None,
                    "role.made_system",
                    ("role", id),
                    detail,
                    Utc::now(),
                )?;
            }
            other => {
                if let Some((id, _)) = other {
                    // Its holders keep what they could do, under a name of its own.
                    let mut n = 1;
                    let renamed = loop {
                        let candidate = if n == 1 {
                            format!("{name} (custom)")
                        } else {
                            format!("{name} (custom {n})")
                        };
                        let taken = tx
                            .prepare_cached("SELECT 1 FROM roles WHERE org_id = ?1 AND name = ?2")?
                            .query_row(params![org, candidate], |_| Ok(()))
                            .optional()?;
                        if taken.is_none() {
                            break candidate;
                        }
                        n += 1;
                    };
                    tx.prepare_cached("UPDATE roles SET name = ?2 WHERE id = ?1")?
                        .execute(params![id, renamed])?;
                    let detail = serde_json::json!({ "from": name, "to": renamed });
                    audit(
                        tx,
                        org,
                        None,
                        "role.renamed",
                        ("role", id),
                        detail,
                        Utc::now(),
                    )?;
                }
                tx.prepare_cached("INSERT INTO roles (org_id, name, system) VALUES (?1, ?2, 1)")?
                    .execute(params![org, name])?;
                let id = tx.last_insert_rowid();
                set_capabilities(tx, id, &caps)?;
            }
        }
    }
    // An organisation nobody owns (an import, say) gets an Owner as an upgrade does: its
    // earliest active approver, else its earliest user; never one left without.
    let owned = tx
        .prepare_cached(
            "SELECT 1 FROM users u JOIN roles r ON r.id = u.role_id
             WHERE u.org_id = ?1 AND u.active AND r.system AND r.name = ?2 LIMIT 1",
        )?
        .query_row(params![org, OWNER], |_| Ok(()))
        .optional()?;
    if owned.is_none() {
        let heir: Option<Id> = tx
            .prepare_cached(
                "SELECT u.id FROM users u
                 LEFT JOIN role_capabilities rc
                        ON rc.role_id = u.role_id AND rc.capability = 'messages.approve'
                 WHERE u.org_id = ?1 AND u.active
                 ORDER BY rc.capability IS NULL, u.created_at, u.id LIMIT 1",
            )?
            .query_row([org], |r| r.get(0))
            .optional()?;
        if let Some(heir) = heir {
            tx.prepare_cached(
                "UPDATE users SET role_id = (SELECT id FROM roles WHERE org_id = ?1 AND system AND name = ?2)
                 WHERE id = ?3",
            )?
            .execute(params![org, OWNER, heir])?;
            let detail =
                serde_json::json!({ "to": OWNER, "why": "the organisation had no active Owner" });
            audit(
                tx,
                org,
                None,
                "user.role_changed",
                ("user", heir),
                detail,
                Utc::now(),
            )?;
        }
    }
    Ok(())
}

/// Every organisation's system roles, inside the caller's transaction (also after an import).
pub(crate) fn ensure_system_roles(tx: &Connection) -> StoreResult<()> {
    let orgs = tx
        .prepare("SELECT id FROM organisations ORDER BY id")?
        .query_map([], |r| r.get::<_, Id>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for org in orgs {
        ensure_org(tx, org)?;
    }
    Ok(())
}

/// Their desktops re-read what they may do.
fn access_changed(tx: &Connection, org: Id, users: Vec<Id>, now: DateTime<Utc>) -> StoreResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    emit(tx, org, now, &Change::Access { user_ids: users })?;
    Ok(())
}

#[async_trait]
impl StaffStore for SqliteStore {
    async fn ensure_system_roles(&self, _now: DateTime<Utc>) -> StoreResult<()> {
        self.write(|tx| ensure_system_roles(tx)).await
    }

    async fn roles(&self, actor: &Actor) -> StoreResult<Vec<Role>> {
        let org = actor.org_id;
        self.read(move |c| {
            let ids = c
                .prepare_cached("SELECT id FROM roles WHERE org_id = ?1")?
                .query_map([org], |r| r.get::<_, Id>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut roles = ids
                .into_iter()
                .map(|id| load_role(c, org, id))
                .collect::<StoreResult<Vec<_>>>()?;
            roles.sort_by_key(|r| {
                let rank = SYSTEM_ROLES
                    .iter()
                    .position(|(n, _)| r.system && *n == r.name)
                    .unwrap_or(SYSTEM_ROLES.len());
                (rank, r.name.to_lowercase())
            });
            Ok(roles)
        })
        .await
    }

    async fn create_role(
        &self,
        actor: &Actor,
        name: String,
        copy_of: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Role> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let (source, source_name, _) = role_of(tx, org, copy_of)?;
            name_free(tx, org, &name, 0)?;
            tx.prepare_cached("INSERT INTO roles (org_id, name, system) VALUES (?1, ?2, 0)")?
                .execute(params![org, name])?;
            let id = tx.last_insert_rowid();
            set_capabilities(tx, id, &capabilities(tx, source)?)?;
            let detail = serde_json::json!({ "name": name, "copy_of": source_name });
            audit(
                tx,
                org,
                Some(user),
                "role.created",
                ("role", id),
                detail,
                now,
            )?;
            load_role(tx, org, id)
        })
        .await
    }

    async fn update_role(
        &self,
        actor: &Actor,
        id: Id,
        update: RoleUpdate,
        now: DateTime<Utc>,
    ) -> StoreResult<Role> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let (_, old_name, system) = role_of(tx, org, id)?;
            if system {
                return Err(StoreError::Conflict(refuse::SYSTEM_ROLE.into()));
            }
            if let Some(name) = &update.name {
                name_free(tx, org, name, id)?;
                tx.prepare_cached("UPDATE roles SET name = ?2 WHERE id = ?1")?
                    .execute(params![id, name])?;
            }
            let before = capabilities(tx, id)?;
            if let Some(caps) = update.capabilities.as_ref().filter(|c| **c != before) {
                set_capabilities(tx, id, caps)?;
                let holders = tx
                    .prepare_cached("SELECT id FROM users WHERE role_id = ?1")?
                    .query_map([id], |r| r.get::<_, Id>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                access_changed(tx, org, holders, now)?;
            }
            let renamed = update.name.as_ref().is_some_and(|n| *n != old_name);
            let recapped = update.capabilities.as_ref().is_some_and(|c| *c != before);
            if renamed || recapped {
                let detail = serde_json::json!({
                    "name": { "from": old_name, "to": update.name },
                    "capabilities": { "from": before, "to": update.capabilities },
                });
                audit(
                    tx,
                    org,
                    Some(user),
                    "role.updated",
                    ("role", id),
                    detail,
                    now,
                )?;
            }
            load_role(tx, org, id)
        })
        .await
    }

    async fn delete_role(&self, actor: &Actor, id: Id, now: DateTime<Utc>) -> StoreResult<()> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let (_, name, system) = role_of(tx, org, id)?;
            if system {
                return Err(StoreError::Conflict(refuse::SYSTEM_ROLE.into()));
            }
            let held: i64 = tx
                .prepare_cached("SELECT count(*) FROM users WHERE role_id = ?1")?
                .query_row([id], |r| r.get(0))?;
            if held > 0 {
                return Err(StoreError::Conflict(refuse::ROLE_HELD.into()));
            }
            tx.prepare_cached("DELETE FROM role_capabilities WHERE role_id = ?1")?
                .execute([id])?;
            tx.prepare_cached("DELETE FROM roles WHERE id = ?1")?
                .execute([id])?;
            let detail = serde_json::json!({ "name": name });
            audit(
                tx,
                org,
                Some(user),
                "role.deleted",
                ("role", id),
                detail,
                now,
            )?;
            Ok(())
        })
        .await
    }

    async fn staff_accounts(&self, actor: &Actor) -> StoreResult<Vec<StaffAccount>> {
        let org = actor.org_id;
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT u.id, u.email, u.name, u.role_id, r.name, u.active, u.created_at
                 FROM users u JOIN roles r ON r.id = u.role_id
                 WHERE u.org_id = ?1 ORDER BY u.active DESC, u.name COLLATE NOCASE, u.id",
            )?
            .query_map([org], account)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn add_staff(
        &self,
        actor: &Actor,
        email: String,
        name: String,
        role_id: Id,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> StoreResult<StaffAccount> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let (_, role, _) = role_of(tx, org, role_id)?;
            let taken = tx
                .prepare_cached("SELECT 1 FROM users WHERE email = ?1")?
                .query_row([&email], |_| Ok(()))
                .optional()?;
            if taken.is_some() {
                return Err(StoreError::Conflict(format!(
                    "a user with email {email} already exists"
                )));
            }
            tx.prepare_cached(
                "INSERT INTO users (org_id, role_id, email, name, password_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![org, role_id, email, name, password_hash, ms(now)])?;
            let id = tx.last_insert_rowid();
            let detail = serde_json::json!({ "email": email, "name": name, "role": role });
            audit(
                tx,
                org,
                Some(user),
                "user.created",
                ("user", id),
                detail,
                now,
            )?;
            emit(
                tx,
                org,
                now,
                &Change::Staff(StaffRef {
                    id,
                    name: name.clone(),
                }),
            )?;
            load_account(tx, org, id)
        })
        .await
    }

    async fn update_staff(
        &self,
        actor: &Actor,
        id: Id,
        update: StaffUpdate,
        now: DateTime<Utc>,
    ) -> StoreResult<StaffAccount> {
        let (org, by) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let before = load_account(tx, org, id)?;
            let new_role = match update.role_id {
                Some(r) if r != before.role_id => Some(role_of(tx, org, r)?),
                _ => None,
            };
            let disabling = update.active == Some(false) && before.active;
            let demoting = new_role
                .as_ref()
                .is_some_and(|(r, _, _)| !is_owner_role(tx, *r).unwrap_or(false));
            if (disabling || demoting)
                && before.active
                && is_owner_role(tx, before.role_id)?
                && other_active_owners(tx, org, id)? == 0
            {
                return Err(StoreError::Conflict(refuse::LAST_OWNER.into()));
            }
            if let Some((role, role_name, _)) = &new_role {
                tx.prepare_cached("UPDATE users SET role_id = ?2 WHERE id = ?1")?
                    .execute(params![id, role])?;
                let detail = serde_json::json!({ "from": before.role, "to": role_name });
                audit(
                    tx,
                    org,
                    Some(by),
                    "user.role_changed",
                    ("user", id),
                    detail,
                    now,
                )?;
                access_changed(tx, org, vec![id], now)?;
            }
            if let Some(active) = update.active.filter(|a| *a != before.active) {
                tx.prepare_cached("UPDATE users SET active = ?2 WHERE id = ?1")?
                    .execute(params![id, active])?;
                let ended = if active {
                    0
                } else {
                    end_user_sessions(tx, id, now)?
                };
                let action = if active {
                    "user.enabled"
                } else {
                    "user.disabled"
                };
                let detail = serde_json::json!({ "sessions_ended": ended });
                audit(tx, org, Some(by), action, ("user", id), detail, now)?;
            }
            load_account(tx, org, id)
        })
        .await
    }

    async fn reset_password(
        &self,
        actor: &Actor,
        id: Id,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> StoreResult<StaffAccount> {
        let (org, by) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            load_account(tx, org, id)?;
            tx.prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
                .execute(params![id, password_hash])?;
            let ended = end_user_sessions(tx, id, now)?;
            let detail = serde_json::json!({ "sessions_ended": ended });
            audit(
                tx,
                org,
                Some(by),
                "user.password_reset",
                ("user", id),
                detail,
                now,
            )?;
            load_account(tx, org, id)
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
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT a.id, a.at, u.name, a.action, a.subject_type, a.subject_id, a.detail
                 FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
                 WHERE a.org_id = ?1 AND (?2 IS NULL OR a.id < ?2) ORDER BY a.id DESC LIMIT ?3",
            )?
            .query_map(params![org, before, limit], |r| {
                Ok(AuditEntry {
                    id: r.get(0)?,
                    at: from_ms(r.get(1)?),
                    by: r.get(2)?,
                    action: r.get(3)?,
                    subject_type: r.get(4)?,
                    subject_id: r.get(5)?,
                    detail: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }
}
