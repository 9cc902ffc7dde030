//! The search box's text (LST-2): parsed in `inbox_core` (shared with the desktop cache), and
//! turned here into PostgreSQL's lexemes and tsquery so that PostgreSQL finds what SQLite's FTS5
//! (`unicode61 remove_diacritics 2`) finds: words of letters and digits, lower-cased, accents
//! folded, matched as prefixes.

pub use inbox_core::search::*;

/// Folds the accented Latin letters to their base letter, as FTS5's `remove_diacritics` does.
fn fold(c: char) -> char {
    const TABLE: &[(&str, char)] = &[
        ("àáâãäåāăą", 'a'),
        ("çćĉċč", 'c'),
        ("ďđ", 'd'),
        ("èéêëēĕėęě", 'e'),
        ("ĝğġģ", 'g'),
        ("ĥħ", 'h'),
        ("ìíîïĩīĭįı", 'i'),
        ("ĵ", 'j'),
        ("ķ", 'k'),
        ("ĺļľŀł", 'l'),
        ("ñńņňŉ", 'n'),
        ("òóôõöøōŏő", 'o'),
        ("ŕŗř", 'r'),
        ("śŝşš", 's'),
        ("ţťŧ", 't'),
        ("ùúûüũūŭůűų", 'u'),
        ("ŵ", 'w'),
        ("ýÿŷ", 'y'),
        ("źżž", 'z'),
    ];
    if c.is_ascii() {
        return c;
    }
    TABLE
        .iter()
        .find(|(from, _)| from.contains(c))
        .map_or(c, |(_, to)| *to)
}

/// A word as the index holds it: lower-case, accents folded.
fn lexeme(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(fold)
        .collect()
}

/// The lexemes a text is indexed under: its words of letters and digits.
pub fn index_terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(lexeme)
        .collect();
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// The PostgreSQL tsquery for a search, the same alternatives as [`SearchText::fts5_query`]: any
/// phone digit form as a prefix, or every word as a prefix (whole digit groups in a phone query).
/// Lexemes hold only letters and digits, so quoting them is enough.
pub fn pg_tsquery(s: &SearchText) -> String {
    let prefix = |t: &str| format!("'{t}':*");
    let mut alternatives: Vec<String> = s.phone_digits.iter().map(|d| prefix(d)).collect();
    if !s.words.is_empty() {
        let phone = !s.phone_digits.is_empty();
        let all: Vec<String> = s
            .words
            .iter()
            .map(|w| {
                let w = lexeme(w);
                if phone && w.chars().all(|c| c.is_ascii_digit()) {
                    format!("'{w}'")
                } else {
                    prefix(&w)
                }
            })
            .collect();
        alternatives.push(format!("({})", all.join(" & ")));
    }
    alternatives.join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lst2_pg_terms_fold_case_and_accents_and_split_like_unicode61() {
        assert_eq!(
            index_terms("Café-Brake, it's ÉTÉ"),
            ["brake", "cafe", "ete", "it", "s"]
        );
    }

    #[test]
    fn lst2_pg_tsquery_matches_the_fts5_alternatives() {
        let q = pg_tsquery(&SearchText::parse("07700 900123").unwrap());
        assert!(q.contains("'447700900123':*"), "{q}");
        assert!(q.contains("('07700' & '900123')"), "{q}");
        assert_eq!(
            pg_tsquery(&SearchText::parse("Brake pads").unwrap()),
            "('brake':* & 'pads':*)"
        );
    }

    // Issue 13 fuzzing: whatever is typed in the search box, the FTS5 query built from it runs
    // (a syntax error would be a 500 on the list), and the tsquery's lexemes cannot break out
    // of their quotes. Cases: proptest's default (256), or `PROPTEST_CASES` for a long run.
    fn fts5() -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE search_fts USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');
             INSERT INTO search_fts (text) VALUES ('Golf brake pads 447700900123 07700900123 café');",
        )
        .unwrap();
        conn
    }

    fn typed() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            any::<String>(),
            "[ -~]{0,40}",
            "[0-9 +()-]{0,20}",
            "(\\PC|[\"*^:(){}+-]){0,30}",
            Just("NEAR(a b)".to_string()),
            Just("\"\" OR *".to_string()),
        ]
    }

    proptest::proptest! {
        #[test]
        fn prop_any_search_text_runs_on_fts5_and_stays_quoted_in_a_tsquery(q in typed()) {
            let Some(s) = SearchText::parse(&q) else {
                return Ok(());
            };
            let conn = fts5();
            let n: Result<i64, _> = conn.query_row(
                "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?1",
                [s.fts5_query()],
                |r| r.get(0),
            );
            proptest::prop_assert!(n.is_ok(), "{q:?} -> {:?}: {n:?}", s.fts5_query());
            let tsquery = pg_tsquery(&s);
            for w in s.words.iter().chain(&s.phone_digits) {
                proptest::prop_assert!(!lexeme(w).contains('\''), "{w:?} in {tsquery}");
                proptest::prop_assert!(!w.contains('"'), "{w:?}");
            }
        }

        #[test]
        fn prop_typing_an_indexed_word_finds_it(word in "[A-Za-z0-9àáâäçèéêëìíîïñòóôöùúûüÀÉÖÜß]{1,12}") {
            let conn = fts5();
            conn.execute("INSERT INTO search_fts (text) VALUES (?1)", [format!("note about {word} today")]).unwrap();
            let s = SearchText::parse(&word).unwrap();
            let n: i64 = conn
                .query_row("SELECT count(*) FROM search_fts WHERE search_fts MATCH ?1", [s.fts5_query()], |r| r.get(0))
                .unwrap();
            proptest::prop_assert!(n >= 1, "{word:?} -> {}", s.fts5_query());
        }
    }
}
