//! What the simulated customers do next: SMS (sometimes MMS with a photo, a PDF or a voice
//! note), WhatsApp (text, photos, documents, voice notes, button replies), portal messages and calls, in proportions like a UK garage's inbox. Chosen by
//! [`plan`] from a seeded RNG, so a seed replays the same traffic. Pure.

use rand::rngs::StdRng;
use rand::Rng;

use crate::calls::CallPlan;
use crate::media::File;
use crate::random::{customer_number, pick, profile_name, WITHHELD_CALLERS};
use crate::texts;

/// One customer action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An SMS, or an MMS with a file.
    Sms {
        from: String,
        body: String,
        media: Option<File>,
    },
    Whatsapp {
        from: String,
        name: String,
        message: WhatsappMessage,
    },
    /// A portal message by the `index`th portal sign-in of the summary.
    Portal {
        index: usize,
        body: String,
    },
    Call {
        from: String,
        plan: CallPlan,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhatsappMessage {
    Text(String),
    Photo {
        caption: Option<String>,
    },
    /// A PDF with its file name.
    Document {
        filename: String,
        caption: Option<String>,
    },
    VoiceNote,
    /// The index into [`texts::BUTTONS`].
    Button(usize),
}

/// What the organisation offers customers to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channels {
    /// A Twilio account with a number (SMS and calls).
    pub twilio: bool,
    /// A WhatsApp number, and an app secret to sign with.
    pub whatsapp: bool,
    /// How many portal sign-ins there are.
    pub portal: usize,
}

