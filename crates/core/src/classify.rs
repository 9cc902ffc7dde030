//! A small routing classifier (RTE-1): does an inbound text ask for a booking? Used as a hint
//! to route the conversation to whoever takes bookings, so it favours simple, explainable
//! word rules over cleverness.
//!
//! Two kinds of signal:
//! - *asks*: phrasing that only makes sense when asking for work or a time ("book", "slot",
//!   "availability", "when can you fit me in", "can you take a look at my brakes", "quote").
//!   These win outright.
//! - *topics*: the garage's work ("MOT", "service", "brakes need doing", "how much for a
//!   clutch"). These count unless the text is about work already under way ("has the MOT been
//!   done?", "is it ready?") or is praise ("great service").

use std::ops::RangeInclusive;

// Word lists are space-separated so each reads as one line of vocabulary.

const DAY_WORDS: &str = "monday tuesday wednesday thursday friday saturday sunday \
    mondays tuesdays wednesdays thursdays fridays saturdays sundays \
    mon tue tues wed weds thu thur thurs fri \
    today tomorrow tmrw tmr tonight morning mornings afternoon afternoons evening \
    week weekend weekends fortnight month asap soon";

/// Parts and jobs a garage prices or books in.
const WORK_ITEMS: &str = "service mot repair repairs tyre tyres tire tires puncture brake \
    brakes pads discs disc clutch cambelt timing exhaust battery gearbox suspension shocks \
    alignment tracking aircon regas diagnostic diagnostics windscreen wipers bulb oil dpf egr \
    alternator starter radiator coolant engine valet";

/// "reservice" is a request for another service; "disservice" is not in the list.
const SERVICE_WORDS: &str = "service services servicing reservice reservicing mot mots";

/// Words that ask for a booking on their own.
const BOOKING_WORDS: &str = "book booking bookings booked rebook reschedule appointment \
    appointments appt slot slots availability quote quotes estimate";

const YOU: &str = "you u ya yous";

/// true when the text asks to book/arrange work: MOT, service, servicing, appointment,
/// book/booking, slot, bring it in/drop it off, available/availability + day words, "when can",
/// repair/fix quote requests, tyres/brakes/clutch/cambelt + "booking"/"can you do" etc.
/// Case-insensitive, word-boundary aware ("smote" is not "MOT"), tolerant of punctuation.
///
/// "reservice" counts (it asks for another service); "disservice" does not.
pub fn asks_for_booking(text: &str) -> bool {
    let words = tokenize(text);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    has_ask(&w) || (has_topic(&w) && !is_status_or_praise(&w))
}

/// Lowercased alphanumeric words. Apostrophes are dropped so "what's" stays one word, and dotted
/// abbreviations ("M.O.T.") are joined so they match their plain spelling.
fn tokenize(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.to_lowercase().chars().collect();
    let alnum_at = |i: Option<usize>| {
        i.and_then(|i| chars.get(i))
            .is_some_and(|c| c.is_alphanumeric())
    };
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let in_word = !current.is_empty();
        // A dot between two single characters ("m.o.t", "e.g") belongs to an abbreviation.
        let abbreviation_dot = c == '.'
            && alnum_at(i.checked_sub(1))
            && !alnum_at(i.checked_sub(2))
            && alnum_at(Some(i + 1))
            && !alnum_at(Some(i + 2));
        if c.is_alphanumeric() {
            current.push(c);
        } else if abbreviation_dot || (in_word && matches!(c, '\'' | '\u{2019}' | '\u{2018}')) {
            // Part of the word: skip without splitting.
        } else if in_word {
            words.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn in_set(set: &str, word: &str) -> bool {
    set.split_whitespace().any(|s| s == word)
}

fn any_of(words: &[&str], set: &str) -> bool {
    words.iter().any(|w| in_set(set, w))
}

/// Whether `phrase` occurs as consecutive words.
fn has_phrase(words: &[&str], phrase: &str) -> bool {
    let phrase: Vec<&str> = phrase.split_whitespace().collect();
    !phrase.is_empty()
        && words
            .windows(phrase.len())
            .any(|win| win == phrase.as_slice())
}

/// Whether a word from `first` is followed by a word from `then`, with the number of words
/// separating them in `between`.
fn followed_by(words: &[&str], first: &str, then: &str, between: RangeInclusive<usize>) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        in_set(first, w)
            && words
                .iter()
                .enumerate()
                .skip(i + 1)
                .any(|(j, n)| in_set(then, n) && between.contains(&(j - i - 1)))
    })
}

