//! The root: restores the session (`cmd::SESSION`), routes between sign-in, Messages, the
//! Approval Queue, call pages, Settings and the dashboard by capability (ACC-1, NAV-2), follows the connection and sign-outs (`event::UPDATE`), and opens views a
//! notification asked for (`event::OPEN`, `cmd::TAKE_PENDING_OPEN`, DSK-4). Signed in, it also
//! holds the update card (DSK-1).

use std::rc::Rc;

use inbox_core::desktop::{cmd, event, CommandError, ConnectionState, OpenView, Session, Update};
use inbox_core::{Capability, Id};
use yew::prelude::*;
use yew_router::prelude::*;
use yew_router::query::Raw;

use crate::components::analytics::AnalyticsPage;
use crate::components::approvals::ApprovalsPage;
use crate::components::call::CallPage;
use crate::components::dashboard::Dashboard;
use crate::components::login::LoginPage;
use crate::components::messages::MessagesPage;
use crate::components::settings::SettingsPage;
use crate::components::update::Updates;
use crate::components::work_order::WorkOrderPage;
use crate::ipc;
use crate::route::{InboxView, Route};

#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    Checking,
    SignedOut { reason: Option<String> },
    SignedIn(Rc<Session>),
}

/// Hands a failed command's error back, unless the session ended: then sign-in takes over.
pub fn unless_signed_out(
    e: CommandError,
    on_signed_out: &Callback<Option<String>>,
) -> Option<String> {
    if e.signed_out {
        on_signed_out.emit(Some(e.message));
        None
    } else {
        Some(e.message)
    }
}

/// Ends the session (ACC-3: the shell wipes the cache) and returns to sign-in.
pub fn sign_out(on_signed_out: Callback<Option<String>>) {
    wasm_bindgen_futures::spawn_local(async move {
        let _ = ipc::call::<_, ()>(cmd::SIGN_OUT, &()).await;
        on_signed_out.emit(None);
    });
}

/// Opens `/messages?{query}` for a notification click.
fn open_view(navigator: &Navigator, query: &str) {
    let view = InboxView::parse_link(query);
    let _ = navigator.push_with_query(&Route::Messages, Raw(view.to_query()));
}

/// What a route shows for who is signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Splash,
    Login,
    Messages,
    Dashboard,
    /// APQ-1.
    Approvals,
    /// AIA-1.
    Analytics,
    /// VOI-8.
    Call(Id),
    /// SET-1.
    Settings,
    /// WO-1 (its page is still to come: nothing renders yet).
    WorkOrder(Id),
    Redirect(Route),
}

/// ACC-1, ACC-3 and NAV-2 as routing: signed out, everything leads to sign-in; signed in, sign-in
/// leads to Messages; pages that read conversations (Messages, a call, a work order) without
/// `messages.view` lead to the dashboard; the Approval Queue and Settings without
/// `messages.approve` lead to Messages.
pub fn screen(auth: &Auth, route: &Route) -> Screen {
    let s = match auth {
        Auth::Checking => return Screen::Splash,
        Auth::SignedOut { .. } if *route == Route::Login => return Screen::Login,
        Auth::SignedOut { .. } => return Screen::Redirect(Route::Login),
        Auth::SignedIn(s) => s,
    };
    let caps = &s.user.capabilities;
    let reader = |shown: Screen| {
        if caps.has(Capability::MessagesView) {
            shown
        } else {
            Screen::Redirect(Route::Dashboard)
        }
    };
    let approver = |shown: Screen| {
        if caps.has(Capability::MessagesApprove) {
            shown
        } else {
            Screen::Redirect(Route::Messages)
        }
    };
    match route {
        Route::Login | Route::Home => Screen::Redirect(Route::Messages),
        Route::Messages => reader(Screen::Messages),
        Route::Dashboard => Screen::Dashboard,
        Route::Approvals => approver(Screen::Approvals),
        // NAV-2: the tab exists only while AI is on; a stale link leads to the inbox.
        Route::Analytics if s.organisation.ai_enabled => reader(Screen::Analytics),
        Route::Analytics => Screen::Redirect(Route::Messages),
        Route::Settings => Screen::Settings,
        Route::Call { id } => reader(Screen::Call(*id)),
        Route::WorkOrder { id } => reader(Screen::WorkOrder(*id)),
    }
}

#[function_component]
pub fn App() -> Html {
    html! {
        <HashRouter>
            <Shell />
        </HashRouter>
    }
}

