//! `cargo xtask icons [--check]`: the app's icon set in `assets/app-icons/`, made from the one
//! drawing `assets/icon.png` (issue 14).
//!
//! - `32x32.png`, `128x128.png`, `128x128@2x.png`: the PNG sizes Tauri's bundlers install;
//! - `icon.ico` (16, 24, 32, 48, 64 and 256 px): tauri-build embeds it
//!   in the Windows resource file (it refuses to build for Windows without one), and it is the
//!   installer's and the shortcuts' icon;
//! - `icon.icns` (16 to 512 px, PNG entries, the format `iconutil` writes): the macOS bundle.
//!
//! The generated files are committed, so builds need nothing beyond cargo. `--check` makes them
//! again in memory and fails when a committed file differs (CI runs it in `cargo xtask
//! packaging`). A new `image` or `png` crate may encode the same pixels differently: then run
//! `cargo xtask icons` once and commit the result.

use std::fs;

use anyhow::Context;
use image::imageops::FilterType;
use image::{ImageFormat, RgbaImage};

use crate::cmd::root;

/// The drawing everything is made from.
const SOURCE: &str = "assets/icon.png";
/// Where the icon set lives (named by `bundle.icon` in tauri.conf.json).
const DIR: &str = "assets/app-icons";

/// The sizes the Windows `.ico` carries: the shell picks 16/24/32/48 for lists and the taskbar
/// at 100–200 % scaling, 256 for large tiles.
const ICO_SIZES: [u32; 6] = [16, 24, 32, 48, 64, 256];

/// The `.icns` entries (OSType, pixel size). All hold PNG data, as `iconutil` writes them; the
/// source is 512 px, so the 1024 px `ic10` is left out.
const ICNS_ENTRIES: [(&[u8; 4], u32); 8] = [
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic07", 128),
    (b"ic13", 256),
    (b"ic08", 256),
    (b"ic14", 512),
];

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => anyhow::bail!("usage: cargo xtask icons [--check]"),
    };
    let root = root();
    let source = image::open(root.join(SOURCE))
        .with_context(|| format!("reading {SOURCE}"))?
        .to_rgba8();
    let files = render(&source)?;
    let dir = root.join(DIR);
    if check {
        let stale: Vec<&str> = files
            .iter()
            .filter(|(name, bytes)| fs::read(dir.join(name)).ok().as_deref() != Some(bytes))
            .map(|(name, _)| *name)
            .collect();
        if !stale.is_empty() {
            anyhow::bail!(
                "{DIR}: {} missing or not made from {SOURCE}; run `cargo xtask icons` and commit",
                stale.join(", ")
            );
        }
        eprintln!("icons: {DIR} matches {SOURCE}");
        return Ok(());
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, bytes) in &files {
        let path = dir.join(name);
        fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("icons: wrote {DIR}/{name} ({} bytes)", bytes.len());
    }
    Ok(())
}

/// Every file of the set, by name.
fn render(source: &RgbaImage) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
    if source.width() != source.height() || source.width() < 256 {
        anyhow::bail!(
            "{SOURCE} must be square and at least 256 px (it is {}x{})",
            source.width(),
            source.height()
        );
    }
    Ok(vec![
        ("32x32.png", png(&scaled(source, 32))?),
        ("128x128.png", png(&scaled(source, 128))?),
        ("128x128@2x.png", png(&scaled(source, 256))?),
        ("icon.ico", ico(source)?),
        ("icon.icns", icns(source)?),
    ])
}

/// The drawing at `size` px. Resampled with premultiplied alpha, so the transparent corners do
/// not bleed a dark fringe into the rounded edge.
fn scaled(source: &RgbaImage, size: u32) -> RgbaImage {
    if source.width() == size {
        return source.clone();
    }
    let mut premultiplied = image::Rgba32FImage::new(source.width(), source.height());
    for (to, from) in premultiplied.pixels_mut().zip(source.pixels()) {
        let alpha = f32::from(from[3]) / 255.0;
        for channel in 0..3 {
            to[channel] = f32::from(from[channel]) / 255.0 * alpha;
        }
        to[3] = alpha;
    }
    let small = image::imageops::resize(&premultiplied, size, size, FilterType::Lanczos3);
    let mut out = RgbaImage::new(size, size);
    for (to, from) in out.pixels_mut().zip(small.pixels()) {
        let alpha = from[3].clamp(0.0, 1.0);
        for channel in 0..3 {
            let straight = if alpha > 0.0 {
                from[channel] / alpha
            } else {
                0.0
            };
            to[channel] = unit_to_byte(straight);
        }
        to[3] = unit_to_byte(alpha);
    }
    out
}

