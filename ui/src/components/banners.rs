//! Banners above the inbox: the connection line, the amber "paused" banner with Refresh (RT-2),
//! the offline indicator (DSK-2) and the one-time default-range banner (LST-6).

use inbox_core::desktop::ConnectionState;
use yew::prelude::*;

use crate::format::{connection_label, connection_tag};

/// RT-2's wording, exactly.
pub const PAUSED_TEXT: &str =
    "Real-time updates paused — refresh the page to reload the latest conversations";
pub const OFFLINE_TEXT: &str = "Offline — showing saved conversations";

#[derive(Properties, PartialEq)]
pub struct ConnectionProps {
    pub state: ConnectionState,
    pub on_refresh: Callback<()>,
    /// A refresh was asked for and has not answered yet.
    #[prop_or_default]
    pub refreshing: bool,
}

#[function_component]
pub fn ConnectionBanner(props: &ConnectionProps) -> Html {
    let state = &props.state;
    let tag = connection_tag(state);
    let quiet = state.is_live();
    let onclick = props.on_refresh.reform(|_: MouseEvent| ());
    html! {
        <>
            if state.shows_paused_banner() {
                <div id="paused-banner" class="banner banner-amber" role="alert">
                    <span>{ PAUSED_TEXT }</span>
                    <button id="refresh" type="button" class="button" {onclick}
                        disabled={props.refreshing}>
                        { if props.refreshing { "Refreshing…" } else { "Refresh" } }
                    </button>
                </div>
            }
            <div class="status-line">
                if state.is_offline() {
                    <span id="offline-indicator" class="offline" role="status">
                        <span class="dot" aria-hidden="true"></span>{ OFFLINE_TEXT }
                    </span>
                }
                <span id="connection" data-state={tag} role="status" aria-live="polite"
                    class={classes!("connection", format!("connection-{tag}"), quiet.then_some("visually-hidden"))}>
                    { connection_label(state) }
                </span>
            </div>
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct DefaultRangeBannerProps {
    pub on_dismiss: Callback<()>,
}

/// LST-6: shown until dismissed once.
#[function_component]
pub fn DefaultRangeBanner(props: &DefaultRangeBannerProps) -> Html {
    let onclick = props.on_dismiss.reform(|_: MouseEvent| ());
    html! {
        <div id="default-range-banner" class="banner banner-info" role="status">
            <span>
                { "The inbox now opens on the last 30 days, so the list and the counts show recent \
                   activity. Pick All time to see every conversation." }
            </span>
            <button id="dismiss-banner" type="button" class="button-link" {onclick}>{ "Dismiss" }</button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::test_render;

    async fn render(state: ConnectionState) -> String {
        test_render::<ConnectionBanner>(ConnectionProps {
            state,
            on_refresh: Callback::noop(),
            refreshing: false,
        })
        .await
    }

    #[tokio::test]
    async fn rt2_paused_shows_the_amber_banner_with_refresh() {
        let html = render(ConnectionState::Paused {
            offline_for_secs: 75,
            retry_in_ms: 4000,
        })
        .await;
        assert!(html.contains(r#"id="paused-banner""#), "{html}");
        assert!(html.contains(r#"role="alert""#), "{html}");
        assert!(html.contains(PAUSED_TEXT), "{html}");
        assert!(html.contains(r#"id="refresh""#), "{html}");
        assert!(html.contains(r#"id="offline-indicator""#), "{html}");
        assert!(html.contains(r#"data-state="paused""#), "{html}");
    }

    #[tokio::test]
    async fn dsk2_reconnecting_is_offline_without_the_banner() {
        let html = render(ConnectionState::Reconnecting {
            attempt: 1,
            retry_in_ms: 1000,
        })
        .await;
        assert!(!html.contains("paused-banner"), "{html}");
        assert!(html.contains(OFFLINE_TEXT), "{html}");
        assert!(html.contains(r#"data-state="reconnecting""#), "{html}");
    }

    #[tokio::test]
    async fn rt1_live_keeps_only_the_hidden_state_marker() {
        let html = render(ConnectionState::Live).await;
        assert!(!html.contains("paused-banner") && !html.contains("offline-indicator"));
        assert!(html.contains(r#"id="connection""#), "{html}");
        assert!(html.contains("visually-hidden"), "{html}");
        let html = render(ConnectionState::CatchingUp).await;
        assert!(
            html.contains("Updating…") && !html.contains("visually-hidden"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn lst6_default_range_banner_can_be_dismissed() {
        let html = test_render::<DefaultRangeBanner>(DefaultRangeBannerProps {
            on_dismiss: Callback::noop(),
        })
        .await;
        assert!(html.contains(r#"id="default-range-banner""#), "{html}");
        assert!(html.contains(r#"id="dismiss-banner""#), "{html}");
        assert!(html.contains("last 30 days"), "{html}");
    }
}
