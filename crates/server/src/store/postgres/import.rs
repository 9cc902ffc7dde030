//! Bulk import of a whole dataset in one transaction (demo seed, benchmarks), written once in
//! `store::scripts::import`; the organisations and users go through the accounts rules.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::accounts::{insert_organisation, insert_user};
use super::{PgStore, Tx};
use crate::secrets::SecretBox;
use crate::store::dataset::{Imported, ImportedOrg, OrgData};
use crate::store::scripts::{analytics, import as script};
use crate::store::{Dataset, ImportStore, StoreResult};

/// One organisation: its row and users through the accounts rules, the rest shared.
async fn import_org(
    tx: &mut Tx,
    o: &OrgData,
    secrets: &SecretBox,
    now: DateTime<Utc>,
) -> StoreResult<ImportedOrg> {
    let org = insert_organisation(tx, &script::new_organisation(o), o.ai_enabled, now).await?;
    let mut users = Vec::with_capacity(o.users.len());
    for u in &o.users {
        let id = insert_user(tx, &script::new_user(org, u), now).await?;
        users.push(script::imported_user(id, u));
    }
    script::org_rows(tx, o, (org, users), secrets, now).await
}

#[async_trait]
impl ImportStore for PgStore {
    async fn import(&self, data: Dataset) -> StoreResult<Imported> {
        let now = Utc::now();
        let mut tx = self.begin_any().await?;
        let mut organisations = Vec::with_capacity(data.organisations.len());
        for o in &data.organisations {
            organisations.push(import_org(&mut tx, o, &self.secrets, now).await?);
        }
        super::staff::ensure_system_roles(&mut tx).await?;
        for org in &organisations {
            super::lock_org(&mut tx, org.id).await?;
            analytics::rebuild(&mut tx, org.id).await?;
        }
        self.commit(tx).await?;
        Ok(Imported { organisations })
    }
}
