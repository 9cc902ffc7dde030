//! Withheld caller detection for voice calls (VOI-3), following what Twilio sends in `From`
//! when the caller's number is not available.

/// The legacy "keypad spellings" Twilio has used in `From` for callers without caller ID:
/// ANONYMOUS, RESTRICTED, BLOCKED, UNKNOWN and UNAVAILABLE typed on a phone keypad.
const KEYPAD_NUMBERS: [&str; 5] = [
    "266696687",   // ANONYMOUS
    "7378742833",  // RESTRICTED
    "2562533",     // BLOCKED
    "8656696",     // UNKNOWN
    "86282452253", // UNAVAILABLE
];

const WITHHELD_WORDS: [&str; 7] = [
    "anonymous",
    "restricted",
    "unknown",
    "private",
    "unavailable",
    "blocked",
    "withheld",
];

/// "no caller ID" = empty/whitespace, one of the five legacy keypad numbers (+266696687
/// ANONYMOUS, +7378742833 RESTRICTED, +2562533 BLOCKED, +8656696 UNKNOWN, +86282452253
/// UNAVAILABLE), or (case-insensitively) contains anonymous, restricted, unknown, private,
/// unavailable, blocked or withheld.
///
/// The keypad numbers are matched with or without the "+" and with any spacing, but only as
/// the whole value: a real number that merely contains those digits is not withheld.
pub fn is_withheld(from: &str) -> bool {
    let from = from.trim();
    if from.is_empty() {
        return true;
    }
    let lower = from.to_lowercase();
    if WITHHELD_WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    let only_number_chars = from
        .chars()
        .all(|c| c.is_ascii_digit() || c == '+' || c == '-' || c.is_whitespace());
    if !only_number_chars {
        return false;
    }
    let digits: String = from.chars().filter(char::is_ascii_digit).collect();
    KEYPAD_NUMBERS.contains(&digits.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Spells a word on a phone keypad, to check the constants against their names.
    fn keypad(word: &str) -> String {
        word.chars()
            .map(|c| match c.to_ascii_uppercase() {
                'A'..='C' => '2',
                'D'..='F' => '3',
                'G'..='I' => '4',
                'J'..='L' => '5',
                'M'..='O' => '6',
                'P'..='S' => '7',
                'T'..='V' => '8',
                _ => '9',
            })
            .collect()
    }

    #[test]
    fn voi3_keypad_numbers_spell_their_names() {
        let names = [
            "ANONYMOUS",
            "RESTRICTED",
            "BLOCKED",
            "UNKNOWN",
            "UNAVAILABLE",
        ];
        for (number, name) in KEYPAD_NUMBERS.iter().zip(names) {
            assert_eq!(*number, keypad(name), "{name}");
        }
    }

    #[test]
    fn voi3_empty_from_is_withheld() {
        assert!(is_withheld(""));
        assert!(is_withheld("   "));
        assert!(is_withheld("\t\n"));
    }

    #[test]
    fn voi3_legacy_keypad_numbers_are_withheld() {
        for n in [
            "+266696687",
            "+7378742833",
            "+2562533",
            "+8656696",
            "+86282452253",
        ] {
            assert!(is_withheld(n), "{n}");
            assert!(is_withheld(&n[1..]), "{n} without +");
        }
        assert!(is_withheld(" +266 696 687 "));
    }

    #[test]
    fn voi3_withheld_words_are_recognised_in_any_case() {
        for from in [
            "anonymous",
            "Anonymous",
            "ANONYMOUS",
            "Restricted",
            "unknown",
            "Private",
            "private number",
            "Unavailable",
            "BLOCKED",
            "Withheld",
            "sip:anonymous@example.invalid",
            "client:Anonymous",
        ] {
            assert!(is_withheld(from), "{from}");
        }
    }

    #[test]
    fn voi3_real_numbers_are_not_withheld() {
        for from in [
            "+447700900123",
            "+14155552671",
            "07700 900123",
            "+442079460000",
            // Contains a keypad number's digits but is a different number.
            "+12666966870",
            "+447378742833",
            "client:alice",
        ] {
            assert!(!is_withheld(from), "{from}");
        }
    }

    proptest! {
        #[test]
        fn voi3_prop_any_text_containing_a_withheld_word_is_withheld(
            before in "[a-zA-Z0-9:+@ ]{0,12}",
            i in 0..WITHHELD_WORDS.len(),
            upper in prop::collection::vec(any::<bool>(), 11),
            after in "[a-zA-Z0-9:+@ ]{0,12}",
        ) {
            let word: String = WITHHELD_WORDS[i]
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                .collect();
            let from = format!("{before}{word}{after}");
            prop_assert!(is_withheld(&from), "{:?}", from);
        }

        #[test]
        fn voi3_prop_uk_mobiles_are_not_withheld(n in 0u32..1_000_000_000) {
            let from = format!("+447{n:09}");
            prop_assert!(!is_withheld(&from), "{}", from);
        }

        #[test]
        fn voi3_prop_never_panics(from in any::<String>()) {
            let _ = is_withheld(&from);
        }
    }
}
