//! The store's rules that are not SQL: how a stored value is derived or checked before it is
//! written (intents, previews, the fields of quick messages, templates and notes, system notes),
//! and how an import fills the columns the live path would. Row mapping is `rows.rs`.

use inbox_core::{Call, CallOutcome, Channel, ConversationSummary, Direction, Id, WorkOrder};

use crate::store::dataset::call_summary;
use crate::store::rows::{from_ms, ms, title};

/// The intent stored with an inbound message (AIA-1): the classifier's label after its
/// threshold and its confidence to three places. Stored whether or not the organisation has AI
/// on (it is decided here, with no network), and shown only while it has.
pub(crate) fn inbound_intent(body: &str) -> (&'static str, f64) {
    let c = inbox_core::intent::classify(body);
    (c.intent.as_str(), confidence(c))
}

/// A classification's confidence as stored: to three places.
pub(crate) fn confidence(c: inbox_core::intent::Classification) -> f64 {
    (f64::from(c.confidence) * 1000.0).round() / 1000.0
}

/// [`inbound_intent`] on the blocking pool: the classifier is CPU work (and trains on first
/// use), which must hold up neither the runtime's workers nor an open transaction.
pub(crate) async fn classify_inbound(body: &str) -> (&'static str, f64) {
    let body = body.to_string();
    tokio::task::spawn_blocking(move || inbound_intent(&body))
        .await
        .unwrap_or((inbox_core::intent::Intent::Unknown.as_str(), 0.0))
}

/// The intent columns of an imported message: an inbound one's as at ingest, none outbound.
pub(crate) fn imported_intent(
    direction: Direction,
    body: &str,
) -> (Option<&'static str>, Option<f64>) {
    match direction {
        Direction::Inbound => {
            let (label, confidence) = inbound_intent(body);
            (Some(label), Some(confidence))
        }
        Direction::Outbound => (None, None),
    }
}

