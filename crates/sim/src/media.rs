//! The fake Graph API's media (issue 17): `GET /{version}/{media_id}` answers with the file's
//! URL as Meta does (on the simulator's own host, which the server allows as its configured API
//! base), and `GET /sim/media/{media_id}` serves the file. Customers send photos (a real small
//! JPEG drawn from the id), PDFs (a one-page document written here) and voice notes (a short
//! Ogg Opus recording shipped in `assets/`); which one an id stands for is written in the id's
//! last character, so any number of simulators serve any id without sharing state.

use std::io::Cursor;

use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::Rng;
use serde_json::json;

/// What a customer sends besides text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum File {
    Photo,
    Pdf,
    VoiceNote,
}

/// Three seconds of a tone, Opus in Ogg at 16 kbit/s, as WhatsApp records voice notes.
pub const VOICE_NOTE: &[u8] = include_bytes!("../assets/voice-note.ogg");

/// The last character of an id that stands for a PDF, and for a voice note.
const PDF_MARK: char = '7';
const VOICE_NOTE_MARK: char = '8';

impl File {
    /// What the file is, as the provider announces it.
    pub fn content_type(self) -> &'static str {
        match self {
            File::Photo => "image/jpeg",
            File::Pdf => "application/pdf",
            File::VoiceNote => "audio/ogg",
        }
    }

    /// The kind of file `media_id` stands for.
    pub fn of(media_id: &str) -> File {
        match media_id.chars().last() {
            Some(PDF_MARK) => File::Pdf,
            Some(VOICE_NOTE_MARK) => File::VoiceNote,
            _ => File::Photo,
        }
    }

    /// `id` with its last character marking this kind of file.
    pub fn mark(self, id: &str) -> String {
        let mut out: String = id
            .chars()
            .take(id.chars().count().saturating_sub(1))
            .collect();
        out.push(match self {
            File::Photo => '0',
            File::Pdf => PDF_MARK,
            File::VoiceNote => VOICE_NOTE_MARK,
        });
        out
    }

    /// A Graph API media id (digits) for this kind of file.
    pub fn whatsapp_id(self, rng: &mut impl Rng) -> String {
        self.mark(
            &rng.gen_range(100_000_000_000_000u64..999_999_999_999_999)
                .to_string(),
        )
    }

    /// The file's bytes.
    pub fn bytes(self, media_id: &str) -> Vec<u8> {
        match self {
            File::Photo => photo(media_id),
            File::Pdf => pdf(&format!("Scanned document {media_id}")),
            File::VoiceNote => VOICE_NOTE.to_vec(),
        }
    }
}

/// The file `media_id` stands for, with its content type.
fn serve(media_id: &str) -> Response {
    let file = File::of(media_id);
    (
        [(header::CONTENT_TYPE, file.content_type())],
        file.bytes(media_id),
    )
        .into_response()
}

fn authorised(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > "Bearer ".len())
}

/// A 480 × 360 JPEG: a warm gradient and a dashboard-light disc whose colour comes from the id.
pub fn photo(media_id: &str) -> Vec<u8> {
    let seed = media_id
        .bytes()
        .fold(17u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let tint = [
        (seed % 200) as u8 + 40,
        ((seed / 200) % 160) as u8 + 60,
        ((seed / 32_000) % 120) as u8 + 40,
    ];
    let img = image::RgbImage::from_fn(480, 360, |x, y| {
        let (dx, dy) = (x as i32 - 240, y as i32 - 180);
        if dx * dx + dy * dy < 70 * 70 {
            image::Rgb(tint)
        } else {
            image::Rgb([(40 + x / 4) as u8, (30 + y / 4) as u8, 60])
        }
    });
    let mut out = Cursor::new(Vec::new());
    let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&img);
    out.into_inner()
}

/// A one-page A4 PDF that reads `title`, the way a customer's scanned form or a quote from
/// elsewhere arrives: a valid file with its cross-reference table, so viewers open it.
pub fn pdf(title: &str) -> Vec<u8> {
    let text: String = title
        .chars()
        .filter(|c| c.is_ascii() && !matches!(c, '(' | ')' | '\\'))
        .collect();
    let stream = format!("BT /F1 20 Tf 72 760 Td ({text}) Tj ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{stream}endstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{body}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for o in offsets {
        out.push_str(&format!("{o:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}

/// `GET /{version}/{media_id}`: where the file is.
pub async fn info(
    Path((_version, media_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let file = File::of(&media_id);
    let size = file.bytes(&media_id).len();
    Json(json!({
        "messaging_product": "whatsapp",
        "url": format!("http://{host}/sim/media/{media_id}"),
        "mime_type": file.content_type(),
        "file_size": size,
        "id": media_id,
    }))
    .into_response()
}

/// `GET /2010-04-01/Accounts/{sid}/Messages/{message}/Media/{media}`: an MMS's file (basic auth,
/// as Twilio asks).
pub async fn mms(
    Path((_sid, _message, media_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Basic "));
    if !basic {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    serve(&media_id)
}

/// `GET /sim/media/{media_id}`: the file.
pub async fn file(Path(media_id): Path<String>, headers: HeaderMap) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    serve(&media_id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn each_photo_is_a_real_jpeg() {
        let a = photo("111");
        let img = image::load_from_memory_with_format(&a, image::ImageFormat::Jpeg).unwrap();
        assert_eq!((img.width(), img.height()), (480, 360));
        assert_ne!(a, photo("222"));
    }

    #[test]
    fn an_id_says_which_file_it_stands_for() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for file in [File::Photo, File::Pdf, File::VoiceNote] {
            let id = file.whatsapp_id(&mut rng);
            assert_eq!((File::of(&id), id.len()), (file, 15), "{id}");
            assert_eq!(File::of(&file.mark("MEabc")), file);
        }
        assert_eq!(File::of("MEab7"), File::Pdf);
        assert_eq!(File::of("123456"), File::Photo);
    }

    #[test]
    fn a_pdf_is_a_pdf_with_a_true_cross_reference_table() {
        let doc = pdf("Quote (Q-1042) for the Wombat");
        let text = String::from_utf8(doc.clone()).unwrap();
        assert!(text.starts_with("%PDF-1.4\n") && text.ends_with("%%EOF\n"));
        assert!(text.contains("(Quote Q-1042 for the Wombat) Tj"), "{text}");
        assert_eq!(
            infer::get(&doc).map(|t| t.mime_type()),
            Some("application/pdf")
        );
        // Every offset in the table points at its object.
        let xref = text.find("xref\n").unwrap();
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(start, xref);
        for (n, line) in text[xref..].lines().skip(3).take(5).enumerate() {
            let at: usize = line[..10].parse().unwrap();
            assert!(
                text[at..].starts_with(&format!("{} 0 obj", n + 1)),
                "{line}"
            );
        }
    }

    #[test]
    fn the_voice_note_is_ogg_opus() {
        assert_eq!(
            infer::get(VOICE_NOTE).map(|t| t.mime_type()),
            Some("audio/opus")
        );
        assert!(VOICE_NOTE.windows(8).any(|w| w == b"OpusHead"));
    }
}
