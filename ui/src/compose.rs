//! The composer's rules, pure so they are tested natively (CMP-1 … CMP-6, VOI-5): what the
//! composer offers for a conversation and channel, and quick messages typed as `/name`.

use inbox_core::compose::{check_template_files, max_body_chars, ComposeError};
use inbox_core::whatsapp::WindowState;
use inbox_core::{
    CapabilitySet, Channel, ConversationDetail, QuickMessage, TemplateHeader, ThreadItem,
    WhatsappTemplate,
};

/// What the reply side of the composer offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyMode {
    /// The role cannot reply (viewer).
    NotAllowed,
    /// A withheld caller: no number and no portal account.
    NoChannel,
    /// VOI-5: a voice-only thread offers "Reply by SMS" instead of a free-form composer.
    ReplyBySms,
    /// CMP-2: WhatsApp with the 24-hour window closed: templates only.
    TemplatesOnly,
    /// CMP-1: free text.
    FreeText,
}

/// Decides the reply mode for `channel` (the one picked, or the default).
pub fn reply_mode(
    caps: &CapabilitySet,
    detail: &ConversationDetail,
    items: &[ThreadItem],
    channel: Option<Channel>,
    sms_chosen: bool,
) -> ReplyMode {
    if !caps.can_write() {
        return ReplyMode::NotAllowed;
    }
    let Some(channel) = channel.or_else(|| detail.reply_channels.first().copied()) else {
        return ReplyMode::NoChannel;
    };
    let voice_only = !items.iter().any(|i| matches!(i, ThreadItem::Message(_)))
        && detail.summary.last_channel == Channel::Voice;
    if voice_only && !sms_chosen {
        return ReplyMode::ReplyBySms;
    }
    if channel == Channel::Whatsapp && !matches!(detail.whatsapp_window, WindowState::Open { .. }) {
        return ReplyMode::TemplatesOnly;
    }
    ReplyMode::FreeText
}

/// CMP-2: what the template picker says a template needs besides its text.
pub fn template_needs(t: &WhatsappTemplate) -> Option<&'static str> {
    t.header.map(|h| match h {
        TemplateHeader::Image => "Needs a photo",
        TemplateHeader::Document => "Needs a PDF",
    })
}

/// CMP-2: why a template reply cannot be sent yet, in plain words (Send stays disabled), or
/// None when it can: a template is chosen, and it carries exactly the one file of the kind its
/// media header names (`files` are the attached files' content types), or none without a
/// header. The rule is core's, as the server applies it.
pub fn template_blocked(template: Option<&WhatsappTemplate>, files: &[&str]) -> Option<String> {
    let Some(t) = template else {
        return Some("Choose a template to send.".into());
    };
    let noun = |h: TemplateHeader| match h {
        TemplateHeader::Image => "photo",
        TemplateHeader::Document => "PDF",
    };
    match check_template_files(t, files).err()? {
        ComposeError::TemplateWithFiles(_) => {
            Some("This template sends no files: remove the attached files.".into())
        }
        ComposeError::TemplateNeedsFile { header, .. } => {
            Some(format!("Attach the {} this template sends.", noun(header)))
        }
        ComposeError::TemplateOneFile { header, .. } => Some(format!(
            "This template sends one {}: remove the others.",
            noun(header)
        )),
        ComposeError::TemplateFileKind { header, .. } => Some(format!(
            "This template sends a {}: replace the attached file with one.",
            header.file_noun()
        )),
        other => Some(other.to_string()),
    }
}

/// "12 / 1600" when a reply nears or passes its channel's limit, else None.
pub fn length_hint(body: &str, channel: Channel) -> Option<(usize, usize)> {
    let (len, max) = (body.trim().chars().count(), max_body_chars(channel));
    (max > 0 && len * 10 >= max * 8).then_some((len, max))
}

