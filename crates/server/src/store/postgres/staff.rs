//! Roles and staff accounts on PostgreSQL (issue 16: SET-1, ACC-2). Every change runs under the
//! organisation's lock, so two admins' edits (and the last-Owner check) never interleave.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::roles::{
    AuditEntry, Role, RoleUpdate, StaffAccount, StaffUpdate, OWNER, SYSTEM_ROLES,
};
use inbox_core::sync::Change;
use inbox_core::{Capability, CapabilitySet, Id, StaffRef};
use sqlx::PgConnection;

use super::accounts::end_user_sessions;
use super::events::emit;
use super::{audit, lock_org, PgStore, Tx};
use crate::store::rows::{from_ms, ms};
use crate::store::staff::{adoptable, refuse};
use crate::store::{Actor, StaffStore, StoreError, StoreResult};

async fn capabilities(c: &mut PgConnection, role: Id) -> StoreResult<CapabilitySet> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT capability FROM role_capabilities WHERE role_id = $1")
            .bind(role)
            .fetch_all(c)
            .await?;
    Ok(CapabilitySet::new(
        names.iter().filter_map(|n| Capability::parse(n)),
    ))
}

async fn set_capabilities(c: &mut PgConnection, role: Id, caps: &CapabilitySet) -> StoreResult<()> {
    sqlx::query("DELETE FROM role_capabilities WHERE role_id = $1")
        .bind(role)
        .execute(&mut *c)
        .await?;
    let names: Vec<&str> = caps.iter().map(Capability::as_str).collect();
    sqlx::query(
        "INSERT INTO role_capabilities (role_id, capability) SELECT $1, unnest($2::text[])",
    )
    .bind(role)
    .bind(names)
    .execute(&mut *c)
    .await?;
    Ok(())
}

async fn role_of(c: &mut PgConnection, org: Id, id: Id) -> StoreResult<(Id, String, bool)> {
    sqlx::query_as("SELECT id, name, system FROM roles WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org)
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound)
}

async fn load_role(c: &mut PgConnection, org: Id, id: Id) -> StoreResult<Role> {
    let (id, name, system) = role_of(c, org, id).await?;
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role_id = $1")
        .bind(id)
        .fetch_one(&mut *c)
        .await?;
    Ok(Role {
        id,
        name,
        system,
        capabilities: capabilities(c, id).await?,
        users,
    })
}

async fn name_free(c: &mut PgConnection, org: Id, name: &str, except: Id) -> StoreResult<()> {
    let taken: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM roles WHERE org_id = $1 AND name = $2 AND id <> $3")
            .bind(org)
            .bind(name)
            .bind(except)
            .fetch_optional(c)
            .await?;
    match taken {
        Some(_) => Err(StoreError::Conflict(format!(
            "a role named {name:?} already exists"
        ))),
        None => Ok(()),
    }
}

type AccountRow = (Id, String, String, Id, String, bool, i64);

fn account(r: AccountRow) -> StaffAccount {
    let (id, email, name, role_id, role, active, created_at) = r;
    StaffAccount {
        id,
        email,
        name,
        role_id,
        role,
        active,
        created_at: from_ms(created_at),
    }
}

async fn load_account(c: &mut PgConnection, org: Id, id: Id) -> StoreResult<StaffAccount> {
    let row: Option<AccountRow> = sqlx::query_as(
        "SELECT u.id, u.email, u.name, u.role_id, r.name, u.active, u.created_at
         FROM users u JOIN roles r ON r.id = u.role_id WHERE u.id = $1 AND u.org_id = $2",
    )
    .bind(id)
    .bind(org)
    .fetch_optional(c)
    .await?;
    row.map(account).ok_or(StoreError::NotFound)
}

async fn is_owner_role(c: &mut PgConnection, role: Id) -> StoreResult<bool> {
    Ok(
        sqlx::query_scalar("SELECT name = $2 AND system FROM roles WHERE id = $1")
            .bind(role)
            .bind(OWNER)
            .fetch_one(c)
            .await?,
    )
}

async fn other_active_owners(c: &mut PgConnection, org: Id, user: Id) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM users u JOIN roles r ON r.id = u.role_id
         WHERE u.org_id = $1 AND u.id <> $2 AND u.active AND r.system AND r.name = $3",
    )
    .bind(org)
    .bind(user)
    .bind(OWNER)
    .fetch_one(c)
    .await?)
}

