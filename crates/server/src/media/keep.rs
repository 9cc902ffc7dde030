//! Keeping a file, whoever brought it (a provider's download, a staff or portal upload): what it
//! really is from its first bytes, the product's limits, one stored copy per content, and a
//! thumbnail for a photo.

use inbox_core::media::{self, Kind, Refused, FILE_MAX};

use super::thumbnail::thumbnail;
use super::Blobs;

/// A file checked and stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub sha256: String,
    pub size: u64,
    /// What the bytes are, whatever the sender said.
    pub content_type: String,
    pub has_thumbnail: bool,
}

/// Why a file was not kept.
#[derive(Debug, thiserror::Error)]
pub enum NotKept {
    #[error("{0}")]
    Refused(#[from] Refused),
    /// The store could not take it (a full disk, an unreachable bucket): worth trying again.
    #[error("storing the file failed: {0}")]
    Storage(#[from] std::io::Error),
}

/// The type of a file from its content. Photos and PDFs must say what they are; for a voice
/// note whose bytes say nothing (some codecs have no signature) the claimed type is taken.
pub fn content_type(bytes: &[u8], claimed: &str) -> Result<(String, Kind), Refused> {
    let sniffed = infer::get(bytes).map(|t| match t.mime_type() {
        "audio/m4a" => "audio/mp4",
        // Opus in an Ogg file (a WhatsApp voice note): named by its container, as WebKit and
        // WhatsApp's upload expect.
        "audio/opus" => "audio/ogg",
        "image/heif" if claimed.eq_ignore_ascii_case("image/heic") => "image/heic",
        other => other,
    });
    match sniffed {
        Some(t) => Ok((t.to_string(), media::kind(t)?)),
        None => {
            let t = media::essence(claimed);
            match media::kind(&t)? {
                Kind::VoiceNote => Ok((t, Kind::VoiceNote)),
                _ => Err(Refused::NotWhatItSays(t)),
            }
        }
    }
}

/// Checks a file against the limits and stores it once, with a thumbnail for a photo.
pub async fn keep(blobs: &Blobs, bytes: Vec<u8>, claimed_type: &str) -> Result<Kept, NotKept> {
    let (content_type, kind) = content_type(&bytes, claimed_type)?;
    let size = bytes.len() as u64;
    if size > FILE_MAX {
        return Err(Refused::TooLarge.into());
    }
    let sha256 = blobs.put(&bytes).await?;
    let has_thumbnail = kind == Kind::Photo && {
        let t = content_type.clone();
        match tokio::task::spawn_blocking(move || thumbnail(&bytes, &t)).await {
            Ok(Some(jpeg)) => blobs.put_thumbnail(&sha256, &jpeg).await.is_ok(),
            _ => false,
        }
    };
    Ok(Kept {
        sha256,
        size,
        content_type,
        has_thumbnail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_what_its_bytes_say() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(
            content_type(png, "image/jpeg").unwrap(),
            ("image/png".to_string(), Kind::Photo)
        );
        let pdf = b"%PDF-1.7\n";
        assert_eq!(content_type(pdf, "image/jpeg").unwrap().1, Kind::Pdf);
        // A WhatsApp voice note: Opus in Ogg, named by its container.
        let mut ogg = b"OggS".to_vec();
        ogg.resize(28, 0);
        ogg.extend_from_slice(b"OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0");
        assert_eq!(
            content_type(&ogg, "audio/ogg; codecs=opus").unwrap(),
            ("audio/ogg".to_string(), Kind::VoiceNote)
        );
        // An executable named as a photo is refused.
        let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff";
        assert!(content_type(exe, "image/jpeg").is_err());
        // Bytes that say nothing: the claimed type, if it is one that is taken.
        assert_eq!(
            content_type(b"\0\0\0", "audio/amr").unwrap().1,
            Kind::VoiceNote
        );
        assert!(content_type(b"\0\0\0", "text/html").is_err());
        assert_eq!(
            content_type(b"\0\0\0", "image/jpeg"),
            Err(Refused::NotWhatItSays("image/jpeg".into()))
        );
    }
}
