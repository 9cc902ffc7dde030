//! THR-7 in the window: the open thread is marked read only once someone is looking at it — the
//! window focused and visible, the thread on screen for `DWELL_MS`. A thread opened by a link
//! while the app is in the background (or minimised) stays unread for the team. The rule itself
//! is `Inbox::mark_read_due`; this hook feeds it the window's state and acts on it.

use gloo_timers::callback::Timeout;
use inbox_core::desktop::{cmd, ConversationRef};
use yew::prelude::*;

use crate::ipc;
use crate::state::{Action, Inbox};

/// How long a thread is on screen in a focused window before it counts as read.
pub const DWELL_MS: u32 = 800;

/// Watches the window's focus and visibility, times the dwell on the open thread, and marks it
/// read when `Inbox::mark_read_due` says so.
#[hook]
pub fn use_read_marking(inbox: &UseReducerHandle<Inbox>, on_signed_out: Callback<Option<String>>) {
    {
        let dispatch = inbox.dispatcher();
        use_effect_with((), move |_| {
            let listeners =
                window::on_away_change(move |away| dispatch.dispatch(Action::WindowAway(away)));
            move || drop(listeners)
        });
    }
    {
        // The dwell counts from when the thread's content is on screen, not from the click.
        let dispatch = inbox.dispatcher();
        use_effect_with(inbox.dwell_target(), move |target| {
            let timer = target
                .map(|id| Timeout::new(DWELL_MS, move || dispatch.dispatch(Action::Dwelt(id))));
            move || drop(timer)
        });
    }
    use_effect_with(inbox.mark_read_due(), move |due| {
        if let Some((id, _)) = *due {
            wasm_bindgen_futures::spawn_local(async move {
                let r = ConversationRef {
                    conversation_id: id,
                };
                if let Err(e) = ipc::call::<_, ()>(cmd::MARK_READ, &r).await {
                    // Offline the mark waits for the next look; only a lost session matters.
                    if e.signed_out {
                        on_signed_out.emit(Some(e.message));
                    }
                }
            });
        }
    });
}

#[cfg(target_arch = "wasm32")]
mod window {
    use std::cell::Cell;
    use std::rc::Rc;

    use gloo_events::EventListener;
    use wasm_bindgen::JsCast;

    /// Calls `on_change` with whether the window is away — hidden (minimised, another
    /// workspace) or blurred — now and whenever that may change. It starts from what the
    /// document says now: an app started (or a page opened) in the background is away until
    /// its window is focused.
    pub fn on_away_change(on_change: impl Fn(bool) + 'static) -> Vec<EventListener> {
        let Some(window) = web_sys::window() else {
            return Vec::new();
        };
        let Some(document) = window.document() else {
            return Vec::new();
        };
        let blurred = Rc::new(Cell::new(!document.has_focus().unwrap_or(true)));
        let report: Rc<dyn Fn()> = {
            let (document, blurred) = (document.clone(), blurred.clone());
            Rc::new(move || on_change(blurred.get() || document.hidden()))
        };
        report();
        let mut listeners = Vec::new();
        for (name, is_blur) in [("focus", false), ("blur", true)] {
            let (blurred, report) = (blurred.clone(), report.clone());
            listeners.push(EventListener::new(&window, name, move |e| {
                // Only the window's own focus, not an element's (those do not bubble here,
                // but a synthetic one might).
                if e.target()
                    .is_some_and(|t| t.dyn_ref::<web_sys::Window>().is_some())
                {
                    blurred.set(is_blur);
                    report();
                }
            }));
        }
        listeners.push(EventListener::new(
            &document,
            "visibilitychange",
            move |_| report(),
        ));
        listeners
    }
}

/// Natively there is no window: nothing to listen to (SSR tests never run effects anyway).
#[cfg(not(target_arch = "wasm32"))]
mod window {
    pub fn on_away_change(_on_change: impl Fn(bool) + 'static) -> Vec<()> {
        Vec::new()
    }
}
