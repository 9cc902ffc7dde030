//! Attachments in the store (issue 17): the rows a message's files are, the download queue they
//! form until their files are stored, and the JSON a message carries for them.

use chrono::{DateTime, Utc};
use inbox_core::media::{Attachment, AttachmentStatus};
use inbox_core::providers::Provider;
use inbox_core::Id;

use super::StoreResult;

/// How long a claimed download is held before another worker may take it again: more than a
/// WhatsApp download's two requests at their timeout, with storing and the thumbnail.
pub const DOWNLOAD_LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// Where a provider's file is fetched from: the providers that host files for us to download.
/// Not [`Provider`] itself, because the portal is not one of them: a portal customer's file is
/// an upload, already stored (its `source` is "upload"), and never downloaded. Stored in
/// `attachments.source` under its provider's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaSource {
    /// `source_ref` is the `MediaUrl{N}` of an MMS (fetched with the account's credentials).
    Twilio,
    /// `source_ref` is a Graph API media id (its URL is asked for with the access token).
    Whatsapp,
}

impl MediaSource {
    /// The provider that hosts the file.
    pub fn provider(self) -> Provider {
        match self {
            MediaSource::Twilio => Provider::Twilio,
            MediaSource::Whatsapp => Provider::Whatsapp,
        }
    }

    /// The source of a provider's files; None for the portal, which has none to download.
    pub fn of(provider: Provider) -> Option<MediaSource> {
        match provider {
            Provider::Twilio => Some(MediaSource::Twilio),
            Provider::Whatsapp => Some(MediaSource::Whatsapp),
            Provider::Portal => None,
        }
    }

    /// The stored name: its provider's.
    pub fn as_str(self) -> &'static str {
        self.provider().as_str()
    }

    /// A stored name back; None for anything but a provider that hosts files.
    pub fn parse(s: &str) -> Option<MediaSource> {
        Provider::parse(s).and_then(MediaSource::of)
    }
}

/// A file an inbound message names, before anything is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub content_type: String,
    pub file_name: String,
    pub source: MediaSource,
    pub source_ref: String,
    /// Refused from what the webhook said (a video, a fifth file): stored as failed at once,
    /// with this reason, and never fetched.
    pub refused: Option<String>,
}

/// A download the worker has claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub id: Id,
    pub org_id: Id,
    pub message_id: Id,
    pub content_type: String,
    pub source: MediaSource,
    pub source_ref: String,
    /// Including this one.
    pub attempts: u32,
    /// Bytes already stored for the message's other files (the 25 MB a message).
    pub message_bytes: u64,
}

/// How a download ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Downloaded {
    Ready {
        sha256: String,
        size: u64,
        content_type: String,
        has_thumbnail: bool,
    },
    /// Try again at `at`.
    Retry {
        error: String,
        at: DateTime<Utc>,
    },
    Failed {
        error: String,
    },
}

/// Whose an upload is until a message takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadOwner {
    /// A member of staff (`POST /api/v1/media`), for their replies.
    Staff(Id),
    /// A portal customer (their id), for their own messages.
    Portal(Id),
}

/// A file uploaded and stored, before a message takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpload {
    pub owner: UploadOwner,
    pub content_type: String,
    pub file_name: String,
    pub size: u64,
    pub sha256: String,
    pub has_thumbnail: bool,
}

/// What removing an attachment left behind.
#[derive(Debug, Clone, PartialEq)]
pub struct Removed {
    /// The message that carried it, now showing it removed (None for an upload never sent).
    pub message: Option<inbox_core::Message>,
    /// The stored file, when nothing else refers to it any more: the caller deletes it.
    pub orphan: Option<String>,
}

/// How long an upload that no message took is kept.
pub const UPLOAD_KEPT: chrono::Duration = chrono::Duration::hours(24);

/// A stored attachment, for the media routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    /// None for an upload no message has taken yet.
    pub message_id: Option<Id>,
    /// The message's conversation.
    pub conversation_id: Option<Id>,
    /// The customer of the message's conversation, or the portal customer who uploaded it.
    pub customer_id: Option<Id>,
    /// The member of staff who uploaded it.
    pub uploaded_by: Option<Id>,
    /// Its message's direction and delivery status (what a portal customer may see).
    pub message: Option<(inbox_core::Direction, inbox_core::DeliveryStatus)>,
    pub size: u64,
    pub content_type: String,
    pub file_name: String,
    pub status: AttachmentStatus,
    pub sha256: Option<String>,
    pub has_thumbnail: bool,
}

