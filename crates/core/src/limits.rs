//! How long each free-text field of the API may be (issue 13). The server answers a longer value
//! with a 422 that names the field and its limit, before anything is stored or broadcast; the
//! desktop can check the same numbers before it sends. Lengths are in characters (Unicode scalar
//! values), as people count them.
//!
//! Reply bodies have per-channel limits in [`crate::compose::max_body_chars`]; WhatsApp template
//! names and bodies have Meta's limits in [`crate::template`]. Text that providers send us
//! (Twilio, WhatsApp webhooks) is never refused for its length: refusing it would lose it.

/// A composing client's idempotency key (replies and portal posts).
pub const CLIENT_ID_MAX: usize = 100;
/// One value filled into a WhatsApp template's `{{n}}`.
pub const TEMPLATE_PARAM_MAX: usize = 1_024;
/// An internal note.
pub const NOTE_BODY_MAX: usize = 10_000;
/// A message a customer writes in the portal.
pub const PORTAL_BODY_MAX: usize = 10_000;
/// Why an approver rejected a reply.
pub const REJECT_REASON_MAX: usize = 500;
/// Why a call was moved to another conversation.
pub const REASSIGN_REASON_MAX: usize = 500;
/// A quick message's name and text.
pub const QUICK_NAME_MAX: usize = 60;
pub const QUICK_BODY_MAX: usize = 4_096;
/// The `q` of the customer and work-order look-ups.
pub const LOOKUP_QUERY_MAX: usize = 100;
/// The conversation search's `q`: all of it, its words, and each word (see `search`).
pub const SEARCH_TEXT_MAX: usize = 256;
pub const SEARCH_WORDS_MAX: usize = 8;
pub const SEARCH_WORD_MAX: usize = 64;
/// Sign-in: an email address (RFC 5321's path limit) and a password.
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MAX: usize = 1_024;

/// A value longer than its field allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} is {len} characters; the limit is {max}")]
pub struct TooLong {
    pub field: String,
    pub len: usize,
    pub max: usize,
}

/// Ok when `value` has at most `max` characters.
pub fn check(field: &str, value: &str, max: usize) -> Result<(), TooLong> {
    // A string of at most `max` bytes has at most `max` characters: no count needed.
    if value.len() <= max {
        return Ok(());
    }
    let len = value.chars().count();
    if len <= max {
        return Ok(());
    }
    Err(TooLong {
        field: field.to_string(),
        len,
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_counts_characters_and_names_the_field() {
        assert!(check("note", "ééé", 3).is_ok());
        assert!(check("note", "", 0).is_ok());
        let e = check("reason", &"x".repeat(501), REJECT_REASON_MAX).unwrap_err();
        assert_eq!(e.to_string(), "reason is 501 characters; the limit is 500");
    }
}
