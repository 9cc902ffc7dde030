//! What a reply may be (CMP-1 … CMP-5, VOI-5): the channels a conversation can be answered on,
//! and whether a composed reply fits the chosen channel.

use crate::model::{Channel, TemplateUse, WhatsappTemplate};
use crate::whatsapp::WindowState;

/// Longest text each channel accepts (Twilio: 1600 characters; WhatsApp: 4096).
pub fn max_body_chars(channel: Channel) -> usize {
    match channel {
        Channel::Sms => 1600,
        Channel::Whatsapp => 4096,
        Channel::Portal => 10_000,
        Channel::Voice => 0,
    }
}

/// Who the conversation is with, as far as replying goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyContext {
    pub has_customer: bool,
    /// A number we can text (the customer's or the anonymous caller's).
    pub has_number: bool,
    pub last_channel: Channel,
}

/// Channels a reply can use, the default first: the customer's last channel, SMS for voice
/// (VOI-5: a caller cannot be answered on the voice channel). Empty for withheld callers.
pub fn reply_channels(ctx: ReplyContext) -> Vec<Channel> {
    let mut available = Vec::new();
    if ctx.has_number {
        available.extend([Channel::Whatsapp, Channel::Sms]);
    }
    if ctx.has_customer {
        available.push(Channel::Portal);
    }
    let preferred = match ctx.last_channel {
        Channel::Voice => Channel::Sms,
        other => other,
    };
    if let Some(pos) = available.iter().position(|c| *c == preferred) {
        let c = available.remove(pos);
        available.insert(0, c);
    }
    available
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("this conversation cannot be replied to on {0}")]
    ChannelUnavailable(Channel),
    #[error("this conversation has no number or portal account to reply to")]
    NoReplyChannel,
    #[error("write a message or choose a template, not both")]
    BodyAndTemplate,
    #[error("the message is empty")]
    Empty,
    #[error("the message is {len} characters; {channel} allows at most {max}")]
    TooLong {
        channel: Channel,
        len: usize,
        max: usize,
    },
    #[error("the WhatsApp 24-hour window has expired: only template messages can be sent")]
    WindowClosed,
    #[error("templates can only be sent on WhatsApp")]
    TemplateNotWhatsapp,
    #[error("unknown template {0:?}")]
    UnknownTemplate(String),
    #[error(transparent)]
    FieldTooLong(#[from] crate::limits::TooLong),
    #[error("a template cannot carry files; send the photo once the customer has replied")]
    TemplateWithFiles,
    #[error("template {name:?} takes {expected} parameters, {given} given")]
    TemplateParams {
        name: String,
        expected: u32,
        given: usize,
    },
}

/// A validated reply: its channel and the text the customer will read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidReply {
    pub channel: Channel,
    pub body: String,
    pub template: Option<TemplateUse>,
}

