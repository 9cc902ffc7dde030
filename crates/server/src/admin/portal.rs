//! `inbox-server portal revoke`: one token (`--token`), or every live token of a customer
//! (`--org --customer-id`). A revoked token answers 401 "revoked" from then on.

use chrono::Utc;
use inbox_core::Id;

use super::plural;
use crate::store::{PortalRevoke, Store, StoreError};

#[derive(Debug, Clone)]
pub enum PortalTarget {
    Token(String),
    Customer { org_id: Id, customer_id: Id },
}

pub async fn revoke_portal(store: &Store, target: PortalTarget) -> anyhow::Result<String> {
    match target {
        PortalTarget::Token(t) => {
            let revoked = store
                .revoke_portal_tokens(
                    PortalRevoke::Token(crate::auth::token::hash(t.trim())),
                    Utc::now(),
                )
                .await?;
            let Some((org, customer)) = revoked.first() else {
                anyhow::bail!(
                    "no live portal token matches (it is unknown or was already revoked)"
                );
            };
            Ok(format!(
                "revoked the portal token of customer {customer} in organisation {org}"
            ))
        }
        PortalTarget::Customer {
            org_id,
            customer_id,
        } => {
            if store.organisation(org_id).await?.is_none() {
                anyhow::bail!("there is no organisation {org_id}");
            }
            let revoked = store
                .revoke_portal_tokens(
                    PortalRevoke::Customer {
                        org_id,
                        customer_id,
                    },
                    Utc::now(),
                )
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => {
                        anyhow::anyhow!("organisation {org_id} has no customer {customer_id}")
                    }
                    e => anyhow::anyhow!(e),
                })?;
            Ok(format!(
                "revoked {} of customer {customer_id} in organisation {org_id}",
                plural(revoked.len() as u64, "portal token")
            ))
        }
    }
}
