//! What a reply may be (CMP-1 … CMP-5, VOI-5): the channels a conversation can be answered on,
//! and whether a composed reply fits the chosen channel.

use crate::model::{Channel, TemplateHeader, TemplateUse, WhatsappTemplate};
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
    #[error("the template {0:?} carries no files; send the photo once the customer has replied, or use a template with a photo or PDF header")]
    TemplateWithFiles(String),
    #[error("the template {name:?} needs one {} attached", .header.file_noun())]
    TemplateNeedsFile {
        name: String,
        header: TemplateHeader,
    },
    #[error("the template {name:?} takes exactly one {}; {given} files are attached", .header.file_noun())]
    TemplateOneFile {
        name: String,
        header: TemplateHeader,
        given: usize,
    },
    #[error("the template {name:?} needs a {}, not a {content_type} file", .header.file_noun())]
    TemplateFileKind {
        name: String,
        header: TemplateHeader,
        content_type: String,
    },
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

/// CMP-2: the files a template takes. One with a media header carries exactly one file of its
/// kind (`files` are the attached files' content types, as stored); one without carries none.
pub fn check_template_files(
    template: &WhatsappTemplate,
    files: &[&str],
) -> Result<(), ComposeError> {
    let name = || template.name.clone();
    match (template.header, files) {
        (None, []) => Ok(()),
        (None, _) => Err(ComposeError::TemplateWithFiles(name())),
        (Some(header), []) => Err(ComposeError::TemplateNeedsFile {
            name: name(),
            header,
        }),
        (Some(header), [one]) if header.accepts(one) => Ok(()),
        (Some(header), [one]) => Err(ComposeError::TemplateFileKind {
            name: name(),
            header,
            content_type: crate::media::essence(one),
        }),
        (Some(header), many) => Err(ComposeError::TemplateOneFile {
            name: name(),
            header,
            given: many.len(),
        }),
    }
}

