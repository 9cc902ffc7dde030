//! Roles and the staff who hold them (SET-1, ACC-2): the four system roles every organisation
//! has, and the wire types of Settings › Roles and Settings › Users.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::capability::{Capability, CapabilitySet};
use crate::Id;

pub const OWNER: &str = "Owner";
pub const MANAGER: &str = "Manager";
pub const SERVICE_ADVISOR: &str = "Service Advisor";
pub const TECHNICIAN: &str = "Technician";

use Capability::*;

/// Every capability but `messages.send_gated`, which only narrows `messages.send`.
pub const OWNER_CAPABILITIES: [Capability; 7] = [
    MessagesView,
    MessagesSend,
    MessagesApprove,
    SettingsAiManage,
    SettingsRolesManage,
    SettingsUsersManage,
    SettingsTemplatesManage,
];

/// The system roles, read-only: their names and what they may do.
pub const SYSTEM_ROLES: [(&str, &[Capability]); 4] = [
    (OWNER, &OWNER_CAPABILITIES),
    (
        MANAGER,
        &[
            MessagesView,
            MessagesSend,
            MessagesApprove,
            SettingsTemplatesManage,
        ],
    ),
    (SERVICE_ADVISOR, &[MessagesView, MessagesSend]),
    (TECHNICIAN, &[]),
];

/// A system role's capabilities, if `name` is one.
pub fn system_role(name: &str) -> Option<CapabilitySet> {
    SYSTEM_ROLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, caps)| CapabilitySet::new(caps.iter().copied()))
}

/// Longest role name.
pub const ROLE_NAME_MAX: usize = 60;

/// Checks a role name someone typed; the trimmed name.
pub fn role_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a role needs a name".into());
    }
    if name.chars().count() > ROLE_NAME_MAX {
        return Err(format!("a role name is at most {ROLE_NAME_MAX} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("a role name cannot hold control characters".into());
    }
    Ok(name.to_string())
}

/// `GET /api/v1/roles` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: Id,
    pub name: String,
    /// Owner, Manager, Service Advisor, Technician: not editable.
    pub system: bool,
    pub capabilities: CapabilitySet,
    /// Staff holding it (a role with holders cannot be deleted).
    #[serde(default)]
    pub users: i64,
}

/// `POST /api/v1/roles`: a custom role starts as a copy of another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRole {
    pub name: String,
    pub copy_of: Id,
}

/// `PUT /api/v1/roles/{id}`: rename and/or set its capabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleUpdate {
    pub name: Option<String>,
    pub capabilities: Option<CapabilitySet>,
}

/// `GET /api/v1/users` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAccount {
    pub id: Id,
    pub email: String,
    pub name: String,
    pub role_id: Id,
    pub role: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStaff {
    pub email: String,
    pub name: String,
    pub role_id: Id,
}

/// `PUT /api/v1/users/{id}`: change the role, disable or re-enable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffUpdate {
    pub role_id: Option<Id>,
    pub active: Option<bool>,
}

/// A one-time password, shown once: a new user's, or a reset one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimePassword {
    pub user: StaffAccount,
    pub password: String,
}

/// `GET /api/v1/audit` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: Id,
    pub at: DateTime<Utc>,
    /// Who did it; None for the server itself or the command line.
    pub by: Option<String>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Id,
    pub detail: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set1_system_roles_owner_holds_every_capability_only_owner_administers() {
        let owner = system_role(OWNER).unwrap_or_default();
        assert!(Capability::ALL
            .iter()
            .all(|c| owner.has(*c) || *c == MessagesSendGated));
        for (name, caps) in SYSTEM_ROLES.iter().skip(1) {
            for admin in [SettingsAiManage, SettingsRolesManage, SettingsUsersManage] {
                assert!(!caps.contains(&admin), "{name} must not hold {admin}");
            }
        }
        assert!(system_role(MANAGER)
            .unwrap_or_default()
            .has(SettingsTemplatesManage));
        assert_eq!(system_role("Trainee"), None);
    }

    #[test]
    fn set1_role_names_are_checked() {
        assert_eq!(role_name("  Apprentice "), Ok("Apprentice".into()));
        assert!(role_name("   ").is_err());
        assert!(role_name(&"x".repeat(61)).is_err());
        assert!(role_name("a\nb").is_err());
    }
}
