//! The search box's text (LST-2), parsed once into words and phone digits so each database can
//! build its own full-text query from it.

use crate::limits::{SEARCH_TEXT_MAX, SEARCH_WORDS_MAX, SEARCH_WORD_MAX};
use crate::phone;

/// Why a search text is refused (issue 13): each word is a prefix match, so every extra or
/// longer word costs the database more; a handful of words finds any conversation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchLimit {
    #[error("q is {0} characters; the limit is {SEARCH_TEXT_MAX}")]
    TooLong(usize),
    #[error("q has {0} words; search with at most {SEARCH_WORDS_MAX}")]
    TooManyWords(usize),
    #[error("a word of q is {0} characters; the limit is {SEARCH_WORD_MAX}")]
    WordTooLong(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText {
    /// Lower-cased words of at least one letter or digit, each matched as a prefix.
    pub words: Vec<String>,
    /// When the text looks like a phone number: digit strings to match as prefixes of the
    /// indexed number forms (national and international digits).
    pub phone_digits: Vec<String>,
}

impl SearchText {
    /// The SQLite FTS5 query for this text, shared by the server and the desktop cache so both
    /// find the same things: any phone digit form as a prefix, or every word as a prefix. In a
    /// phone query the digit groups match whole tokens: as prefixes, "07700"* alone would match
    /// the national form of nearly every stored number (40 ms at 100k). Words and digit forms
    /// hold only letters and digits, so quoting them is enough.
    pub fn fts5_query(&self) -> String {
        let prefix = |t: &String| format!("\"{t}\"*");
        let mut alternatives: Vec<String> = self.phone_digits.iter().map(prefix).collect();
        if !self.words.is_empty() {
            let phone = !self.phone_digits.is_empty();
            let all: Vec<String> = self
                .words
                .iter()
                .map(|w| {
                    if phone && w.chars().all(|c| c.is_ascii_digit()) {
                        format!("\"{w}\"")
                    } else {
                        prefix(w)
                    }
                })
                .collect();
            alternatives.push(format!("({})", all.join(" AND ")));
        }
        alternatives.join(" OR ")
    }

    /// Like `parse`, after checking the text against the search limits (`crate::limits`).
    pub fn parse_limited(q: &str) -> Result<Option<SearchText>, SearchLimit> {
        crate::limits::check("q", q, SEARCH_TEXT_MAX).map_err(|e| SearchLimit::TooLong(e.len))?;
        let words = q
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty());
        let mut count = 0;
        for w in words {
            count += 1;
            let len = w.chars().count();
            if len > SEARCH_WORD_MAX {
                return Err(SearchLimit::WordTooLong(len));
            }
        }
        if count > SEARCH_WORDS_MAX {
            return Err(SearchLimit::TooManyWords(count));
        }
        Ok(SearchText::parse(q))
    }

    /// None for a query with nothing to search for.
    pub fn parse(q: &str) -> Option<SearchText> {
        let q = q.trim();
        if q.is_empty() {
            return None;
        }
        let mut phone_digits = Vec::new();
        if phone::looks_like_phone(q) {
            let digits: String = q.chars().filter(char::is_ascii_digit).collect();
            if let Ok(e164) = phone::normalize(q) {
                phone_digits.push(e164.trim_start_matches('+').to_string());
            }
            phone_digits.push(digits);
            phone_digits.dedup();
        }
        let words: Vec<String> = q
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if words.is_empty() && phone_digits.is_empty() {
            return None;
        }
        Some(SearchText {
            words,
            phone_digits,
        })
    }
}

/// The forms of a phone number the search index holds, so any formatting finds it:
/// international digits (447700900123) and national digits (07700900123).
pub fn indexed_phone_forms(e164: &str) -> String {
    let intl = e164.trim_start_matches('+');
    let national: String = phone::display(e164)
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    if national == intl {
        intl.to_string()
    } else {
        format!("{intl} {national}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lst2_fts5_query_ors_phone_forms_with_whole_digit_groups() {
        let q = SearchText::parse("07700 900123").unwrap().fts5_query();
        assert!(q.contains("\"447700900123\"*"), "{q}");
        assert!(q.contains("(\"07700\" AND \"900123\")"), "{q}");
        assert_eq!(
            SearchText::parse("Brake pads").unwrap().fts5_query(),
            "(\"brake\"* AND \"pads\"*)"
        );
    }

    #[test]
    fn lst2_phone_queries_yield_digit_forms() {
        let s = SearchText::parse("07700 900123").unwrap();
        assert!(s.phone_digits.contains(&"447700900123".to_string()));
        assert!(s.phone_digits.contains(&"07700900123".to_string()));
        assert_eq!(
            indexed_phone_forms("+447700900123"),
            "447700900123 07700900123"
        );
    }

    #[test]
    fn lst2_search_text_is_capped_in_words_and_length() {
        let eight = "a b c d e f g h";
        assert!(SearchText::parse_limited(eight).unwrap().is_some());
        assert_eq!(
            SearchText::parse_limited(&format!("{eight} i")),
            Err(SearchLimit::TooManyWords(9))
        );
        assert_eq!(
            SearchText::parse_limited(&"w".repeat(65)),
            Err(SearchLimit::WordTooLong(65))
        );
        assert_eq!(
            SearchText::parse_limited(&"-".repeat(257)),
            Err(SearchLimit::TooLong(257))
        );
        assert_eq!(SearchText::parse_limited("  "), Ok(None));
    }

    #[test]
    fn lst2_words_are_lowercased_and_split() {
        let s = SearchText::parse("  Brake-pads QUOTE ").unwrap();
        assert_eq!(s.words, vec!["brake", "pads", "quote"]);
        assert!(s.phone_digits.is_empty());
        assert_eq!(SearchText::parse("  ?! "), None);
    }

    // Issue 13 fuzzing: whatever is typed, parsing never panics and what it keeps is safe to
    // quote: no word holds a quote or a separator. (That FTS5 runs every such query is checked
    // in the server's `store::search`.) Cases: proptest's default (256), or `PROPTEST_CASES`.
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn prop_any_search_text_parses_into_quotable_words(q in any::<String>()) {
            if let Some(s) = SearchText::parse(&q) {
                prop_assert!(!s.words.is_empty() || !s.phone_digits.is_empty());
                for w in &s.words {
                    prop_assert!(!w.is_empty() && !w.contains(['"', '\'', ' ', '*']), "{w:?}");
                }
                for d in &s.phone_digits {
                    prop_assert!(!d.is_empty() && d.chars().all(|c| c.is_ascii_digit()), "{d:?} from {q:?}");
                }
                let query = s.fts5_query();
                prop_assert_eq!(query.matches('"').count() % 2, 0, "{}", query);
            } else {
                prop_assert!(!q.chars().any(char::is_alphanumeric), "{q:?} has something to find");
            }
        }
    }
}