async fn ensure_org(c: &mut PgConnection, org: Id) -> StoreResult<()> {
    for (name, caps) in SYSTEM_ROLES {
        let caps = CapabilitySet::new(caps.iter().copied());
        let existing: Option<(Id, bool)> =
            sqlx::query_as("SELECT id, system FROM roles WHERE org_id = $1 AND name = $2")
                .bind(org)
                .bind(name)
                .fetch_optional(&mut *c)
                .await?;
        match existing {
            Some((id, true)) => set_capabilities(c, id, &caps).await?,
            // Its holders lose nothing by becoming the system role: it is theirs.
            Some((id, false)) if adoptable(name, &capabilities(c, id).await?, &caps) => {
                sqlx::query("UPDATE roles SET system = true WHERE id = $1")
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                set_capabilities(c, id, &caps).await?;
                let detail = serde_json::json!({ "name": name, "capabilities": caps });
                audit(
                    c,
                    org,
                    None,
                    "role.made_system",
                    ("role", id),
                    detail,
                    Utc::now(),
                )
                .await?;
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
                        let taken: Option<i32> = sqlx::query_scalar(
                            "SELECT 1 FROM roles WHERE org_id = $1 AND name = $2",
                        )
                        .bind(org)
                        .bind(&candidate)
                        .fetch_optional(&mut *c)
                        .await?;
                        if taken.is_none() {
                            break candidate;
                        }
                        n += 1;
                    };
                    sqlx::query("UPDATE roles SET name = $2 WHERE id = $1")
                        .bind(id)
                        .bind(&renamed)
                        .execute(&mut *c)
                        .await?;
                    let detail = serde_json::json!({ "from": name, "to": renamed });
                    audit(
                        c,
                        org,
                        None,
                        "role.renamed",
                        ("role", id),
                        detail,
                        Utc::now(),
                    )
                    .await?;
                }
                let id: Id = sqlx::query_scalar(
                    "INSERT INTO roles (org_id, name, system) VALUES ($1, $2, true) RETURNING id",
                )
                .bind(org)
                .bind(name)
                .fetch_one(&mut *c)
                .await?;
                set_capabilities(c, id, &caps).await?;
            }
        }
    }
    // An organisation nobody owns (an import, say) gets an Owner as an upgrade does: its
    // earliest active approver, else its earliest user; never one left without.
    let owned: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM users u JOIN roles r ON r.id = u.role_id
         WHERE u.org_id = $1 AND u.active AND r.system AND r.name = $2 LIMIT 1",
    )
    .bind(org)
    .bind(OWNER)
    .fetch_optional(&mut *c)
    .await?;
    if owned.is_none() {
        let heir: Option<Id> = sqlx::query_scalar(
            "SELECT u.id FROM users u
             LEFT JOIN role_capabilities rc
                    ON rc.role_id = u.role_id AND rc.capability = 'messages.approve'
             WHERE u.org_id = $1 AND u.active
             ORDER BY rc.capability IS NULL, u.created_at, u.id LIMIT 1",
        )
        .bind(org)
        .fetch_optional(&mut *c)
        .await?;
        if let Some(heir) = heir {
            sqlx::query(
                "UPDATE users SET role_id = (SELECT id FROM roles WHERE org_id = $1 AND system AND name = $2)
                 WHERE id = $3",
            )
            .bind(org)
            .bind(OWNER)
            .bind(heir)
            .execute(&mut *c)
            .await?;
            let detail =
                serde_json::json!({ "to": OWNER, "why": "the organisation had no active Owner" });
            audit(
                c,
                org,
                None,
                "user.role_changed",
                ("user", heir),
                detail,
                Utc::now(),
            )
            .await?;
        }
    }
    Ok(())
}

/// Every organisation's system roles, inside the caller's transaction (also after an import).
pub(crate) async fn ensure_system_roles(tx: &mut Tx) -> StoreResult<()> {
    let orgs: Vec<Id> = sqlx::query_scalar("SELECT id FROM organisations ORDER BY id")
        .fetch_all(&mut **tx)
        .await?;
    for org in orgs {
        lock_org(tx, org).await?;
        ensure_org(tx, org).await?;
    }
    Ok(())
}

/// Their desktops re-read what they may do.
async fn access_changed(
    tx: &mut Tx,
    org: Id,
    users: Vec<Id>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    emit(tx, org, now, &Change::Access { user_ids: users }).await?;
    Ok(())
}

