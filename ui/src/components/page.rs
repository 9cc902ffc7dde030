//! The frame the pages beside the inbox share (APQ-1, VOI-8, SET-1): the Messages header with its
//! sub-nav, the connection line and RT-2's banner, then the page itself. Also the small pieces
//! those pages have in common: a loadable value and re-reading after the shell's updates.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use inbox_core::desktop::{cmd, event, ConnectionState, Session, Update};
use yew::prelude::*;

use crate::components::app::sign_out;
use crate::components::banners::ConnectionBanner;
use crate::components::header::{PageHeader, Section, Tabs};
use crate::ipc;

/// A value read from the shell.
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    Loading,
    Loaded(T),
    /// The sentence to show instead.
    Failed(String),
}

/// A failure as a sentence: what was being done, then the shell's reason as it gave it (the
/// server's own words, e.g. "the call is already in that conversation").
pub fn failure(what: &str, reason: &str) -> String {
    let reason = reason.trim();
    let end = if reason.ends_with(['.', '!', '?']) {
        ""
    } else {
        "."
    };
    format!("{what}: {reason}{end}")
}

#[derive(Properties, PartialEq)]
pub struct PageFrameProps {
    pub session: Rc<Session>,
    pub connection: ConnectionState,
    pub on_signed_out: Callback<Option<String>>,
    pub section: Section,
    /// The page's own class, beside `page`.
    pub class: AttrValue,
    #[prop_or_default]
    pub children: Html,
}

#[function_component]
pub fn PageFrame(props: &PageFrameProps) -> Html {
    let refreshing = use_state(|| false);
    let on_refresh = {
        let refreshing = refreshing.clone();
        // The shell reports what the refresh changed (`Update::Resynced` / `Changed`); pages
        // re-read on those, so nothing more is needed here.
        Callback::from(move |()| {
            refreshing.set(true);
            let refreshing = refreshing.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = ipc::call::<_, ()>(cmd::REFRESH, &()).await;
                refreshing.set(false);
            });
        })
    };
    let on_sign_out = {
        let on_signed_out = props.on_signed_out.clone();
        Callback::from(move |()| sign_out(on_signed_out.clone()))
    };
    let s = &props.session;
    html! {
        <div class={classes!("page", props.class.to_string())}>
            <PageHeader user_name={s.user.name.clone()} organisation={s.organisation.name.clone()}
                tabs={Tabs::for_session(s)} active={props.section} {on_sign_out} />
            <ConnectionBanner state={props.connection.clone()} {on_refresh} refreshing={*refreshing} />
            <main class="page-body">{ props.children.clone() }</main>
        </div>
    }
}

/// Pause after the shell's last update before re-reading, so a burst of changes costs one read.
const REREAD_PAUSE_MS: u32 = 300;

/// Calls `reread` (after a short pause, once per burst) whenever the shell says data changed
/// and `wants` agrees. Lives as long as the component that called it.
#[hook]
pub fn use_reread_on_update<F>(wants: F, latest: Callback<()>)
where
    F: Fn(&Update) -> bool + 'static,
{
    let reread = use_mut_ref(|| latest.clone());
    // The latest callback, so the listener never calls a stale one.
    *reread.borrow_mut() = latest;
    use_effect_with((), move |_| {
        let timer: Rc<RefCell<Option<Timeout>>> = Rc::default();
        let listener = ipc::listen::<Update>(event::UPDATE, move |u| {
            if wants(&u) {
                let reread = reread.clone();
                *timer.borrow_mut() = Some(Timeout::new(REREAD_PAUSE_MS, move || {
                    let cb = reread.borrow().clone();
                    cb.emit(());
                }));
            }
        });
        move || {
            let _unsubscribe = listener;
        }
    });
}

/// Updates that may change what a page read: data changed, or the cache was rebuilt.
pub fn data_changed(u: &Update) -> bool {
    matches!(
        u,
        Update::Changed { .. } | Update::Resynced | Update::Outbox { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use inbox_core::desktop::Notification;

    #[test]
    fn failures_read_as_one_sentence_keeping_the_servers_words() {
        assert_eq!(
            failure(
                "Could not move the call",
                "the call is already in that conversation"
            ),
            "Could not move the call: the call is already in that conversation."
        );
        assert_eq!(
            failure("Could not save", " Offline. "),
            "Could not save: Offline."
        );
    }

    #[test]
    fn rt1_pages_reread_on_changes_not_on_connection_news() {
        assert!(data_changed(&Update::Changed {
            conversations: vec![1],
            cursor: 9
        }));
        assert!(data_changed(&Update::Resynced));
        assert!(!data_changed(&Update::Connection {
            state: ConnectionState::Live
        }));
        assert!(!data_changed(&Update::Notify {
            notification: Notification::Summary {
                count: 1,
                conversations: vec![],
                body: String::new()
            }
        }));
    }
}
