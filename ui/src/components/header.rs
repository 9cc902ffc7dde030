//! The Messages page header (NAV-1), its sub-nav (NAV-2: Inbox, Approval Queue, AI Analytics,
//! Settings) and the signed-in user with Sign out.

use inbox_core::desktop::Session;
use inbox_core::Capability;
use yew::prelude::*;

use crate::components::NavLink;
use crate::route::Route;

/// Which sub-nav tabs a session sees (NAV-2): Inbox always, Approval Queue with
/// `messages.approve`, AI Analytics when the organisation has AI on, Settings for those who
/// administer quick messages and templates (`messages.approve`, SET-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tabs {
    pub approvals: bool,
    pub analytics: bool,
    pub settings: bool,
}

impl Tabs {
    pub fn for_session(session: &Session) -> Tabs {
        let approver = session.user.capabilities.has(Capability::MessagesApprove);
        Tabs {
            approvals: approver,
            analytics: session.organisation.ai_enabled
                && session.user.capabilities.has(Capability::MessagesView),
            // Everyone has This computer (the offline files); admins have their sections too.
            settings: true,
        }
    }
}

/// The sub-nav tab of the page being shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Section {
    /// The inbox, and pages opened from it (a call).
    #[default]
    Inbox,
    Approvals,
    Analytics,
    Settings,
}

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub user_name: String,
    pub organisation: String,
    pub tabs: Tabs,
    #[prop_or_default]
    pub active: Section,
    pub on_sign_out: Callback<()>,
}

/// A sub-nav link; the current page's carries `aria-current`.
fn tab(id: &'static str, to: Route, label: &'static str, current: bool) -> Html {
    html! {
        <NavLink id={id} {to} class={classes!("tab", current.then_some("active"))} {current}>
            { label }
        </NavLink>
    }
}

#[function_component]
pub fn PageHeader(props: &HeaderProps) -> Html {
    let on = |s: Section| props.active == s;
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
                { tab("tab-inbox", Route::Messages, "Inbox", on(Section::Inbox)) }
                if props.tabs.approvals {
                    { tab("tab-approvals", Route::Approvals, "Approval Queue", on(Section::Approvals)) }
                }
                if props.tabs.analytics {
                    { tab("tab-analytics", Route::Analytics, "AI Analytics", on(Section::Analytics)) }
                }
                if props.tabs.settings {
                    { tab("tab-settings", Route::Settings, "Settings", on(Section::Settings)) }
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
    use crate::components::{open_tag, test_render};

    async fn render(tabs: Tabs) -> String {
        render_on(tabs, Section::Inbox).await
    }

    async fn render_on(tabs: Tabs, active: Section) -> String {
        test_render::<PageHeader>(HeaderProps {
            user_name: "Sam Desk".into(),
            organisation: "Demo Garage".into(),
            tabs,
            active,
            on_sign_out: Callback::noop(),
        })
        .await
    }

    const ALL: Tabs = Tabs {
        approvals: true,
        analytics: true,
        settings: true,
    };

    #[test]
    fn nav2_tabs_follow_the_capabilities_and_the_ai_switch() {
        use crate::fixtures::session;
        let viewer = Tabs::for_session(&session(vec![Capability::MessagesView], false));
        assert_eq!(
            viewer,
            Tabs {
                approvals: false,
                analytics: false,
                settings: true,
            },
            "issue 17: everyone sets how much this computer keeps offline"
        );
        let manager = Tabs::for_session(&session(
            vec![
                Capability::MessagesView,
                Capability::MessagesApprove,
                Capability::SettingsTemplatesManage,
            ],
            true,
        ));
        assert_eq!(
            manager, ALL,
            "SET-1: managers administer quick messages and templates"
        );
        // An approver without any settings capability still has Settings (This computer).
        let approver = Tabs::for_session(&session(
            vec![Capability::MessagesView, Capability::MessagesApprove],
            false,
        ));
        assert!(approver.approvals && approver.settings);
        let admin = Tabs::for_session(&session(vec![Capability::SettingsUsersManage], false));
        assert!(admin.settings && !admin.approvals && !admin.analytics);
    }

    #[tokio::test]
    async fn nav1_header_and_nav2_tabs_follow_capabilities() {
        let html = render(Tabs {
            approvals: false,
            analytics: false,
            settings: false,
        })
        .await;
        assert!(html.contains("<h1>Messages</h1>"), "{html}");
        assert!(html.contains(r#"id="subtitle""#) && html.contains("Customer conversations"));
        assert!(html.contains(r#"id="tab-inbox""#), "{html}");
        assert!(
            !html.contains("tab-approvals")
                && !html.contains("tab-analytics")
                && !html.contains("tab-settings"),
            "{html}"
        );
        assert!(
            html.contains(r#"id="user-name" class="user-name">Sam Desk<"#),
            "{html}"
        );
        assert!(html.contains(r#"id="sign-out""#), "{html}");

        let html = render(ALL).await;
        assert!(html.contains(r#"id="tab-approvals""#) && html.contains("Approval Queue"));
        assert!(html.contains(r#"id="tab-analytics""#) && html.contains("AI Analytics"));
        assert!(html.contains(r#"id="tab-settings""#) && html.contains("Settings"));
    }

    #[tokio::test]
    async fn apq1_approval_queue_and_settings_tabs_link_to_their_pages() {
        let html = render_on(ALL, Section::Approvals).await;
        let approvals = open_tag(&html, r#"id="tab-approvals""#);
        assert!(approvals.starts_with("<a "), "a real link: {approvals}");
        assert!(
            approvals.contains(r##"href="#/messages/approvals""##),
            "{approvals}"
        );
        assert!(approvals.contains(r#"aria-current="page""#), "{approvals}");
        assert!(approvals.contains("tab active"), "{approvals}");
        let inbox = open_tag(&html, r#"id="tab-inbox""#);
        assert!(inbox.contains(r##"href="#/messages""##), "{inbox}");
        assert!(
            !inbox.contains("aria-current") && !inbox.contains("active"),
            "{inbox}"
        );
        let settings = open_tag(&html, r#"id="tab-settings""#);
        assert!(settings.contains(r##"href="#/settings""##), "{settings}");

        let html = render_on(ALL, Section::Settings).await;
        assert!(open_tag(&html, r#"id="tab-settings""#).contains(r#"aria-current="page""#));
        let html = render(ALL).await;
        assert!(open_tag(&html, r#"id="tab-inbox""#).contains(r#"aria-current="page""#));
    }
}
