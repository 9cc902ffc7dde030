//! The operator's tools behind `inbox-server user …`, `org add`, `provider set` and
//! `portal revoke`: each checks its input, makes one store call, and says what it did in one
//! line (`org add` in one JSON object, for scripts). Unknown emails, organisations and tokens are
//! errors, so the CLI exits non-zero with the reason.

mod orgs;
mod portal;
mod providers;
mod users;

pub use orgs::{add_organisation, NewGarage, OWNER_ROLE};
pub use portal::{revoke_portal, PortalTarget};
pub use providers::{set_providers, ProviderInput};
pub use users::{disable_user, enable_user, revoke_sessions, set_password};

/// The shortest password the tools accept, as `user add` does.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Checks a new password's length.
pub fn check_password(password: &str) -> anyhow::Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        anyhow::bail!("the password must be at least {MIN_PASSWORD_CHARS} characters");
    }
    Ok(())
}

fn plural(n: u64, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}
