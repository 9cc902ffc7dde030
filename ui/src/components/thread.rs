//! The open conversation (THR-1 … THR-8): header with channel badge and WhatsApp window, the items
//! oldest first — bubbles left (inbound) and right (outbound) with status pills, call cards,
//! notes and system entries — then replies still in the outbox, and "Load earlier messages".

use std::rc::Rc;

use inbox_core::desktop::{OutboxEntry, OutboxState};
use inbox_core::intent::{Intent, MessageIntent};
use inbox_core::{Call, DeliveryStatus, Direction, Id, Message, Note, NoteKind, ThreadItem};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::components::ChannelIcon;
use crate::format::{
    self, channel_label, failure_text, outcome_label, status_label, window_label, Clock,
};
use crate::state::ThreadState;

#[derive(Properties, PartialEq)]
pub struct ThreadProps {
    pub thread: Rc<ThreadState>,
    pub clock: Clock,
    pub on_back: Callback<()>,
    pub on_load_earlier: Callback<()>,
    /// Buttons for the header's right end (Copy link, the sidebar toggles).
    #[prop_or_default]
    pub header_actions: Html,
    /// CMP-4: re-queue a failed reply.
    #[prop_or_default]
    pub on_retry: Option<Callback<Id>>,
    /// Drop a refused reply from the outbox.
    #[prop_or_default]
    pub on_discard: Option<Callback<String>>,
    /// THR-5: a call card opens the call's page.
    #[prop_or_default]
    pub on_open_call: Option<Callback<Id>>,
    /// AIA-1: a staff member corrects an inbound message's intent.
    #[prop_or_default]
    pub on_correct_intent: Option<Callback<(Id, Intent)>>,
    /// Issue 17: a manager removes a sensitive file.
    #[prop_or_default]
    pub on_remove_file: Option<Callback<Id>>,
}

