//! One-line previews for inbox rows (LST-10) and the wording of voice-call rows (VOI-4).

/// Longest preview, in characters, including the trailing "…" when the text was cut.
pub const PREVIEW_MAX_CHARS: usize = 120;

const ELLIPSIS: char = '…';

/// Collapses whitespace runs (including newlines) to single spaces, trims, and truncates to at
/// most PREVIEW_MAX_CHARS chars (on a char boundary, never splitting a multi-byte char) ending
/// with "…" when cut.
///
/// The ellipsis counts towards the limit, so a preview is never longer than
/// [`PREVIEW_MAX_CHARS`] characters.
pub fn message_preview(body: &str) -> String {
    let mut out = String::with_capacity(body.len().min(PREVIEW_MAX_CHARS * 4));
    let mut chars = 0usize;
    let mut cut = false;

    'words: for (i, word) in body.split_whitespace().enumerate() {
        if i > 0 {
            if chars == PREVIEW_MAX_CHARS {
                cut = true;
                break;
            }
            out.push(' ');
            chars += 1;
        }
        for c in word.chars() {
            if chars == PREVIEW_MAX_CHARS {
                cut = true;
                break 'words;
            }
            out.push(c);
            chars += 1;
        }
    }

    if cut {
        // Make room for the ellipsis, and don't leave it dangling after a space.
        out.pop();
        let kept = out.trim_end().len();
        out.truncate(kept);
        out.push(ELLIPSIS);
    }
    out
}

/// Duration as the guide writes it: under a minute "41s", else "2m 05s" (zero-padded seconds),
/// an hour or more "1h 02m 05s".
pub fn format_call_duration(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// Voicemail length as m:ss, e.g. 38 → "0:38", 125 → "2:05".
///
/// Minutes are not rolled into hours: a voicemail is never that long, and "62:05" is still
/// unambiguous.
pub fn format_voicemail_duration(secs: u32) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// What happened on a call, as far as its inbox row is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallPreviewKind {
    Answered { duration_secs: u32 },
    InProgress,
    Missed,
    Voicemail { recording_secs: u32 },
    Escalated,
    Errored,
}

