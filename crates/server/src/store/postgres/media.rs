//! Attachments on PostgreSQL (issue 17).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::media::{Attachment, AttachmentStatus};
use inbox_core::sync::Change;
use inbox_core::Id;
use sqlx::PgConnection;

use super::events::emit;
use super::rows::load_message;
use super::{audit, PgStore};
use crate::store::media::{
    message_state, over_message_max, removed_by, uploaded, Download, Downloaded, MediaSource,
    MediaStore, NewUpload, Removed, StoredAttachment, UploadOwner, DOWNLOAD_LEASE,
};
use crate::store::rows::ms;
use crate::store::{Actor, StoreError, StoreResult};

pub(super) use crate::store::scripts::media::{attach, refresh};

#[async_trait]
impl MediaStore for PgStore {
    async fn claim_downloads(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Download>> {
        type Due = (Id, Id, Id, String, String, String, i64, i64);
        // The worker looks on every write: a read says "nothing due" without a transaction.
        let due: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM attachments WHERE status = 'pending' AND next_attempt_at <= $1)",
        )
        .bind(ms(now))
        .fetch_one(&mut *self.conn().await?)
        .await?;
        if !due {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_any().await?;
        // Several instances claim side by side: each skips what another holds.
        let due: Vec<Due> = sqlx::query_as(
            "UPDATE attachments a SET attempts = a.attempts + 1, next_attempt_at = $2
             FROM (SELECT id FROM attachments
                   WHERE status = 'pending' AND next_attempt_at <= $1
                   ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) d
             WHERE a.id = d.id
             RETURNING a.id, a.org_id, a.message_id, a.content_type, a.source, a.source_ref, a.attempts,
                       (SELECT coalesce(sum(b.size), 0)::bigint FROM attachments b
                        WHERE b.message_id = a.message_id AND b.status = 'ready')",
        )
        .bind(ms(now))
        .bind(ms(now + DOWNLOAD_LEASE))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        self.commit(tx).await?;
        let mut claimed: Vec<Download> = due
            .into_iter()
            .filter_map(
                |(id, org_id, message_id, content_type, source, source_ref, attempts, bytes)| {
                    Some(Download {
                        id,
                        org_id,
                        message_id,
                        content_type,
                        source: MediaSource::parse(&source)?,
                        source_ref,
                        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        message_bytes: u64::try_from(bytes).unwrap_or_default(),
                    })
                },
            )
            .collect();
        claimed.sort_by_key(|d| d.id);
        Ok(claimed)
    }

