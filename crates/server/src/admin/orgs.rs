//! `inbox-server org add`: a new garage with its first user, who holds every capability there
//! is (the Owner; issue 16 gives roles their own administration).

use chrono::Utc;
use inbox_core::CapabilitySet;
use serde_json::json;

use crate::store::{NewOrganisation, NewUser, Store, StoreError};

/// The role the first user of a new organisation gets.
pub const OWNER_ROLE: &str = "Owner";

/// What `org add` is given.
#[derive(Debug, Clone)]
pub struct NewGarage {
    pub name: String,
    pub time_zone: String,
    pub owner_email: String,
    pub owner_name: String,
}

/// The system Owner role's capabilities.
fn owner_capabilities() -> CapabilitySet {
    CapabilitySet::new(inbox_core::roles::OWNER_CAPABILITIES)
}

fn required(what: &str, value: &str, max: usize) -> anyhow::Result<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        anyhow::bail!("{what} must be 1 to {max} characters");
    }
    Ok(v.to_string())
}

/// Creates the organisation and its Owner; returns the JSON line `org add` prints.
pub async fn add_organisation(
    store: &Store,
    g: NewGarage,
    password: &str,
) -> anyhow::Result<serde_json::Value> {
    let name = required("the organisation's name", &g.name, 200)?;
    let time_zone = g.time_zone.trim().to_string();
    inbox_core::range::parse_time_zone(&time_zone).map_err(|_| {
        anyhow::anyhow!("{time_zone:?} is not an IANA time zone (e.g. Europe/London)")
    })?;
    let email = required("the owner's email", &g.owner_email, 254)?;
    if !email.contains('@') || email.contains(char::is_whitespace) {
        anyhow::bail!("{email:?} is not an email address");
    }
    let owner_name = required("the owner's name", &g.owner_name, 200)?;
    super::check_password(password)?;
    let capabilities = owner_capabilities();
    let (org_id, user_id) = store
        .create_organisation_with_owner(
            NewOrganisation {
                name: name.clone(),
                time_zone: time_zone.clone(),
            },
            NewUser {
                org_id: 0,
                email: email.clone(),
                name: owner_name.clone(),
                role: OWNER_ROLE.into(),
                capabilities: capabilities.clone(),
                password_hash: crate::auth::password::hash(password)?,
            },
            Utc::now(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => anyhow::anyhow!(m),
            e => anyhow::anyhow!(e),
        })?;
    // The new garage's Owner role is the system one, beside the other three (SET-1).
    store.ensure_system_roles(Utc::now()).await?;
    Ok(json!({
        "organisation": { "id": org_id, "name": name, "time_zone": time_zone },
        "owner": {
            "id": user_id,
            "email": email,
            "name": owner_name,
            "role": OWNER_ROLE,
            "capabilities": capabilities.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        },
    }))
}