fn has_ask(w: &[&str]) -> bool {
    if any_of(w, BOOKING_WORDS) {
        return true;
    }
    // "are you free Thursday", "any space next week", "when are you available"
    if (any_of(w, "available free space room") && any_of(w, DAY_WORDS))
        || (any_of(w, "available free") && any_of(w, "when"))
    {
        return true;
    }
    // "when can you fit me in" / "when can I bring it" — but not "when can I collect it".
    if (has_phrase(w, "when can") || has_phrase(w, "when could"))
        && !any_of(w, "collect collection pick pickup ready")
    {
        return true;
    }
    // "bring it in", "drop the car off", "fit me in", "pop her in" — the object in between is
    // what separates these from "pop in later" or "get in touch".
    if followed_by(w, "bring pop", "in round over", 1..=3)
        || followed_by(w, "drop", "off", 0..=3)
        || (followed_by(w, "fit squeeze get", "in", 1..=2) && !any_of(w, "post"))
    {
        return true;
    }
    // "can you take a look at my brakes", "could you fix it this week", "do you do Saturdays"
    let asks_you = w
        .windows(2)
        .any(|p| in_set("can could would do will", p[0]) && in_set(YOU, p[1]));
    let request = "fix repair replace look check sort fit do change diagnose have";
    if asks_you && followed_by(w, YOU, request, 0..=3) {
        let about_the_car = any_of(w, WORK_ITEMS)
            || any_of(w, DAY_WORDS)
            || any_of(w, "it car van motor her noise light warning");
        let about_money = any_of(w, "card cash payment pay invoice receipt bill finance");
        if about_the_car && !about_money {
            return true;
        }
    }
    false
}

fn has_topic(w: &[&str]) -> bool {
    if any_of(w, SERVICE_WORDS) {
        return true;
    }
    // A work item plus a wish for it to be done or priced. Past tenses ("fixed", "fitted") are
    // left out: they describe work already done.
    let wants = "need needs needing want wanting doing replacing changing fitting price prices \
        cost costs much looking new";
    let asked_by_garage = has_phrase(w, "do you need") || has_phrase(w, "did you want");
    any_of(w, WORK_ITEMS) && any_of(w, wants) && !asked_by_garage
}

