//! The unread count on the Windows taskbar button (issue 14). Windows has no numeric badge for
//! desktop apps (Tauri's `set_badge_count` is unsupported there); the taskbar shows a small
//! overlay icon on the app's button instead, so the count is drawn into one: white digits on a
//! red disc, "99+" above 99, nothing at zero.
//!
//! Drawing is plain Rust on an RGBA buffer, the same on every platform, so it is tested
//! everywhere; only [`show`] talks to Windows.

// Only Windows draws the badge; elsewhere the tests use the drawing.
#![cfg_attr(not(windows), allow(dead_code))]

/// The overlay's size in pixels. The taskbar shows overlays at 16 px per 100 % scaling; 32 px
/// stays sharp up to 200 % and is scaled down below.
pub const SIZE: u32 = 32;

/// Windows' own "attention" red (the Fluent palette's red used for notification badges).
const DISC: [u8; 3] = [0xC4, 0x2B, 0x1C];
const INK: [u8; 3] = [0xFF, 0xFF, 0xFF];

/// What the badge says for `unread` conversations: nothing at zero, then the number, capped.
pub fn label(unread: u64) -> Option<String> {
    match unread {
        0 => None,
        1..=99 => Some(unread.to_string()),
        _ => Some("99+".to_string()),
    }
}

/// A 3×5 pixel font: each row is three bits, the left pixel the highest.
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b111, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b010, 0b010, 0b010],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        '+' => [0b000, 0b010, 0b111, 0b010, 0b000],
        _ => return None,
    })
}

const GLYPH_W: u32 = 3;
const GLYPH_H: u32 = 5;

/// How many pixels one font pixel covers: the largest that keeps the text inside the disc.
fn scale(chars: u32) -> u32 {
    match chars {
        0 | 1 => 4,
        2 => 3,
        _ => 2,
    }
}

/// The badge for `label` as `SIZE`×`SIZE` RGBA pixels, rows top to bottom. Characters the font
/// lacks are left blank.
pub fn render(label: &str) -> Vec<u8> {
    let size = SIZE as usize;
    let mut rgba = vec![0u8; size * size * 4];
    // The disc, its edge anti-aliased by how far each pixel's centre lies from the circle.
    let radius = SIZE as f32 / 2.0;
    for y in 0..size {
        for x in 0..size {
            let dx = x as f32 + 0.5 - radius;
            let dy = y as f32 + 0.5 - radius;
            let coverage = (radius - (dx * dx + dy * dy).sqrt() + 0.5).clamp(0.0, 1.0);
            let at = (y * size + x) * 4;
            rgba[at..at + 3].copy_from_slice(&DISC);
            // Within 0..=255 after the clamp.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let alpha = (coverage * 255.0).round() as u8;
            rgba[at + 3] = alpha;
        }
    }
    // The text, centred.
    let chars = u32::try_from(label.chars().count()).unwrap_or(u32::MAX);
    let s = scale(chars);
    let width = (chars * (GLYPH_W + 1)).saturating_sub(1) * s;
    let left = SIZE.saturating_sub(width) / 2;
    let top = (SIZE - GLYPH_H * s) / 2;
    for (i, c) in (0u32..).zip(label.chars()) {
        let Some(rows) = glyph(c) else { continue };
        let x0 = left + i * (GLYPH_W + 1) * s;
        for (row, bits) in (0u32..).zip(rows) {
            for col in 0..GLYPH_W {
                if bits & (1 << (GLYPH_W - 1 - col)) == 0 {
                    continue;
                }
                for py in top + row * s..top + (row + 1) * s {
                    for px in x0 + col * s..x0 + (col + 1) * s {
                        if px < SIZE && py < SIZE {
                            let at = ((py * SIZE + px) * 4) as usize;
                            rgba[at..at + 3].copy_from_slice(&INK);
                            rgba[at + 3] = 255;
                        }
                    }
                }
            }
        }
    }
    rgba
}

/// Puts the count on the window's taskbar button, or takes it off at zero.
#[cfg(windows)]
pub fn show(window: &tauri::WebviewWindow, unread: u64) {
    let icon = label(unread).map(|l| tauri::image::Image::new_owned(render(&l), SIZE, SIZE));
    if let Err(e) = window.set_overlay_icon(icon) {
        tracing::debug!(error = %e, "the taskbar badge could not be set");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixel(rgba: &[u8], x: u32, y: u32) -> [u8; 4] {
        let at = ((y * SIZE + x) * 4) as usize;
        [rgba[at], rgba[at + 1], rgba[at + 2], rgba[at + 3]]
    }

    fn ink_pixels(rgba: &[u8]) -> usize {
        rgba.chunks(4)
            .filter(|p| p == &[255, 255, 255, 255])
            .count()
    }

    fn lit_cells(label: &str) -> usize {
        label
            .chars()
            .filter_map(glyph)
            .flat_map(|rows| rows.into_iter())
            .map(|row| row.count_ones() as usize)
            .sum()
    }

    #[test]
    fn the_badge_says_nothing_at_zero_and_caps_at_99() {
        assert_eq!(label(0), None);
        assert_eq!(label(1).as_deref(), Some("1"));
        assert_eq!(label(42).as_deref(), Some("42"));
        assert_eq!(label(99).as_deref(), Some("99"));
        assert_eq!(label(100).as_deref(), Some("99+"));
        assert_eq!(label(u64::MAX).as_deref(), Some("99+"));
    }

    #[test]
    fn every_character_a_label_can_hold_has_a_glyph() {
        for n in 1..=100 {
            let l = label(n).unwrap_or_default();
            assert!(l.chars().all(|c| glyph(c).is_some()), "{l}");
        }
    }

    #[test]
    fn a_badge_is_a_red_disc_on_a_transparent_square() {
        let rgba = render("");
        assert_eq!(rgba.len(), (SIZE * SIZE * 4) as usize);
        for (x, y) in [(0, 0), (SIZE - 1, 0), (0, SIZE - 1), (SIZE - 1, SIZE - 1)] {
            assert_eq!(pixel(&rgba, x, y)[3], 0, "corner {x},{y}");
        }
        let centre = pixel(&rgba, SIZE / 2, SIZE / 2);
        assert_eq!(centre, [DISC[0], DISC[1], DISC[2], 255]);
        assert_eq!(ink_pixels(&rgba), 0);
    }

    #[test]
    fn each_label_is_drawn_whole_and_inside_the_disc() {
        for n in [1, 7, 10, 42, 88, 99, 100] {
            let text = label(n).unwrap_or_default();
            let rgba = render(&text);
            let s = scale(text.chars().count() as u32) as usize;
            // Every lit font cell is there, none clipped.
            assert_eq!(ink_pixels(&rgba), lit_cells(&text) * s * s, "{text}");
            // And every ink pixel sits on the opaque part of the disc.
            let r = SIZE as f32 / 2.0;
            for y in 0..SIZE {
                for x in 0..SIZE {
                    if pixel(&rgba, x, y) == [255, 255, 255, 255] {
                        let (dx, dy) = (x as f32 + 0.5 - r, y as f32 + 0.5 - r);
                        assert!((dx * dx + dy * dy).sqrt() < r - 1.0, "{text} at {x},{y}");
                    }
                }
            }
        }
    }

    #[test]
    fn different_counts_draw_different_badges() {
        assert_ne!(render("1"), render("7"));
        assert_ne!(render("12"), render("21"));
        assert_eq!(render("5"), render("5"));
    }
}