/// Chooses the next event, or None when the organisation offers no channel.
pub fn plan(rng: &mut StdRng, channels: Channels) -> Option<Event> {
    let weights = [
        (0, if channels.twilio { 35 } else { 0 }),
        (1, if channels.whatsapp { 30 } else { 0 }),
        (2, if channels.portal > 0 { 10 } else { 0 }),
        (3, if channels.twilio { 25 } else { 0 }),
    ];
    let total: u32 = weights.iter().map(|w| w.1).sum();
    if total == 0 {
        return None;
    }
    let mut roll = rng.gen_range(0..total);
    let mut kind = 0;
    for (k, w) in weights {
        if roll < w {
            kind = k;
            break;
        }
        roll -= w;
    }
    Some(match kind {
        0 => {
            let from = customer_number(rng);
            let media = rng.gen_bool(0.12).then(|| match rng.gen_range(0..100) {
                0..=79 => File::Photo,
                80..=91 => File::Pdf,
                _ => File::VoiceNote,
            });
            let body = if media.is_some() && rng.gen_bool(0.4) {
                String::new()
            } else {
                pick(rng, texts::TEXTS).to_string()
            };
            Event::Sms { from, body, media }
        }
        1 => {
            let from = customer_number(rng);
            let name = profile_name(rng);
            let message = match rng.gen_range(0..100) {
                0..=79 => WhatsappMessage::Text(pick(rng, texts::TEXTS).to_string()),
                80..=88 => WhatsappMessage::Photo {
                    caption: rng
                        .gen_bool(0.7)
                        .then(|| pick(rng, texts::CAPTIONS).to_string()),
                },
                89..=90 => WhatsappMessage::Document {
                    filename: pick(rng, texts::DOCUMENTS).to_string(),
                    caption: rng
                        .gen_bool(0.5)
                        .then(|| pick(rng, texts::DOCUMENT_CAPTIONS).to_string()),
                },
                91..=93 => WhatsappMessage::VoiceNote,
                _ => WhatsappMessage::Button(rng.gen_range(0..texts::BUTTONS.len())),
            };
            Event::Whatsapp {
                from,
                name,
                message,
            }
        }
        2 => Event::Portal {
            index: rng.gen_range(0..channels.portal),
            body: pick(rng, texts::PORTAL).to_string(),
        },
        _ => {
            let from = if rng.gen_bool(0.1) {
                pick(rng, WITHHELD_CALLERS).to_string()
            } else {
                customer_number(rng)
            };
            let plan = match rng.gen_range(0..100) {
                0..=44 => CallPlan::Answered {
                    talk_secs: rng.gen_range(20..400),
                },
                45..=69 => CallPlan::Missed,
                _ => CallPlan::Voicemail {
                    secs: rng.gen_range(6..90),
                    transcript: pick(rng, texts::TRANSCRIPTS).to_string(),
                },
            };
            Event::Call { from, plan }
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use rand::SeedableRng;

    use super::*;

    const ALL: Channels = Channels {
        twilio: true,
        whatsapp: true,
        portal: 3,
    };

    fn events(seed: u64, channels: Channels, n: usize) -> Vec<Event> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n).map(|_| plan(&mut rng, channels).unwrap()).collect()
    }

    #[test]
    fn a_seed_replays_the_same_customers() {
        assert_eq!(events(5, ALL, 50), events(5, ALL, 50));
        assert_ne!(events(5, ALL, 50), events(6, ALL, 50));
    }

    #[test]
    fn every_kind_of_event_happens_in_proportion() {
        let es = events(11, ALL, 2000);
        let count = |f: fn(&Event) -> bool| es.iter().filter(|e| f(e)).count();
        let sms = count(|e| matches!(e, Event::Sms { .. }));
        let mms = count(|e| matches!(e, Event::Sms { media: Some(_), .. }));
        let mms_pdf = count(|e| {
            matches!(
                e,
                Event::Sms {
                    media: Some(File::Pdf),
                    ..
                }
            )
        });
        let mms_voice = count(|e| {
            matches!(
                e,
                Event::Sms {
                    media: Some(File::VoiceNote),
                    ..
                }
            )
        });
        assert!(mms_pdf > 0 && mms_voice > 0 && mms_pdf + mms_voice < mms / 2);
        let wa_files = count(|e| {
            matches!(
                e,
                Event::Whatsapp {
                    message: WhatsappMessage::Document { .. } | WhatsappMessage::VoiceNote,
                    ..
                }
            )
        });
        assert!(wa_files > 0, "documents and voice notes on WhatsApp");
        let wa = count(|e| matches!(e, Event::Whatsapp { .. }));
        let portal = count(|e| matches!(e, Event::Portal { .. }));
        let calls = count(|e| matches!(e, Event::Call { .. }));
        assert!((550..850).contains(&sms), "{sms}");
        assert!(mms > 30 && mms < sms / 4, "{mms}");
        assert!((450..750).contains(&wa), "{wa}");
        assert!((120..300).contains(&portal), "{portal}");
        assert!((380..620).contains(&calls), "{calls}");
        assert!(
            count(|e| matches!(
                e,
                Event::Whatsapp {
                    message: WhatsappMessage::Photo { .. },
                    ..
                }
            )) > 0
        );
        assert!(
            count(|e| matches!(
                e,
                Event::Whatsapp {
                    message: WhatsappMessage::Button(_),
                    ..
                }
            )) > 0
        );
        assert!(
            count(|e| matches!(
                e,
                Event::Call {
                    plan: CallPlan::Missed,
                    ..
                }
            )) > 0
        );
        assert!(
            count(|e| matches!(
                e,
                Event::Call {
                    plan: CallPlan::Voicemail { .. },
                    ..
                }
            )) > 0
        );
        assert!(
            count(
                |e| matches!(e, Event::Call { from, .. } if !from.starts_with('+') || from.len() < 13)
            ) > 0,
            "withheld callers"
        );
        assert!(es.iter().all(|e| match e {
            Event::Sms { body, media, .. } => !body.is_empty() || media.is_some(),
            Event::Portal { index, .. } => *index < 3,
            _ => true,
        }));
    }

    #[test]
    fn only_offered_channels_are_used() {
        let sms_only = Channels {
            twilio: true,
            whatsapp: false,
            portal: 0,
        };
        assert!(events(3, sms_only, 300)
            .iter()
            .all(|e| matches!(e, Event::Sms { .. } | Event::Call { .. })));
        let portal_only = Channels {
            twilio: false,
            whatsapp: false,
            portal: 1,
        };
        assert!(events(3, portal_only, 50)
            .iter()
            .all(|e| matches!(e, Event::Portal { index: 0, .. })));
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(
            plan(
                &mut rng,
                Channels {
                    twilio: false,
                    whatsapp: false,
                    portal: 0
                }
            ),
            None
        );
    }
}
