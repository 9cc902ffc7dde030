//! Photos, documents and voice notes on messages (issue 17): what a message carries, which files
//! are taken and how large, and how a row's preview names them (LST-10).
//!
//! The limits are the seed product's: JPEG, PNG, WebP, HEIC and PDF up to 10 MB a file, 25 MB and
//! 4 files a message; voice notes (WhatsApp audio, MMS audio) are taken too. Videos are refused:
//! they are large, garages do not need them to quote, and a refused file is shown as such in the
//! thread ("Video not accepted") so the customer can be asked for photos instead.

use serde::{Deserialize, Serialize};

use crate::model::Id;

/// Largest file taken, in bytes.
pub const FILE_MAX: u64 = 10 * 1024 * 1024;
/// Largest total for one message, in bytes.
pub const MESSAGE_MAX: u64 = 25 * 1024 * 1024;
/// Most files on one message.
pub const FILES_MAX: usize = 4;

crate::model::wire_enum!(
    /// Where an attachment's file stands: on its way, stored, or not to be had.
    AttachmentStatus { Pending = "pending", Ready = "ready", Failed = "failed" }
);

/// A file on a message (`attachments` on the wire, always an array).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: Id,
    pub content_type: String,
    /// Bytes; 0 until the file is stored.
    pub size: u64,
    /// Never empty: the sender's name for it, or one made from its kind ("photo-1.jpg").
    pub file_name: String,
    pub status: AttachmentStatus,
    /// Why a failed file could not be had, in words for the front desk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a file is, for the thread and the row preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Photo,
    Pdf,
    VoiceNote,
}

/// Why a file is not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("Video not accepted; ask the customer for photos")]
    Video,
    #[error("{0} files are not accepted")]
    Type(String),
    #[error("Over 10 MB")]
    TooLarge,
    #[error("Over 25 MB in one message")]
    MessageTooLarge,
    #[error("More than 4 files in one message")]
    TooMany,
    #[error("Not a real {0} file")]
    NotWhatItSays(String),
}

/// The media type without parameters, lower case (`image/jpeg; charset=x` → `image/jpeg`).
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether a file of this type is taken, and as what.
pub fn kind(content_type: &str) -> Result<Kind, Refused> {
    let t = essence(content_type);
    match t.as_str() {
        "image/jpeg" | "image/jpg" | "image/png" | "image/webp" | "image/heic" | "image/heif" => {
            Ok(Kind::Photo)
        }
        "application/pdf" => Ok(Kind::Pdf),
        "audio/ogg" | "audio/opus" | "audio/mpeg" | "audio/mp3" | "audio/amr" | "audio/mp4"
        | "audio/aac" | "audio/x-m4a" | "audio/m4a" => Ok(Kind::VoiceNote),
        _ if t.starts_with("video/") => Err(Refused::Video),
        _ => Err(Refused::Type(if t.is_empty() {
            "Unknown".into()
        } else {
            t
        })),
    }
}

/// Characters that change how text reads without being seen: controls, and the bidirectional
/// and zero-width formatting marks ("invoice\u{202E}fdp.exe" reads as "invoiceexe.pdf").
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
}

/// The extension a file of this type is saved with.
pub fn extension(content_type: &str) -> Option<&'static str> {
    Some(match essence(content_type).as_str() {
        "image/jpeg" | "image/jpg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/heic" | "image/heif" => "heic",
        "application/pdf" => "pdf",
        "audio/ogg" | "audio/opus" => "ogg",
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/amr" => "amr",
        "audio/mp4" | "audio/aac" | "audio/x-m4a" | "audio/m4a" => "m4a",
        _ => return None,
    })
}

/// A file's name: the sender's (without a path or hidden characters, ending in its type's
/// extension, so "quote.pdf.exe" sent as a PDF is saved as "quote.pdf.exe.pdf"), or one made
/// from its kind for a file that came without one: `photo-2.jpg`, `document-1.pdf`.
pub fn file_name(given: Option<&str>, content_type: &str, position: usize) -> String {
    let given = given
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or_default())
        .map(|n| {
            n.chars()
                .filter(|c| !is_hidden(*c))
                .take(200)
                .collect::<String>()
        })
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if let Some(n) = given {
        let lower = n.to_ascii_lowercase();
        return match extension(content_type) {
            Some("jpg") if lower.ends_with(".jpg") || lower.ends_with(".jpeg") => n,
            Some(ext) if !lower.ends_with(&format!(".{ext}")) => format!("{n}.{ext}"),
            _ => n,
        };
    }
    let t = essence(content_type);
    let (stem, ext) = match t.as_str() {
        "image/jpeg" | "image/jpg" => ("photo", "jpg"),
        "image/png" => ("photo", "png"),
        "image/webp" => ("photo", "webp"),
        "image/heic" | "image/heif" => ("photo", "heic"),
        "application/pdf" => ("document", "pdf"),
        "audio/ogg" | "audio/opus" => ("voice-note", "ogg"),
        "audio/mpeg" | "audio/mp3" => ("voice-note", "mp3"),
        "audio/amr" => ("voice-note", "amr"),
        "audio/mp4" | "audio/aac" | "audio/x-m4a" => ("voice-note", "m4a"),
        _ if t.starts_with("video/") => ("video", "mp4"),
        _ => ("file", "bin"),
    };
    format!("{stem}-{}.{ext}", position + 1)
}

