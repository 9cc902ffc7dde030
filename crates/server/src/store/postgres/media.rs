//! Attachments on PostgreSQL (issue 17): `store::scripts::media`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::media::Attachment;
use inbox_core::Id;

use super::PgStore;
use crate::store::media::{Download, Downloaded, MediaStore, NewUpload, Removed, StoredAttachment};
use crate::store::scripts::media as script;
use crate::store::{Actor, StoreResult};

#[async_trait]
impl MediaStore for PgStore {
    async fn claim_downloads(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Download>> {
        // The worker looks on every write: a read says "nothing due" without a transaction.
        if !script::downloads_due(&mut *self.conn().await?, now).await? {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_any().await?;
        let claimed = script::claim_downloads(&mut tx, now, limit).await?;
        self.commit(tx).await?;
        Ok(claimed)
    }

    async fn finish_download(
        &self,
        id: Id,
        attempts: u32,
        outcome: Downloaded,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let org = script::pending_download_org(&mut *self.conn().await?, id).await?;
        let Some(org) = org else {
            return Ok(());
        };
        let mut tx = self.begin(org).await?;
        script::finish_download(&mut tx, id, attempts, outcome, now).await?;
        self.commit(tx).await
    }

    async fn attachment(&self, org_id: Id, id: Id) -> StoreResult<Option<StoredAttachment>> {
        script::attachment(&mut *self.conn().await?, org_id, id).await
    }

    async fn attachment_org(&self, id: Id) -> StoreResult<Option<Id>> {
        script::attachment_org(&mut *self.conn().await?, id).await
    }

    async fn add_upload(
        &self,
        org_id: Id,
        upload: NewUpload,
        now: DateTime<Utc>,
    ) -> StoreResult<Attachment> {
        // One statement: no lock, no transaction.
        script::add_upload(&mut *self.conn().await?, org_id, upload, now).await
    }

    async fn remove_attachment(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Removed> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let removed = script::remove_attachment(&mut tx, org, user, id, now).await?;
        self.commit(tx).await?;
        Ok(removed)
    }

    fn link_key(&self) -> [u8; 32] {
        self.secrets.link_key()
    }

    async fn sweep_uploads(&self, before: DateTime<Utc>) -> StoreResult<Vec<String>> {
        let mut tx = self.begin_any().await?;
        let orphans = script::sweep_uploads(&mut tx, before).await?;
        self.commit(tx).await?;
        Ok(orphans)
    }
}
