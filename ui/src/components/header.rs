//! The Messages page header (NAV-1), its sub-nav (NAV-2) and the signed-in user with Sign out.

use inbox_core::desktop::Session;
use inbox_core::Capability;
use yew::prelude::*;

/// Which sub-nav tabs a session sees (NAV-2): Inbox always, Approval Queue with
/// `messages.approve`, AI Analytics when the organisation has AI on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tabs {
    pub approvals: bool,
    pub analytics: bool,
}

impl Tabs {
    pub fn for_session(session: &Session) -> Tabs {
        Tabs {
            approvals: session.user.capabilities.has(Capability::MessagesApprove),
            analytics: session.organisation.ai_enabled,
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub user_name: String,
    pub organisation: String,
    pub tabs: Tabs,
    pub on_sign_out: Callback<()>,
}

#[function_component]
pub fn PageHeader(props: &HeaderProps) -> Html {
    html! {
        <>
            <header class="page-header">
                <div class="titles">
                    <h1>{ "Messages" }</h1>
                    <p id="subtitle" class="subtitle">{ "Customer conversations" }</p>
                </div>
                <UserArea user_name={props.user_name.clone()} organisation={props.organisation.clone()}
                    on_sign_out={props.on_sign_out.clone()} />
            </header>
            <nav class="subnav" aria-label="Messages sections">
                <a id="tab-inbox" class="tab active" href="#/messages" aria-current="page">{ "Inbox" }</a>
                // The Approval Queue and AI Analytics pages arrive with their own issues: the tabs
                // show who will have them, without leading anywhere yet.
                if props.tabs.approvals {
                    <button id="tab-approvals" type="button" class="tab" aria-disabled="true"
                        title="Coming with approvals">{ "Approval Queue" }</button>
                }
                if props.tabs.analytics {
                    <button id="tab-analytics" type="button" class="tab" aria-disabled="true"
                        title="Coming with AI analytics">{ "AI Analytics" }</button>
                }
            </nav>
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct UserAreaProps {
    pub user_name: String,
    pub organisation: String,
    pub on_sign_out: Callback<()>,
}

/// Who is signed in, where, and Sign out (ACC-3).
#[function_component]
pub fn UserArea(props: &UserAreaProps) -> Html {
    let onclick = props.on_sign_out.reform(|_: MouseEvent| ());
    html! {
        <div class="user-area">
            <span class="who">
                <span id="user-name" class="user-name">{ &props.user_name }</span>
                <span class="organisation muted">{ &props.organisation }</span>
            </span>
            <button id="sign-out" type="button" class="button" {onclick}>{ "Sign out" }</button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::test_render;

    async fn render(tabs: Tabs) -> String {
        test_render::<PageHeader>(HeaderProps {
            user_name: "Sam Desk".into(),
            organisation: "Demo Garage".into(),
            tabs,
            on_sign_out: Callback::noop(),
        })
        .await
    }

    #[test]
    fn nav2_tabs_follow_the_approve_capability_and_the_ai_switch() {
        use crate::fixtures::session;
        let viewer = Tabs::for_session(&session(vec![Capability::MessagesView], false));
        assert_eq!(
            viewer,
            Tabs {
                approvals: false,
                analytics: false
            }
        );
        let manager = Tabs::for_session(&session(
            vec![Capability::MessagesView, Capability::MessagesApprove],
            true,
        ));
        assert_eq!(
            manager,
            Tabs {
                approvals: true,
                analytics: true
            }
        );
    }

    #[tokio::test]
    async fn nav1_header_and_nav2_tabs_follow_capabilities() {
        let html = render(Tabs {
            approvals: false,
            analytics: false,
        })
        .await;
        assert!(html.contains("<h1>Messages</h1>"), "{html}");
        assert!(html.contains(r#"id="subtitle""#) && html.contains("Customer conversations"));
        assert!(html.contains(r#"id="tab-inbox""#), "{html}");
        assert!(
            !html.contains("tab-approvals") && !html.contains("tab-analytics"),
            "{html}"
        );
        assert!(
            html.contains(r#"id="user-name" class="user-name">Sam Desk<"#),
            "{html}"
        );
        assert!(html.contains(r#"id="sign-out""#), "{html}");

        let html = render(Tabs {
            approvals: true,
            analytics: true,
        })
        .await;
        assert!(html.contains(r#"id="tab-approvals""#) && html.contains("Approval Queue"));
        assert!(html.contains(r#"id="tab-analytics""#) && html.contains("AI Analytics"));
    }
}