#[async_trait]
impl StaffStore for PgStore {
    async fn ensure_system_roles(&self, _now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.begin_any().await?;
        ensure_system_roles(&mut tx).await?;
        self.commit(tx).await
    }

    async fn roles(&self, actor: &Actor) -> StoreResult<Vec<Role>> {
        let org = actor.org_id;
        let mut c = self.conn().await?;
        let ids: Vec<Id> = sqlx::query_scalar("SELECT id FROM roles WHERE org_id = $1")
            .bind(org)
            .fetch_all(&mut *c)
            .await?;
        let mut roles = Vec::with_capacity(ids.len());
        for id in ids {
            roles.push(load_role(&mut c, org, id).await?);
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

    async fn create_role(
        &self,
        actor: &Actor,
        name: String,
        copy_of: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Role> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let (source, source_name, _) = role_of(&mut tx, org, copy_of).await?;
        name_free(&mut tx, org, &name, 0).await?;
        let id: Id = sqlx::query_scalar(
            "INSERT INTO roles (org_id, name, system) VALUES ($1, $2, false) RETURNING id",
        )
        .bind(org)
        .bind(&name)
        .fetch_one(&mut *tx)
        .await?;
        let caps = capabilities(&mut tx, source).await?;
        set_capabilities(&mut tx, id, &caps).await?;
        let detail = serde_json::json!({ "name": name, "copy_of": source_name });
        audit(
            &mut tx,
            org,
            Some(user),
            "role.created",
            ("role", id),
            detail,
            now,
        )
        .await?;
        let role = load_role(&mut tx, org, id).await?;
        self.commit(tx).await?;
        Ok(role)
    }

    async fn update_role(
        &self,
        actor: &Actor,
        id: Id,
        update: RoleUpdate,
        now: DateTime<Utc>,
    ) -> StoreResult<Role> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let (_, old_name, system) = role_of(&mut tx, org, id).await?;
        if system {
            return Err(StoreError::Conflict(refuse::SYSTEM_ROLE.into()));
        }
        if let Some(name) = &update.name {
            name_free(&mut tx, org, name, id).await?;
            sqlx::query("UPDATE roles SET name = $2 WHERE id = $1")
                .bind(id)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        let before = capabilities(&mut tx, id).await?;
        if let Some(caps) = update.capabilities.as_ref().filter(|c| **c != before) {
            set_capabilities(&mut tx, id, caps).await?;
            let holders: Vec<Id> = sqlx::query_scalar("SELECT id FROM users WHERE role_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            access_changed(&mut tx, org, holders, now).await?;
        }
        let renamed = update.name.as_ref().is_some_and(|n| *n != old_name);
        let recapped = update.capabilities.as_ref().is_some_and(|c| *c != before);
        if renamed || recapped {
            let detail = serde_json::json!({
                "name": { "from": old_name, "to": update.name },
                "capabilities": { "from": before, "to": update.capabilities },
            });
            audit(
                &mut tx,
                org,
                Some(user),
                "role.updated",
                ("role", id),
                detail,
                now,
            )
            .await?;
        }
        let role = load_role(&mut tx, org, id).await?;
        self.commit(tx).await?;
        Ok(role)
    }

    async fn delete_role(&self, actor: &Actor, id: Id, now: DateTime<Utc>) -> StoreResult<()> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let (_, name, system) = role_of(&mut tx, org, id).await?;
        if system {
            return Err(StoreError::Conflict(refuse::SYSTEM_ROLE.into()));
        }
        let held: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if held > 0 {
            return Err(StoreError::Conflict(refuse::ROLE_HELD.into()));
        }
        sqlx::query("DELETE FROM role_capabilities WHERE role_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM roles WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let detail = serde_json::json!({ "name": name });
        audit(
            &mut tx,
            org,
            Some(user),
            "role.deleted",
            ("role", id),
            detail,
            now,
        )
        .await?;
        self.commit(tx).await
    }

    async fn staff_accounts(&self, actor: &Actor) -> StoreResult<Vec<StaffAccount>> {
        let mut c = self.conn().await?;
        let rows: Vec<AccountRow> = sqlx::query_as(
            "SELECT u.id, u.email, u.name, u.role_id, r.name, u.active, u.created_at
             FROM users u JOIN roles r ON r.id = u.role_id
             WHERE u.org_id = $1 ORDER BY u.active DESC, lower(u.name), u.id",
        )
        .bind(actor.org_id)
        .fetch_all(&mut *c)
        .await?;
        Ok(rows.into_iter().map(account).collect())
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
        let mut tx = self.begin(org).await?;
        let (_, role, _) = role_of(&mut tx, org, role_id).await?;
        let taken: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM users WHERE lower(email) = lower($1)")
                .bind(&email)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "a user with email {email} already exists"
            )));
        }
        let id: Id = sqlx::query_scalar(
            "INSERT INTO users (org_id, role_id, email, name, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(org)
        .bind(role_id)
        .bind(&email)
        .bind(&name)
        .bind(password_hash)
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        let detail = serde_json::json!({ "email": email, "name": name, "role": role });
        audit(
            &mut tx,
            org,
            Some(user),
            "user.created",
            ("user", id),
            detail,
            now,
        )
        .await?;
        emit(&mut tx, org, now, &Change::Staff(StaffRef { id, name })).await?;
        let account = load_account(&mut tx, org, id).await?;
        self.commit(tx).await?;
        Ok(account)
    }

