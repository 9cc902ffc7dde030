//! A message's files inside the write that stores the message (issue 17): attachments from a
//! provider, queued for download, and uploads put on a reply or a portal message; the download
//! queue the worker drains, uploads, and removing a file.

use chrono::{DateTime, Utc};
use inbox_core::media::{Attachment, AttachmentStatus};
use inbox_core::sync::Change;
use inbox_core::Id;

use super::{audit, emit, load};
use crate::store::backend::script;
use crate::store::db::{args, Db, Dialect, Row, WriteTx};
use crate::store::media::{
    attachments_json, message_state, not_yours, over_message_max, removed_by, uploaded,
    AttachmentRow, Download, Downloaded, MediaSource, NewAttachment, NewUpload, Removed,
    StoredAttachment, UploadOwner, DOWNLOAD_LEASE,
};
use crate::store::rows::ms;
use crate::store::Store;
use crate::store::{Actor, StoreError, StoreResult};

/// Stores a new message's attachments (pending, or failed when refused) and its JSON, written
/// from what was inserted (no read back: this is on every webhook with files).
pub(crate) async fn insert(
    db: &mut impl Db,
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
        let id = db
            .int(
                "INSERT INTO attachments (org_id, message_id, position, content_type, file_name, status, error,
                                          source, source_ref, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                args![
                    org,
                    message,
                    position as i64,
                    &f.content_type,
                    &f.file_name,
                    status,
                    &f.refused,
                    f.source.as_str(),
                    &f.source_ref,
                    due,
                    ms(at)
                ],
            )
            .await?;
        rows.push((
            id,
            f.content_type.clone(),
            f.file_name.clone(),
            0,
            status.to_string(),
            f.refused.clone(),
        ));
    }
    let json = attachments_json(rows)?;
    db.exec(
        "UPDATE messages SET attachments = $2 WHERE id = $1",
        args![message, &json],
    )
    .await?;
    Ok(())
}

/// Puts the owner's uploads `ids` on a new message, after its first `after` files; returns
/// (content type, file name) of each, for the row preview and search.
pub(crate) async fn attach(
    db: &mut impl Db,
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
        let file = db
            .opt(
                "UPDATE attachments SET message_id = $3, position = $4
                 WHERE id = $1 AND org_id = $2 AND message_id IS NULL AND status = 'ready'
                   AND uploaded_by IS NOT DISTINCT FROM $5 AND upload_customer IS NOT DISTINCT FROM $6
                 RETURNING content_type, file_name",
                args![*id, org, message, (after + i) as i64, by, customer],
                |r| Ok((r.text(0)?, r.text(1)?)),
            )
            .await?
            .ok_or_else(|| not_yours(*id))?;
        files.push(file);
    }
    refresh(db, message).await?;
    Ok(files)
}

/// Rewrites a message's `attachments` JSON from its rows.
pub(crate) async fn refresh(db: &mut impl Db, message: Id) -> StoreResult<()> {
    let rows: Vec<AttachmentRow> = db
        .all(
            "SELECT id, content_type, file_name, size, status, error FROM attachments
             WHERE message_id = $1 ORDER BY position, id",
            args![message],
            |r| {
                Ok((
                    r.int(0)?,
                    r.text(1)?,
                    r.text(2)?,
                    r.int(3)?,
                    r.text(4)?,
                    r.opt_text(5)?,
                ))
            },
        )
        .await?;
    let json = attachments_json(rows)?;
    db.exec(
        "UPDATE messages SET attachments = $2 WHERE id = $1",
        args![message, &json],
    )
    .await?;
    Ok(())
}

/// Whether any download is due: the worker looks on every write, and this read says "nothing
/// due" without taking a writer.
pub(crate) async fn downloads_due(db: &mut impl Db, now: DateTime<Utc>) -> StoreResult<bool> {
    db.one(
        "SELECT EXISTS (SELECT 1 FROM attachments WHERE status = 'pending' AND next_attempt_at <= $1)",
        args![ms(now)],
        |r| r.flag(0),
    )
    .await
}

