//! Attachments on SQLite (issue 17): `store::scripts::media`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::media::Attachment;
use inbox_core::Id;

use super::db::Lite;
use super::SqliteStore;
use crate::store::db::now as run;
use crate::store::media::{Download, Downloaded, MediaStore, NewUpload, Removed, StoredAttachment};
use crate::store::scripts::media as script;
use crate::store::{Actor, StoreResult};

#[async_trait]
impl MediaStore for SqliteStore {
    async fn claim_downloads(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Download>> {
        // The worker looks on every write: a read says "nothing due" without taking the writer.
        let due = self
            .read(move |c| run(script::downloads_due(&mut Lite::new(c), now)))
            .await?;
        if !due {
            return Ok(Vec::new());
        }
        self.write(move |tx| run(script::claim_downloads(&mut Lite::new(tx), now, limit)))
            .await
    }

    async fn finish_download(
        &self,
        id: Id,
        attempts: u32,
        outcome: Downloaded,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            run(script::finish_download(&mut db, id, attempts, outcome, now))
        })
        .await
    }

    async fn attachment(&self, org_id: Id, id: Id) -> StoreResult<Option<StoredAttachment>> {
        self.read(move |c| run(script::attachment(&mut Lite::new(c), org_id, id)))
            .await
    }

    async fn attachment_org(&self, id: Id) -> StoreResult<Option<Id>> {
        self.read(move |c| run(script::attachment_org(&mut Lite::new(c), id)))
            .await
    }

    async fn add_upload(
        &self,
        org_id: Id,
        upload: NewUpload,
        now: DateTime<Utc>,
    ) -> StoreResult<Attachment> {
        self.write(move |tx| run(script::add_upload(&mut Lite::new(tx), org_id, upload, now)))
            .await
    }

    async fn remove_attachment(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Removed> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            run(script::remove_attachment(&mut db, org, user, id, now))
        })
        .await
    }

    fn link_key(&self) -> [u8; 32] {
        self.secrets.link_key()
    }

    async fn sweep_uploads(&self, before: DateTime<Utc>) -> StoreResult<Vec<String>> {
        self.write(move |tx| run(script::sweep_uploads(&mut Lite::new(tx), before)))
            .await
    }
}
