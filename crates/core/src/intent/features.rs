//! The features of a message's text: hashed, deduplicated, each worth `1/√n` so that long and
//! short messages weigh alike.

/// A feature's hash (FNV-1a over its name): the model stores weights by hash, not by string.
pub type Feature = u64;

fn hash(kind: &str, parts: &[&str]) -> Feature {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(kind.as_bytes());
    for p in parts {
        eat(&[0x1f]);
        eat(p.as_bytes());
    }
    h
}

/// A word as the model sees it: prices, number plates and other numbers become one token each,
/// so "£249" and "£480" are the same evidence.
fn token(raw: &str) -> String {
    let lower = raw.to_lowercase();
    let digits = lower.chars().filter(char::is_ascii_digit).count();
    if lower.starts_with('£') && digits > 0 {
        return "<price>".into();
    }
    if digits > 0 {
        let letters = lower.chars().filter(|c| c.is_alphabetic()).count();
        // Current-style plates: two letters, two digits (optionally then three letters).
        let b = lower.as_bytes();
        let plate_start = b.len() >= 4
            && b[0].is_ascii_alphabetic()
            && b[1].is_ascii_alphabetic()
            && b[2].is_ascii_digit()
            && b[3].is_ascii_digit();
        if plate_start && (b.len() == 4 || (b.len() == 7 && letters == 5)) {
            return "<plate>".into();
        }
        return if letters == 0 {
            "<num>".into()
        } else {
            "<code>".into()
        };
    }
    lower
}

/// Splits text into tokens: runs of letters, digits, `£`, `'` and `/` (a tyre size), plus each
/// pictograph (an emoji) on its own.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        let w = word.trim_matches(|c| c == '\'' || c == '/');
        if !w.is_empty() {
            out.push(token(w));
        }
        word.clear();
    };
    for c in text.chars() {
        let in_number = word.chars().last().is_some_and(|l| l.is_ascii_digit());
        if c.is_alphanumeric() || matches!(c, '£' | '\'' | '/') || (c == '.' && in_number) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            if u32::from(c) >= 0x2190 && !c.is_whitespace() {
                out.push(c.to_string());
            }
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The message's shape: things about it that are not words.
fn shapes(text: &str, words: usize) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    let mut s = Vec::new();
    if text.contains('?') {
        s.push("question");
    }
    if text.matches('!').count() >= 2 {
        s.push("exclaim");
    }
    if [
        "http", "www.", ".com", ".co", ".net", ".info", "bit.ly", ".uk",
    ]
    .iter()
    .any(|u| lower.contains(u))
    {
        s.push("link");
    }
    let shouted = text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 4 && w.chars().all(char::is_uppercase))
        .count();
    if shouted > 0 {
        s.push("shout");
    }
    s.push(match words {
        0 => "len0",
        1 => "len1",
        2..=3 => "len2-3",
        4..=8 => "len4-8",
        _ => "len9+",
    });
    s
}

/// How much the character grams weigh against the words: enough to carry a misspelt word,
/// not so much that they drown the words (cross-validated on the training split).
const CHAR_GRAM_SHARE: f32 = 0.7;

/// The features of `text`, each with its weight: the words, word pairs and shapes as one
/// group, the character grams as another, each group scaled to a fixed length.
pub fn of(text: &str) -> Vec<(Feature, f32)> {
    let toks = tokens(text);
    let mut words: Vec<Feature> = Vec::with_capacity(toks.len() * 2 + 4);
    let mut grams: Vec<Feature> = Vec::with_capacity(toks.len() * 8);
    for s in shapes(text, toks.len()) {
        words.push(hash("s", &[s]));
    }
    let mut previous = "^";
    for t in &toks {
        words.push(hash("w", &[t]));
        words.push(hash("b", &[previous, t]));
        previous = t;
        if t.starts_with('<') || t.chars().count() < 3 {
            continue;
        }
        let padded: Vec<char> = std::iter::once('<')
            .chain(t.chars().filter(|c| c.is_alphanumeric()))
            .chain(std::iter::once('>'))
            .collect();
        for n in [3, 4] {
            for gram in padded.windows(n) {
                let g: String = gram.iter().collect();
                grams.push(hash("c", &[&g]));
            }
        }
    }
    let mut out = Vec::with_capacity(words.len() + grams.len());
    for (mut group, share) in [(words, 1.0), (grams, CHAR_GRAM_SHARE)] {
        group.sort_unstable();
        group.dedup();
        let weight = share / (group.len().max(1) as f32).sqrt();
        out.extend(group.into_iter().map(|h| (h, weight)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_plates_and_numbers_are_one_token_each() {
        assert_eq!(
            tokens("Is £249 ok for KX19 ABC, 205/55 r16? 👍"),
            ["is", "<price>", "ok", "for", "<plate>", "abc", "<num>", "<code>", "👍"]
        );
        assert_eq!(tokens("reg WP14LMN"), ["reg", "<plate>"]);
        assert_eq!(tokens("£612.40 inc VAT"), ["<price>", "inc", "vat"]);
    }

    #[test]
    fn the_same_text_has_the_same_features_and_misspellings_share_most() {
        assert_eq!(of("Is my car ready?"), of("Is my car ready?"));
        let set = |t: &str| -> std::collections::HashSet<Feature> {
            of(t).into_iter().map(|(h, _)| h).collect()
        };
        let (a, b) = (set("service"), set("servcie"));
        assert!(a.intersection(&b).count() >= 3, "character grams in common");
    }
}
