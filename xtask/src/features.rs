//! Keeps `docs/features.md` complete: every feature id the code cites has a row there.
//!
//! A feature id is one of the prefixes PRODUCT.md numbers its features with, a dash and a number
//! below 100, standing as a word of its own. Work orders are numbered with the `WO` prefix too
//! (fixtures, test data, system messages), so a `WO` id counts only where code cites it: in a
//! comment. The product brief lives outside the repository, so the prefixes are copied here.
//!
//! This file builds every id it needs at run time, so its own text cites none (a test checks).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::cmd;

/// The areas PRODUCT.md numbers its features in.
const PREFIXES: [&str; 14] = [
    "ACC", "AIA", "APQ", "CMP", "DSK", "LST", "NAV", "RT", "RTE", "SDB", "SET", "THR", "VOI", "WO",
];

/// The prefix work-order numbers share with the work-order page's feature.
const WORK_ORDER: &str = "WO";

/// Where the code that cites features lives, relative to the workspace root.
const ROOTS: [&str; 5] = ["crates", "src-tauri", "ui", "tests", "xtask"];

/// Ordered by area, then number: the order of the table in `docs/features.md`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FeatureId {
    prefix: String,
    number: u32,
}

impl fmt::Display for FeatureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.prefix, self.number)
    }
}

/// One id-shaped word in a source file.
#[derive(Debug)]
struct Citation {
    id: FeatureId,
    line: usize,
    in_comment: bool,
}

impl Citation {
    /// Whether this names a feature: a known prefix, and for work orders only in a comment.
    fn is_feature(&self) -> bool {
        PREFIXES.contains(&self.id.prefix.as_str())
            && self.id.number < 100
            && (self.id.prefix != WORK_ORDER || self.in_comment)
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every `PREFIX-number` word in `source` (any run of capitals), with its line and whether it
/// sits in a comment.
fn scan(source: &str) -> Vec<Citation> {
    let chars: Vec<char> = source.chars().collect();
    let in_comment = comment_mask(&chars);
    let mut found = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
        }
        if !c.is_ascii_uppercase() {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        while end < chars.len() && chars[end].is_ascii_uppercase() {
            end += 1;
        }
        i = end;
        if (start > 0 && is_word(chars[start - 1])) || chars.get(end) != Some(&'-') {
            continue;
        }
        let digits_end = (end + 1..chars.len())
            .find(|&k| !chars[k].is_ascii_digit())
            .unwrap_or(chars.len());
        if digits_end == end + 1 || chars.get(digits_end).is_some_and(|&c| is_word(c)) {
            continue;
        }
        let digits: String = chars[end + 1..digits_end].iter().collect();
        if let Ok(number) = digits.parse() {
            found.push(Citation {
                id: FeatureId {
                    prefix: chars[start..end].iter().collect(),
                    number,
                },
                line,
                in_comment: in_comment[start],
            });
        }
    }
    found
}

/// For each char of Rust source, whether it belongs to a comment (line or nested block). String,
/// raw string and char literals are skipped, so `//` inside a URL is no comment; lifetimes are
/// told from char literals.
fn comment_mask(chars: &[char]) -> Vec<bool> {
    let at = |i: usize| chars.get(i).copied();
    let mut mask = vec![false; chars.len()];
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' if at(i + 1) == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    mask[i] = true;
                    i += 1;
                }
            }
            '/' if at(i + 1) == Some('*') => {
                let mut depth = 0usize;
                while i < chars.len() {
                    let two = (chars[i], at(i + 1));
                    if two == ('/', Some('*')) || two == ('*', Some('/')) {
                        mask[i] = true;
                        mask[i + 1] = true;
                        i += 2;
                        if two.0 == '/' {
                            depth += 1;
                        } else {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                    } else {
                        mask[i] = true;
                        i += 1;
                    }
                }
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
            }
            'r' if raw_string_may_start(chars, i) => {
                let hashes = (i + 1..chars.len())
                    .find(|&k| chars[k] != '#')
                    .unwrap_or(chars.len())
                    - (i + 1);
                if at(i + 1 + hashes) != Some('"') {
                    i += 1;
                    continue;
                }
                i += hashes + 2;
                while i < chars.len()
                    && !(chars[i] == '"' && (1..=hashes).all(|h| at(i + h) == Some('#')))
                {
                    i += 1;
                }
                i += hashes + 1;
            }
            '\'' if at(i + 1) == Some('\\') => {
                // An escaped char literal: '\n', '\'', '\u{..}'.
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            }
            '\'' if at(i + 2) == Some('\'') => i += 3,
            _ => i += 1,
        }
    }
    mask
}

/// `r` at `i` is not the end of an identifier (or is `br`'s), so it may open a raw string.
fn raw_string_may_start(chars: &[char], i: usize) -> bool {
    let before = |k: usize| i.checked_sub(k).map(|k| chars[k]);
    match before(1) {
        None => true,
        Some('b') => !before(2).is_some_and(is_word),
        Some(c) => !is_word(c),
    }
}

/// The ids in the first column of the table in `docs/features.md`.
fn listed(markdown: &str) -> BTreeSet<FeatureId> {
    markdown
        .lines()
        .filter_map(|line| line.trim().strip_prefix('|')?.split('|').next())
        .filter_map(|cell| parse_id(cell.trim()))
        .collect()
}

