//! Attachments on SQLite (issue 17).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::media::{Attachment, AttachmentStatus};
use inbox_core::sync::Change;
use inbox_core::Id;
use rusqlite::{params, Connection, OptionalExtension};

use super::events::emit;
use super::rows::load_message;
use super::{audit, ms, SqliteStore};
use crate::store::media::{
    attachments_json, message_state, not_yours, over_message_max, removed_by, uploaded,
    AttachmentRow, Download, Downloaded, MediaSource, MediaStore, NewAttachment, NewUpload,
    Removed, StoredAttachment, UploadOwner, DOWNLOAD_LEASE,
};
use crate::store::{Actor, StoreError, StoreResult};

/// Stores a new message's attachments (pending, or failed when refused) and its JSON, written
/// from what was inserted (no read back: this is on every webhook with files).
pub(super) fn insert(
    tx: &Connection,
    org: Id,
    message: Id,
    files: &[NewAttachment],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    if files.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<AttachmentRow> = Vec::with_capacity(files.len());
    for (position, f) in files.iter().enumerate() {
        let (status, due) = match f.refused {
            Some(_) => ("failed", None),
            None => ("pending", Some(ms(at))),
        };
        tx.prepare_cached(
            "INSERT INTO attachments (org_id, message_id, position, content_type, file_name, status, error,
                                      source, source_ref, next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            org,
            message,
            position as i64,
            f.content_type,
            f.file_name,
            status,
            f.refused,
            f.source.as_str(),
            f.source_ref,
            due,
            ms(at)
        ])?;
        rows.push((
            tx.last_insert_rowid(),
            f.content_type.clone(),
            f.file_name.clone(),
            0,
            status.to_string(),
            f.refused.clone(),
        ));
    }
    tx.prepare_cached("UPDATE messages SET attachments = ?2 WHERE id = ?1")?
        .execute(params![message, attachments_json(rows)?])?;
    Ok(())
}

/// Puts the owner's uploads `ids` on a new message, after its first `after` files; returns
/// (content type, file name) of each, for the row preview and search.
pub(super) fn attach(
    tx: &Connection,
    org: Id,
    message: Id,
    owner: UploadOwner,
    ids: &[Id],
    after: usize,
) -> StoreResult<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let (by, customer) = match owner {
        UploadOwner::Staff(u) => (Some(u), None),
        UploadOwner::Portal(c) => (None, Some(c)),
    };
    let mut files = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let file = tx
            .prepare_cached(
                "UPDATE attachments SET message_id = ?3, position = ?4
                 WHERE id = ?1 AND org_id = ?2 AND message_id IS NULL AND status = 'ready'
                   AND uploaded_by IS ?5 AND upload_customer IS ?6
                 RETURNING content_type, file_name",
            )?
            .query_row(
                params![id, org, message, (after + i) as i64, by, customer],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()?
            .ok_or_else(|| not_yours(*id))?;
        files.push(file);
    }
    refresh(tx, message)?;
    Ok(files)
}

/// Rewrites a message's `attachments` JSON from its rows.
fn refresh(tx: &Connection, message: Id) -> StoreResult<()> {
    let rows = tx
        .prepare_cached(
            "SELECT id, content_type, file_name, size, status, error FROM attachments
             WHERE message_id = ?1 ORDER BY position, id",
        )?
        .query_map([message], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    tx.prepare_cached("UPDATE messages SET attachments = ?2 WHERE id = ?1")?
        .execute(params![message, attachments_json(rows)?])?;
    Ok(())
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