#[function_component]
fn Shell() -> Html {
    let auth = use_state(|| Auth::Checking);
    let connection = use_state(|| ConnectionState::Connecting);
    let navigator = use_navigator();

    let on_signed_out = {
        let auth = auth.clone();
        Callback::from(move |reason: Option<String>| auth.set(Auth::SignedOut { reason }))
    };

    // Once: the stored session, then the connection and any view a notification asked for.
    {
        let (auth, connection, navigator) = (auth.clone(), connection.clone(), navigator.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, Option<Session>>(cmd::SESSION, &()).await {
                    Ok(Some(session)) => auth.set(Auth::SignedIn(Rc::new(session))),
                    Ok(None) => auth.set(Auth::SignedOut { reason: None }),
                    Err(e) => auth.set(Auth::SignedOut {
                        reason: Some(e.message).filter(|_| !e.signed_out),
                    }),
                }
                if let Ok(state) = ipc::call::<_, ConnectionState>(cmd::CONNECTION, &()).await {
                    connection.set(state);
                }
                if let (Ok(Some(query)), Some(n)) = (
                    ipc::call::<_, Option<String>>(cmd::TAKE_PENDING_OPEN, &()).await,
                    navigator.as_ref(),
                ) {
                    open_view(n, &query);
                }
            });
        });
    }

    // The shell's events, for as long as the app runs.
    {
        let (auth, connection, navigator) = (auth.clone(), connection.clone(), navigator.clone());
        use_effect_with((), move |_| {
            let updates = ipc::listen::<Update>(event::UPDATE, move |u| match u {
                Update::Connection { state } => {
                    if let ConnectionState::SignedOut { reason } = &state {
                        auth.set(Auth::SignedOut {
                            reason: Some(reason.clone()),
                        });
                    }
                    connection.set(state);
                }
                Update::SignedOut => auth.set(Auth::SignedOut {
                    reason: Some("You were signed out. Sign in to continue.".into()),
                }),
                // The organisation's settings changed (the AI switch): the shell's session has
                // them; the tabs follow without a restart.
                Update::Organisation { .. } | Update::Access { .. } => {
                    let auth = auth.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Ok(Some(session)) =
                            ipc::call::<_, Option<Session>>(cmd::SESSION, &()).await
                        {
                            auth.set(Auth::SignedIn(Rc::new(session)));
                        }
                    });
                }
                _ => {}
            });
            let opens = ipc::listen::<OpenView>(event::OPEN, move |v| {
                if let Some(n) = &navigator {
                    open_view(n, &v.query);
                }
            });
            move || {
                let _unsubscribe = (updates, opens);
            }
        });
    }

    let on_signed_in = {
        let (auth, connection, navigator) = (auth.clone(), connection.clone(), navigator.clone());
        Callback::from(move |session: Session| {
            auth.set(Auth::SignedIn(Rc::new(session)));
            let connection = connection.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(state) = ipc::call::<_, ConnectionState>(cmd::CONNECTION, &()).await {
                    connection.set(state);
                }
            });
            if let Some(n) = &navigator {
                n.push(&Route::Messages);
            }
        })
    };

    let render = {
        let auth = (*auth).clone();
        let connection = (*connection).clone();
        Callback::from(move |route: Route| match (screen(&auth, &route), &auth) {
            (Screen::Splash, _) => {
                html! { <p class="splash muted" role="status">{ "Opening Garage Inbox…" }</p> }
            }
            (Screen::Redirect(to), _) => html! { <Redirect<Route> {to} /> },
            (Screen::Login, Auth::SignedOut { reason }) => html! {
                <LoginPage notice={reason.clone()} on_signed_in={on_signed_in.clone()} />
            },
            (Screen::Messages, Auth::SignedIn(s)) => html! {
                <MessagesPage session={s.clone()} connection={connection.clone()}
                    on_signed_out={on_signed_out.clone()} />
            },
            (Screen::Approvals, Auth::SignedIn(s)) => html! {
                <ApprovalsPage session={s.clone()} connection={connection.clone()}
                    on_signed_out={on_signed_out.clone()} />
            },
            (Screen::Analytics, Auth::SignedIn(s)) => html! {
                <AnalyticsPage session={s.clone()} connection={connection.clone()}
                    on_signed_out={on_signed_out.clone()} />
            },
            (Screen::Call(id), Auth::SignedIn(s)) => html! {
                <CallPage {id} session={s.clone()} connection={connection.clone()}
                    on_signed_out={on_signed_out.clone()} />
            },
            (Screen::WorkOrder(id), Auth::SignedIn(s)) => html! {
                <WorkOrderPage {id} session={s.clone()} connection={connection.clone()}
                    on_signed_out={on_signed_out.clone()} />
            },
            (Screen::Settings, Auth::SignedIn(s)) => html! {
                <SettingsPage session={s.clone()} connection={connection.clone()}
                    on_signed_out={on_signed_out.clone()} />
            },
            (Screen::Dashboard, Auth::SignedIn(s)) => {
                let on_signed_out = on_signed_out.clone();
                html! {
                    <Dashboard session={s.clone()}
                        on_sign_out={Callback::from(move |_| sign_out(on_signed_out.clone()))} />
                }
            }
            _ => Html::default(),
        })
    };
    html! {
        <>
            // DSK-1: a newer version from the signed-in server, on every page.
            if matches!(*auth, Auth::SignedIn(_)) {
                <Updates />
            }
            <Switch<Route> {render} />
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_in(caps: Vec<Capability>) -> Auth {
        Auth::SignedIn(Rc::new(crate::fixtures::session(caps, false)))
    }

    #[test]
    fn acc1_messages_without_view_redirects_to_the_dashboard() {
        let mechanic = signed_in(vec![]);
        assert_eq!(
            screen(&mechanic, &Route::Messages),
            Screen::Redirect(Route::Dashboard)
        );
        assert_eq!(screen(&mechanic, &Route::Dashboard), Screen::Dashboard);
        let desk = signed_in(vec![Capability::MessagesView, Capability::MessagesSend]);
        assert_eq!(screen(&desk, &Route::Messages), Screen::Messages);
        assert_eq!(
            screen(&desk, &Route::Login),
            Screen::Redirect(Route::Messages)
        );
    }

    #[test]
    fn apq1_the_approval_queue_is_for_approvers_and_settings_for_everyone() {
        let approver = signed_in(vec![
            Capability::MessagesView,
            Capability::MessagesApprove,
            Capability::SettingsTemplatesManage,
        ]);
        assert_eq!(screen(&approver, &Route::Approvals), Screen::Approvals);
        assert_eq!(screen(&approver, &Route::Settings), Screen::Settings);
        let owner_only = signed_in(vec![Capability::SettingsRolesManage]);
        assert_eq!(screen(&owner_only, &Route::Settings), Screen::Settings);
        let desk = signed_in(vec![Capability::MessagesView, Capability::MessagesSend]);
        assert_eq!(
            screen(&desk, &Route::Approvals),
            Screen::Redirect(Route::Messages)
        );
        // Issue 17: This computer's offline files are everyone's to size.
        assert_eq!(screen(&desk, &Route::Settings), Screen::Settings);
    }

    #[test]
    fn aia1_the_analytics_page_needs_ai_on_and_messages_view() {
        let with_ai = |caps| Auth::SignedIn(Rc::new(crate::fixtures::session(caps, true)));
        let desk = with_ai(vec![Capability::MessagesView]);
        assert_eq!(screen(&desk, &Route::Analytics), Screen::Analytics);
        assert_eq!(
            screen(&with_ai(vec![]), &Route::Analytics),
            Screen::Redirect(Route::Dashboard)
        );
        let ai_off = signed_in(vec![Capability::MessagesView, Capability::MessagesApprove]);
        assert_eq!(
            screen(&ai_off, &Route::Analytics),
            Screen::Redirect(Route::Messages)
        );
    }

    #[test]
    fn voi8_call_pages_need_messages_view() {
        let desk = signed_in(vec![Capability::MessagesView]);
        assert_eq!(screen(&desk, &Route::Call { id: 137 }), Screen::Call(137));
        assert_eq!(
            screen(&desk, &Route::WorkOrder { id: 12 }),
            Screen::WorkOrder(12)
        );
        let mechanic = signed_in(vec![]);
        for route in [Route::Call { id: 137 }, Route::WorkOrder { id: 12 }] {
            assert_eq!(
                screen(&mechanic, &route),
                Screen::Redirect(Route::Dashboard),
                "{route:?}"
            );
        }
    }

    #[test]
    fn acc3_signed_out_everything_leads_to_sign_in() {
        let out = Auth::SignedOut { reason: None };
        assert_eq!(screen(&out, &Route::Login), Screen::Login);
        for route in [
            Route::Messages,
            Route::Dashboard,
            Route::Home,
            Route::Approvals,
            Route::Analytics,
            Route::Call { id: 1 },
            Route::Settings,
            Route::WorkOrder { id: 1 },
        ] {
            assert_eq!(screen(&out, &route), Screen::Redirect(Route::Login));
        }
        assert_eq!(screen(&Auth::Checking, &Route::Messages), Screen::Splash);
    }
}