/// What a row says for a message's files (LST-10): "Photo", "2 photos", "PDF: quote.pdf",
/// "Voice note", "3 files".
pub fn preview(files: &[(String, String)]) -> String {
    let kinds: Vec<Option<Kind>> = files.iter().map(|(t, _)| kind(t).ok()).collect();
    match (files, kinds.as_slice()) {
        ([], _) => String::new(),
        ([(_, name)], [Some(Kind::Pdf)]) => format!("PDF: {name}"),
        ([_], [Some(Kind::Photo)]) => "Photo".into(),
        ([_], [Some(Kind::VoiceNote)]) => "Voice note".into(),
        ([(_, name)], [None]) => format!("File: {name}"),
        (_, k) if k.iter().all(|k| *k == Some(Kind::Photo)) => format!("{} photos", k.len()),
        (f, _) => format!("{} files", f.len()),
    }
}

/// A message's text and files as its row shows them: the text, else what the files are.
pub fn row_text(body: &str, files: &[(String, String)]) -> String {
    if body.trim().is_empty() {
        preview(files)
    } else {
        body.to_string()
    }
}

/// [`row_text`] for a stored message's attachments (a notification's text, say).
pub fn text_of(body: &str, attachments: &[Attachment]) -> String {
    let files: Vec<(String, String)> = attachments
        .iter()
        .map(|a| (a.content_type.clone(), a.file_name.clone()))
        .collect();
    row_text(body, &files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(t: &str, n: &str) -> (String, String) {
        (t.to_string(), n.to_string())
    }

    #[test]
    fn lst10_a_row_names_a_message_s_files() {
        assert_eq!(preview(&[f("image/jpeg", "a.jpg")]), "Photo");
        assert_eq!(
            preview(&[f("image/jpeg", "a"), f("image/png", "b")]),
            "2 photos"
        );
        assert_eq!(
            preview(&[f("application/pdf", "quote.pdf")]),
            "PDF: quote.pdf"
        );
        assert_eq!(preview(&[f("audio/ogg; codecs=opus", "v")]), "Voice note");
        assert_eq!(
            preview(&[f("image/jpeg", "a"), f("application/pdf", "q")]),
            "2 files"
        );
        assert_eq!(preview(&[f("video/mp4", "clip.mp4")]), "File: clip.mp4");
        assert_eq!(row_text("  ", &[f("image/jpeg", "a")]), "Photo");
        assert_eq!(
            row_text("Here it is", &[f("image/jpeg", "a")]),
            "Here it is"
        );
    }

    #[test]
    fn only_photos_pdfs_and_voice_notes_are_taken() {
        assert_eq!(kind("IMAGE/JPEG"), Ok(Kind::Photo));
        assert_eq!(kind("image/heic"), Ok(Kind::Photo));
        assert_eq!(kind("application/pdf"), Ok(Kind::Pdf));
        assert_eq!(kind("audio/ogg; codecs=opus"), Ok(Kind::VoiceNote));
        assert_eq!(kind("video/mp4"), Err(Refused::Video));
        assert_eq!(
            kind("application/x-msdownload"),
            Err(Refused::Type("application/x-msdownload".into()))
        );
        assert_eq!(kind(""), Err(Refused::Type("Unknown".into())));
    }

    #[test]
    fn a_file_always_has_a_name_without_a_path() {
        assert_eq!(
            file_name(Some("C:\\Users\\me\\V5C.pdf"), "application/pdf", 0),
            "V5C.pdf"
        );
        assert_eq!(file_name(Some("  "), "image/jpeg", 1), "photo-2.jpg");
        assert_eq!(file_name(None, "audio/ogg", 0), "voice-note-1.ogg");
        assert_eq!(file_name(None, "text/x-weird", 2), "file-3.bin");
        assert_eq!(
            file_name(Some("quote.pdf.exe"), "application/pdf", 0),
            "quote.pdf.exe.pdf"
        );
        assert_eq!(
            file_name(Some("invoice\u{202E}fdp.exe"), "application/pdf", 0),
            "invoicefdp.exe.pdf"
        );
        assert_eq!(file_name(Some("IMG_1.JPEG"), "image/jpeg", 0), "IMG_1.JPEG");
    }
}
