//! Which changes deserve a native notification (DSK-4). Pure: the shell raises what this returns.
//!
//! A new unread inbound message or a missed call / voicemail notifies, unless its conversation is
//! open in a focused window. Our own replies never do. Events replayed while catching up after
//! being offline become one summary instead of a burst. And the body text as a freedesktop
//! notification server reads it (`markup_escaped`).

use inbox_core::preview::message_preview;
use inbox_core::{Call, CallOutcome, Direction, Id, Message};

pub use inbox_core::desktop::Notification;

/// What the user is looking at when the changes arrive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attention {
    /// The conversation open in the thread view, if the window has focus.
    pub focused_conversation: Option<Id>,
}

/// Newly seen items of one applied batch.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub new_inbound: &'a [Message],
    pub new_calls: &'a [Call],
    /// True while replaying what happened during a disconnection.
    pub catching_up: bool,
}

fn calls_for_attention(outcome: CallOutcome) -> bool {
    matches!(outcome, CallOutcome::Missed | CallOutcome::Voicemail)
}

/// Decides the notifications for a batch. `title` names a conversation (customer or number).
pub fn decide(
    incoming: Incoming<'_>,
    attention: Attention,
    title: &dyn Fn(Id) -> String,
) -> Vec<Notification> {
    let unseen = |conversation: Id| attention.focused_conversation != Some(conversation);
    let mut out = Vec::new();
    for m in incoming.new_inbound {
        if m.direction == Direction::Inbound && m.read_at.is_none() && unseen(m.conversation_id) {
            out.push(Notification::Message {
                conversation_id: m.conversation_id,
                title: title(m.conversation_id),
                body: message_preview(&inbox_core::media::text_of(&m.body, &m.attachments)),
            });
        }
    }
    for c in incoming.new_calls {
        if calls_for_attention(c.outcome) && !c.resolved && unseen(c.conversation_id) {
            out.push(Notification::MissedCall {
                conversation_id: c.conversation_id,
                title: title(c.conversation_id),
                body: c.summary.clone(),
            });
        }
    }
    if incoming.catching_up && out.len() > 1 {
        let mut conversations: Vec<Id> = out
            .iter()
            .map(|n| match n {
                Notification::Message {
                    conversation_id, ..
                }
                | Notification::MissedCall {
                    conversation_id, ..
                } => *conversation_id,
                Notification::Summary { .. } => 0,
            })
            .collect();
        conversations.sort_unstable();
        conversations.dedup();
        let count = out.len();
        let body = format!(
            "{count} new messages and calls in {} conversation{} while you were offline",
            conversations.len(),
            if conversations.len() == 1 { "" } else { "s" }
        );
        return vec![Notification::Summary {
            count,
            conversations,
            body,
        }];
    }
    out
}

/// A notification body for a freedesktop notification server: the body may carry markup
/// (`<b>`, `<a href>`, …), so the customer's `&`, `<` and `>` are escaped and show as typed.
/// Quotes only matter inside attributes, which plain text never opens.
pub fn markup_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use inbox_core::{Channel, DeliveryStatus, StaffRef};

    fn t() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).unwrap()
    }

    fn msg(conversation_id: Id, direction: Direction, read: bool) -> Message {
        Message {
            attachments: Vec::new(),
            id: conversation_id * 10,
            conversation_id,
            direction,
            channel: Channel::Sms,
            body: "Is my car ready?".into(),
            template: None,
            status: DeliveryStatus::Delivered,
            author: (direction == Direction::Outbound).then(|| StaffRef {
                id: 1,
                name: "Me".into(),
            }),
            sender_name: "Alice".into(),
            client_id: None,
            error: None,
            created_at: t(),
            updated_at: t(),
            read_at: read.then(t),
            intent: None,
        }
    }

    fn call(conversation_id: Id, outcome: CallOutcome) -> Call {
        Call {
            id: conversation_id,
            conversation_id,
            direction: Direction::Inbound,
            outcome,
            from_number: None,
            duration_secs: 0,
            recording_url: None,
            recording_secs: Some(38),
            transcript: None,
            resolved: false,
            started_at: t(),
            summary: "Voicemail - 0:38".into(),
        }
    }

    fn name(id: Id) -> String {
        format!("Conversation {id}")
    }

    #[test]
    fn dsk4_new_inbound_message_notifies_with_title_and_preview() {
        let m = [msg(7, Direction::Inbound, false)];
        let n = decide(
            Incoming {
                new_inbound: &m,
                new_calls: &[],
                catching_up: false,
            },
            Attention::default(),
            &name,
        );
        assert_eq!(
            n,
            vec![Notification::Message {
                conversation_id: 7,
                title: "Conversation 7".into(),
                body: "Is my car ready?".into()
            }]
        );
    }

    #[test]
    fn dsk4_own_replies_read_messages_and_the_focused_thread_stay_quiet() {
        let m = [
            msg(7, Direction::Outbound, false),
            msg(8, Direction::Inbound, true),
            msg(9, Direction::Inbound, false),
        ];
        let focused = Attention {
            focused_conversation: Some(9),
        };
        assert!(decide(
            Incoming {
                new_inbound: &m,
                new_calls: &[],
                catching_up: false
            },
            focused,
            &name
        )
        .is_empty());
    }

    #[test]
    fn dsk4_missed_calls_and_voicemail_notify_answered_calls_do_not() {
        let c = [
            call(1, CallOutcome::Missed),
            call(2, CallOutcome::Voicemail),
            call(3, CallOutcome::Answered),
            call(4, CallOutcome::InProgress),
        ];
        let n = decide(
            Incoming {
                new_inbound: &[],
                new_calls: &c,
                catching_up: false,
            },
            Attention::default(),
            &name,
        );
        let ids: Vec<Id> = n
            .iter()
            .map(|n| match n {
                Notification::MissedCall {
                    conversation_id, ..
                } => *conversation_id,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ids, vec![1, 2]);
    }

    #[test]
    fn dsk4_catch_up_becomes_one_summary() {
        let m = [
            msg(1, Direction::Inbound, false),
            msg(2, Direction::Inbound, false),
            msg(1, Direction::Inbound, false),
        ];
        let c = [call(3, CallOutcome::Missed)];
        let n = decide(
            Incoming {
                new_inbound: &m,
                new_calls: &c,
                catching_up: true,
            },
            Attention::default(),
            &name,
        );
        assert_eq!(n.len(), 1);
        match &n[0] {
            Notification::Summary {
                count,
                conversations,
                body,
            } => {
                assert_eq!(*count, 4);
                assert_eq!(conversations, &vec![1, 2, 3]);
                assert!(body.contains("3 conversations"));
            }
            other => panic!("{other:?}"),
        }
        // A single item while catching up is still shown as itself.
        let one = decide(
            Incoming {
                new_inbound: &m[..1],
                new_calls: &[],
                catching_up: true,
            },
            Attention::default(),
            &name,
        );
        assert!(matches!(one[0], Notification::Message { .. }));
    }

    #[test]
    fn dsk4_customer_text_shows_as_typed_in_a_markup_body() {
        assert_eq!(
            markup_escaped("<b>Tom & Jerry</b> <a href=\"https://x\">pay</a> <img src=x>"),
            "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; &lt;a href=\"https://x\"&gt;pay&lt;/a&gt; &lt;img src=x&gt;"
        );
        assert_eq!(
            markup_escaped("&amp;"),
            "&amp;amp;",
            "an entity stays as typed"
        );
        assert_eq!(
            markup_escaped("Is the car ready? 🙂"),
            "Is the car ready? 🙂"
        );
    }
}
