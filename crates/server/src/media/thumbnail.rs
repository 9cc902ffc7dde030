//! Thumbnails of photos (issue 17), made on the server: at most 320 × 320, JPEG. Re-encoding
//! leaves every EXIF field behind (the phone's location among them); the original keeps them
//! and is served only as a download. HEIC is not decoded here (no pure-Rust decoder, and Debian
//! 12's libheif is too old for `libheif-rs`): such photos get a file card instead of a thumbnail.

use std::io::Cursor;

use image::{ImageDecoder, ImageFormat, ImageReader, Limits};

/// The longest side of a thumbnail, in pixels.
pub const SIDE: u32 = 320;

/// A JPEG thumbnail of a JPEG, PNG or WebP photo; None for anything else or an unreadable file.
pub fn thumbnail(bytes: &[u8], content_type: &str) -> Option<Vec<u8>> {
    let format = match inbox_core::media::essence(content_type).as_str() {
        "image/jpeg" | "image/jpg" => ImageFormat::Jpeg,
        "image/png" => ImageFormat::Png,
        "image/webp" => ImageFormat::WebP,
        _ => return None,
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // A hostile file claiming huge dimensions is refused before it is decoded.
    let mut limits = Limits::default();
    limits.max_image_width = Some(12_000);
    limits.max_image_height = Some(12_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    // A phone keeps a photo's rotation in EXIF, which the re-encode drops: turn it upright first.
    let mut decoder = reader.into_decoder().ok()?;
    let orientation = decoder.orientation().ok()?;
    let mut image = image::DynamicImage::from_decoder(decoder).ok()?;
    image.apply_orientation(orientation);
    let small = image.thumbnail(SIDE, SIDE).into_rgb8();
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&small)
        .ok()?;
    Some(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_photo_becomes_a_small_jpeg_and_anything_else_none() {
        let t = thumbnail(&png(1000, 500), "image/png").unwrap();
        let back = image::load_from_memory_with_format(&t, ImageFormat::Jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (320, 160));
        assert!(thumbnail(b"%PDF-1.7", "application/pdf").is_none());
        assert!(thumbnail(b"not an image", "image/jpeg").is_none());
    }
}
