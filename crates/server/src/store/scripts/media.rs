//! A message's files inside the write that stores the message (issue 17): attachments from a
//! provider, queued for download, and uploads put on a reply or a portal message.

use chrono::{DateTime, Utc};
use inbox_core::Id;

use crate::store::db::{args, Db};
use crate::store::media::{attachments_json, not_yours, AttachmentRow, NewAttachment, UploadOwner};
use crate::store::rows::ms;
use crate::store::StoreResult;

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