/// The SQL list of the call outcomes that wait for "Mark resolved" (VOI-7).
pub(crate) fn unresolved_outcomes() -> String {
    CallOutcome::ALL
        .iter()
        .filter(|o| o.needs_resolution())
        .map(|o| format!("'{}'", o.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A stored message's text for its row: its body, else what its files are (LST-10).
pub(crate) fn row_text(body: String, attachments_json: &str) -> String {
    let files: Vec<inbox_core::media::Attachment> =
        serde_json::from_str(attachments_json).unwrap_or_default();
    inbox_core::media::text_of(&body, &files)
}

/// A conversation's preview and channel after a call left or joined it: the newest message or
/// call for the preview; for the channel, how the customer last reached us, the newer of their
/// last inbound message and the last call (as `dataset::derive`).
pub(crate) fn refreshed_preview(
    newest_message: Option<(i64, String)>,
    newest_inbound: Option<(i64, String)>,
    newest_call: Option<(i64, Call)>,
) -> (String, Option<String>) {
    let call_at = newest_call.as_ref().map(|c| c.0);
    let preview = match (newest_message, newest_call) {
        (Some((mat, body)), Some((cat, _))) if mat > cat => {
            inbox_core::preview::message_preview(&body)
        }
        (_, Some((_, c))) => call_summary(c.outcome, c.duration_secs, c.recording_secs),
        (Some((_, body)), None) => inbox_core::preview::message_preview(&body),
        (None, None) => String::new(),
    };
    let channel = match (newest_inbound, call_at) {
        (Some((iat, ch)), Some(cat)) if iat > cat => Some(ch),
        (_, Some(_)) => Some(Channel::Voice.as_str().to_string()),
        (Some((_, ch)), None) => Some(ch),
        (None, None) => None,
    };
    (preview, channel)
}

/// `%text%` for LIKE, with the wildcard characters of the text escaped (`ESCAPE '\'`).
pub(crate) fn like_pattern(q: &str) -> String {
    let escaped = q
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A quick message's name and text, trimmed and checked (CMP-6).
pub(crate) fn quick_message_fields(
    name: &str,
    body: &str,
) -> crate::store::StoreResult<(String, String)> {
    use crate::store::StoreError;
    let (name, body) = (name.trim(), body.trim());
    if name.is_empty() || body.is_empty() {
        return Err(StoreError::Invalid(
            "a quick message needs a name and a text".into(),
        ));
    }
    if name.chars().count() > 60 {
        return Err(StoreError::Invalid(
            "the name is longer than 60 characters".into(),
        ));
    }
    Ok((name.to_string(), body.to_string()))
}

/// A template's fields, trimmed and checked (SET-1).
pub(crate) fn template_fields(
    input: &inbox_core::api::TemplateInput,
) -> crate::store::StoreResult<inbox_core::template::ValidTemplate> {
    inbox_core::template::validate(&input.name, &input.language, &input.body)
        .map_err(|e| crate::store::StoreError::Invalid(e.to_string()))
}

/// What the audit log keeps of a template change (the header only where there is one).
pub(crate) fn template_audit(t: &inbox_core::WhatsappTemplate) -> serde_json::Value {
    let mut v = serde_json::json!({ "name": t.name, "language": t.language });
    if let Some(h) = t.header {
        v["header"] = serde_json::json!(h.as_str());
    }
    v
}

/// The sealed form of an organisation's provider secret; empty stays empty (not configured).
pub(crate) fn seal(
    secrets: &crate::secrets::SecretBox,
    plain: &str,
    org: inbox_core::Id,
    field: crate::secrets::Field,
) -> crate::store::StoreResult<String> {
    Ok(secrets.seal(plain, org, field)?)
}

/// The sender name of imported messages and the number their calls came from.
pub(crate) fn imported_party(
    o: &crate::store::dataset::OrgData,
    party: &crate::store::dataset::Party,
) -> (String, Option<String>) {
    use crate::store::dataset::Party;
    match party {
        Party::Customer(i) => (
            o.customers[*i].name.clone(),
            o.customers[*i].phones.first().cloned(),
        ),
        Party::Number(n) => (title(None, Some(n), false), Some(n.clone())),
        Party::Withheld => (title(None, None, true), None),
    }
}

/// A conversation's details from its parts (THR-2, SDB-2): reply channels and the WhatsApp window
/// follow from the summary, the customer and the last inbound WhatsApp message.
pub(crate) fn conversation_detail(
    summary: ConversationSummary,
    last_inbound_whatsapp_at: Option<i64>,
    customer: Option<inbox_core::Customer>,
    linked_work_order: Option<WorkOrder>,
    work_order_candidates: Vec<WorkOrder>,
    now: chrono::DateTime<chrono::Utc>,
) -> inbox_core::ConversationDetail {
    use inbox_core::compose::{reply_channels, ReplyContext};
    let has_number =
        summary.caller_number.is_some() || customer.as_ref().is_some_and(|c| !c.phones.is_empty());
    let reply_channels = reply_channels(ReplyContext {
        has_customer: customer.is_some(),
        has_number: has_number && !summary.withheld,
        last_channel: summary.last_channel,
    });
    inbox_core::ConversationDetail {
        whatsapp_window: inbox_core::whatsapp::window_state(
            last_inbound_whatsapp_at.map(from_ms),
            now,
        ),
        summary,
        customer,
        linked_work_order,
        work_order_candidates,
        reply_channels,
    }
}

/// The system message of a work order linked to or unlinked from a conversation (SDB-3).
pub(crate) fn work_order_note(wo: &WorkOrder, linked: bool) -> String {
    let verb = if linked { "linked" } else { "unlinked" };
    format!(
        "Work order {} ({}) {verb}",
        wo.number, wo.vehicle_registration
    )
}

/// A rejection's reason, which the author needs (APQ-1).
pub(crate) fn rejection_reason(reason: &str) -> crate::store::StoreResult<String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(crate::store::StoreError::Invalid(
            "give a reason so the author knows what to change".into(),
        ));
    }
    Ok(reason.to_string())
}

/// A note's text, which must not be empty.
pub(crate) fn note_body(body: &str) -> crate::store::StoreResult<String> {
    let body = body.trim();
    if body.is_empty() {
        return Err(crate::store::StoreError::Invalid(
            "the note is empty".into(),
        ));
    }
    Ok(body.to_string())
}

/// The system messages left in both threads when a call moves (VOI-6): (from, to).
pub(crate) fn call_moved_notes(
    started_at: chrono::DateTime<chrono::Utc>,
    tz: chrono_tz::Tz,
    from_title: &str,
    to_title: &str,
) -> (String, String) {
    let when = started_at.with_timezone(&tz).format("%-d %b %H:%M");
    (
        format!("Call of {when} moved to {to_title}"),
        format!("Call of {when} moved here from {from_title}"),
    )
}

/// An imported message's author id and sender name, and when it was read (ms).
pub(crate) fn imported_message_meta(
    o: &crate::store::dataset::OrgData,
    user_ids: &[crate::store::dataset::ImportedUser],
    sender: &str,
    direction: Direction,
    author: Option<usize>,
    at: chrono::DateTime<chrono::Utc>,
    read: bool,
) -> (Option<Id>, String, Option<i64>) {
    let (author_id, name) = match (direction, author) {
        (Direction::Outbound, Some(u)) => (Some(user_ids[u].id), o.users[u].name.clone()),
        _ => (None, sender.to_string()),
    };
    let read_at = (direction == Direction::Inbound && read).then(|| ms(at));
    (author_id, name, read_at)
}

/// The recording URL of an imported voicemail: Twilio's form, unique per conversation and call.
pub(crate) fn imported_recording_url(
    account_sid: &str,
    conversation_id: Id,
    call_no: usize,
) -> String {
    format!(
        "https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Recordings/RE{:032x}",
        conversation_id * 1000 + call_no as i64
    )
}

/// A list page from up to `PAGE_SIZE + 1` rows: the extra row only says there is a next page.
pub(crate) fn list_page(
    mut items: Vec<ConversationSummary>,
    counts: inbox_core::api::Counts,
) -> inbox_core::api::ConversationPage {
    use inbox_core::api::PAGE_SIZE;
    let next_cursor = if items.len() > PAGE_SIZE {
        items.truncate(PAGE_SIZE);
        items
            .last()
            .map(|c| crate::cursor::encode_list(c.last_activity_at, c.id))
    } else {
        None
    };
    inbox_core::api::ConversationPage {
        items,
        next_cursor,
        counts,
    }
}
