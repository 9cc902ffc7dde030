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
    /// See and action the Approval Queue; also administers quick messages and templates (SET-1).
    #[serde(rename = "messages.approve")]
    MessagesApprove,
    /// Turn AI (intent badges and the Analytics tab) on or off for the organisation (AIA-1).
    #[serde(rename = "settings.ai.manage")]
    SettingsAiManage,
}

impl Capability {
    pub const ALL: [Capability; 5] = [
        Capability::MessagesView,
        Capability::MessagesSend,
        Capability::MessagesSendGated,
        Capability::MessagesApprove,
        Capability::SettingsAiManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::MessagesView => "messages.view",
            Capability::MessagesSend => "messages.send",
            Capability::MessagesSendGated => "messages.send_gated",
            Capability::MessagesApprove => "messages.approve",
            Capability::SettingsAiManage => "settings.ai.manage",
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
            r#"["messages.view","messages.send","messages.send_gated","messages.approve","settings.ai.manage"]"#
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
