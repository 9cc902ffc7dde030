//! The fake Graph API's media (issue 17): `GET /{version}/{media_id}` answers with the file's
//! URL as Meta does (on the simulator's own host, which the server allows as its configured API
//! base), and `GET /sim/media/{media_id}` serves a real small JPEG drawn from the id, so every
//! customer photo the simulator sends can be fetched, thumbnailed and shown.

use std::io::Cursor;

use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

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
    let size = photo(&media_id).len();
    Json(json!({
        "messaging_product": "whatsapp",
        "url": format!("http://{host}/sim/media/{media_id}"),
        "mime_type": "image/jpeg",
        "file_size": size,
        "id": media_id,
    }))
    .into_response()
}

/// `GET /2010-04-01/Accounts/{sid}/Messages/{message}/Media/{media}`: an MMS photo (basic auth,
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
    ([(header::CONTENT_TYPE, "image/jpeg")], photo(&media_id)).into_response()
}

/// `GET /sim/media/{media_id}`: the file.
pub async fn file(Path(media_id): Path<String>, headers: HeaderMap) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    ([(header::CONTENT_TYPE, "image/jpeg")], photo(&media_id)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_photo_is_a_real_jpeg() {
        let a = photo("111");
        let img = image::load_from_memory_with_format(&a, image::ImageFormat::Jpeg).unwrap();
        assert_eq!((img.width(), img.height()), (480, 360));
        assert_ne!(a, photo("222"));
    }
}