/// `text` as a whole is an id: capitals, a dash, digits.
fn parse_id(text: &str) -> Option<FeatureId> {
    let (prefix, number) = text.split_once('-')?;
    let capitals = !prefix.is_empty() && prefix.chars().all(|c| c.is_ascii_uppercase());
    let digits = !number.is_empty() && number.chars().all(|c| c.is_ascii_digit());
    if !(capitals && digits) {
        return None;
    }
    Some(FeatureId {
        prefix: prefix.to_owned(),
        number: number.parse().ok()?,
    })
}

/// The `.rs` files under `dir`, leaving out build output and hidden directories.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn docs_features_lists_every_feature_id_the_code_cites() {
    let root = cmd::root();
    let docs = root.join("docs/features.md");
    let listed = listed(&fs::read_to_string(&docs).unwrap());
    let mut files = Vec::new();
    for dir in ROOTS {
        rust_files(&root.join(dir), &mut files);
    }
    files.sort();

    let mut cited = 0;
    // id → file → the lines citing it there
    let mut missing: BTreeMap<FeatureId, BTreeMap<String, Vec<usize>>> = BTreeMap::new();
    for file in &files {
        let source =
            fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let name = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        for citation in scan(&source).into_iter().filter(Citation::is_feature) {
            cited += 1;
            if !listed.contains(&citation.id) {
                missing
                    .entry(citation.id)
                    .or_default()
                    .entry(name.clone())
                    .or_default()
                    .push(citation.line);
            }
        }
    }
    assert!(
        cited > 0,
        "no feature id cited in the {} .rs files under {ROOTS:?}: is the walk looking in the right place?",
        files.len()
    );
    if !missing.is_empty() {
        let rows: Vec<String> = missing
            .iter()
            .map(|(id, files)| {
                let places: Vec<String> = files
                    .iter()
                    .map(|(name, lines)| {
                        let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
                        format!("{name}:{}", lines.join(","))
                    })
                    .collect();
                format!("  {id}: cited in {}", places.join(", "))
            })
            .collect();
        panic!(
            "docs/features.md has no row for {} feature id(s) the code cites; add one for each \
             (what the app does for it, in our words), sorted by area then number:\n{}",
            missing.len(),
            rows.join("\n")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An id as text, built so that this file never spells one out.
    fn id(prefix: &str, number: u32) -> String {
        format!("{prefix}-{number}")
    }

    fn features(source: &str) -> Vec<String> {
        scan(source)
            .into_iter()
            .filter(Citation::is_feature)
            .map(|c| format!("{}@{}", c.id, c.line))
            .collect()
    }

    #[test]
    fn this_file_cites_no_id() {
        let ids: Vec<String> = scan(include_str!("features.rs"))
            .iter()
            .map(|c| c.id.to_string())
            .collect();
        assert!(ids.is_empty(), "{ids:?}");
    }

    #[test]
    fn ids_in_comments_and_strings_count_and_work_orders_only_in_comments() {
        let source = format!(
            "//! {a} and {b}.\nfn f() {{\n    assert!(x, \"{c}: shown\");\n    let n = \"{wo_data}\";\n    // the page ({wo_page})\n}}\n",
            a = id("LST", 2),
            b = id("RTE", 3),
            c = id("VOI", 7),
            wo_data = id("WO", 9),
            wo_page = id("WO", 1),
        );
        assert_eq!(
            features(&source),
            [
                format!("{}@1", id("LST", 2)),
                format!("{}@1", id("RTE", 3)),
                format!("{}@3", id("VOI", 7)),
                format!("{}@5", id("WO", 1)),
            ]
        );
    }

    #[test]
    fn only_whole_words_with_known_prefixes_and_small_numbers_count() {
        let source = [
            id("SORT", 1),                // RT inside a longer word
            id("UTF", 8),                 // not a product prefix
            id("SHA", 256),               // nor this
            id("LST", 130),               // a number no feature has
            format!("{}a", id("THR", 2)), // a longer word
            format!("x{}", id("CMP", 4)), // a longer word
            format!("({})", id("RT", 2)),
        ]
        .join(" ");
        assert_eq!(features(&source), [format!("{}@1", id("RT", 2))]);
    }

    #[test]
    fn a_comment_opener_inside_a_literal_is_no_comment() {
        let wo = id("WO", 9);
        let sources = [
            format!("get(\"https://host/orders?q={wo}\");"),
            format!("let s = r#\"a \" // {wo}\"#;"),
            format!("let q = '\"'; let s = \"// {wo}\";"),
            format!("let q = '\\''; let s = \"// {wo}\";"),
            format!("fn f<'a>(s: &'a str) {{ g(\"// {wo}\") }}"),
            format!("let s = \"\\\" // {wo}\";"),
        ];
        for source in &sources {
            assert_eq!(features(source), Vec::<String>::new(), "{source}");
        }
        let nested = format!("/* a /* b */ {wo} */ x");
        assert_eq!(features(&nested), [format!("{wo}@1")]);
    }

    #[test]
    fn listed_reads_the_first_column_of_the_table() {
        let markdown = format!(
            "# Feature ids\n\n| id | what |\n|---|---|\n| {} | One. |\n| {} | Two. |\n",
            id("ACC", 3),
            id("TLS", 1)
        );
        let ids: Vec<String> = listed(&markdown).iter().map(|i| i.to_string()).collect();
        assert_eq!(ids, [id("ACC", 3), id("TLS", 1)]);
    }
}