/// Texts about work already booked or done, or thanking us, which mention the same topics.
fn is_status_or_praise(w: &[&str]) -> bool {
    let status = "ready finished passed pass update updates collect collected collection \
        certificate receipt invoice bill paid progress";
    if any_of(w, status) {
        return true;
    }
    // "is the service done", "has the MOT been done" — but not "can you get it done Friday".
    let asks_if_done = w.iter().enumerate().any(|(i, word)| {
        *word == "done"
            && w[..i]
                .iter()
                .rev()
                .take(4)
                .any(|p| in_set("is has been was are all isnt hasnt", p))
    });
    if asks_if_done {
        return true;
    }
    // "thanks for the great service"
    let praise = "great good excellent brilliant fantastic amazing lovely superb fab quick fast \
        friendly top customer poor bad terrible awful";
    w.windows(2)
        .any(|p| in_set(praise, p[0]) && in_set(SERVICE_WORDS, p[1]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BOOKING: &[&str] = &[
        "Can I book my car in for an MOT next week?",
        "How much for a full service on a 2015 Golf?",
        "Any slots Thursday for brake pads?",
        "Do you have any availability this Saturday?",
        "Are you available tomorrow morning? Clutch is slipping",
        "When can you fit me in?",
        "My MOT runs out on the 14th",
        "Could I drop it off Monday for new tyres?",
        "I'd like to bring the car in, it's making a grinding noise",
        "Can you give me a quote to fix the exhaust?",
        "Need my cambelt doing, can you do it this week?",
        "Can I make an appointment for a diagnostic?",
        "Hi, need 2 new front tyres, when can I come in?",
        "Do you do servicing on vans?",
        "m.o.t. due next month can u book me in",
        "BOOKING FOR BRAKES PLS",
        "Can you take a look at my brakes? They're squealing",
        "Engine warning light came on, could you check it Friday?",
        "Any space next week for an interim service?",
        "What's the price of replacing the clutch on a Fiesta?",
        "Is it possible to get it in on Weds?? Cheers",
        "Do you do Saturdays? Need the clutch looked at",
        "When are you free? Exhaust is blowing",
        "reservice needed on the van please",
    ];

    const NOT_BOOKING: &[&str] = &[
        "Is my car ready?",
        "Thanks, see you then",
        "Who is this?",
        "What time do you close today?",
        "Can I pay by card when I collect?",
        "Has the MOT been done yet?",
        "Thanks for the great service, car drives lovely",
        "Running 10 minutes late, sorry",
        "Can you send me the invoice please?",
        "Ok cheers 👍",
        "Where are you based?",
        "Did it pass?",
        "Smote the kerb on the way home lol",
        "Is it ready to pick up tomorrow?",
        "How much do I owe you?",
        "STOP",
        "Wrong number sorry",
        "When can I collect it?",
        "Did it pass its MOT? Any update?",
        "I'll get it in the post today",
        "What a disservice that was",
        "I'll pop in later to pay",
        "Please get in touch when it's ready",
        "Is the part available yet? Any news?",
        "Have the brakes been fixed?",
        "Do you need the spare key as well?",
        "",
    ];

    #[test]
    fn rte1_booking_requests_are_detected() {
        for text in BOOKING {
            assert!(asks_for_booking(text), "should be a booking ask: {text:?}");
        }
    }

    #[test]
    fn rte1_other_texts_are_not_booking_requests() {
        for text in NOT_BOOKING {
            assert!(
                !asks_for_booking(text),
                "should not be a booking ask: {text:?}"
            );
        }
    }

    #[test]
    fn rte1_mot_matches_only_as_a_whole_word() {
        assert!(asks_for_booking("MOT please"));
        assert!(asks_for_booking("mot?"));
        assert!(asks_for_booking("(MOT)"));
        assert!(asks_for_booking("M.O.T please"));
        assert!(!asks_for_booking("smote"));
        assert!(!asks_for_booking("motor"));
        assert!(!asks_for_booking("remote"));
    }

    #[test]
    fn rte1_is_case_insensitive() {
        assert!(asks_for_booking("CAN I BOOK IN FOR AN MOT"));
        assert!(asks_for_booking("can i book in for an mot"));
        assert!(asks_for_booking("Can I Book In For An Mot"));
    }

    #[test]
    fn rte1_tolerates_punctuation_and_curly_apostrophes() {
        assert!(asks_for_booking("book...?!"));
        assert!(asks_for_booking("I’d like a service—Friday?"));
        assert!(asks_for_booking("service/MOT combo"));
        assert!(asks_for_booking("\"booking\""));
    }

    #[test]
    fn rte1_reservice_counts_but_disservice_does_not() {
        assert!(asks_for_booking("reservice"));
        assert!(asks_for_booking("re-service"));
        assert!(!asks_for_booking("disservice"));
    }

    #[test]
    fn rte1_praise_for_the_service_is_not_a_booking() {
        assert!(!asks_for_booking("Great service as always"));
        assert!(!asks_for_booking("Excellent service, thanks"));
        // ...but an explicit ask still wins.
        assert!(asks_for_booking(
            "Great service last time, can I book again for March?"
        ));
    }

    #[test]
    fn rte1_status_questions_lose_to_explicit_asks() {
        assert!(!asks_for_booking("Is the service done?"));
        assert!(asks_for_booking(
            "Is the service done? If so can I book the MOT too"
        ));
        assert!(asks_for_booking("Can you get the service done Friday?"));
    }

    #[test]
    fn rte1_tokenizer_joins_dotted_abbreviations_and_drops_apostrophes() {
        assert_eq!(tokenize("M.O.T. due"), ["mot", "due"]);
        assert_eq!(tokenize("What's up"), ["whats", "up"]);
        assert_eq!(tokenize("e.g. the car"), ["eg", "the", "car"]);
        assert_eq!(tokenize("  "), Vec::<String>::new());
        assert_eq!(tokenize("'quoted'"), ["quoted"]);
    }

    proptest! {
        #[test]
        fn rte1_prop_never_panics(text in any::<String>()) {
            let _ = asks_for_booking(&text);
        }

        #[test]
        fn rte1_prop_ascii_case_does_not_matter(text in "[a-zA-Z .,!?'0-9]{0,80}") {
            prop_assert_eq!(
                asks_for_booking(&text),
                asks_for_booking(&text.to_ascii_uppercase())
            );
            prop_assert_eq!(
                asks_for_booking(&text),
                asks_for_booking(&text.to_ascii_lowercase())
            );
        }

        #[test]
        fn rte1_prop_surrounding_punctuation_does_not_matter(
            i in 0..BOOKING.len() + NOT_BOOKING.len(),
            before in "[ .,!?()\"*-]{0,4}",
            after in "[ .,!?()\"*-]{0,4}",
        ) {
            let text = BOOKING.iter().chain(NOT_BOOKING).nth(i).copied().unwrap_or_default();
            let wrapped = format!("{before}{text}{after}");
            prop_assert_eq!(asks_for_booking(&wrapped), asks_for_booking(text), "{:?}", wrapped);
        }

        #[test]
        fn rte1_prop_a_booking_word_anywhere_is_enough(
            prefix in "[a-z ]{0,30}",
            word in prop::sample::select(vec!["book", "booking", "appointment", "slot", "availability"]),
            suffix in "[a-z ]{0,30}",
        ) {
            let text = format!("{prefix} {word} {suffix}");
            prop_assert!(asks_for_booking(&text), "{:?}", text);
        }
    }
}
