//! The files a provider's webhook names (issue 17): each becomes an attachment, fetched after the
//! webhook is answered; one the product does not take (a video, a fifth file) is kept as failed
//! with the reason, so the thread shows that something came.

use inbox_core::media::{self, Refused, FILES_MAX};

use crate::store::media::{MediaSource, NewAttachment};

/// `(content type, file name if given, URL or media id)` of each file, in order.
pub fn attachments<'a>(
    files: impl IntoIterator<Item = (&'a str, Option<&'a str>, &'a str)>,
    source: MediaSource,
) -> Vec<NewAttachment> {
    files
        .into_iter()
        .enumerate()
        .map(|(i, (content_type, name, source_ref))| {
            let refused = if i >= FILES_MAX {
                Some(Refused::TooMany)
            } else {
                media::kind(content_type).err()
            };
            NewAttachment {
                content_type: media::essence(content_type),
                file_name: media::file_name(name, content_type, i),
                source,
                source_ref: source_ref.to_string(),
                refused: refused.map(|r| r.to_string()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn videos_and_a_fifth_file_are_kept_as_refused() {
        let files = [
            ("image/jpeg", None, "u1"),
            ("video/mp4", None, "u2"),
            ("application/pdf", Some("quote.pdf"), "u3"),
            ("image/png", None, "u4"),
            ("image/png", None, "u5"),
        ];
        let a = attachments(files, MediaSource::Twilio);
        assert_eq!(a.len(), 5);
        assert_eq!(a[0].refused, None);
        assert_eq!(a[0].file_name, "photo-1.jpg");
        assert_eq!(
            a[1].refused.as_deref(),
            Some("Video not accepted; ask the customer for photos")
        );
        assert_eq!(a[2].file_name, "quote.pdf");
        assert_eq!(
            a[4].refused.as_deref(),
            Some("More than 4 files in one message")
        );
    }
}
