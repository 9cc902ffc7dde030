//! `/messages` (NAV-1): the container that reads the route's view, asks the shell for the list and
//! the open thread, re-reads them when the shell reports changes (RT-1, LST-12), remembers the
//! chosen scope (LST-6, LST-7) and handles the keyboard. Rendering is left to the presentational
//! components.

use std::collections::BTreeSet;
use std::rc::Rc;

use chrono::{NaiveDate, Utc};
use gloo_timers::callback::Timeout;
use inbox_core::api::{ConversationPage, ConversationQuery, ListFilter};
use inbox_core::desktop::{
    cmd, event, AttentionArgs, ConnectionState, ConversationHeader, ConversationRef, Preferences,
    Session, ThreadRequest, ThreadView, Update,
};
use inbox_core::range::RangePreset;
use inbox_core::Id;
use yew::prelude::*;
use yew_router::prelude::*;
use yew_router::query::Raw;

use crate::components::app::{sign_out, unless_signed_out};
use crate::components::attention::use_read_marking;
use crate::components::banners::{ConnectionBanner, DefaultRangeBanner};
use crate::components::conversation::ConversationPane;
use crate::components::header::{PageHeader, Tabs};
use crate::components::list::ListPanel;
use crate::components::scope::{remembered, Prefs};
use crate::fade::Fades;
use crate::format::Clock;
use crate::ipc;
use crate::keys::{self, Key};
use crate::route::{InboxView, Route};
use crate::state::{Action, Inbox};

/// How long a row that bubbled up stays highlighted (LST-12).
const HIGHLIGHT_MS: u32 = 2_000;
/// Typing pauses this long before the search runs.
const SEARCH_DEBOUNCE_MS: u32 = 250;

#[derive(Properties, PartialEq)]
pub struct MessagesProps {
    pub session: Rc<Session>,
    pub connection: ConnectionState,
    pub on_signed_out: Callback<Option<String>>,
}

/// What callbacks that run later (the keyboard, the search pause) need from the latest render.
#[derive(Default)]
struct KeyContext {
    view: InboxView,
    cursor: Option<Id>,
}