    async fn update_staff(
        &self,
        actor: &Actor,
        id: Id,
        update: StaffUpdate,
        now: DateTime<Utc>,
    ) -> StoreResult<StaffAccount> {
        let (org, by) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let before = load_account(&mut tx, org, id).await?;
        let new_role = match update.role_id {
            Some(r) if r != before.role_id => Some(role_of(&mut tx, org, r).await?),
            _ => None,
        };
        let disabling = update.active == Some(false) && before.active;
        let demoting = match &new_role {
            Some((r, _, _)) => !is_owner_role(&mut tx, *r).await?,
            None => false,
        };
        if (disabling || demoting)
            && before.active
            && is_owner_role(&mut tx, before.role_id).await?
            && other_active_owners(&mut tx, org, id).await? == 0
        {
            return Err(StoreError::Conflict(refuse::LAST_OWNER.into()));
        }
        if let Some((role, role_name, _)) = &new_role {
            sqlx::query("UPDATE users SET role_id = $2 WHERE id = $1")
                .bind(id)
                .bind(role)
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({ "from": before.role, "to": role_name });
            audit(
                &mut tx,
                org,
                Some(by),
                "user.role_changed",
                ("user", id),
                detail,
                now,
            )
            .await?;
            access_changed(&mut tx, org, vec![id], now).await?;
        }
        if let Some(active) = update.active.filter(|a| *a != before.active) {
            sqlx::query("UPDATE users SET active = $2 WHERE id = $1")
                .bind(id)
                .bind(active)
                .execute(&mut *tx)
                .await?;
            let ended = if active {
                0
            } else {
                end_user_sessions(&mut tx, id).await?
            };
            let action = if active {
                "user.enabled"
            } else {
                "user.disabled"
            };
            let detail = serde_json::json!({ "sessions_ended": ended });
            audit(&mut tx, org, Some(by), action, ("user", id), detail, now).await?;
        }
        let account = load_account(&mut tx, org, id).await?;
        self.commit(tx).await?;
        Ok(account)
    }

    async fn reset_password(
        &self,
        actor: &Actor,
        id: Id,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> StoreResult<StaffAccount> {
        let (org, by) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        load_account(&mut tx, org, id).await?;
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        let ended = end_user_sessions(&mut tx, id).await?;
        let detail = serde_json::json!({ "sessions_ended": ended });
        audit(
            &mut tx,
            org,
            Some(by),
            "user.password_reset",
            ("user", id),
            detail,
            now,
        )
        .await?;
        let account = load_account(&mut tx, org, id).await?;
        self.commit(tx).await?;
        Ok(account)
    }

    async fn audit_log(
        &self,
        actor: &Actor,
        before: Option<Id>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        let mut c = self.conn().await?;
        let rows: Vec<(Id, i64, Option<String>, String, String, Id, String)> = sqlx::query_as(
            "SELECT a.id, a.at, u.name, a.action, a.subject_type, a.subject_id, a.detail
             FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
             WHERE a.org_id = $1 AND ($2::bigint IS NULL OR a.id < $2) ORDER BY a.id DESC LIMIT $3",
        )
        .bind(actor.org_id)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at, by, action, subject_type, subject_id, detail)| AuditEntry {
                    id,
                    at: from_ms(at),
                    by,
                    action,
                    subject_type,
                    subject_id,
                    detail: serde_json::from_str(&detail).unwrap_or_default(),
                },
            )
            .collect())
    }
}
