//! Roles and staff accounts as an Owner administers them (issue 16: SET-1, ACC-2): the store
//! trait both backends implement. Every change is audited; changes to what someone may do are
//! announced as an `access` event, so their open desktop follows without a restart.

use inbox_core::roles::OWNER;
use inbox_core::{Capability, CapabilitySet};

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
