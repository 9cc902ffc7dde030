//! Attachments on PostgreSQL (issue 17).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::media::AttachmentStatus;
use inbox_core::sync::Change;
use inbox_core::Id;
use sqlx::PgConnection;

use super::events::emit;
use super::rows::load_message;
use super::{PgStore, Tx};
use crate::store::media::{
    attachments_json, over_message_max, AttachmentRow, Download, Downloaded, MediaSource,
    MediaStore, NewAttachment, StoredAttachment, DOWNLOAD_LEASE,
};
use crate::store::rows::ms;
use crate::store::StoreResult;

/// Stores a new message's attachments (pending, or failed when refused) and its JSON.
pub(super) async fn insert(
    tx: &mut Tx,
    org: Id,
    message: Id,
    files: &[NewAttachment],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    if files.is_empty() {
        return Ok(());
    }
    for (position, f) in files.iter().enumerate() {
        let (status, due) = match f.refused {
            Some(_) => ("failed", None),
            None => ("pending", Some(ms(at))),
        };
        sqlx::query(
            "INSERT INTO attachments (org_id, message_id, position, content_type, file_name, status, error,
                                      source, source_ref, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(org)
        .bind(message)
        .bind(position as i64)
        .bind(&f.content_type)
        .bind(&f.file_name)
        .bind(status)
        .bind(&f.refused)
        .bind(f.source.as_str())
        .bind(&f.source_ref)
        .bind(due)
        .bind(ms(at))
        .execute(&mut **tx)
        .await?;
    }
    refresh(tx, message).await
}

/// Rewrites a message's `attachments` JSON from its rows.
async fn refresh(c: &mut PgConnection, message: Id) -> StoreResult<()> {
    let rows: Vec<AttachmentRow> = sqlx::query_as(
        "SELECT id, content_type, file_name, size, status, error FROM attachments
         WHERE message_id = $1 ORDER BY position, id",
    )
    .bind(message)
    .fetch_all(&mut *c)
    .await?;
    sqlx::query("UPDATE messages SET attachments = $2 WHERE id = $1")
        .bind(message)
        .bind(attachments_json(rows)?)
        .execute(&mut *c)
        .await?;
    Ok(())
}

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
        let row: Option<(Id, Id, String, String, String, Option<String>, bool)> = sqlx::query_as(
            "SELECT a.message_id, m.conversation_id, a.content_type, a.file_name, a.status,
                    a.sha256, a.has_thumbnail
             FROM attachments a JOIN messages m ON m.id = a.message_id
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
                content_type,
                file_name,
                status,
                sha256,
                has_thumbnail,
            )| {
                StoredAttachment {
                    message_id,
                    conversation_id,
                    content_type,
                    file_name,
                    status: AttachmentStatus::parse(&status).unwrap_or(AttachmentStatus::Failed),
                    sha256,
                    has_thumbnail,
                }
            },
        ))
    }
}