/// Takes up to `limit` due downloads, oldest first, and holds them for [`DOWNLOAD_LEASE`]
/// (counting the attempt), so no other worker takes them meanwhile.
pub(crate) async fn claim_downloads(
    db: &mut impl Db,
    now: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<Download>> {
    // Several PostgreSQL instances claim side by side: each skips what another holds. SQLite
    // has one writer, which holds them all.
    let lock = match db.dialect() {
        Dialect::Sqlite => "",
        Dialect::Postgres => "FOR UPDATE OF a SKIP LOCKED",
    };
    let sql = format!(
        "SELECT a.id, a.org_id, a.message_id, a.content_type, a.source, a.source_ref, a.attempts,
                (SELECT CAST(coalesce(sum(b.size), 0) AS bigint) FROM attachments b
                 WHERE b.message_id = a.message_id AND b.status = 'ready')
         FROM attachments a
         WHERE a.status = 'pending' AND a.next_attempt_at <= $1
         ORDER BY a.next_attempt_at, a.id LIMIT $2 {lock}"
    );
    let due = db.all(&sql, args![ms(now), limit], due_download).await?;
    let mut claimed = Vec::with_capacity(due.len());
    for (id, download) in due {
        db.exec(
            "UPDATE attachments SET attempts = attempts + 1, next_attempt_at = $2 WHERE id = $1",
            args![id, ms(now + DOWNLOAD_LEASE)],
        )
        .await?;
        claimed.extend(download);
    }
    Ok(claimed)
}

/// A due download's id, and the download as claimed (its attempt counted) unless its source is
/// one this server does not know: held like the others, and never fetched.
fn due_download(r: &Row) -> StoreResult<(Id, Option<Download>)> {
    let id = r.int(0)?;
    let Some(source) = MediaSource::parse(&r.text(4)?) else {
        return Ok((id, None));
    };
    let download = Download {
        id,
        org_id: r.int(1)?,
        message_id: r.int(2)?,
        content_type: r.text(3)?,
        source,
        source_ref: r.text(5)?,
        attempts: u32::try_from(r.int(6)? + 1).unwrap_or(u32::MAX),
        message_bytes: u64::try_from(r.int(7)?).unwrap_or_default(),
    };
    Ok((id, Some(download)))
}

/// The organisation of a download still pending, whose lock finishing it takes (PostgreSQL).
pub(crate) async fn pending_download_org(db: &mut impl Db, id: Id) -> StoreResult<Option<Id>> {
    db.opt(
        "SELECT org_id FROM attachments WHERE id = $1 AND status = 'pending'",
        args![id],
        |r| r.int(0),
    )
    .await
}

pub(crate) async fn finish_download(
    db: &mut impl WriteTx,
    id: Id,
    attempts: u32,
    outcome: Downloaded,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    // Still this worker's claim (inside the write, which holds the organisation's lock).
    let held = db
        .opt(
            "SELECT org_id, message_id FROM attachments
             WHERE id = $1 AND status = 'pending' AND attempts = $2",
            args![id, attempts],
            |r| Ok((r.int(0)?, r.int(1)?)),
        )
        .await?;
    let Some((org, message)) = held else {
        return Ok(());
    };
    let stored = db
        .int(
            "SELECT CAST(coalesce(sum(size), 0) AS bigint) FROM attachments WHERE message_id = $1 AND status = 'ready'",
            args![message],
        )
        .await?;
    let changed = match over_message_max(outcome, stored) {
        Downloaded::Ready {
            sha256,
            size,
            content_type,
            has_thumbnail,
        } => {
            db.exec(
                "UPDATE attachments SET status = 'ready', sha256 = $2, size = $3, content_type = $4,
                        has_thumbnail = $5, error = NULL, next_attempt_at = NULL
                 WHERE id = $1 AND status = 'pending'",
                args![id, &sha256, size as i64, &content_type, has_thumbnail],
            )
            .await?
        }
        Downloaded::Retry { error, at } => {
            // A retry changes nothing a desktop shows.
            db.exec(
                "UPDATE attachments SET error = $2, next_attempt_at = $3
                 WHERE id = $1 AND status = 'pending'",
                args![id, &error, ms(at)],
            )
            .await?;
            return Ok(());
        }
        Downloaded::Failed { error } => {
            db.exec(
                "UPDATE attachments SET status = 'failed', error = $2, next_attempt_at = NULL
                 WHERE id = $1 AND status = 'pending'",
                args![id, &error],
            )
            .await?
        }
    };
    if changed > 0 {
        refresh(db, message).await?;
        let m = load::message(db, org, message).await?;
        emit(db, org, now, &Change::Message(m)).await?;
    }
    Ok(())
}

pub(crate) async fn attachment(
    db: &mut impl Db,
    org: Id,
    id: Id,
) -> StoreResult<Option<StoredAttachment>> {
    db.opt(
        "SELECT a.message_id, m.conversation_id, coalesce(v.customer_id, a.upload_customer),
                a.uploaded_by, a.size, a.content_type, a.file_name, a.status, a.sha256,
                a.has_thumbnail, m.direction, m.status
         FROM attachments a
         LEFT JOIN messages m ON m.id = a.message_id
         LEFT JOIN conversations v ON v.id = m.conversation_id
         WHERE a.id = $1 AND a.org_id = $2",
        args![id, org],
        |r| {
            Ok(StoredAttachment {
                message_id: r.opt_int(0)?,
                conversation_id: r.opt_int(1)?,
                customer_id: r.opt_int(2)?,
                uploaded_by: r.opt_int(3)?,
                size: u64::try_from(r.int(4)?).unwrap_or_default(),
                content_type: r.text(5)?,
                file_name: r.text(6)?,
                status: AttachmentStatus::parse(&r.text(7)?).unwrap_or(AttachmentStatus::Failed),
                sha256: r.opt_text(8)?,
                has_thumbnail: r.flag(9)?,
                message: message_state(r.opt_text(10)?, r.opt_text(11)?),
            })
        },
    )
    .await
}

pub(crate) async fn attachment_org(db: &mut impl Db, id: Id) -> StoreResult<Option<Id>> {
    db.opt(
        "SELECT org_id FROM attachments WHERE id = $1",
        args![id],
        |r| r.int(0),
    )
    .await
}

pub(crate) async fn add_upload(
    db: &mut impl Db,
    org: Id,
    upload: NewUpload,
    now: DateTime<Utc>,
) -> StoreResult<Attachment> {
    let (by, customer) = match upload.owner {
        UploadOwner::Staff(u) => (Some(u), None),
        UploadOwner::Portal(c) => (None, Some(c)),
    };
    let id = db
        .int(
            "INSERT INTO attachments (org_id, position, content_type, file_name, size, status, source,
                                      source_ref, sha256, has_thumbnail, created_at, uploaded_by,
                                      upload_customer)
             VALUES ($1, 0, $2, $3, $4, 'ready', 'upload', '', $5, $6, $7, $8, $9)
             RETURNING id",
            args![
                org,
                &upload.content_type,
                &upload.file_name,
                upload.size as i64,
                &upload.sha256,
                upload.has_thumbnail,
                ms(now),
                by,
                customer
            ],
        )
        .await?;
    Ok(uploaded(id, upload))
}

