//! One row of the conversation list (LST-10): title, preview, time, unread badge, channel icon,
//! and for unassigned rows the context badge (RTE-1).

use inbox_core::ConversationSummary;
use yew::prelude::*;

use crate::components::ChannelIcon;
use crate::format::{context_label, Clock};

#[derive(Properties, PartialEq)]
pub struct RowProps {
    pub row: ConversationSummary,
    pub clock: Clock,
    /// The open conversation.
    #[prop_or_default]
    pub selected: bool,
    /// The keyboard cursor is here.
    #[prop_or_default]
    pub focused: bool,
    /// Just bubbled up with new activity (LST-12).
    #[prop_or_default]
    pub highlight: bool,
    pub on_open: Callback<inbox_core::Id>,
}

#[function_component]
pub fn ConversationRow(props: &RowProps) -> Html {
    let row = &props.row;
    let unread = row.unread_count + row.unresolved_calls;
    let id = row.id;
    let onclick = props.on_open.reform(move |_: MouseEvent| id);
    // A click opens the row without focusing the list: keyboard focus there holds the list
    // still (LST-13), a click should not leave it held while the thread is read.
    let onmousedown = Callback::from(|e: MouseEvent| e.prevent_default());
    let class = classes!(
        "conversation-row",
        props.selected.then_some("selected"),
        row.is_unread().then_some("unread"),
        props.highlight.then_some("highlight"),
        props.focused.then_some("focused"),
    );
    let badge_label = match (row.unread_count, row.unresolved_calls) {
        (m, 0) => format!("{m} unread"),
        (0, c) => format!("{c} calls to resolve"),
        (m, c) => format!("{m} unread, {c} calls to resolve"),
    };
    html! {
        <li {class} role="option" id={format!("row-{id}")} data-conversation-id={id.to_string()}
            aria-selected={props.selected.to_string()} {onclick} {onmousedown}>
            <ChannelIcon channel={row.last_channel} />
            <div class="row-main">
                <div class="row-line">
                    <span class="row-title">{ &row.title }</span>
                    <time class="row-time" datetime={row.last_activity_at.to_rfc3339()}
                        title={props.clock.full_time(row.last_activity_at)}>
                        { props.clock.row_time(row.last_activity_at) }
                    </time>
                </div>
                <div class="row-line">
                    <span class="row-preview">{ &row.preview }</span>
                    if unread > 0 {
                        <span class="unread-badge" aria-label={badge_label}>{ unread }</span>
                    }
                </div>
                <div class="row-meta">
                    if let Some(a) = &row.assignee {
                        <span class="assignee">{ format!("Assigned to {}", a.name) }</span>
                    } else {
                        <span class="context-badge" data-context={row.context_badge.as_str()}>
                            { context_label(row.context_badge) }
                        </span>
                    }
                    if let Some(intent) = row.intent {
                        <span class={classes!("intent-badge", intent.as_str())} data-intent={intent.as_str()}
                            title={format!("The latest message: {}", intent.label())}>{ intent.label() }</span>
                    }
                    if let Some(wo) = &row.work_order {
                        <span class="work-order">{ &wo.number }</span>
                    }
                    if row.needs_work_order_pick {
                        <span class="needs-pick">{ "Pick a work order to link" }</span>
                    }
                </div>
            </div>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::{open_tag, test_render};
    use crate::fixtures::{at, row};
    use inbox_core::{Channel, ContextBadge, StaffRef};

    fn props(r: ConversationSummary) -> RowProps {
        RowProps {
            row: r,
            clock: Clock::new(at(60), "Europe/London"),
            selected: false,
            focused: false,
            highlight: false,
            on_open: Callback::noop(),
        }
    }

    #[tokio::test]
    async fn lst10_unread_row_shows_badge_icon_time_and_context() {
        let mut r = row(7, 5);
        r.unread_count = 2;
        r.unresolved_calls = 1;
        r.last_channel = Channel::Whatsapp;
        r.context_badge = ContextBadge::Booking;
        let html = test_render::<ConversationRow>(props(r)).await;
        assert!(html.contains(r#"data-conversation-id="7""#), "{html}");
        assert!(html.contains("conversation-row unread"), "{html}");
        assert!(html.contains(r#"class="unread-badge">3</span>"#), "{html}");
        assert!(open_tag(&html, "unread-badge")
            .contains(r#"aria-label="2 unread, 1 calls to resolve""#));
        assert!(html.contains(r#"data-channel="whatsapp""#), "{html}");
        assert!(html.contains(r#"src="icons/whatsapp.svg""#), "{html}");
        assert!(html.contains(r#"alt="WhatsApp""#), "{html}");
        assert!(html.contains(r#"class="context-badge">Booking<"#), "{html}");
        assert!(open_tag(&html, "context-badge").contains(r#"data-context="booking""#));
        assert!(
            !html.contains("intent-badge"),
            "no intent, no badge: {html}"
        );
        // 10:05 BST: a time of today.
        assert!(html.contains(">10:05</time>"), "{html}");
    }

    #[tokio::test]
    async fn aia1_a_row_shows_what_the_latest_message_asks_for() {
        let mut r = row(9, 5);
        r.intent = Some(inbox_core::intent::Intent::QuoteQuestion);
        let html = test_render::<ConversationRow>(props(r)).await;
        let badge = open_tag(&html, "intent-badge");
        assert!(badge.contains(r#"data-intent="quote_question""#), "{html}");
    }

    #[tokio::test]
    async fn lst10_assigned_read_row_has_no_badge_nor_context() {
        let mut r = row(8, 5);
        r.assignee = Some(StaffRef {
            id: 2,
            name: "Priya".into(),
        });
        let mut p = props(r);
        p.selected = true;
        p.highlight = true;
        let html = test_render::<ConversationRow>(p).await;
        assert!(!html.contains("unread-badge"), "{html}");
        assert!(!html.contains("context-badge"), "{html}");
        assert!(html.contains("Assigned to Priya"), "{html}");
        assert!(html.contains(r#"aria-selected="true""#), "{html}");
        assert!(
            html.contains("conversation-row selected highlight"),
            "{html}"
        );
    }
}
