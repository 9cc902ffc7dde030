//! Attachments on SQLite (issue 17).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::media::{Attachment, AttachmentStatus};
use inbox_core::sync::Change;
use inbox_core::Id;
use rusqlite::{params, Connection, OptionalExtension};

use super::db::Lite;
use super::events::emit;
use super::rows::load_message;
use super::{audit, ms, SqliteStore};
use crate::store::db::now;
use crate::store::media::{
    message_state, over_message_max, removed_by, uploaded, Download, Downloaded, MediaSource,
    MediaStore, NewUpload, Removed, StoredAttachment, UploadOwner, DOWNLOAD_LEASE,
};
use crate::store::scripts::media as shared;
use crate::store::{Actor, StoreError, StoreResult};

/// Puts the owner's uploads on a new message (`scripts::media::attach`).
pub(super) fn attach(
    tx: &Connection,
    org: Id,
    message: Id,
    owner: UploadOwner,
    ids: &[Id],
    after: usize,
) -> StoreResult<Vec<(String, String)>> {
    now(shared::attach(
        &mut Lite::new(tx),
        org,
        message,
        owner,
        ids,
        after,
    ))
}

/// Rewrites a message's `attachments` JSON from its rows.
fn refresh(tx: &Connection, message: Id) -> StoreResult<()> {
    now(shared::refresh(&mut Lite::new(tx), message))
}