#[function_component]
pub fn MessagesPage(props: &MessagesProps) -> Html {
    let location = use_location();
    let navigator = use_navigator();
    let query = location
        .as_ref()
        .map(|l| l.query_str().to_string())
        .unwrap_or_default();
    let view = InboxView::parse(&query);
    let inbox = use_reducer(Inbox::default);
    let prefs = use_state(|| Prefs::Loading);
    let search_text = use_state(|| view.q.clone().unwrap_or_default());
    let pushed_q = use_mut_ref(|| view.q.clone());
    let search_timer = use_mut_ref(|| None::<Timeout>);
    let search_ref = use_node_ref();
    let refreshing = use_state(|| false);
    let key_context = use_mut_ref(KeyContext::default);
    let ticker = use_force_update();
    let on_signed_out = props.on_signed_out.clone();

    let clock = Clock::new(Utc::now(), &props.session.organisation.time_zone);
    let range = view.range.unwrap_or_else(|| prefs.range());
    // The list is asked for as soon as its scope is known: the URL's, or the remembered one
    // while the URL is still being rewritten to carry it. A cold start so asks one navigation
    // and one render of the page sooner (issue 14); the rewritten URL gives the same key.
    let scoped = match (view.range, prefs.known()) {
        (None, Some(p)) => remembered(&view, &p),
        _ => view.clone(),
    };
    let list_key = scoped.range.and_then(|_| scoped.list_query(range));

    let go: Rc<dyn Fn(InboxView, bool)> = {
        let navigator = navigator.clone();
        Rc::new(move |v: InboxView, replace: bool| {
            if let Some(n) = &navigator {
                let q = Raw(v.to_query());
                let _ = if replace {
                    n.replace_with_query(&Route::Messages, q)
                } else {
                    n.push_with_query(&Route::Messages, q)
                };
            }
        })
    };

    let save_prefs: Rc<dyn Fn(Preferences)> = {
        let prefs = prefs.clone();
        let on_signed_out = on_signed_out.clone();
        Rc::new(move |p: Preferences| {
            if *prefs == Prefs::Unavailable {
                return;
            }
            prefs.set(Prefs::Loaded(p.clone()));
            let on_signed_out = on_signed_out.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = ipc::call::<_, ()>(cmd::SET_PREFERENCES, &p).await {
                    unless_signed_out(e, &on_signed_out);
                }
            });
        })
    };

    *key_context.borrow_mut() = KeyContext {
        view: view.clone(),
        cursor: inbox.cursor,
    };

    // The remembered scope (LST-6, LST-7).
    {
        let (prefs, on_signed_out) = (prefs.clone(), on_signed_out.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, Preferences>(cmd::PREFERENCES, &()).await {
                    Ok(p) => prefs.set(Prefs::Loaded(p)),
                    Err(e) => {
                        unless_signed_out(e, &on_signed_out);
                        prefs.set(Prefs::Unavailable);
                    }
                }
            });
        });
    }

    // A URL without a range takes the remembered one, written into the URL (LST-7).
    {
        let (view, go) = (view.clone(), go.clone());
        use_effect_with(
            (view.range.is_none(), prefs.known()),
            move |(missing, known)| {
                if let (true, Some(p)) = (*missing, known) {
                    go(remembered(&view, p), true);
                }
            },
        );
    }

    // The list for the view's scope.
    {
        let dispatch = inbox.dispatcher();
        let on_signed_out = on_signed_out.clone();
        use_effect_with(list_key.clone(), move |key| {
            if let Some(key) = key.clone() {
                dispatch.dispatch(Action::ListRequested(key.clone()));
                wasm_bindgen_futures::spawn_local(async move {
                    match ipc::call::<_, ConversationPage>(cmd::LIST, &key).await {
                        Ok(page) => dispatch.dispatch(Action::ListLoaded { key, page }),
                        Err(e) => {
                            if let Some(message) = unless_signed_out(e, &on_signed_out) {
                                dispatch.dispatch(Action::ListFailed { key, message });
                            }
                        }
                    }
                });
            }
        });
    }

    // Re-read the rows shown after a change (LST-12). While the list holds still (LST-13) the
    // reducer updates them in place and keeps the new order for later.
    {
        let dispatch = inbox.dispatcher();
        let shown = inbox.list.rows.len();
        let key = inbox.list.key.clone();
        use_effect_with(inbox.list_epoch, move |epoch| {
            let epoch = *epoch;
            if let (true, Some(key)) = (epoch > 0, key) {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(page) = read_pages(&key, shown).await {
                        dispatch.dispatch(Action::ListRefreshed { key, page, epoch });
                    }
                });
            }
        });
    }
    // Rows that moved up (or had news while held) glow for a moment, each counted from the
    // re-read that found it: one timer per re-read, dropped with the page.
    {
        let dispatch = inbox.dispatcher();
        let fades = use_mut_ref(Fades::<Timeout>::default);
        let glowing: BTreeSet<u64> = inbox.list.highlighted.values().copied().collect();
        use_effect_with(glowing, move |glowing| {
            fades.borrow_mut().sync(glowing, |epoch| {
                let dispatch = dispatch.clone();
                Timeout::new(HIGHLIGHT_MS, move || {
                    dispatch.dispatch(Action::ClearHighlight(epoch))
                })
            });
        });
    }

    // The open conversation: attention for the notification policy, the thread, THR-7.
    {
        let dispatch = inbox.dispatcher();
        let on_signed_out = on_signed_out.clone();
        use_effect_with(view.conversation, move |open| {
            let open = *open;
            wasm_bindgen_futures::spawn_local(async move {
                let args = AttentionArgs {
                    conversation_id: open,
                };
                let _ = ipc::call::<_, ()>(cmd::SET_ATTENTION, &args).await;
            });
            match open {
                Some(id) => {
                    dispatch.dispatch(Action::ThreadOpened(id));
                    load_thread(id, dispatch, on_signed_out);
                }
                None => dispatch.dispatch(Action::ThreadClosed),
            }
        });
    }
    // THR-7: read once someone is looking at it.
    use_read_marking(&inbox, on_signed_out.clone());
    // Leaving the page: nothing is open any more.
    use_effect_with((), |_| {
        || {
            wasm_bindgen_futures::spawn_local(async {
                let _ = ipc::call::<_, ()>(cmd::SET_ATTENTION, &AttentionArgs::default()).await;
            })
        }
    });

    // Re-read the open thread when it changed (RT-1: statuses move, messages arrive).
    {
        let dispatch = inbox.dispatcher();
        let open = inbox.open_id();
        let on_signed_out = on_signed_out.clone();
        use_effect_with(inbox.thread_epoch, move |epoch| {
            if let (true, Some(id)) = (*epoch > 0, open) {
                load_thread(id, dispatch, on_signed_out);
            }
        });
    }

    // What the shell says changed.
    {
        let dispatch = inbox.dispatcher();
        use_effect_with((), move |_| {
            let listener = ipc::listen::<Update>(event::UPDATE, move |u| match u {
                Update::Changed { conversations, .. } => {
                    dispatch.dispatch(Action::Touched(conversations))
                }
                Update::Outbox { conversation_id } => {
                    dispatch.dispatch(Action::Touched(vec![conversation_id]))
                }
                Update::Resynced => dispatch.dispatch(Action::TouchedAll),
                _ => {}
            });
            move || {
                let _unsubscribe = listener;
            }
        });
    }

    // Relative times ("14:05", "Tue", the WhatsApp window) move on.
    use_effect_with((), move |_| {
        let interval = gloo_timers::callback::Interval::new(60_000, move || ticker.force_update());
        move || drop(interval)
    });

    // A search typed elsewhere (a link, Back) shows in the box.
    {
        let (search_text, pushed_q) = (search_text.clone(), pushed_q.clone());
        use_effect_with(view.q.clone(), move |q| {
            if *pushed_q.borrow() != *q {
                *pushed_q.borrow_mut() = q.clone();
                search_text.set(q.clone().unwrap_or_default());
            }
        });
    }

    // The keyboard cursor stays in sight.
    use_effect_with(inbox.cursor, |cursor| {
        if let Some(id) = cursor {
            keys::scroll_into_view(&format!("row-{id}"));
        }
    });

    // The keyboard (↑/↓ j/k, Enter, /, Esc).
    {
        let dispatch = inbox.dispatcher();
        let (go, key_context, search_ref) = (go.clone(), key_context.clone(), search_ref.clone());
        use_effect_with((), move |_| {
            let listener = keys::on_keydown(move |key| {
                let ctx = key_context.borrow();
                match key {
                    Key::Down => dispatch.dispatch(Action::MoveCursor(1)),
                    Key::Up => dispatch.dispatch(Action::MoveCursor(-1)),
                    Key::Search => keys::focus(&search_ref),
                    Key::Enter => {
                        if let Some(id) = ctx.cursor {
                            go(ctx.view.with_conversation(Some(id)), false);
                        }
                    }
                    Key::Escape => {
                        if ctx.view.conversation.is_some() && keys::is_narrow() {
                            go(ctx.view.with_conversation(None), false);
                        }
                    }
                }
            });
            move || {
                let _unsubscribe = listener;
            }
        });
    }

    let on_search = {
        let (search_text, pushed_q, search_timer) =
            (search_text.clone(), pushed_q.clone(), search_timer.clone());
        let (key_context, go) = (key_context.clone(), go.clone());
        Callback::from(move |text: String| {
            search_text.set(text.clone());
            let q = Some(text.trim().to_string()).filter(|t| !t.is_empty());
            let run = {
                let (key_context, go, pushed_q) =
                    (key_context.clone(), go.clone(), pushed_q.clone());
                move || {
                    *pushed_q.borrow_mut() = q.clone();
                    // The view as it is when the search runs, not when typing began: a thread
                    // opened during the pause stays open.
                    let view = key_context.borrow().view.clone();
                    go(InboxView { q, ..view }, true);
                }
            };
            if text.is_empty() {
                search_timer.borrow_mut().take();
                run();
            } else {
                *search_timer.borrow_mut() = Some(Timeout::new(SEARCH_DEBOUNCE_MS, run));
            }
        })
    };

    let on_range = {
        let (view, go, prefs, save_prefs, search_text) = (
            view.clone(),
            go.clone(),
            prefs.clone(),
            save_prefs.clone(),
            search_text.clone(),
        );
        let pushed_q = pushed_q.clone();
        Callback::from(move |picked: RangePreset| {
            let mut next = InboxView {
                range: Some(picked),
                q: None,
                ..view.clone()
            };
            if let Prefs::Loaded(p) = &*prefs {
                if picked == RangePreset::Custom && (next.from.is_none() || next.to.is_none()) {
                    next.from = p.custom_from;
                    next.to = p.custom_to;
                }
                save_prefs(Preferences {
                    range: picked,
                    ..p.clone()
                });
            }
            *pushed_q.borrow_mut() = None;
            search_text.set(String::new());
            go(next, false);
        })
    };

    let on_custom = {
        let (view, go, prefs, save_prefs) =
            (view.clone(), go.clone(), prefs.clone(), save_prefs.clone());
        Callback::from(move |(from, to): (Option<NaiveDate>, Option<NaiveDate>)| {
            if (from, to) == (view.from, view.to) {
                return;
            }
            if let (Prefs::Loaded(p), Some(f), Some(t)) = (&*prefs, from, to) {
                if f <= t {
                    save_prefs(Preferences {
                        range: RangePreset::Custom,
                        custom_from: Some(f),
                        custom_to: Some(t),
                        ..p.clone()
                    });
                }
            }
            go(
                InboxView {
                    range: Some(RangePreset::Custom),
                    from,
                    to,
                    ..view.clone()
                },
                true,
            );
        })
    };

    let on_filter = {
        let (view, go) = (view.clone(), go.clone());
        Callback::from(move |filter: ListFilter| {
            go(
                InboxView {
                    filter,
                    ..view.clone()
                },
                false,
            )
        })
    };

    let on_open = {
        let (view, go) = (view.clone(), go.clone());
        Callback::from(move |id: Id| {
            if view.conversation != Some(id) {
                go(view.with_conversation(Some(id)), false);
            }
        })
    };

    let on_back = {
        let (view, go) = (view.clone(), go.clone());
        Callback::from(move |()| go(view.with_conversation(None), false))
    };

    let on_load_more = {
        let dispatch = inbox.dispatcher();
        let (key, cursor) = (inbox.list.key.clone(), inbox.list.next_cursor.clone());
        let on_signed_out = on_signed_out.clone();
        Callback::from(move |()| {
            let (Some(key), Some(cursor)) = (key.clone(), cursor.clone()) else {
                return;
            };
            dispatch.dispatch(Action::MoreRequested);
            let (dispatch, on_signed_out) = (dispatch.clone(), on_signed_out.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let q = ConversationQuery {
                    cursor: Some(cursor),
                    ..key.clone()
                };
                match ipc::call::<_, ConversationPage>(cmd::LIST, &q).await {
                    Ok(page) => dispatch.dispatch(Action::MoreLoaded { key, page }),
                    Err(e) => {
                        if let Some(message) = unless_signed_out(e, &on_signed_out) {
                            dispatch.dispatch(Action::ListFailed { key, message });
                        }
                    }
                }
            });
        })
    };

    let on_load_earlier = {
        let dispatch = inbox.dispatcher();
        let thread = inbox.thread.clone();
        let on_signed_out = on_signed_out.clone();
        Callback::from(move |()| {
            load_earlier(thread.as_deref(), dispatch.clone(), on_signed_out.clone())
        })
    };

    // LST-13: the pointer or keyboard focus holds the list still; the pill releases it.
    let hold_ref = use_mut_ref(|| inbox.hold);
    *hold_ref.borrow_mut() = inbox.hold;
    let on_pointer_over = {
        let (dispatch, hold_ref) = (inbox.dispatcher(), hold_ref.clone());
        Callback::from(move |over: bool| {
            // Pointer moves arrive by the dozen: only a change is dispatched.
            if hold_ref.borrow().pointer != over {
                hold_ref.borrow_mut().pointer = over;
                dispatch.dispatch(Action::PointerOverList(over));
            }
        })
    };
    // WebKit sends no `pointerleave` when the element under the pointer left the page (the pill,
    // once clicked) before the pointer moved on, so the page itself notes where the pointer went.
    let on_page_pointer_over = {
        let on_pointer_over = on_pointer_over.clone();
        Callback::from(move |e: PointerEvent| {
            let over_list = e
                .target_dyn_into::<web_sys::Element>()
                .and_then(|target| target.closest(".list-held").ok().flatten())
                .is_some();
            on_pointer_over.emit(over_list);
        })
    };
    let on_list_focus = {
        let (dispatch, hold_ref) = (inbox.dispatcher(), hold_ref.clone());
        Callback::from(move |focused: bool| {
            if hold_ref.borrow().focus != focused {
                hold_ref.borrow_mut().focus = focused;
                dispatch.dispatch(Action::ListFocused(focused));
            }
        })
    };
    let on_show_queued = {
        let dispatch = inbox.dispatcher();
        Callback::from(move |()| dispatch.dispatch(Action::ShowQueued))
    };

    let on_touched = {
        let dispatch = inbox.dispatcher();
        Callback::from(move |id: Id| dispatch.dispatch(Action::Touched(vec![id])))
    };

    let on_refresh = {
        let dispatch = inbox.dispatcher();
        let refreshing = refreshing.clone();
        Callback::from(move |()| {
            refreshing.set(true);
            let (dispatch, refreshing) = (dispatch.clone(), refreshing.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let _ = ipc::call::<_, ()>(cmd::REFRESH, &()).await;
                refreshing.set(false);
                dispatch.dispatch(Action::TouchedAll);
            });
        })
    };

    let on_dismiss_banner = {
        let (prefs, save_prefs) = (prefs.clone(), save_prefs.clone());
        Callback::from(move |()| {
            if let Prefs::Loaded(p) = &*prefs {
                save_prefs(Preferences {
                    banner_dismissed: true,
                    ..p.clone()
                });
            }
        })
    };

    let on_sign_out = {
        let on_signed_out = on_signed_out.clone();
        Callback::from(move |()| sign_out(on_signed_out.clone()))
    };

    let show_banner = matches!(&*prefs, Prefs::Loaded(p) if !p.banner_dismissed);
    let has_thread = view.conversation.is_some();
    let session = &props.session;
    html! {
        <div class="messages-page" onpointerover={on_page_pointer_over}>
            <PageHeader user_name={session.user.name.clone()}
                organisation={session.organisation.name.clone()}
                tabs={Tabs::for_session(session)} {on_sign_out} />
            <ConnectionBanner state={props.connection.clone()} {on_refresh} refreshing={*refreshing} />
            if show_banner {
                <DefaultRangeBanner on_dismiss={on_dismiss_banner} />
            }
            <main class={classes!("inbox", has_thread.then_some("has-thread"))}>
                <ListPanel list={inbox.list.clone()} {range} from={view.from} to={view.to}
                    filter={view.filter} search={(*search_text).clone()} searching={view.q.is_some()}
                    open={view.conversation} cursor={inbox.cursor} {clock} {search_ref}
                    {on_search} {on_range} {on_custom} {on_filter} {on_open} {on_load_more}
                    {on_pointer_over} {on_list_focus} {on_show_queued} />
                <div class="thread-pane">
                    if let Some(thread) = inbox.thread.clone() {
                        <ConversationPane {thread} session={props.session.clone()} {clock}
                            link_query={view.to_query()} {on_back} {on_load_earlier} {on_touched}
                            on_signed_out={on_signed_out.clone()} />
                    } else {
                        <p class="thread-placeholder muted">{ "Select a conversation to read it here." }</p>
                    }
                </div>
            </main>
        </div>
    }
}

