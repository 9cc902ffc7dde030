//! Bulk import of a whole dataset in one transaction (demo seed, benchmarks), written once in
//! `store::scripts::import`; the organisations and users go through the accounts rules.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::accounts::{insert_organisation, insert_user};
use super::db::Lite;
use super::SqliteStore;
use crate::secrets::SecretBox;
use crate::store::dataset::{Imported, ImportedOrg, OrgData};
use crate::store::db::now;
use crate::store::scripts::{analytics, import as script};
use crate::store::{Dataset, ImportStore, StoreResult};

/// One organisation: its row and users through the accounts rules, the rest shared.
fn import_org(
    tx: &Connection,
    o: &OrgData,
    secrets: &SecretBox,
    at: DateTime<Utc>,
) -> StoreResult<ImportedOrg> {
    let org = insert_organisation(tx, &script::new_organisation(o), o.ai_enabled, at)?;
    let mut users = Vec::with_capacity(o.users.len());
    for u in &o.users {
        let id = insert_user(tx, &script::new_user(org, u), at)?;
        users.push(script::imported_user(id, u));
    }
    let mut db = Lite::new(tx);
    now(script::org_rows(&mut db, o, (org, users), secrets, at))
}

#[async_trait]
impl ImportStore for SqliteStore {
    async fn import(&self, data: Dataset) -> StoreResult<Imported> {
        let at = Utc::now();
        let secrets = self.secrets.clone();
        self.write(move |tx| {
            let organisations = data
                .organisations
                .iter()
                .map(|o| import_org(tx, o, &secrets, at))
                .collect::<StoreResult<Vec<_>>>()?;
            super::staff::ensure_system_roles(tx)?;
            for org in &organisations {
                now(analytics::rebuild(&mut Lite::new(tx), org.id))?;
            }
            Ok(Imported { organisations })
        })
        .await
    }
}
