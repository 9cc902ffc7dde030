use super::*;

/// Accuracy and macro-F1 of `predict` over `examples`.
fn measure(predict: impl Fn(&str) -> Intent, examples: &[(Intent, &str)]) -> (f64, f64) {
    let mut confusion = [[0usize; 8]; 8];
    for (truth, text) in examples {
        confusion[truth.index()][predict(text).index()] += 1;
    }
    let right: usize = (0..8).map(|k| confusion[k][k]).sum();
    let accuracy = right as f64 / examples.len() as f64;
    let f1s: Vec<f64> = (0..8)
        .map(|k| {
            let tp = confusion[k][k] as f64;
            let predicted: f64 = (0..8).map(|t| confusion[t][k] as f64).sum();
            let actual: f64 = confusion[k].iter().sum::<usize>() as f64;
            if tp == 0.0 {
                0.0
            } else {
                let (p, r) = (tp / predicted, tp / actual);
                2.0 * p * r / (p + r)
            }
        })
        .collect();
    (accuracy, f1s.iter().sum::<f64>() / 8.0)
}

#[test]
fn the_corpus_has_every_intent_at_least_fifty_times_and_a_fifth_held_out() {
    let (train, held_out) = split();
    assert!(train.len() + held_out.len() >= 400);
    for intent in Intent::ALL {
        let n = corpus().filter(|(i, _, _)| *i == intent).count();
        assert!(n >= 50, "{intent:?}: {n}");
        let held = held_out.iter().filter(|(i, _)| *i == intent).count();
        assert_eq!(held, n / 5, "{intent:?}");
    }
    for channel in ["sms", "whatsapp", "portal", "voice"] {
        assert!(corpus().any(|(_, c, _)| c == channel), "{channel}");
    }
    // No held-out text is also in training (the figures would flatter the model).
    for (_, text) in &held_out {
        assert!(!train.iter().any(|(_, t)| t == text), "{text}");
    }
}

/// The figures reported for issue 16 (held-out split, after the thresholds, which send some
/// right answers to `unknown`): they may rise, never fall.
#[test]
fn aia1_held_out_accuracy_and_macro_f1_do_not_fall_below_the_reported_figures() {
    let (_, held_out) = split();
    let (accuracy, macro_f1) = measure(|t| classify(t).intent, &held_out);
    let (raw_accuracy, raw_f1) = measure(|t| model().predict(t).intent, &held_out);
    println!(
        "held out: {} messages; accuracy {accuracy:.3}, macro-F1 {macro_f1:.3} \
         (before thresholds {raw_accuracy:.3}, {raw_f1:.3})",
        held_out.len()
    );
    // Reported: accuracy 0.800 (68 of 85), macro-F1 0.802; before thresholds 0.824 and 0.821.
    assert!(accuracy >= 0.799, "accuracy {accuracy:.3}");
    assert!(macro_f1 >= 0.80, "macro-F1 {macro_f1:.3}");
}

#[test]
fn aia1_training_is_deterministic() {
    let (train, held_out) = split();
    let (a, b) = (Model::train(&train), Model::train(&train));
    for (_, text) in held_out {
        assert_eq!(a.predict(text), b.predict(text));
    }
}

#[test]
fn aia1_everyday_messages_get_their_intent() {
    for (text, want) in [
        ("hi is my car ready yet", Intent::StatusInquiry),
        ("can I book an MOT for next tuesday", Intent::BookingRequest),
        (
            "how much for new front tyres on a corsa",
            Intent::QuoteQuestion,
        ),
        ("what time do you open on saturday", Intent::GeneralQuestion),
        (
            "this is unacceptable, I want to speak to the manager",
            Intent::EscalationRequest,
        ),
        ("ok thanks see you then", Intent::Continuation),
        (
            "You have won a £1000 voucher, claim now at win-prize.co",
            Intent::Spam,
        ),
    ] {
        assert_eq!(classify(text).intent, want, "{text}");
    }
}

#[test]
fn aia1_nothing_to_go_on_is_unknown_and_confidence_is_a_probability() {
    for text in ["", "   ", "zzzz qqqq", "🙂"] {
        let c = classify(text);
        assert!((0.0..=1.0).contains(&c.confidence), "{text:?}: {c:?}");
    }
    assert_eq!(classify("").intent, Intent::Unknown);
}

#[test]
fn aia1_the_wire_form_is_label_and_confidence() {
    let c = Classification {
        intent: Intent::QuoteQuestion,
        confidence: 0.5,
    };
    assert_eq!(
        serde_json::to_value(c).unwrap(),
        serde_json::json!({ "label": "quote_question", "confidence": 0.5 })
    );
    for i in Intent::ALL {
        assert_eq!(Intent::parse(i.as_str()), Some(i));
    }
}