/// "Voice call - 41s - ended", "Voice call - in progress", "Missed call", "Voicemail - 0:38",
/// "Voice call - escalated", "Voice call - failed"
pub fn call_preview(kind: CallPreviewKind) -> String {
    match kind {
        CallPreviewKind::Answered { duration_secs } => {
            format!(
                "Voice call - {} - ended",
                format_call_duration(duration_secs)
            )
        }
        CallPreviewKind::InProgress => "Voice call - in progress".to_string(),
        CallPreviewKind::Missed => "Missed call".to_string(),
        CallPreviewKind::Voicemail { recording_secs } => {
            format!("Voicemail - {}", format_voicemail_duration(recording_secs))
        }
        CallPreviewKind::Escalated => "Voice call - escalated".to_string(),
        CallPreviewKind::Errored => "Voice call - failed".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn len(s: &str) -> usize {
        s.chars().count()
    }

    // --- message_preview -----------------------------------------------------------------

    #[test]
    fn lst10_short_text_is_unchanged() {
        assert_eq!(message_preview("Is my car ready?"), "Is my car ready?");
    }

    #[test]
    fn lst10_empty_and_blank_bodies_give_empty_previews() {
        assert_eq!(message_preview(""), "");
        assert_eq!(message_preview(" \n\t \r\n "), "");
    }

    #[test]
    fn lst10_newlines_and_whitespace_runs_collapse_to_single_spaces() {
        assert_eq!(
            message_preview("  Hi there,\n\nCan I book\tan MOT?\r\n  Thanks  "),
            "Hi there, Can I book an MOT? Thanks"
        );
    }

    #[test]
    fn lst10_unicode_whitespace_also_collapses() {
        assert_eq!(message_preview("a\u{00A0}\u{2003}b\u{2028}c"), "a b c");
    }

    #[test]
    fn lst10_text_of_exactly_the_limit_is_not_cut() {
        let body = "x".repeat(PREVIEW_MAX_CHARS);
        assert_eq!(message_preview(&body), body);
    }

    #[test]
    fn lst10_text_over_the_limit_is_cut_with_an_ellipsis_within_the_limit() {
        let body = "x".repeat(PREVIEW_MAX_CHARS + 1);
        let p = message_preview(&body);
        assert_eq!(len(&p), PREVIEW_MAX_CHARS);
        assert_eq!(p, format!("{}…", "x".repeat(PREVIEW_MAX_CHARS - 1)));
    }

    #[test]
    fn lst10_whitespace_collapse_happens_before_the_length_check() {
        // 200 raw chars but only 100 once the runs of spaces collapse.
        let body = "ab   ".repeat(40);
        let p = message_preview(&body);
        assert!(!p.ends_with('…'));
        assert_eq!(len(&p), 40 * 3 - 1);
    }

    #[test]
    fn lst10_cut_never_leaves_a_space_before_the_ellipsis() {
        // 118 chars, a space at 119, then more text: the cut lands right after the space.
        let body = format!("{} {}", "a".repeat(118), "bbbbbb");
        let p = message_preview(&body);
        assert_eq!(p, format!("{}…", "a".repeat(118)));
    }

    #[test]
    fn lst10_multibyte_characters_are_never_split() {
        let body = "🚗é中".repeat(100);
        let p = message_preview(&body);
        assert_eq!(len(&p), PREVIEW_MAX_CHARS);
        assert!(p.ends_with('…'));
        assert!(body.starts_with(p.trim_end_matches('…')));
    }

    // --- durations -----------------------------------------------------------------------

    #[test]
    fn voi4_call_duration_under_a_minute_is_seconds_only() {
        assert_eq!(format_call_duration(0), "0s");
        assert_eq!(format_call_duration(41), "41s");
        assert_eq!(format_call_duration(59), "59s");
    }

    #[test]
    fn voi4_call_duration_in_minutes_pads_seconds() {
        assert_eq!(format_call_duration(60), "1m 00s");
        assert_eq!(format_call_duration(125), "2m 05s");
        assert_eq!(format_call_duration(3599), "59m 59s");
    }

    #[test]
    fn voi4_call_duration_in_hours_pads_minutes_and_seconds() {
        assert_eq!(format_call_duration(3600), "1h 00m 00s");
        assert_eq!(format_call_duration(3725), "1h 02m 05s");
        assert_eq!(format_call_duration(u32::MAX), "1193046h 28m 15s");
    }

    #[test]
    fn voi4_voicemail_duration_is_minutes_and_padded_seconds() {
        assert_eq!(format_voicemail_duration(0), "0:00");
        assert_eq!(format_voicemail_duration(38), "0:38");
        assert_eq!(format_voicemail_duration(125), "2:05");
        assert_eq!(format_voicemail_duration(600), "10:00");
        assert_eq!(format_voicemail_duration(3725), "62:05");
    }

    // --- call previews -------------------------------------------------------------------

    #[test]
    fn voi4_call_previews_match_the_guide() {
        let cases = [
            (
                CallPreviewKind::Answered { duration_secs: 41 },
                "Voice call - 41s - ended",
            ),
            (
                CallPreviewKind::Answered { duration_secs: 125 },
                "Voice call - 2m 05s - ended",
            ),
            (CallPreviewKind::InProgress, "Voice call - in progress"),
            (CallPreviewKind::Missed, "Missed call"),
            (
                CallPreviewKind::Voicemail { recording_secs: 38 },
                "Voicemail - 0:38",
            ),
            (CallPreviewKind::Escalated, "Voice call - escalated"),
            (CallPreviewKind::Errored, "Voice call - failed"),
        ];
        for (kind, want) in cases {
            assert_eq!(call_preview(kind), want, "{kind:?}");
        }
    }

    #[test]
    fn voi4_call_previews_fit_in_a_message_preview() {
        let long = call_preview(CallPreviewKind::Answered {
            duration_secs: u32::MAX,
        });
        assert_eq!(message_preview(&long), long);
    }

    // --- properties ----------------------------------------------------------------------

    proptest! {
        #[test]
        fn lst10_prop_preview_never_exceeds_the_limit(body in any::<String>()) {
            let p = message_preview(&body);
            prop_assert!(len(&p) <= PREVIEW_MAX_CHARS);
        }

        #[test]
        fn lst10_prop_preview_has_no_newlines_or_whitespace_runs(body in "(?s)[a-z \\n\\r\\t\u{2028}é🚗]{0,400}") {
            let p = message_preview(&body);
            let line_breaks = ['\n', '\r', '\u{2028}'];
            prop_assert!(!p.contains(line_breaks), "{:?}", p);
            prop_assert!(!p.contains("  "));
            prop_assert_eq!(p.trim(), p.as_str());
        }

        #[test]
        fn lst10_prop_uncut_preview_is_the_collapsed_text(body in any::<String>()) {
            let collapsed = body.split_whitespace().collect::<Vec<_>>().join(" ");
            let p = message_preview(&body);
            if len(&collapsed) <= PREVIEW_MAX_CHARS {
                prop_assert_eq!(p, collapsed);
            } else {
                prop_assert!(p.ends_with('…'));
                prop_assert!(collapsed.starts_with(p.trim_end_matches('…')));
            }
        }

        #[test]
        fn lst10_prop_preview_is_idempotent_for_uncut_text(body in "[a-zA-Z0-9 \\n]{0,120}") {
            let once = message_preview(&body);
            prop_assert_eq!(message_preview(&once), once.clone());
        }

        #[test]
        fn voi4_prop_call_duration_round_trips(secs in any::<u32>()) {
            let text = format_call_duration(secs);
            let total: u64 = text
                .split(' ')
                .map(|part| {
                    let (n, unit) = part.split_at(part.len() - 1);
                    let n: u64 = n.parse().unwrap();
                    match unit { "h" => n * 3600, "m" => n * 60, _ => n }
                })
                .sum();
            prop_assert_eq!(total, u64::from(secs));
        }

        #[test]
        fn voi4_prop_voicemail_duration_round_trips(secs in any::<u32>()) {
            let text = format_voicemail_duration(secs);
            let (m, s) = text.split_once(':').unwrap();
            prop_assert_eq!(s.len(), 2);
            prop_assert_eq!(m.parse::<u64>().unwrap() * 60 + s.parse::<u64>().unwrap(), u64::from(secs));
        }
    }
}