/// Checks a reply against the conversation: channel availability, the WhatsApp window (CMP-2),
/// templates and their parameters, and length limits. A reply with `files` attached may have
/// no text; a template carries none.
pub fn validate_reply(
    channels: &[Channel],
    requested: Option<Channel>,
    body: Option<&str>,
    template: Option<&TemplateUse>,
    window: WindowState,
    templates: &[WhatsappTemplate],
    files: usize,
) -> Result<ValidReply, ComposeError> {
    let channel = match requested {
        Some(c) if channels.contains(&c) => c,
        Some(c) => return Err(ComposeError::ChannelUnavailable(c)),
        None => *channels.first().ok_or(ComposeError::NoReplyChannel)?,
    };
    let body = match (body, template) {
        (None, None) if files > 0 => Some(""),
        _ => body,
    };
    match (body, template) {
        (Some(_), Some(_)) => Err(ComposeError::BodyAndTemplate),
        (None, None) => Err(ComposeError::Empty),
        (Some(text), None) => {
            let text = text.trim();
            if text.is_empty() && files == 0 {
                return Err(ComposeError::Empty);
            }
            let len = text.chars().count();
            let max = max_body_chars(channel);
            if len > max {
                return Err(ComposeError::TooLong { channel, len, max });
            }
            if channel == Channel::Whatsapp && !window.is_open() {
                return Err(ComposeError::WindowClosed);
            }
            Ok(ValidReply {
                channel,
                body: text.to_string(),
                template: None,
            })
        }
        (None, Some(t)) => {
            if channel != Channel::Whatsapp {
                return Err(ComposeError::TemplateNotWhatsapp);
            }
            if files > 0 {
                return Err(ComposeError::TemplateWithFiles);
            }
            // Checked before the name is looked up or echoed, and before anything is rendered.
            crate::limits::check("template.name", &t.name, crate::template::NAME_MAX)?;
            for (i, p) in t.params.iter().enumerate() {
                crate::limits::check(
                    &format!("template.params[{i}]"),
                    p,
                    crate::limits::TEMPLATE_PARAM_MAX,
                )?;
            }
            let found = templates
                .iter()
                .find(|x| x.name == t.name)
                .ok_or_else(|| ComposeError::UnknownTemplate(t.name.clone()))?;
            if t.params.len() != found.param_count as usize {
                return Err(ComposeError::TemplateParams {
                    name: t.name.clone(),
                    expected: found.param_count,
                    given: t.params.len(),
                });
            }
            let body = found.render(&t.params);
            let len = body.chars().count();
            let max = max_body_chars(channel);
            if len > max {
                return Err(ComposeError::TooLong { channel, len, max });
            }
            Ok(ValidReply {
                channel,
                body,
                template: Some(t.clone()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).unwrap()
    }

    fn tpl() -> Vec<WhatsappTemplate> {
        vec![WhatsappTemplate {
            id: 1,
            name: "vehicle_ready".into(),
            language: "en_GB".into(),
            body: "Hi {{1}}, your vehicle is ready.".into(),
            param_count: 1,
        }]
    }

    #[test]
    fn cmp5_default_channel_is_customers_last() {
        let ctx = ReplyContext {
            has_customer: true,
            has_number: true,
            last_channel: Channel::Portal,
        };
        assert_eq!(reply_channels(ctx)[0], Channel::Portal);
        let ctx = ReplyContext {
            last_channel: Channel::Whatsapp,
            ..ctx
        };
        assert_eq!(
            reply_channels(ctx),
            vec![Channel::Whatsapp, Channel::Sms, Channel::Portal]
        );
    }

    #[test]
    fn voi5_voice_threads_reply_by_sms_and_withheld_cannot_reply() {
        let ctx = ReplyContext {
            has_customer: false,
            has_number: true,
            last_channel: Channel::Voice,
        };
        assert_eq!(reply_channels(ctx)[0], Channel::Sms);
        let withheld = ReplyContext {
            has_customer: false,
            has_number: false,
            last_channel: Channel::Voice,
        };
        assert!(reply_channels(withheld).is_empty());
        assert_eq!(
            validate_reply(
                &[],
                None,
                Some("hi"),
                None,
                WindowState::NeverOpened,
                &[],
                0
            ),
            Err(ComposeError::NoReplyChannel)
        );
    }

    #[test]
    fn cmp2_whatsapp_free_text_needs_open_window_but_templates_do_not() {
        let chans = [Channel::Whatsapp, Channel::Sms];
        let closed = WindowState::Expired { closed_at: t0() };
        assert_eq!(
            validate_reply(&chans, None, Some("hello"), None, closed, &tpl(), 0),
            Err(ComposeError::WindowClosed)
        );
        let use_ = TemplateUse {
            name: "vehicle_ready".into(),
            params: vec!["Sam".into()],
        };
        let ok = validate_reply(&chans, None, None, Some(&use_), closed, &tpl(), 0).unwrap();
        assert_eq!(ok.body, "Hi Sam, your vehicle is ready.");
        let open = WindowState::Open { closes_at: t0() };
        assert!(validate_reply(&chans, None, Some("hello"), None, open, &tpl(), 0).is_ok());
        // SMS is unaffected by the WhatsApp window.
        assert!(validate_reply(
            &chans,
            Some(Channel::Sms),
            Some("hi"),
            None,
            closed,
            &tpl(),
            0
        )
        .is_ok());
    }

    #[test]
    fn template_parameters_and_the_rendered_text_are_capped() {
        let chans = [Channel::Whatsapp];
        let w = WindowState::NeverOpened;
        let huge = TemplateUse {
            name: "vehicle_ready".into(),
            params: vec!["x".repeat(600_000)],
        };
        assert_eq!(
            validate_reply(&chans, None, None, Some(&huge), w, &tpl(), 0)
                .unwrap_err()
                .to_string(),
            "template.params[0] is 600000 characters; the limit is 1024"
        );
        let long_name = TemplateUse {
            name: "n".repeat(100_000),
            params: vec![],
        };
        assert!(matches!(
            validate_reply(&chans, None, None, Some(&long_name), w, &tpl(), 0),
            Err(ComposeError::FieldTooLong(_))
        ));
        // Within each parameter's limit, the whole text still has WhatsApp's limit.
        let many = vec![WhatsappTemplate {
            body: "{{1}}{{2}}{{3}}{{4}}{{5}}".into(),
            param_count: 5,
            ..tpl()[0].clone()
        }];
        let five = TemplateUse {
            name: "vehicle_ready".into(),
            params: vec!["y".repeat(1_000); 5],
        };
        assert!(matches!(
            validate_reply(&chans, None, None, Some(&five), w, &many, 0),
            Err(ComposeError::TooLong {
                len: 5000,
                max: 4096,
                ..
            })
        ));
    }

    #[test]
    fn cmp1_rejects_empty_long_and_mismatched_replies() {
        let chans = [Channel::Sms];
        let w = WindowState::NeverOpened;
        assert_eq!(
            validate_reply(&chans, None, Some("  "), None, w, &[], 0),
            Err(ComposeError::Empty)
        );
        let long = "x".repeat(1601);
        assert!(matches!(
            validate_reply(&chans, None, Some(&long), None, w, &[], 0),
            Err(ComposeError::TooLong { max: 1600, .. })
        ));
        assert_eq!(
            validate_reply(&chans, Some(Channel::Voice), Some("hi"), None, w, &[], 0),
            Err(ComposeError::ChannelUnavailable(Channel::Voice))
        );
        let use_ = TemplateUse {
            name: "vehicle_ready".into(),
            params: vec![],
        };
        assert_eq!(
            validate_reply(&[Channel::Whatsapp], None, None, Some(&use_), w, &tpl(), 0),
            Err(ComposeError::TemplateParams {
                name: "vehicle_ready".into(),
                expected: 1,
                given: 0
            })
        );
    }

    #[test]
    fn a_reply_with_files_needs_no_text_but_a_template_takes_none() {
        let w = WindowState::NeverOpened;
        let ok = validate_reply(&[Channel::Sms], None, None, None, w, &[], 1).unwrap();
        assert_eq!(ok.body, "");
        assert!(validate_reply(&[Channel::Sms], None, Some(" "), None, w, &[], 2).is_ok());
        // Files on WhatsApp still need the window open.
        assert_eq!(
            validate_reply(&[Channel::Whatsapp], None, None, None, w, &tpl(), 1),
            Err(ComposeError::WindowClosed)
        );
        let use_ = TemplateUse {
            name: "vehicle_ready".into(),
            params: vec!["Focus".into()],
        };
        assert_eq!(
            validate_reply(&[Channel::Whatsapp], None, None, Some(&use_), w, &tpl(), 1),
            Err(ComposeError::TemplateWithFiles)
        );
    }
}