#[function_component]
pub fn ThreadPanel(props: &ThreadProps) -> Html {
    let t = &props.thread;
    let log = use_node_ref();
    // Keep the newest item in view when the thread opens or grows at the bottom.
    let last = t.items.last().map(|i| i.at());
    let bottom = (t.conversation_id, last, t.outbox.len());
    {
        let log = log.clone();
        use_effect_with(bottom, move |_| {
            if let Some(el) = log.cast::<web_sys::Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }
    let title = t
        .header
        .as_ref()
        .map(|h| h.summary.title.clone())
        .unwrap_or_default();
    let on_back = props.on_back.reform(|_: MouseEvent| ());
    let on_earlier = props.on_load_earlier.reform(|_: MouseEvent| ());
    let outbox = t.visible_outbox();
    html! {
        <section id="thread" class="thread" data-conversation-id={t.conversation_id.to_string()}
            aria-label={format!("Conversation with {title}")}>
            <header class="thread-header">
                <button id="back-to-conversations" type="button" class="back" onclick={on_back}>
                    <span aria-hidden="true">{ "‹" }</span>{ " Back to conversations" }
                </button>
                if let Some(h) = &t.header {
                    <h2 class="thread-title">{ &h.summary.title }</h2>
                    <span class="channel-badge" data-channel={h.summary.last_channel.as_str()}>
                        <ChannelIcon channel={h.summary.last_channel} />
                        { channel_label(h.summary.last_channel) }
                    </span>
                    if let Some(w) = &h.whatsapp_window {
                        { window_indicator(w, props.clock) }
                    }
                    if let Some(wo) = &h.summary.work_order {
                        <span class="work-order">{ format!("Work order {}", wo.number) }</span>
                    }
                } else if t.loading {
                    <h2 class="thread-title muted">{ "Loading…" }</h2>
                }
                <span class="thread-actions">{ props.header_actions.clone() }</span>
            </header>
            if let Some(e) = &t.error {
                <p class="thread-error" role="alert">{ e }</p>
            }
            <div class="thread-log" role="log" aria-live="polite" aria-label="Messages" ref={log}>
                if t.has_more {
                    <button id="load-earlier" type="button" class="button-link load-earlier"
                        onclick={on_earlier} disabled={t.loading_earlier}>
                        { if t.loading_earlier { "Loading…" } else { "Load earlier messages" } }
                    </button>
                }
                if !t.loading && t.items.is_empty() && outbox.is_empty() && t.error.is_none() {
                    <p class="thread-empty muted">{ "No messages in this conversation yet." }</p>
                }
                { for t.items.iter().map(|item| thread_item(item, props)) }
                { for outbox.into_iter().map(|e| outbox_bubble(e, props.clock, props.on_discard.as_ref())) }
            </div>
        </section>
    }
}

fn window_indicator(w: &inbox_core::whatsapp::WindowState, clock: Clock) -> Html {
    let (state, text) = window_label(w, clock.now);
    html! { <span id="wa-window" class={classes!("wa-window", state)} data-state={state}>{ text }</span> }
}

fn thread_item(item: &ThreadItem, props: &ThreadProps) -> Html {
    let clock = props.clock;
    match item {
        ThreadItem::Message(m) => {
            html! { <Bubble key={format!("m{}", m.id)} message={m.clone()} {clock} on_retry={props.on_retry.clone()}
            on_correct_intent={props.on_correct_intent.clone()} on_remove_file={props.on_remove_file.clone()} /> }
        }
        ThreadItem::Call(c) => {
            html! { <CallCard key={format!("c{}", c.id)} call={c.clone()} {clock} on_open={props.on_open_call.clone()} /> }
        }
        ThreadItem::Note(n) => note_item(n, clock),
    }
}

#[derive(Properties, PartialEq)]
pub struct BubbleProps {
    pub message: Message,
    pub clock: Clock,
    #[prop_or_default]
    pub on_retry: Option<Callback<Id>>,
    #[prop_or_default]
    pub on_correct_intent: Option<Callback<(Id, Intent)>>,
    #[prop_or_default]
    pub on_remove_file: Option<Callback<Id>>,
}

/// What an inbound message asks for (AIA-1), as a pill. With a correction callback it is a
/// select: choosing another intent is the one-click correction.
fn intent_badge(
    id: Id,
    intent: MessageIntent,
    on_correct: Option<&Callback<(Id, Intent)>>,
) -> Html {
    let current = intent.label;
    let title = if intent.corrected {
        format!("{}: set by a colleague", current.label())
    } else {
        format!(
            "{}: {:.0}% sure. Choose another to correct it.",
            current.label(),
            intent.confidence * 100.0
        )
    };
    let class = classes!(
        "intent-badge",
        current.as_str(),
        intent.corrected.then_some("corrected")
    );
    let Some(on_correct) = on_correct else {
        return html! { <span {class} data-intent={current.as_str()} {title}>{ current.label() }</span> };
    };
    let onchange = on_correct.reform(move |e: Event| {
        let value = e.target_unchecked_into::<HtmlSelectElement>().value();
        (id, Intent::parse(&value).unwrap_or(current))
    });
    html! {
        <select {class} data-intent={current.as_str()} data-message-id={id.to_string()} {title}
            aria-label={format!("Intent: {}", current.label())} {onchange}>
            { for Intent::ALL.iter().map(|i| html! {
                <option value={i.as_str()} selected={*i == current}>{ i.label() }</option>
            }) }
        </select>
    }
}

/// A message (THR-4): sender, time, channel and its delivery status.
#[function_component]
pub fn Bubble(props: &BubbleProps) -> Html {
    let m = &props.message;
    let body = match (&m.template, m.body.is_empty()) {
        (Some(t), true) => format!("Template: {}", t.name),
        _ => m.body.clone(),
    };
    html! {
        <article class={classes!("bubble", m.direction.as_str())} data-message-id={m.id.to_string()}
            data-direction={m.direction.as_str()} data-channel={m.channel.as_str()}>
            <header class="bubble-meta">
                <span class="sender">{ &m.sender_name }</span>
                <span class="bubble-channel">{ channel_label(m.channel) }</span>
                <time datetime={m.created_at.to_rfc3339()} title={props.clock.full_time(m.created_at)}>
                    { props.clock.item_time(m.created_at) }
                </time>
                if let (Direction::Inbound, Some(intent)) = (m.direction, m.intent) {
                    { intent_badge(m.id, intent, props.on_correct_intent.as_ref()) }
                }
            </header>
            if !body.is_empty() || m.attachments.is_empty() {
                <p class="bubble-body">{ body }</p>
            }
            if !m.attachments.is_empty() {
                <crate::components::attachments::Attachments attachments={m.attachments.clone()}
                    on_remove={props.on_remove_file.clone()} />
            }
            <footer class="bubble-foot">
                <span class={classes!("status-pill", m.status.as_str())} data-status={m.status.as_str()}>
                    // A customer's message was received; delivery states belong to replies.
                    { if m.direction == Direction::Inbound { "Received" } else { status_label(m.status) } }
                </span>
                if let Some(reason) = failure_text(m.status, m.error.as_deref()) {
                    <span class="failure-reason" role="note">{ reason }</span>
                }
                if let (DeliveryStatus::Failed, Some(retry)) = (m.status, &props.on_retry) {
                    <button type="button" class="button-link retry" data-message-id={m.id.to_string()}
                        onclick={retry.reform({ let id = m.id; move |_: MouseEvent| id })}>{ "Retry" }</button>
                }
            </footer>
        </article>
    }
}

#[derive(Properties, PartialEq)]
pub struct CallCardProps {
    pub call: Call,
    pub clock: Clock,
    /// Opens the call detail page (VOI-8).
    #[prop_or_default]
    pub on_open: Option<Callback<Id>>,
}

/// A voice call inline (THR-5): direction, outcome, duration, transcript (expandable) and the
/// recording as metadata — the webview loads no remote media.
#[function_component]
pub fn CallCard(props: &CallCardProps) -> Html {
    let c = &props.call;
    let heading = match c.direction {
        Direction::Inbound => "Incoming call",
        Direction::Outbound => "Outgoing call",
    };
    let unresolved = c.outcome.needs_resolution() && !c.resolved;
    html! {
        <article class={classes!("call-card", c.direction.as_str())} data-call-id={c.id.to_string()}
            data-outcome={c.outcome.as_str()}>
            <header class="call-head">
                <ChannelIcon channel={inbox_core::Channel::Voice} />
                <span class="call-title">{ heading }</span>
                <span class={classes!("outcome-pill", c.outcome.as_str())}>{ outcome_label(c.outcome) }</span>
                <span class="call-duration">{ format::duration(c.duration_secs) }</span>
                <time datetime={c.started_at.to_rfc3339()} title={props.clock.full_time(c.started_at)}>
                    { props.clock.item_time(c.started_at) }
                </time>
            </header>
            <p class="call-summary">
                { &c.summary }
                if let Some(n) = &c.from_number {
                    <span class="muted">{ format!(" · from {n}") }</span>
                }
            </p>
            if unresolved {
                <p class="call-unresolved">{ "Needs resolving — stays in Unread until marked resolved" }</p>
            }
            if let Some(t) = &c.transcript {
                <details class="transcript">
                    <summary>{ "Transcript" }</summary>
                    <p>{ t }</p>
                </details>
            }
            if c.recording_url.is_some() {
                <p class="recording">
                    { "Recording" }
                    if let Some(secs) = c.recording_secs {
                        { format!(" · {}", format::duration(secs)) }
                    }
                    <span class="muted">{ " · play it from the call's page" }</span>
                </p>
            }
            if let Some(open) = &props.on_open {
                <button type="button" class="button-link open-call" data-call-id={c.id.to_string()}
                    onclick={open.reform({ let id = c.id; move |_: MouseEvent| id })}>
                    { "Open call — transcript, recording, reassign, resolve" }
                </button>
            }
        </article>
    }
}

/// Internal notes and system entries (THR-8), set apart from the conversation itself.
fn note_item(n: &Note, clock: Clock) -> Html {
    let (class, label) = match n.kind {
        NoteKind::Note => ("note internal", "Internal note"),
        NoteKind::System => ("note system", "System"),
    };
    let who = n
        .author
        .as_ref()
        .map(|a| format!(" · {}", a.name))
        .unwrap_or_default();
    html! {
        <aside key={format!("n{}", n.id)} class={class} data-note-id={n.id.to_string()}
            data-kind={n.kind.as_str()} role="note">
            <span class="note-meta">{ format!("{label}{who} · {}", clock.item_time(n.created_at)) }</span>
            <p class="note-body">{ &n.body }</p>
        </aside>
    }
}

/// A reply written here and not yet in the thread (DSK-5): pending, or refused with its reason.
fn outbox_bubble(e: &OutboxEntry, clock: Clock, on_discard: Option<&Callback<String>>) -> Html {
    let (state, status, label) = match &e.state {
        OutboxState::Queued => ("queued", "pending", "Pending".to_string()),
        OutboxState::Accepted { .. } => ("accepted", "pending", "Sending…".to_string()),
        OutboxState::Refused { reason } => ("refused", "refused", format!("Not sent: {reason}")),
    };
    let body = match (&e.body, &e.template) {
        (Some(b), _) => b.clone(),
        (None, Some(t)) => format!("Template: {}", t.name),
        (None, None) => String::new(),
    };
    html! {
        <article key={format!("o{}", e.client_id)} class="bubble outbound outbox"
            data-client-id={e.client_id.clone()} data-direction="outbound" data-state={state}>
            <header class="bubble-meta">
                <span class="sender">{ "You" }</span>
                if let Some(c) = e.channel {
                    <span class="bubble-channel">{ channel_label(c) }</span>
                }
                <time datetime={e.created_at.to_rfc3339()}>{ clock.item_time(e.created_at) }</time>
            </header>
            if !body.is_empty() || e.files.is_empty() {
                <p class="bubble-body">{ body }</p>
            }
            if !e.files.is_empty() {
                <ul class="outbox-files">
                    { for e.files.iter().map(|f| html! {
                        <li class="attachment-card" data-name={f.file_name.clone()}>
                            { inbox_core::media::preview(&[(f.content_type.clone(), f.file_name.clone())]) }
                            { format!(" · {}", f.file_name) }
                        </li>
                    }) }
                </ul>
            }
            <footer class="bubble-foot">
                <span class={classes!("status-pill", status)} data-status={status}>{ label }</span>
                if let (OutboxState::Refused { .. }, Some(discard)) = (&e.state, on_discard) {
                    <button type="button" class="button-link discard" data-client-id={e.client_id.clone()}
                        onclick={discard.reform({ let id = e.client_id.clone(); move |_: MouseEvent| id.clone() })}>
                        { "Discard" }
                    </button>
                }
            </footer>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::{open_tag, test_render};
    use crate::fixtures::*;
    use inbox_core::desktop::ConversationHeader;
    use inbox_core::whatsapp::WindowState;
    use inbox_core::{Channel, DeliveryStatus};

    fn thread() -> ThreadState {
        let mut failed = match message(12, 30, Direction::Outbound, DeliveryStatus::Failed) {
            ThreadItem::Message(m) => m,
            _ => unreachable!(),
        };
        failed.error = Some("Unreachable handset".into());
        let mut header_row = row(1, 40);
        header_row.last_channel = Channel::Whatsapp;
        let mut system = match note(6, 25) {
            ThreadItem::Note(n) => n,
            _ => unreachable!(),
        };
        system.kind = NoteKind::System;
        system.author = None;
        system.body = "Work order WO-1 linked".into();
        ThreadState {
            header: Some(ConversationHeader {
                summary: header_row,
                whatsapp_window: Some(WindowState::Open {
                    closes_at: at(60 * 5),
                }),
            }),
            items: vec![
                message(11, 10, Direction::Inbound, DeliveryStatus::Read),
                call(3, 15),
                note(5, 20),
                ThreadItem::Note(system),
                ThreadItem::Message(failed),
            ],
            outbox: vec![
                outbox("c-1", OutboxState::Queued),
                outbox(
                    "c-2",
                    OutboxState::Refused {
                        reason: "The WhatsApp window has closed".into(),
                    },
                ),
            ],
            has_more: true,
            loading: false,
            ..ThreadState::opening(1)
        }
    }

    async fn render(t: ThreadState) -> String {
        test_render::<ThreadPanel>(ThreadProps {
            thread: Rc::new(t),
            clock: Clock::new(at(60), "Europe/London"),
            on_back: Callback::noop(),
            on_load_earlier: Callback::noop(),
            header_actions: html! { <button id="copy-link">{ "Copy link" }</button> },
            on_retry: Some(Callback::noop()),
            on_remove_file: None,
            on_discard: Some(Callback::noop()),
            on_open_call: Some(Callback::noop()),
            on_correct_intent: Some(Callback::noop()),
        })
        .await
    }

    fn with_intent(mut t: ThreadState, intent: MessageIntent) -> ThreadState {
        for item in &mut t.items {
            if let ThreadItem::Message(m) = item {
                m.intent = Some(intent);
            }
        }
        t
    }

    #[tokio::test]
    async fn aia1_inbound_messages_show_their_intent_as_a_select_that_corrects_it() {
        // AI off (no intent from the server): no badge at all.
        let html = render(thread()).await;
        assert!(!html.contains("intent-badge"), "{html}");

        let booking = MessageIntent {
            label: Intent::BookingRequest,
            confidence: 0.62,
            corrected: false,
        };
        let html = render(with_intent(thread(), booking)).await;
        assert_eq!(
            html.matches("intent-badge").count(),
            1,
            "inbound only: {html}"
        );
        let badge = open_tag(&html, "intent-badge");
        assert!(badge.starts_with("<select"), "{badge}");
        assert!(badge.contains(r#"data-message-id="11""#), "{badge}");
        assert!(badge.contains(r#"aria-label="Intent: Booking""#), "{badge}");
        assert!(badge.contains("62% sure"), "{badge}");
        for i in Intent::ALL {
            assert!(
                html.contains(&format!(r#"value="{}""#, i.as_str())),
                "{i:?}: {html}"
            );
        }

        let corrected = with_intent(thread(), MessageIntent::corrected(Intent::Spam));
        let html = render(corrected).await;
        let badge = open_tag(&html, "intent-badge");
        assert!(
            badge.contains("corrected") && badge.contains("set by a colleague"),
            "{badge}"
        );
    }

    #[tokio::test]
    async fn aia1_without_the_right_to_write_the_intent_is_a_plain_pill() {
        let t = with_intent(thread(), MessageIntent::corrected(Intent::StatusInquiry));
        let html = test_render::<Bubble>(BubbleProps {
            message: match &t.items[0] {
                ThreadItem::Message(m) => m.clone(),
                _ => unreachable!(),
            },
            clock: Clock::new(at(60), "Europe/London"),
            on_retry: None,
            on_remove_file: None,
            on_correct_intent: None,
        })
        .await;
        let badge = open_tag(&html, "intent-badge");
        assert!(
            badge.starts_with("<span") && badge.contains(r#"data-intent="status_inquiry""#),
            "{badge}"
        );
        assert!(html.contains(">Status<"), "{html}");
    }

    #[tokio::test]
    async fn cmp4_thr5_failed_replies_offer_retry_refused_ones_discard_and_cards_open() {
        let html = render(thread()).await;
        assert!(open_tag(&html, r#"class="button-link retry""#).contains(r#"data-message-id="12""#));
        assert!(
            open_tag(&html, r#"class="button-link discard""#).contains(r#"data-client-id="c-2""#)
        );
        assert!(open_tag(&html, r#"class="button-link open-call""#).contains(r#"data-call-id="3""#));
        assert!(
            html.contains(r#"id="copy-link""#),
            "LST-7: the header carries Copy link"
        );
        // Only the failed reply can be retried.
        assert_eq!(html.matches("button-link retry").count(), 1);
    }

    fn position(html: &str, needle: &str) -> usize {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing: {html}"))
    }

    #[tokio::test]
    async fn thr2_header_shows_title_channel_and_whatsapp_window() {
        let html = render(thread()).await;
        assert!(html.contains(r#"id="thread""#) && html.contains(r#"data-conversation-id="1""#));
        assert!(
            html.contains(r#"<h2 class="thread-title">Customer 1</h2>"#),
            "{html}"
        );
        assert!(open_tag(&html, "channel-badge").contains(r#"data-channel="whatsapp""#));
        assert!(html.contains(r#"data-state="open""#), "{html}");
        assert!(html.contains("4h 0m left"), "{html}");
        assert!(html.contains(r#"id="back-to-conversations""#), "{html}");
    }

    #[tokio::test]
    async fn thr4_bubbles_align_by_direction_with_status_pills_in_order() {
        let html = render(thread()).await;
        assert!(html.contains(r#"role="log""#) && html.contains(r#"aria-live="polite""#));
        let inbound = position(&html, r#"data-message-id="11""#);
        let card = position(&html, r#"data-call-id="3""#);
        let failed = position(&html, r#"data-message-id="12""#);
        let queued = position(&html, r#"data-client-id="c-1""#);
        assert!(
            inbound < card && card < failed && failed < queued,
            "chronological, outbox last"
        );
        let inbound = open_tag(&html, r#"data-message-id="11""#);
        assert!(inbound.contains(r#"class="bubble inbound""#), "{inbound}");
        assert!(inbound.contains(r#"data-direction="inbound""#), "{inbound}");
        let outbound = open_tag(&html, r#"data-message-id="12""#);
        assert!(
            outbound.contains(r#"class="bubble outbound""#),
            "{outbound}"
        );
        assert!(
            outbound.contains(r#"data-direction="outbound""#),
            "{outbound}"
        );
        assert!(
            html.contains(r#"data-status="read" class="status-pill read">Received<"#),
            "THR-4: a customer's message reads as received, not with a delivery state: {html}"
        );
        assert!(html.contains(r#"data-status="failed" class="status-pill failed">Failed<"#));
        assert!(
            html.contains("Unreachable handset"),
            "CMP-4: failure reason shown"
        );
        assert!(
            html.contains("Dana Customer") && html.contains("Sam Desk"),
            "sender names"
        );
    }

    #[tokio::test]
    async fn thr5_call_card_shows_outcome_duration_transcript_and_recording() {
        let html = render(thread()).await;
        let start = position(&html, r#"class="call-card inbound""#);
        let card = &html[start..start + html[start..].find("</article>").unwrap()];
        assert!(card.contains("Voicemail"), "{card}");
        assert!(card.contains(">38s<"), "{card}");
        assert!(card.contains("<details class=\"transcript\">"), "{card}");
        assert!(card.contains("about the MOT"), "{card}");
        assert!(card.contains("Recording · 38s"), "{card}");
        assert!(!card.contains("<audio"), "no remote media in the webview");
        assert!(card.contains("Needs resolving"), "VOI-7: {card}");
    }

    #[tokio::test]
    async fn thr8_notes_and_system_entries_stand_apart() {
        let html = render(thread()).await;
        assert!(open_tag(&html, r#"data-note-id="5""#).contains(r#"class="note internal""#));
        assert!(open_tag(&html, r#"data-note-id="6""#).contains(r#"class="note system""#));
        assert!(html.contains("Work order WO-1 linked"), "{html}");
    }

    #[tokio::test]
    async fn dsk5_outbox_replies_show_pending_or_refused_with_reason() {
        let html = render(thread()).await;
        let queued = open_tag(&html, r#"data-client-id="c-1""#);
        assert!(
            queued.contains(r#"class="bubble outbound outbox""#),
            "{queued}"
        );
        assert!(
            html.contains(r#"class="status-pill pending">Pending<"#),
            "{html}"
        );
        assert!(
            html.contains("Not sent: The WhatsApp window has closed"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn thr6_load_earlier_only_when_older_items_exist() {
        let html = render(thread()).await;
        assert!(html.contains(r#"id="load-earlier""#), "{html}");
        let mut t = thread();
        t.has_more = false;
        let html = render(t).await;
        assert!(!html.contains("load-earlier"), "{html}");
    }
}