/// Removes a sensitive file (a bank card, a V5C): the attachment stays in its message as
/// failed, "Removed by …", without its file; the audit log records who did it. An upload no
/// message took is deleted.
pub(crate) async fn remove_attachment(
    db: &mut impl WriteTx,
    org: Id,
    user: Id,
    id: Id,
    now: DateTime<Utc>,
) -> StoreResult<Removed> {
    let (message, sha256, file_name) = db
        .opt(
            "SELECT message_id, sha256, file_name FROM attachments WHERE id = $1 AND org_id = $2",
            args![id, org],
            |r| Ok((r.opt_int(0)?, r.opt_text(1)?, r.text(2)?)),
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let name = db
        .one("SELECT name FROM users WHERE id = $1", args![user], |r| {
            r.text(0)
        })
        .await?;
    match message {
        Some(_) => {
            db.exec(
                "UPDATE attachments SET status = 'failed', error = $2, sha256 = NULL, size = 0,
                        has_thumbnail = false, next_attempt_at = NULL
                 WHERE id = $1",
                args![id, &removed_by(&name)],
            )
            .await?
        }
        None => {
            db.exec("DELETE FROM attachments WHERE id = $1", args![id])
                .await?
        }
    };
    let detail = serde_json::json!({ "file_name": file_name, "message_id": message });
    let subject = ("attachment", id);
    audit(
        db,
        org,
        Some(user),
        "attachment.removed",
        subject,
        detail,
        now,
    )
    .await?;
    let message = match message {
        Some(m) => {
            refresh(db, m).await?;
            let loaded = load::message(db, org, m).await?;
            emit(db, org, now, &Change::Message(loaded.clone())).await?;
            Some(loaded)
        }
        None => None,
    };
    // Another organisation's identical file is counted too.
    let orphan = match sha256 {
        Some(sha) if !referenced(db, &sha).await? => Some(sha),
        _ => None,
    };
    Ok(Removed { message, orphan })
}

pub(crate) async fn sweep_uploads(
    db: &mut impl Db,
    before: DateTime<Utc>,
) -> StoreResult<Vec<String>> {
    let gone = db
        .all(
            "DELETE FROM attachments WHERE message_id IS NULL AND created_at < $1 RETURNING sha256",
            args![ms(before)],
            |r| r.opt_text(0),
        )
        .await?;
    let mut orphans: Vec<String> = Vec::new();
    for sha in gone.into_iter().flatten() {
        if !orphans.contains(&sha) && !referenced(db, &sha).await? {
            orphans.push(sha);
        }
    }
    Ok(orphans)
}

/// Whether any attachment still refers to a stored file.
async fn referenced(db: &mut impl Db, sha256: &str) -> StoreResult<bool> {
    db.one(
        "SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = $1)",
        args![sha256],
        |r| r.flag(0),
    )
    .await
}

impl Store {
    /// Takes up to `limit` downloads that are due, oldest first, and holds them for
    /// [`DOWNLOAD_LEASE`] (counting the attempt), so no other worker takes them meanwhile.
    pub async fn claim_downloads(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Download>> {
        // The worker looks on every write: a read says "nothing due" without a transaction.
        if !self.read(script!(|c| downloads_due(c, now))).await? {
            return Ok(Vec::new());
        }
        self.write(None, script!(|tx| claim_downloads(tx, now, limit)))
            .await
    }

    /// Records how a download ended, unless its claim ran out and another worker holds it now
    /// (`attempts` is the claim's); the message's `attachments` and a `message` event follow. A
    /// file that would take its message over 25 MB is recorded as failed instead.
    pub async fn finish_download(
        &self,
        id: Id,
        attempts: u32,
        outcome: Downloaded,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let Some(org) = self.read(script!(|c| pending_download_org(c, id))).await? else {
            return Ok(());
        };
        self.write(
            Some(org),
            script!(|tx| finish_download(tx, id, attempts, outcome, now)),
        )
        .await
    }

    /// An attachment of the organisation, or None (another organisation's is None too).
    pub async fn attachment(&self, org_id: Id, id: Id) -> StoreResult<Option<StoredAttachment>> {
        self.read(script!(|c| attachment(c, org_id, id))).await
    }

    /// The organisation an attachment belongs to: only for a signed link, whose signature is
    /// the caller's authority.
    pub async fn attachment_org(&self, id: Id) -> StoreResult<Option<Id>> {
        self.read(script!(|c| attachment_org(c, id))).await
    }

    /// Records an uploaded file (already stored, so `ready`), for a message to take later.
    pub async fn add_upload(
        &self,
        org_id: Id,
        upload: NewUpload,
        now: DateTime<Utc>,
    ) -> StoreResult<Attachment> {
        self.write_one(script!(|c| add_upload(c, org_id, upload, now)))
            .await
    }

    /// Removes a sensitive file (a bank card, a V5C): the attachment stays in its message as
    /// failed, "Removed by …", without its file; the audit log records who did it.
    pub async fn remove_attachment(
        &self,
        actor: &Actor,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Removed> {
        let (org, user) = (actor.org_id, actor.user_id);
        self.write(
            Some(org),
            script!(|tx| remove_attachment(tx, org, user, id, now)),
        )
        .await
    }

    /// The key that signs links to files, shared by every instance on this database's key.
    pub fn link_key(&self) -> [u8; 32] {
        self.secret_box().link_key()
    }

    /// Forgets uploads that no message took before `before`; returns the stored files nothing
    /// refers to any more, for the caller to delete.
    pub async fn sweep_uploads(&self, before: DateTime<Utc>) -> StoreResult<Vec<String>> {
        self.write(None, script!(|tx| sweep_uploads(tx, before)))
            .await
    }
}