/// The first pages of `key` again, as many as were shown (LST-12's re-read).
async fn read_pages(
    key: &ConversationQuery,
    shown: usize,
) -> Result<ConversationPage, inbox_core::desktop::CommandError> {
    let mut page = ipc::call::<_, ConversationPage>(cmd::LIST, key).await?;
    while page.items.len() < shown {
        let Some(cursor) = page.next_cursor.clone() else {
            break;
        };
        let q = ConversationQuery {
            cursor: Some(cursor),
            ..key.clone()
        };
        let next = ipc::call::<_, ConversationPage>(cmd::LIST, &q).await?;
        page.items.extend(next.items);
        page.next_cursor = next.next_cursor;
        page.counts = next.counts;
    }
    Ok(page)
}

/// Reads the header and newest page of a thread. Marking it read (THR-7) waits until someone
/// is looking at it (`use_read_marking`); unresolved calls stay unread until resolved (VOI-7).
pub(crate) fn load_thread(
    id: Id,
    dispatch: UseReducerDispatcher<Inbox>,
    on_signed_out: Callback<Option<String>>,
) {
    wasm_bindgen_futures::spawn_local(async move {
        let r = ConversationRef {
            conversation_id: id,
        };
        let header = ipc::call::<_, ConversationHeader>(cmd::CONVERSATION, &r).await;
        let request = ThreadRequest {
            conversation_id: id,
            before: None,
        };
        let view = ipc::call::<_, ThreadView>(cmd::THREAD, &request).await;
        match view {
            Ok(view) => dispatch.dispatch(Action::ThreadLoaded {
                conversation_id: id,
                header: header.ok(),
                view,
            }),
            Err(e) => {
                if let Some(message) = unless_signed_out(e, &on_signed_out) {
                    dispatch.dispatch(Action::ThreadFailed {
                        conversation_id: id,
                        message,
                    });
                }
            }
        }
    });
}

/// THR-6: the page before the oldest item shown.
pub(crate) fn load_earlier(
    thread: Option<&crate::state::ThreadState>,
    dispatch: UseReducerDispatcher<Inbox>,
    on_signed_out: Callback<Option<String>>,
) {
    let Some(t) = thread else { return };
    let request = ThreadRequest {
        conversation_id: t.conversation_id,
        before: t.oldest().cloned(),
    };
    dispatch.dispatch(Action::EarlierRequested);
    wasm_bindgen_futures::spawn_local(async move {
        let conversation_id = request.conversation_id;
        match ipc::call::<_, ThreadView>(cmd::THREAD, &request).await {
            Ok(view) => dispatch.dispatch(Action::EarlierLoaded {
                conversation_id,
                view,
            }),
            Err(e) => {
                if let Some(message) = unless_signed_out(e, &on_signed_out) {
                    dispatch.dispatch(Action::ThreadFailed {
                        conversation_id,
                        message,
                    });
                }
            }
        }
    });
}
