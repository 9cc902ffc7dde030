//! `/dashboard`: where a user without `messages.view` lands (ACC-1), saying what is missing.

use std::rc::Rc;

use inbox_core::desktop::Session;
use inbox_core::Capability;
use yew::prelude::*;
use yew_router::prelude::Link;

use crate::components::header::UserArea;
use crate::route::Route;

#[derive(Properties, PartialEq)]
pub struct DashboardProps {
    pub session: Rc<Session>,
    pub on_sign_out: Callback<()>,
}

#[function_component]
pub fn Dashboard(props: &DashboardProps) -> Html {
    let s = &props.session;
    let can_view = s.user.capabilities.has(Capability::MessagesView);
    html! {
        <div id="dashboard" class="dashboard">
            <header class="page-header">
                <div class="titles">
                    <h1>{ "Dashboard" }</h1>
                    <p class="subtitle">{ &s.organisation.name }</p>
                </div>
                <UserArea user_name={s.user.name.clone()} organisation={s.organisation.name.clone()}
                    on_sign_out={props.on_sign_out.clone()} />
            </header>
            <main class="dashboard-body">
                if can_view {
                    <p><Link<Route> to={Route::Messages}>{ "Open Messages" }</Link<Route>></p>
                } else {
                    <section id="missing-capability" class="banner banner-info" role="status">
                        <h2>{ "Messages is not available to you" }</h2>
                        <p>
                            { "Your role (" }<strong>{ &s.user.role }</strong>
                            { ") does not have the " }<code>{ Capability::MessagesView.as_str() }</code>
                            { " capability, which opening Messages needs. Ask an admin to update your \
                               role permissions in Settings." }
                        </p>
                    </section>
                }
            </main>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::test_render;
    use inbox_core::{CapabilitySet, Organisation, User};

    #[tokio::test]
    async fn acc1_dashboard_says_which_capability_is_missing() {
        let session = Session {
            server: "http://127.0.0.1:8787".into(),
            user: User {
                id: 9,
                email: "mechanic@demo.test".into(),
                name: "Mo Mechanic".into(),
                role: "mechanic".into(),
                capabilities: CapabilitySet::new([]),
            },
            organisation: Organisation {
                id: 1,
                name: "Demo Garage".into(),
                time_zone: "Europe/London".into(),
                ai_enabled: false,
            },
        };
        let html = test_render::<Dashboard>(DashboardProps {
            session: Rc::new(session),
            on_sign_out: Callback::noop(),
        })
        .await;
        assert!(html.contains(r#"id="dashboard""#), "{html}");
        assert!(html.contains("messages.view"), "{html}");
        assert!(html.contains(r#"id="sign-out""#), "{html}");
        assert!(html.contains("Mo Mechanic"), "{html}");
    }
}
