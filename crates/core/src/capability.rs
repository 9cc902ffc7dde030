//! Capabilities (ACC-1): what a role lets a user do, as the exact strings the wire uses.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Capability {
    /// Access to the Messages page and every read of it.
    #[serde(rename = "messages.view")]
    MessagesView,
    /// Send replies directly.
    #[serde(rename = "messages.send")]
    MessagesSend,
    /// Compose replies that wait in the Approval Queue.
    #[serde(rename = "messages.send_gated")]
    MessagesSendGated,
    /// See and action the Approval Queue; also sees per-staff analytics.
    #[serde(rename = "messages.approve")]
    MessagesApprove,
    /// Turn AI (intent badges and the Analytics tab) on or off for the organisation (AIA-1).
    #[serde(rename = "settings.ai.manage")]
    SettingsAiManage,
    /// Create, edit and delete custom roles (SET-1, ACC-2).
    #[serde(rename = "settings.roles.manage")]
    SettingsRolesManage,
    /// Add staff, change their role, disable them, reset passwords, read the audit log.
    #[serde(rename = "settings.users.manage")]
    SettingsUsersManage,
    /// Administer quick messages and WhatsApp templates (SET-1).
    #[serde(rename = "settings.templates.manage")]
    SettingsTemplatesManage,
}

impl Capability {
    pub const ALL: [Capability; 8] = [
        Capability::MessagesView,
        Capability::MessagesSend,
        Capability::MessagesSendGated,
        Capability::MessagesApprove,
        Capability::SettingsAiManage,
        Capability::SettingsRolesManage,
        Capability::SettingsUsersManage,
        Capability::SettingsTemplatesManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::MessagesView => "messages.view",
            Capability::MessagesSend => "messages.send",
            Capability::MessagesSendGated => "messages.send_gated",
            Capability::MessagesApprove => "messages.approve",
            Capability::SettingsAiManage => "settings.ai.manage",
            Capability::SettingsRolesManage => "settings.roles.manage",
            Capability::SettingsUsersManage => "settings.users.manage",
            Capability::SettingsTemplatesManage => "settings.templates.manage",
        }
    }

    /// The group the Roles page shows it under.
    pub fn group(self) -> &'static str {
        match self {
            Capability::MessagesView
            | Capability::MessagesSend
            | Capability::MessagesSendGated
            | Capability::MessagesApprove => "Messages",
            _ => "Settings",
        }
    }

    /// What it lets someone do, in plain English (the Roles page).
    pub fn description(self) -> &'static str {
        match self {
            Capability::MessagesView => "Read the inbox, threads and calls",
            Capability::MessagesSend => "Reply to customers directly",
            Capability::MessagesSendGated => "Write replies that wait for a manager's approval",
            Capability::MessagesApprove => {
                "Approve or reject colleagues' replies, and see each person's response times"
            }
            Capability::SettingsAiManage => "Turn AI intents and analytics on or off",
            Capability::SettingsRolesManage => "Create and edit roles",
            Capability::SettingsUsersManage => {
                "Add staff, change their role, disable them and reset passwords; read the audit log"
            }
            Capability::SettingsTemplatesManage => "Edit quick messages and WhatsApp templates",
        }
    }

    pub fn parse(s: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The capabilities a caller holds, with the questions handlers ask of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CapabilitySet(Vec<Capability>);

impl CapabilitySet {
    pub fn new(caps: impl IntoIterator<Item = Capability>) -> Self {
        let mut v: Vec<Capability> = caps.into_iter().collect();
        v.sort();
        v.dedup();
        CapabilitySet(v)
    }

    pub fn has(&self, cap: Capability) -> bool {
        self.0.contains(&cap)
    }

    /// May write to conversations (reply, note, assign, link, act on calls): direct or gated senders.
    pub fn can_write(&self) -> bool {
        self.has(Capability::MessagesSend) || self.has(Capability::MessagesSendGated)
    }

    /// A reply of this user must wait for approval (CMP-3). Direct send wins when a role has both.
    pub fn replies_need_approval(&self) -> bool {
        !self.has(Capability::MessagesSend) && self.has(Capability::MessagesSendGated)
    }

    pub fn iter(&self) -> impl Iterator<Item = Capability> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acc1_capabilities_use_exact_wire_strings() {
        let json = serde_json::to_string(&Capability::ALL).unwrap();
        assert_eq!(
            json,
            r#"["messages.view","messages.send","messages.send_gated","messages.approve","settings.ai.manage","settings.roles.manage","settings.users.manage","settings.templates.manage"]"#
        );
        for c in Capability::ALL {
            assert_eq!(Capability::parse(c.as_str()), Some(c));
        }
        assert_eq!(Capability::parse("messages.delete"), None);
    }

    #[test]
    fn cmp3_gated_only_users_need_approval() {
        let gated = CapabilitySet::new([Capability::MessagesView, Capability::MessagesSendGated]);
        assert!(gated.replies_need_approval() && gated.can_write());
        let both = CapabilitySet::new([Capability::MessagesSend, Capability::MessagesSendGated]);
        assert!(!both.replies_need_approval());
        let viewer = CapabilitySet::new([Capability::MessagesView]);
        assert!(!viewer.can_write());
    }
}