#[async_trait]
impl MediaStore for SqliteStore {
    async fn claim_downloads(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Download>> {
        // The worker looks on every write: a read says "nothing due" without taking the writer.
        let due: bool = self
            .read(move |c| {
                Ok(c.prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM attachments WHERE status = 'pending' AND next_attempt_at <= ?1)",
                )?
                .query_row([ms(now)], |r| r.get(0))?)
            })
            .await?;
        if !due {
            return Ok(Vec::new());
        }
        self.write(move |tx| {
            let due = tx
                .prepare_cached(
                    "SELECT a.id, a.org_id, a.message_id, a.content_type, a.source, a.source_ref, a.attempts,
                            (SELECT coalesce(sum(b.size), 0) FROM attachments b
                             WHERE b.message_id = a.message_id AND b.status = 'ready')
                     FROM attachments a
                     WHERE a.status = 'pending' AND a.next_attempt_at <= ?1
                     ORDER BY a.next_attempt_at, a.id LIMIT ?2",
                )?
                .query_map(params![ms(now), limit], |r| {
                    Ok((
                        r.get::<_, Id>(0)?,
                        r.get::<_, Id>(1)?,
                        r.get::<_, Id>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, i64>(6)?,
                        r.get::<_, i64>(7)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut claimed = Vec::with_capacity(due.len());
            for (id, org_id, message_id, content_type, source, source_ref, attempts, bytes) in due
            {
                tx.prepare_cached(
                    "UPDATE attachments SET attempts = attempts + 1, next_attempt_at = ?2 WHERE id = ?1",
                )?
                .execute(params![id, ms(now + DOWNLOAD_LEASE)])?;
                let Some(source) = MediaSource::parse(&source) else {
                    continue;
                };
                claimed.push(Download {
                    id,
                    org_id,
                    message_id,
                    content_type,
                    source,
                    source_ref,
                    attempts: u32::try_from(attempts + 1).unwrap_or(u32::MAX),
                    message_bytes: u64::try_from(bytes).unwrap_or_default(),
                });
            }
            Ok(claimed)
        })
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
            let Some((org, message)) = tx
                .prepare_cached(
                    "SELECT org_id, message_id FROM attachments
                     WHERE id = ?1 AND status = 'pending' AND attempts = ?2",
                )?
                .query_row(params![id, attempts], |r| Ok((r.get::<_, Id>(0)?, r.get::<_, Id>(1)?)))
                .optional()?
            else {
                return Ok(());
            };
            let stored: i64 = tx
                .prepare_cached(
                    "SELECT coalesce(sum(size), 0) FROM attachments WHERE message_id = ?1 AND status = 'ready'",
                )?
                .query_row([message], |r| r.get(0))?;
            let outcome = over_message_max(outcome, stored);
            match &outcome {
                Downloaded::Ready {
                    sha256,
                    size,
                    content_type,
                    has_thumbnail,
                } => {
                    tx.prepare_cached(
                        "UPDATE attachments SET status = 'ready', sha256 = ?2, size = ?3, content_type = ?4,
                                has_thumbnail = ?5, error = NULL, next_attempt_at = NULL
                         WHERE id = ?1",
                    )?
                    .execute(params![id, sha256, *size as i64, content_type, has_thumbnail])?;
                }
                Downloaded::Retry { error, at } => {
                    // A retry changes nothing a desktop shows.
                    tx.prepare_cached(
                        "UPDATE attachments SET error = ?2, next_attempt_at = ?3 WHERE id = ?1",
                    )?
                    .execute(params![id, error, ms(*at)])?;
                    return Ok(());
                }
                Downloaded::Failed { error } => {
                    tx.prepare_cached(
                        "UPDATE attachments SET status = 'failed', error = ?2, next_attempt_at = NULL
                         WHERE id = ?1",
                    )?
                    .execute(params![id, error])?;
                }
            }
            refresh(tx, message)?;
            emit(tx, org, now, &Change::Message(load_message(tx, org, message)?))?;
            Ok(())
        })
        .await
    }

    async fn attachment(&self, org_id: Id, id: Id) -> StoreResult<Option<StoredAttachment>> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT a.message_id, m.conversation_id, coalesce(v.customer_id, a.upload_customer),
                        a.uploaded_by, a.size, a.content_type, a.file_name, a.status, a.sha256,
                        a.has_thumbnail, m.direction, m.status
                 FROM attachments a
                 LEFT JOIN messages m ON m.id = a.message_id
                 LEFT JOIN conversations v ON v.id = m.conversation_id
                 WHERE a.id = ?1 AND a.org_id = ?2",
            )?
            .query_row([id, org_id], |r| {
                Ok(StoredAttachment {
                    message_id: r.get(0)?,
                    conversation_id: r.get(1)?,
                    customer_id: r.get(2)?,
                    uploaded_by: r.get(3)?,
                    size: u64::try_from(r.get::<_, i64>(4)?).unwrap_or_default(),
                    content_type: r.get(5)?,
                    file_name: r.get(6)?,
                    status: AttachmentStatus::parse(&r.get::<_, String>(7)?)
                        .unwrap_or(AttachmentStatus::Failed),
                    sha256: r.get(8)?,
                    has_thumbnail: r.get(9)?,
                    message: message_state(r.get(10)?, r.get(11)?),
                })
            })
            .optional()?)
        })
        .await
    }

    async fn attachment_org(&self, id: Id) -> StoreResult<Option<Id>> {
        self.read(move |c| {
            Ok(
                c.prepare_cached("SELECT org_id FROM attachments WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }

    async fn add_upload(
        &self,
        org_id: Id,
        upload: NewUpload,
        now: DateTime<Utc>,
    ) -> StoreResult<Attachment> {
        self.write(move |tx| {
            let (by, customer) = match upload.owner {
                UploadOwner::Staff(u) => (Some(u), None),
                UploadOwner::Portal(c) => (None, Some(c)),
            };
            tx.prepare_cached(
                "INSERT INTO attachments (org_id, position, content_type, file_name, size, status, source,
                                          source_ref, sha256, has_thumbnail, created_at, uploaded_by,
                                          upload_customer)
                 VALUES (?1, 0, ?2, ?3, ?4, 'ready', 'upload', '', ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                org_id,
                upload.content_type,
                upload.file_name,
                upload.size as i64,
                upload.sha256,
                upload.has_thumbnail,
                ms(now),
                by,
                customer
            ])?;
            Ok(uploaded(tx.last_insert_rowid(), upload))
        })
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
            let (message, sha256, file_name): (Option<Id>, Option<String>, String) = tx
                .prepare_cached(
                    "SELECT message_id, sha256, file_name FROM attachments WHERE id = ?1 AND org_id = ?2",
                )?
                .query_row([id, org], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?
                .ok_or(StoreError::NotFound)?;
            let name: String = tx
                .prepare_cached("SELECT name FROM users WHERE id = ?1")?
                .query_row([user], |r| r.get(0))?;
            match message {
                Some(_) => tx
                    .prepare_cached(
                        "UPDATE attachments SET status = 'failed', error = ?2, sha256 = NULL, size = 0,
                                has_thumbnail = 0, next_attempt_at = NULL
                         WHERE id = ?1",
                    )?
                    .execute(params![id, removed_by(&name)])?,
                None => tx
                    .prepare_cached("DELETE FROM attachments WHERE id = ?1")?
                    .execute([id])?,
            };
            audit(
                tx,
                org,
                Some(user),
                "attachment.removed",
                ("attachment", id),
                serde_json::json!({ "file_name": file_name, "message_id": message }),
                now,
            )?;
            let message = match message {
                Some(m) => {
                    refresh(tx, m)?;
                    let loaded = load_message(tx, org, m)?;
                    emit(tx, org, now, &Change::Message(loaded.clone()))?;
                    Some(loaded)
                }
                None => None,
            };
            let orphan = match sha256 {
                Some(sha) if !referenced(tx, &sha)? => Some(sha),
                _ => None,
            };
            Ok(Removed { message, orphan })
        })
        .await
    }

    fn link_key(&self) -> [u8; 32] {
        self.secrets.link_key()
    }

    async fn sweep_uploads(&self, before: DateTime<Utc>) -> StoreResult<Vec<String>> {
        self.write(move |tx| {
            let gone = tx
                .prepare_cached(
                    "DELETE FROM attachments WHERE message_id IS NULL AND created_at < ?1
                     RETURNING sha256",
                )?
                .query_map([ms(before)], |r| r.get::<_, Option<String>>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut orphans: Vec<String> = Vec::new();
            for sha in gone.into_iter().flatten() {
                if !orphans.contains(&sha) && !referenced(tx, &sha)? {
                    orphans.push(sha);
                }
            }
            Ok(orphans)
        })
        .await
    }
}

/// Whether any attachment still refers to a stored file.
fn referenced(tx: &Connection, sha256: &str) -> StoreResult<bool> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?1)")?
        .query_row([sha256], |r| r.get(0))?)
}