fn unit_to_byte(v: f32) -> u8 {
    // In range after the clamp, so the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let byte = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    byte
}

fn png(image: &RgbaImage) -> anyhow::Result<Vec<u8>> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, ImageFormat::Png)
        .context("encoding a PNG")?;
    Ok(bytes.into_inner())
}

fn ico(source: &RgbaImage) -> anyhow::Result<Vec<u8>> {
    let mut dir = ico::IconDir::new(ico::ResourceType::Icon);
    for size in ICO_SIZES {
        let image = scaled(source, size);
        let entry = ico::IconImage::from_rgba_data(size, size, image.into_raw());
        // Bitmaps below 256 px, as the resource compiler, NSIS and older shells expect; PNG for
        // the large one (Windows reads PNG entries since Vista, and they are far smaller).
        let encoded = if size < 256 {
            ico::IconDirEntry::encode_as_bmp(&entry)
        } else {
            ico::IconDirEntry::encode_as_png(&entry)
        };
        dir.add_entry(encoded.context("encoding an .ico entry")?);
    }
    let mut bytes = Vec::new();
    dir.write(&mut bytes).context("writing the .ico")?;
    Ok(bytes)
}

/// An Apple icon file: `icns`, the file's length, then entries of OSType, length (its 8-byte
/// header included) and data.
fn icns(source: &RgbaImage) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    for (kind, size) in ICNS_ENTRIES {
        let data = png(&scaled(source, size))?;
        body.extend_from_slice(kind);
        body.extend_from_slice(&be_len(data.len() + 8)?);
        body.extend_from_slice(&data);
    }
    let mut file = b"icns".to_vec();
    file.extend_from_slice(&be_len(body.len() + 8)?);
    file.extend_from_slice(&body);
    Ok(file)
}

fn be_len(len: usize) -> anyhow::Result<[u8; 4]> {
    Ok(u32::try_from(len)
        .context("an .icns entry over 4 GiB")?
        .to_be_bytes())
}

/// The OSTypes of an `.icns` file's entries, in order, walking their lengths.
#[cfg(test)]
fn icns_kinds(bytes: &[u8]) -> Vec<[u8; 4]> {
    let mut kinds = Vec::new();
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let kind = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        let len = u32::from_be_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]);
        kinds.push(kind);
        at += len as usize;
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drawing() -> RgbaImage {
        // Opaque blue square on a transparent field, like the real icon's rounded tile; at the
        // smallest size allowed, since debug-build resampling is slow.
        RgbaImage::from_fn(256, 256, |x, y| {
            if (32..224).contains(&x) && (32..224).contains(&y) {
                image::Rgba([30, 58, 95, 255])
            } else {
                image::Rgba([0, 0, 0, 0])
            }
        })
    }

    #[test]
    fn the_set_has_every_file_tauri_names() {
        let files = render(&drawing()).unwrap();
        let made: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
        // tauri.conf.json's `bundle.icon` names these.
        assert_eq!(
            made,
            [
                "32x32.png",
                "128x128.png",
                "128x128@2x.png",
                "icon.ico",
                "icon.icns"
            ]
        );
    }

    #[test]
    fn the_ico_carries_each_size_for_the_windows_shell() {
        let files = render(&drawing()).unwrap();
        let (_, bytes) = files.iter().find(|(n, _)| *n == "icon.ico").unwrap();
        let dir = ico::IconDir::read(std::io::Cursor::new(bytes)).unwrap();
        let sizes: Vec<u32> = dir.entries().iter().map(|e| e.width()).collect();
        assert_eq!(sizes, ICO_SIZES);
    }

    #[test]
    fn the_icns_lists_its_entries_with_their_lengths() {
        let files = render(&drawing()).unwrap();
        let (_, bytes) = files.iter().find(|(n, _)| *n == "icon.icns").unwrap();
        assert_eq!(&bytes[..4], b"icns");
        assert_eq!(
            u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize,
            bytes.len()
        );
        let kinds = icns_kinds(bytes);
        let expected: Vec<[u8; 4]> = ICNS_ENTRIES.iter().map(|(k, _)| **k).collect();
        assert_eq!(kinds, expected);
    }

    #[test]
    fn scaling_keeps_transparent_corners_clear_and_the_tile_its_colour() {
        let small = scaled(&drawing(), 32);
        assert_eq!(small.get_pixel(0, 0)[3], 0);
        assert_eq!(small.get_pixel(16, 16).0, [30, 58, 95, 255]);
    }
}