/// Why an upload cannot go on a message: not there, not the sender's, or taken already.
pub(crate) fn not_yours(id: Id) -> super::StoreError {
    super::StoreError::Invalid(format!(
        "attachment {id} is not a file you uploaded, or it is on another message already"
    ))
}

/// An upload as a message will carry it.
pub(crate) fn uploaded(id: Id, u: NewUpload) -> Attachment {
    Attachment {
        id,
        content_type: u.content_type,
        size: u.size,
        file_name: u.file_name,
        status: AttachmentStatus::Ready,
        error: None,
    }
}

/// The text a removed attachment shows instead of its file.
pub(crate) fn removed_by(name: &str) -> String {
    format!("Removed by {name}")
}

/// One attachment row as the JSON of a message lists it.
pub(crate) type AttachmentRow = (Id, String, String, i64, String, Option<String>);

/// The `attachments` JSON of a message from its rows (in position order).
pub(crate) fn attachments_json(rows: Vec<AttachmentRow>) -> StoreResult<String> {
    let list: Vec<Attachment> = rows
        .into_iter()
        .map(
            |(id, content_type, file_name, size, status, error)| Attachment {
                id,
                content_type,
                file_name,
                size: u64::try_from(size).unwrap_or_default(),
                status: AttachmentStatus::parse(&status).unwrap_or(AttachmentStatus::Failed),
                error,
            },
        )
        .collect();
    Ok(serde_json::to_string(&list)?)
}

/// The next try after `attempts` failed ones: 10 s, doubling, at most an hour.
pub fn backoff(attempts: u32) -> chrono::Duration {
    chrono::Duration::seconds(10 * 2_i64.pow(attempts.saturating_sub(1).min(9)))
        .min(chrono::Duration::hours(1))
}

/// Attempts before a file that keeps failing to download is given up.
pub const ATTEMPTS_MAX: u32 = 8;

/// (content type, file name) of each file, for the row preview.
pub(crate) fn files(list: &[NewAttachment]) -> Vec<(String, String)> {
    list.iter()
        .map(|a| (a.content_type.clone(), a.file_name.clone()))
        .collect()
}

/// What search indexes for a message: its text (a photo's caption) and its files' names.
pub(crate) fn searchable(body: &str, files: &[(String, String)]) -> String {
    let mut text = body.to_string();
    for (_, name) in files {
        text.push(' ');
        text.push_str(name);
    }
    text
}

/// A ready file that would take its message's stored files over 25 MB is failed instead.
pub(crate) fn over_message_max(outcome: Downloaded, stored: i64) -> Downloaded {
    match outcome {
        Downloaded::Ready { size, .. }
            if u64::try_from(stored).unwrap_or_default() + size
                > inbox_core::media::MESSAGE_MAX =>
        {
            Downloaded::Failed {
                error: inbox_core::media::Refused::MessageTooLarge.to_string(),
            }
        }
        other => other,
    }
}

/// A message's direction and status as stored, read back.
pub(crate) fn message_state(
    direction: Option<String>,
    status: Option<String>,
) -> Option<(inbox_core::Direction, inbox_core::DeliveryStatus)> {
    Some((
        inbox_core::Direction::parse(&direction?)?,
        inbox_core::DeliveryStatus::parse(&status?)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_media_source_is_stored_under_its_providers_name_and_the_portal_has_none() {
        for source in [MediaSource::Twilio, MediaSource::Whatsapp] {
            assert_eq!(source.as_str(), source.provider().as_str());
            assert_eq!(MediaSource::parse(source.as_str()), Some(source));
            assert_eq!(MediaSource::of(source.provider()), Some(source));
        }
        assert_eq!(MediaSource::of(Provider::Portal), None);
        for stored in ["portal", "upload", "meta", ""] {
            assert_eq!(MediaSource::parse(stored), None, "{stored}");
        }
    }
}