/// Checks a reply against the conversation: channel availability, the WhatsApp window (CMP-2),
/// templates, their parameters and files, and length limits. `files` are the content types of
/// the files attached: a reply with files may have no text; a template takes only the one file
/// its media header names ([`check_template_files`]).
pub fn validate_reply(
    channels: &[Channel],
    requested: Option<Channel>,
    body: Option<&str>,
    template: Option<&TemplateUse>,
    window: WindowState,
    templates: &[WhatsappTemplate],
    files: &[&str],
) -> Result<ValidReply, ComposeError> {
    let channel = match requested {
        Some(c) if channels.contains(&c) => c,
        Some(c) => return Err(ComposeError::ChannelUnavailable(c)),
        None => *channels.first().ok_or(ComposeError::NoReplyChannel)?,
    };
    let body = match (body, template) {
        (None, None) if !files.is_empty() => Some(""),
        _ => body,
    };
    match (body, template) {
        (Some(_), Some(_)) => Err(ComposeError::BodyAndTemplate),
        (None, None) => Err(ComposeError::Empty),
        (Some(text), None) => {
            let text = text.trim();
            if text.is_empty() && files.is_empty() {
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
            check_template_files(found, files)?;
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
            header: None,
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
                &[]
            ),
            Err(ComposeError::NoReplyChannel)
        );
    }

    #[test]
    fn cmp2_whatsapp_free_text_needs_open_window_but_templates_do_not() {
        let chans = [Channel::Whatsapp, Channel::Sms];
        let closed = WindowState::Expired { closed_at: t0() };
        assert_eq!(
            validate_reply(&chans, None, Some("hello"), None, closed, &tpl(), &[]),
            Err(ComposeError::WindowClosed)
        );
        let use_ = TemplateUse {
            name: "vehicle_ready".into(),
            params: vec!["Sam".into()],
        };
        let ok = validate_reply(&chans, None, None, Some(&use_), closed, &tpl(), &[]).unwrap();
        assert_eq!(ok.body, "Hi Sam, your vehicle is ready.");
        let open = WindowState::Open { closes_at: t0() };
        assert!(validate_reply(&chans, None, Some("hello"), None, open, &tpl(), &[]).is_ok());
        // SMS is unaffected by the WhatsApp window.
        assert!(validate_reply(
            &chans,
            Some(Channel::Sms),
            Some("hi"),
            None,
            closed,
            &tpl(),
            &[]
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
            validate_reply(&chans, None, None, Some(&huge), w, &tpl(), &[])
                .unwrap_err()
                .to_string(),
            "template.params[0] is 600000 characters; the limit is 1024"
        );
        let long_name = TemplateUse {
            name: "n".repeat(100_000),
            params: vec![],
        };
        assert!(matches!(
            validate_reply(&chans, None, None, Some(&long_name), w, &tpl(), &[]),
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
            validate_reply(&chans, None, None, Some(&five), w, &many, &[]),
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
            validate_reply(&chans, None, Some("  "), None, w, &[], &[]),
            Err(ComposeError::Empty)
        );
        let long = "x".repeat(1601);
        assert!(matches!(
            validate_reply(&chans, None, Some(&long), None, w, &[], &[]),
            Err(ComposeError::TooLong { max: 1600, .. })
        ));
        assert_eq!(
            validate_reply(&chans, Some(Channel::Voice), Some("hi"), None, w, &[], &[]),
            Err(ComposeError::ChannelUnavailable(Channel::Voice))
        );
        let use_ = TemplateUse {
            name: "vehicle_ready".into(),
            params: vec![],
        };
        assert_eq!(
            validate_reply(
                &[Channel::Whatsapp],
                None,
                None,
                Some(&use_),
                w,
                &tpl(),
                &[]
            ),
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
        let ok = validate_reply(&[Channel::Sms], None, None, None, w, &[], &["image/png"]).unwrap();
        assert_eq!(ok.body, "");
        assert!(validate_reply(
            &[Channel::Sms],
            None,
            Some(" "),
            None,
            w,
            &[],
            &["image/png", "application/pdf"]
        )
        .is_ok());
        // Files on WhatsApp still need the window open.
        assert_eq!(
            validate_reply(
                &[Channel::Whatsapp],
                None,
                None,
                None,
                w,
                &tpl(),
                &["image/png"]
            ),
            Err(ComposeError::WindowClosed)
        );
        let use_ = TemplateUse {
            name: "vehicle_ready".into(),
            params: vec!["Focus".into()],
        };
        assert_eq!(
            validate_reply(
                &[Channel::Whatsapp],
                None,
                None,
                Some(&use_),
                w,
                &tpl(),
                &["image/png"]
            ),
            Err(ComposeError::TemplateWithFiles("vehicle_ready".into()))
        );
    }

    fn with_header(header: TemplateHeader) -> Vec<WhatsappTemplate> {
        vec![
            WhatsappTemplate {
                id: 2,
                name: "brake_pads_photo".into(),
                body: "Hi {{1}}, here is the photo of your brake pads.".into(),
                header: Some(header),
                ..tpl()[0].clone()
            },
            tpl()[0].clone(),
        ]
    }

    fn photo_use() -> TemplateUse {
        TemplateUse {
            name: "brake_pads_photo".into(),
            params: vec!["Sam".into()],
        }
    }

    #[test]
    fn cmp2_a_media_header_template_takes_exactly_one_file_of_its_kind() {
        let chans = [Channel::Whatsapp];
        let closed = WindowState::Expired { closed_at: t0() };
        let image = with_header(TemplateHeader::Image);
        let send = |files: &[&str], templates: &[WhatsappTemplate]| {
            validate_reply(
                &chans,
                None,
                None,
                Some(&photo_use()),
                closed,
                templates,
                files,
            )
        };
        // Outside the window, an image-header template goes with one photo.
        for photo in ["image/jpeg", "image/png"] {
            let ok = send(&[photo], &image).unwrap();
            assert_eq!(ok.body, "Hi Sam, here is the photo of your brake pads.");
            assert_eq!(ok.template, Some(photo_use()));
        }
        // WhatsApp takes only JPEG and PNG in an image header.
        assert!(send(&["image/webp"], &image).is_err());
        assert_eq!(
            send(&[], &image),
            Err(ComposeError::TemplateNeedsFile {
                name: "brake_pads_photo".into(),
                header: TemplateHeader::Image
            })
        );
        let wrong = send(&["application/pdf"], &image).unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "the template \"brake_pads_photo\" needs a photo (JPEG or PNG), not a application/pdf file"
        );
        assert!(matches!(
            send(&["image/png", "image/png"], &image),
            Err(ComposeError::TemplateOneFile { given: 2, .. })
        ));
        // A document header takes a PDF and nothing else.
        let document = with_header(TemplateHeader::Document);
        assert!(send(&["application/pdf"], &document).is_ok());
        assert!(matches!(
            send(&["image/jpeg"], &document),
            Err(ComposeError::TemplateFileKind {
                header: TemplateHeader::Document,
                ..
            })
        ));
        assert_eq!(
            send(&[], &document).unwrap_err().to_string(),
            "the template \"brake_pads_photo\" needs one PDF attached"
        );
    }

    #[test]
    fn cmp2_a_template_without_header_still_takes_no_files_and_free_text_is_unchanged() {
        let chans = [Channel::Whatsapp, Channel::Sms];
        let closed = WindowState::Expired { closed_at: t0() };
        let templates = with_header(TemplateHeader::Image);
        let plain = TemplateUse {
            name: "vehicle_ready".into(),
            params: vec!["Sam".into()],
        };
        let reply = |t: Option<&TemplateUse>, body: Option<&str>, ch, files: &[&str]| {
            validate_reply(&chans, ch, body, t, closed, &templates, files)
        };
        assert!(reply(Some(&plain), None, None, &[]).is_ok());
        assert_eq!(
            reply(Some(&plain), None, None, &["image/png"]),
            Err(ComposeError::TemplateWithFiles("vehicle_ready".into()))
        );
        // Free text with files: the window still rules WhatsApp; SMS takes any kind.
        assert_eq!(
            reply(None, None, None, &["image/png"]),
            Err(ComposeError::WindowClosed)
        );
        assert!(reply(
            None,
            Some("pads"),
            Some(Channel::Sms),
            &["application/pdf", "image/png"]
        )
        .is_ok());
        // The direct check agrees with the reply's.
        assert_eq!(check_template_files(&templates[1], &[]), Ok(()));
        assert_eq!(check_template_files(&templates[0], &["image/png"]), Ok(()));
    }
}
