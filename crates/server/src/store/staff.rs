//! Roles and staff accounts as an Owner administers them (issue 16: SET-1, ACC-2): the store
//! trait both backends implement. Every change is audited; changes to what someone may do are
//! announced as an `access` event, so their open desktop follows without a restart.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::roles::OWNER;
use inbox_core::roles::{AuditEntry, Role, RoleUpdate, StaffAccount, StaffUpdate};
use inbox_core::{Capability, CapabilitySet, Id};

use super::{Actor, StoreResult};

/// Why a change to staff or roles was refused, in the words the admin reads (409).
pub mod refuse {
    pub const SYSTEM_ROLE: &str =
        "system roles (Owner, Manager, Service Advisor, Technician) cannot be changed; copy one to make a custom role";
    pub const ROLE_HELD: &str = "staff still hold this role; give them another role first";
    pub const LAST_OWNER: &str =
        "this is the organisation's last active Owner: make someone else Owner first";
}

/// Whether a role already named like a system role becomes it: only when that takes nothing
/// from its holders and gives them nothing they did not have, except that an Owner role only
/// gains (it is the Owner, and the catalogue grows).
pub fn adoptable(name: &str, has: &CapabilitySet, system: &CapabilitySet) -> bool {
    if name == OWNER {
        has.iter().all(|c| system.has(c))
    } else {
        has == system
    }
}

/// Whether `caller` holds every capability in `caps` (`messages.send` covers
/// `messages.send_gated`, which only narrows it): nobody gives, or takes from others, more than
/// they hold themselves.
pub fn covers(caller: &CapabilitySet, caps: &CapabilitySet) -> bool {
    caps.iter().all(|c| {
        caller.has(c)
            || (c == Capability::MessagesSendGated && caller.has(Capability::MessagesSend))
    })
}

#[async_trait]
pub trait StaffStore: Send + Sync {
    /// Gives every organisation the four system roles with their capabilities (at open and
    /// after an import). A role already named like a system role becomes it when that takes
    /// nothing from its holders; one that could do something else keeps its holders and
    /// capabilities under the name "<name> (custom)".
    async fn ensure_system_roles(&self, now: DateTime<Utc>) -> StoreResult<()>;
    /// The organisation's roles, system roles first.
    async fn roles(&self, actor: &Actor) -> StoreResult<Vec<Role>>;
    /// A custom role copied from `copy_of` (any of the organisation's roles).
    async fn create_role(
        &self,
        actor: &Actor,
        name: String,
        copy_of: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Role>;
    /// Renames a custom role and/or sets its capabilities (`name` already checked).
    async fn update_role(
        &self,
        actor: &Actor,
        id: Id,
        update: RoleUpdate,
        now: DateTime<Utc>,
    ) -> StoreResult<Role>;
    /// Deletes a custom role nobody holds.
    async fn delete_role(&self, actor: &Actor, id: Id, now: DateTime<Utc>) -> StoreResult<()>;
    /// Everyone in the organisation, active or not.
    async fn staff_accounts(&self, actor: &Actor) -> StoreResult<Vec<StaffAccount>>;
    /// Adds a user with a one-time password's hash. Conflict when the email is taken.
    async fn add_staff(
        &self,
        actor: &Actor,
        email: String,
        name: String,
        role_id: Id,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> StoreResult<StaffAccount>;
    /// Changes a user's role and/or disables or re-enables them; disabling ends their sessions
    /// (and so their sockets). The last active Owner can be neither demoted nor disabled.
    async fn update_staff(
        &self,
        actor: &Actor,
        id: Id,
        update: StaffUpdate,
        now: DateTime<Utc>,
    ) -> StoreResult<StaffAccount>;
    /// Sets a reset password's hash; the user's sessions end.
    async fn reset_password(
        &self,
        actor: &Actor,
        id: Id,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> StoreResult<StaffAccount>;
    /// The organisation's audit log, newest first, before `before` (an entry id).
    async fn audit_log(
        &self,
        actor: &Actor,
        before: Option<Id>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;
}