    async fn finish_download(
        &self,
        id: Id,
        attempts: u32,
        outcome: Downloaded,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let found: Option<(Id, Id)> = sqlx::query_as(
            "SELECT org_id, message_id FROM attachments WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
        drop(c);
        let Some((org, message)) = found else {
            return Ok(());
        };
        let mut tx = self.begin(org).await?;
        // Still this worker's claim (under the organisation's lock, so it stays so).
        let held: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM attachments WHERE id = $1 AND status = 'pending' AND attempts = $2",
        )
        .bind(id)
        .bind(i64::from(attempts))
        .fetch_optional(&mut *tx)
        .await?;
        if held.is_none() {
            return self.commit(tx).await;
        }
        let stored: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum(size), 0)::bigint FROM attachments WHERE message_id = $1 AND status = 'ready'",
        )
        .bind(message)
        .fetch_one(&mut *tx)
        .await?;
        let outcome = over_message_max(outcome, stored);
        let changed = match &outcome {
            Downloaded::Ready {
                sha256,
                size,
                content_type,
                has_thumbnail,
            } => sqlx::query(
                "UPDATE attachments SET status = 'ready', sha256 = $2, size = $3, content_type = $4,
                        has_thumbnail = $5, error = NULL, next_attempt_at = NULL
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .bind(sha256)
            .bind(*size as i64)
            .bind(content_type)
            .bind(has_thumbnail)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Downloaded::Retry { error, at } => {
                // A retry changes nothing a desktop shows.
                sqlx::query(
                    "UPDATE attachments SET error = $2, next_attempt_at = $3
                     WHERE id = $1 AND status = 'pending'",
                )
                .bind(id)
                .bind(error)
                .bind(ms(*at))
                .execute(&mut *tx)
                .await?;
                return self.commit(tx).await;
            }
            Downloaded::Failed { error } => sqlx::query(
                "UPDATE attachments SET status = 'failed', error = $2, next_attempt_at = NULL
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .bind(error)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if changed > 0 {
            refresh(&mut tx, message).await?;
            let m = load_message(&mut tx, org, message).await?;
            emit(&mut tx, org, now, &Change::Message(m)).await?;
        }
        self.commit(tx).await
    }

    async fn attachment(&self, org_id: Id, id: Id) -> StoreResult<Option<StoredAttachment>> {
        type Row = (
            Option<Id>,
            Option<Id>,
            Option<Id>,
            Option<Id>,
            i64,
            String,
            String,
            String,
            Option<String>,
            bool,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT a.message_id, m.conversation_id, coalesce(v.customer_id, a.upload_customer),
                    a.uploaded_by, a.size, a.content_type, a.file_name, a.status, a.sha256,
                    a.has_thumbnail, m.direction, m.status
             FROM attachments a
             LEFT JOIN messages m ON m.id = a.message_id
             LEFT JOIN conversations v ON v.id = m.conversation_id
             WHERE a.id = $1 AND a.org_id = $2",
        )
        .bind(id)
        .bind(org_id)
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        Ok(row.map(
            |(
                message_id,
                conversation_id,
                customer_id,
                uploaded_by,
                size,
                content_type,
                file_name,
                status,
                sha256,
                has_thumbnail,
                direction,
                message_status,
            )| StoredAttachment {
                message_id,
                conversation_id,
                customer_id,
                uploaded_by,
                size: u64::try_from(size).unwrap_or_default(),
                content_type,
                file_name,
                status: AttachmentStatus::parse(&status).unwrap_or(AttachmentStatus::Failed),
                sha256,
                has_thumbnail,
                message: message_state(direction, message_status),
            },
        ))
    }

    async fn attachment_org(&self, id: Id) -> StoreResult<Option<Id>> {
        Ok(
            sqlx::query_scalar("SELECT org_id FROM attachments WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *self.conn().await?)
                .await?,
        )
    }

    async fn add_upload(
        &self,
        org_id: Id,
        upload: NewUpload,
        now: DateTime<Utc>,
    ) -> StoreResult<Attachment> {
        let (by, customer) = match upload.owner {
            UploadOwner::Staff(u) => (Some(u), None),
            UploadOwner::Portal(c) => (None, Some(c)),
        };
        let id: Id = sqlx::query_scalar(
            "INSERT INTO attachments (org_id, position, content_type, file_name, size, status, source,
                                      source_ref, sha256, has_thumbnail, created_at, uploaded_by,
                                      upload_customer)
             VALUES ($1, 0, $2, $3, $4, 'ready', 'upload', '', $5, $6, $7, $8, $9)
             RETURNING id",
        )
        .bind(org_id)
        .bind(&upload.content_type)
        .bind(&upload.file_name)
        .bind(upload.size as i64)
        .bind(&upload.sha256)
        .bind(upload.has_thumbnail)
        .bind(ms(now))
        .bind(by)
        .bind(customer)
        .fetch_one(&mut *self.conn().await?)
        .await?;
        Ok(uploaded(id, upload))
    }

    async fn remove_attachment(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Removed> {
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let (message, sha256, file_name): (Option<Id>, Option<String>, String) = sqlx::query_as(
            "SELECT message_id, sha256, file_name FROM attachments WHERE id = $1 AND org_id = $2",
        )
        .bind(id)
        .bind(org)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let name: String = sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
            .bind(user)
            .fetch_one(&mut *tx)
            .await?;
        match message {
            Some(_) => {
                sqlx::query(
                    "UPDATE attachments SET status = 'failed', error = $2, sha256 = NULL, size = 0,
                        has_thumbnail = false, next_attempt_at = NULL
                 WHERE id = $1",
                )
                .bind(id)
                .bind(removed_by(&name))
                .execute(&mut *tx)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM attachments WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
            }
        };
        audit(
            &mut tx,
            org,
            Some(user),
            "attachment.removed",
            ("attachment", id),
            serde_json::json!({ "file_name": file_name, "message_id": message }),
            now,
        )
        .await?;
        let message = match message {
            Some(m) => {
                refresh(&mut tx, m).await?;
                let loaded = load_message(&mut tx, org, m).await?;
                emit(&mut tx, org, now, &Change::Message(loaded.clone())).await?;
                Some(loaded)
            }
            None => None,
        };
        // Under the organisation's lock; another organisation's identical file is counted too.
        let orphan = match sha256 {
            Some(sha) if !referenced(&mut tx, &sha).await? => Some(sha),
            _ => None,
        };
        self.commit(tx).await?;
        Ok(Removed { message, orphan })
    }

    fn link_key(&self) -> [u8; 32] {
        self.secrets.link_key()
    }

    async fn sweep_uploads(&self, before: DateTime<Utc>) -> StoreResult<Vec<String>> {
        let mut tx = self.begin_any().await?;
        let gone: Vec<Option<String>> = sqlx::query_scalar(
            "DELETE FROM attachments WHERE message_id IS NULL AND created_at < $1 RETURNING sha256",
        )
        .bind(ms(before))
        .fetch_all(&mut *tx)
        .await?;
        let mut orphans: Vec<String> = Vec::new();
        for sha in gone.into_iter().flatten() {
            if !orphans.contains(&sha) && !referenced(&mut tx, &sha).await? {
                orphans.push(sha);
            }
        }
        self.commit(tx).await?;
        Ok(orphans)
    }
}

/// Whether any attachment still refers to a stored file.
async fn referenced(c: &mut PgConnection, sha256: &str) -> StoreResult<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = $1)")
            .bind(sha256)
            .fetch_one(&mut *c)
            .await?,
    )
}