/// The `/name` being typed at the end of the text, if any (CMP-6): `/call` in "Hi /call".
pub fn slash_query(text: &str) -> Option<&str> {
    let start = text.rfind('/')?;
    let before = &text[..start];
    if !(before.is_empty() || before.ends_with(char::is_whitespace)) {
        return None;
    }
    let word = &text[start + 1..];
    (!word.contains(char::is_whitespace)).then_some(word)
}

/// Quick messages whose name starts with (then contains) the typed text, case-insensitively.
pub fn matching<'a>(quick: &'a [QuickMessage], typed: &str) -> Vec<&'a QuickMessage> {
    let t = typed.to_lowercase();
    let mut starts: Vec<&QuickMessage> = quick
        .iter()
        .filter(|q| q.name.to_lowercase().starts_with(&t))
        .collect();
    starts.extend(
        quick.iter().filter(|q| {
            !q.name.to_lowercase().starts_with(&t) && q.name.to_lowercase().contains(&t)
        }),
    );
    starts
}

/// Inserts a quick message: replaces a `/name` being typed, else appends on a new line.
pub fn insert_quick(text: &str, quick: &QuickMessage) -> String {
    if let Some(word) = slash_query(text) {
        let cut = text.len() - word.len() - 1;
        return format!("{}{}", &text[..cut], quick.body);
    }
    if text.trim().is_empty() {
        quick.body.clone()
    } else if text.ends_with(char::is_whitespace) {
        format!("{text}{}", quick.body)
    } else {
        format!("{text} {}", quick.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use chrono::Utc;
    use inbox_core::{Capability, DeliveryStatus, Direction};

    fn caps(list: &[Capability]) -> CapabilitySet {
        CapabilitySet::new(list.iter().copied())
    }

    fn detail(last: Channel, channels: &[Channel], window: WindowState) -> ConversationDetail {
        let mut summary = row(1, 10);
        summary.last_channel = last;
        ConversationDetail {
            summary,
            customer: None,
            linked_work_order: None,
            work_order_candidates: vec![],
            whatsapp_window: window,
            reply_channels: channels.to_vec(),
        }
    }

    fn qm(id: i64, name: &str, body: &str) -> QuickMessage {
        QuickMessage {
            id,
            name: name.into(),
            body: body.into(),
        }
    }

    #[test]
    fn cmp1_cmp2_voi5_the_composer_offers_what_the_channel_allows() {
        let send = caps(&[Capability::MessagesView, Capability::MessagesSend]);
        let open = WindowState::Open {
            closes_at: Utc::now() + chrono::Duration::hours(3),
        };
        let text = [message(1, 5, Direction::Inbound, DeliveryStatus::Read)];
        let wa = detail(Channel::Whatsapp, &[Channel::Whatsapp, Channel::Sms], open);
        assert_eq!(
            reply_mode(&send, &wa, &text, None, false),
            ReplyMode::FreeText
        );
        let expired = detail(
            Channel::Whatsapp,
            &[Channel::Whatsapp, Channel::Sms],
            WindowState::Expired {
                closed_at: Utc::now(),
            },
        );
        assert_eq!(
            reply_mode(&send, &expired, &text, None, false),
            ReplyMode::TemplatesOnly
        );
        // SMS is not affected by the WhatsApp window.
        assert_eq!(
            reply_mode(&send, &expired, &text, Some(Channel::Sms), false),
            ReplyMode::FreeText
        );
        let calls = [call(3, 4)];
        let voice = detail(Channel::Voice, &[Channel::Sms, Channel::Whatsapp], open);
        assert_eq!(
            reply_mode(&send, &voice, &calls, None, false),
            ReplyMode::ReplyBySms
        );
        assert_eq!(
            reply_mode(&send, &voice, &calls, Some(Channel::Sms), true),
            ReplyMode::FreeText
        );
        let withheld = detail(Channel::Voice, &[], WindowState::NeverOpened);
        assert_eq!(
            reply_mode(&send, &withheld, &calls, None, false),
            ReplyMode::NoChannel
        );
        let viewer = caps(&[Capability::MessagesView]);
        assert_eq!(
            reply_mode(&viewer, &wa, &text, None, false),
            ReplyMode::NotAllowed
        );
        let gated = caps(&[Capability::MessagesView, Capability::MessagesSendGated]);
        assert_eq!(
            reply_mode(&gated, &wa, &text, None, false),
            ReplyMode::FreeText
        );
    }

    #[test]
    fn cmp6_slash_names_a_quick_message_and_inserting_replaces_it() {
        let quick = [
            qm(1, "call-back", "Sorry we missed your call."),
            qm(2, "ready", "Your car is ready."),
            qm(3, "mot-ready", "Your MOT is done."),
        ];
        assert_eq!(slash_query("/rea"), Some("rea"));
        assert_eq!(slash_query("Hi /"), Some(""));
        assert_eq!(slash_query("see 1/2"), None);
        assert_eq!(slash_query("/ready now"), None);
        let names: Vec<&str> = matching(&quick, "rea")
            .iter()
            .map(|q| q.name.as_str())
            .collect();
        assert_eq!(names, ["ready", "mot-ready"]);
        assert_eq!(
            insert_quick("Hi Sam, /rea", &quick[1]),
            "Hi Sam, Your car is ready."
        );
        assert_eq!(insert_quick("", &quick[1]), "Your car is ready.");
        assert_eq!(
            insert_quick("Hi Sam,", &quick[1]),
            "Hi Sam, Your car is ready."
        );
    }

    fn template(header: Option<TemplateHeader>) -> WhatsappTemplate {
        WhatsappTemplate {
            id: 1,
            name: "brake_pads_photo".into(),
            language: "en_GB".into(),
            body: "Hi {{1}}, here are your brake pads.".into(),
            param_count: 1,
            header,
        }
    }

    #[test]
    fn cmp2_a_header_template_says_what_it_needs_and_blocks_until_it_has_it() {
        let image = template(Some(TemplateHeader::Image));
        let pdf = template(Some(TemplateHeader::Document));
        let plain = template(None);
        assert_eq!(template_needs(&image), Some("Needs a photo"));
        assert_eq!(template_needs(&pdf), Some("Needs a PDF"));
        assert_eq!(template_needs(&plain), None);

        assert_eq!(
            template_blocked(None, &[]).as_deref(),
            Some("Choose a template to send.")
        );
        assert_eq!(
            template_blocked(Some(&image), &[]).as_deref(),
            Some("Attach the photo this template sends.")
        );
        assert_eq!(template_blocked(Some(&image), &["image/jpeg"]), None);
        assert_eq!(
            template_blocked(Some(&image), &["application/pdf"]).as_deref(),
            Some("This template sends a photo (JPEG or PNG): replace the attached file with one.")
        );
        assert_eq!(
            template_blocked(Some(&image), &["image/png", "image/png"]).as_deref(),
            Some("This template sends one photo: remove the others.")
        );
        assert_eq!(
            template_blocked(Some(&pdf), &[]).as_deref(),
            Some("Attach the PDF this template sends.")
        );
        assert_eq!(template_blocked(Some(&pdf), &["application/pdf"]), None);
        assert_eq!(template_blocked(Some(&plain), &[]), None);
        assert_eq!(
            template_blocked(Some(&plain), &["image/png"]).as_deref(),
            Some("This template sends no files: remove the attached files.")
        );
    }

    #[test]
    fn a_long_reply_shows_its_length_against_the_channel_limit() {
        assert_eq!(length_hint("short", Channel::Sms), None);
        let long = "x".repeat(1500);
        assert_eq!(length_hint(&long, Channel::Sms), Some((1500, 1600)));
        assert_eq!(length_hint(&long, Channel::Portal), None);
    }
}
