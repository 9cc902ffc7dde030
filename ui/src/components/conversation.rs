//! One conversation as the inbox and the work-order page show it (THR-*, CMP-*, SDB-*, WO-1):
//! the thread, the composer under it, and the details sidebar, with the header's Copy link and
//! sidebar toggles. Reads the conversation's detail (`cmd::DETAIL`) whenever its row changes.

use std::rc::Rc;

use gloo_timers::callback::Timeout;
use inbox_core::desktop::{
    cmd, ClientRef, ConversationRef, IdRef, IntentArgs, LinkArgs, MessageRef, OpenView, Session,
};
use inbox_core::intent::Intent;
use inbox_core::{Capability, ConversationDetail, Id, Message, WorkOrder};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::composer::Composer;
use crate::components::sidebar::Sidebar;
use crate::components::thread::ThreadPanel;
use crate::format::Clock;
use crate::ipc;
use crate::route::Route;
use crate::state::ThreadState;

#[derive(Properties, PartialEq)]
pub struct ConversationPaneProps {
    pub thread: Rc<ThreadState>,
    pub session: Rc<Session>,
    pub clock: Clock,
    /// The view "Copy link" shares (`range=…&filter=…&conversation=…`).
    pub link_query: AttrValue,
    pub on_back: Callback<()>,
    pub on_load_earlier: Callback<()>,
    /// Something changed here that the thread or list should re-read (a discarded reply).
    pub on_touched: Callback<Id>,
    pub on_signed_out: Callback<Option<String>>,
}

#[function_component]
pub fn ConversationPane(props: &ConversationPaneProps) -> Html {
    let id = props.thread.conversation_id;
    let detail = use_state(|| None::<Rc<ConversationDetail>>);
    let sidebar_open = use_state(|| false);
    let copied = use_state(|| None::<String>);
    let copied_timer = use_mut_ref(|| None::<Timeout>);
    let action_error = use_state(|| None::<String>);
    let navigator = use_navigator();

    // The detail follows the row: assignment, link, channel and window change with it.
    let summary = props.thread.header.as_ref().map(|h| h.summary.clone());
    // Only the newest read may land: an older answer (another conversation, or this one before
    // its latest change) arriving late is dropped.
    let generation = use_mut_ref(|| 0u64);
    {
        let (detail, on_signed_out) = (detail.clone(), props.on_signed_out.clone());
        let (generation, action_error) = (generation.clone(), action_error.clone());
        use_effect_with((id, summary), move |(id, _)| {
            let id = *id;
            if detail.as_ref().is_some_and(|d| d.summary.id != id) {
                detail.set(None);
            }
            let mine = {
                let mut g = generation.borrow_mut();
                *g += 1;
                *g
            };
            wasm_bindgen_futures::spawn_local(async move {
                let r = ConversationRef {
                    conversation_id: id,
                };
                let answer = ipc::call::<_, ConversationDetail>(cmd::DETAIL, &r).await;
                if *generation.borrow() != mine {
                    return;
                }
                match answer {
                    Ok(d) => {
                        action_error.set(None);
                        detail.set(Some(Rc::new(d)));
                    }
                    Err(e) if e.signed_out => on_signed_out.emit(Some(e.message)),
                    Err(e) => action_error.set(Some(format!(
                        "Could not load this conversation's details: {}",
                        e.message
                    ))),
                }
            });
        });
    }

    let on_changed = {
        let (detail, on_touched) = (detail.clone(), props.on_touched.clone());
        Callback::from(move |d: ConversationDetail| {
            on_touched.emit(d.summary.id);
            detail.set(Some(Rc::new(d)));
        })
    };

    let on_retry = {
        let (action_error, on_touched) = (action_error.clone(), props.on_touched.clone());
        Callback::from(move |message_id: Id| {
            let (action_error, on_touched) = (action_error.clone(), on_touched.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, Message>(cmd::RETRY_MESSAGE, &MessageRef { message_id }).await
                {
                    Ok(m) => {
                        action_error.set(None);
                        on_touched.emit(m.conversation_id);
                    }
                    Err(e) => action_error.set(Some(e.message)),
                }
            });
        })
    };
    let on_remove_file = {
        let (action_error, on_touched) = (action_error.clone(), props.on_touched.clone());
        Callback::from(move |id: Id| {
            let (action_error, on_touched) = (action_error.clone(), on_touched.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, Option<Message>>(cmd::REMOVE_ATTACHMENT, &IdRef { id }).await {
                    Ok(m) => {
                        action_error.set(None);
                        if let Some(m) = m {
                            on_touched.emit(m.conversation_id);
                        }
                    }
                    Err(e) => action_error.set(Some(e.message)),
                }
            });
        })
    };
    let on_correct_intent = {
        let (action_error, on_touched) = (action_error.clone(), props.on_touched.clone());
        Callback::from(move |(message_id, label): (Id, Intent)| {
            let (action_error, on_touched) = (action_error.clone(), on_touched.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let args = IntentArgs { message_id, label };
                match ipc::call::<_, Message>(cmd::CORRECT_INTENT, &args).await {
                    Ok(m) => {
                        action_error.set(None);
                        on_touched.emit(m.conversation_id);
                    }
                    Err(e) => action_error.set(Some(e.message)),
                }
            });
        })
    };
    let on_discard = {
        let on_touched = props.on_touched.clone();
        Callback::from(move |client_id: String| {
            let on_touched = on_touched.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = ipc::call::<_, ()>(cmd::DISCARD_REPLY, &ClientRef { client_id }).await;
                on_touched.emit(id);
            });
        })
    };
    let on_open_call = {
        let navigator = navigator.clone();
        Callback::from(move |call: Id| {
            if let Some(n) = &navigator {
                n.push(&Route::Call { id: call });
            }
        })
    };
    let on_open_work_order = {
        let navigator = navigator.clone();
        Callback::from(move |wo: Id| {
            if let Some(n) = &navigator {
                n.push(&Route::WorkOrder { id: wo });
            }
        })
    };
    let on_copy = {
        let (copied, copied_timer) = (copied.clone(), copied_timer.clone());
        let query = props.link_query.to_string();
        Callback::from(move |_: MouseEvent| {
            let (copied, copied_timer, query) =
                (copied.clone(), copied_timer.clone(), query.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let view = OpenView { query };
                let text = match ipc::call::<_, String>(cmd::COPY_LINK, &view).await {
                    Ok(link) => format!("Link copied: {link}"),
                    Err(e) => e.message,
                };
                copied.set(Some(text));
                let copied = copied.clone();
                *copied_timer.borrow_mut() = Some(Timeout::new(4_000, move || copied.set(None)));
            });
        })
    };
    let toggle_sidebar = {
        let sidebar_open = sidebar_open.clone();
        Callback::from(move |_: MouseEvent| sidebar_open.set(!*sidebar_open))
    };
    let close_sidebar = {
        let sidebar_open = sidebar_open.clone();
        Callback::from(move |()| sidebar_open.set(false))
    };

    let header_actions = html! {
        <>
            <button id="copy-link" type="button" class="icon-button" title="Copy a link to this conversation"
                onclick={on_copy}>{ "Copy link" }</button>
            <button id="toggle-sidebar" type="button" class="icon-button panel-toggle"
                aria-pressed={sidebar_open.to_string()} aria-label="Show details" title="Details panel"
                onclick={toggle_sidebar.clone()}>
                <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
                    <rect x="1.5" y="2.5" width="13" height="11" rx="1.5" fill="none" stroke="currentColor" />
                    <line x1="10" y1="2.5" x2="10" y2="13.5" stroke="currentColor" />
                </svg>
            </button>
            <button id="open-details" type="button" class="icon-button info-toggle"
                aria-label="Details" title="Details" onclick={toggle_sidebar}>
                <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
                    <circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" />
                    <line x1="8" y1="7" x2="8" y2="11.5" stroke="currentColor" stroke-width="1.5" />
                    <circle cx="8" cy="4.8" r="0.9" fill="currentColor" />
                </svg>
            </button>
        </>
    };
    let caps = props.session.user.capabilities.clone();
    html! {
        <div class={classes!("conversation", sidebar_open.then_some("sidebar-open"))}>
            <div class="conversation-main">
                <ThreadPanel thread={props.thread.clone()} clock={props.clock}
                    on_back={props.on_back.clone()} on_load_earlier={props.on_load_earlier.clone()}
                    {header_actions} on_retry={Some(on_retry)} on_discard={Some(on_discard)}
                    on_correct_intent={caps.can_write().then_some(on_correct_intent)}
                    on_remove_file={caps.has(Capability::MessagesApprove).then_some(on_remove_file)}
                    on_open_call={Some(on_open_call)} />
                if let Some(text) = &*copied {
                    <p id="link-copied" class="toast" role="status">{ text }</p>
                }
                if let Some(e) = &*action_error {
                    <p id="thread-action-error" class="composer-error" role="alert">{ e }</p>
                }
                if let Some(d) = detail.as_ref().filter(|d| d.summary.id == id) {
                    if d.summary.needs_work_order_pick && caps.can_write() {
                        <PickWorkOrder detail={d.clone()} on_changed={on_changed.clone()} />
                    }
                    <Composer detail={d.clone()} thread={props.thread.clone()} capabilities={caps.clone()}
                        on_signed_out={props.on_signed_out.clone()} />
                }
            </div>
            if let Some(d) = detail.as_ref().filter(|d| d.summary.id == id) {
                <div class="sidebar-sheet-backdrop" onclick={close_sidebar.reform(|_: MouseEvent| ())}></div>
                <Sidebar detail={d.clone()} capabilities={caps} {on_changed}
                    {on_open_work_order} on_close={close_sidebar}
                    on_signed_out={props.on_signed_out.clone()} />
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct PickWorkOrderProps {
    pub detail: Rc<ConversationDetail>,
    pub on_changed: Callback<ConversationDetail>,
}

/// RTE-3: the customer has several active work orders; staff pick the one this is about.
#[function_component]
pub fn PickWorkOrder(props: &PickWorkOrderProps) -> Html {
    let error = use_state(|| None::<String>);
    let conversation_id = props.detail.summary.id;
    let pick = {
        let (error, on_changed) = (error.clone(), props.on_changed.clone());
        Callback::from(move |work_order_id: Id| {
            let (error, on_changed) = (error.clone(), on_changed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let args = LinkArgs {
                    conversation_id,
                    work_order_id,
                };
                match ipc::call::<_, ConversationDetail>(cmd::LINK_WORK_ORDER, &args).await {
                    Ok(d) => on_changed.emit(d),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    html! {
        <div id="pick-work-order" class="pick-work-order" role="group" aria-label="Pick a work order to link">
            <strong>{ "Pick a work order to link" }</strong>
            <span class="muted">{ " — this customer has several active jobs." }</span>
            <div class="candidates">
                { for props.detail.work_order_candidates.iter().map(|w: &WorkOrder| {
                    let pick = pick.clone();
                    let wid = w.id;
                    html! {
                        <button type="button" class="button candidate" data-work-order-id={w.id.to_string()}
                            onclick={Callback::from(move |_: MouseEvent| pick.emit(wid))}>
                            { format!("{} · {} · {}", w.number, w.vehicle_registration, w.description) }
                        </button>
                    }
                }) }
            </div>
            if let Some(e) = &*error {
                <p class="form-error" role="alert">{ e }</p>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::test_render;
    use crate::fixtures::*;
    use inbox_core::whatsapp::WindowState;
    use inbox_core::WorkOrderStatus;

    fn work_order(id: Id, number: &str) -> WorkOrder {
        WorkOrder {
            id,
            number: number.into(),
            status: WorkOrderStatus::Active,
            vehicle_registration: "HC20 NCO".into(),
            description: "VW Golf - Clutch replacement".into(),
            customer_id: 9,
            customer_name: "Henry Young".into(),
        }
    }

    #[tokio::test]
    async fn rte3_several_active_work_orders_ask_to_pick_one() {
        let mut summary = row(2, 10);
        summary.needs_work_order_pick = true;
        let detail = ConversationDetail {
            summary,
            customer: None,
            linked_work_order: None,
            work_order_candidates: vec![work_order(47, "WO-1047"), work_order(48, "WO-1048")],
            whatsapp_window: WindowState::NeverOpened,
            reply_channels: vec![],
        };
        let html = test_render::<PickWorkOrder>(PickWorkOrderProps {
            detail: Rc::new(detail),
            on_changed: Callback::noop(),
        })
        .await;
        assert!(html.contains("Pick a work order to link"), "{html}");
        assert!(html.contains(r#"data-work-order-id="47""#));
        assert!(html.contains(r#"data-work-order-id="48""#));
        assert!(html.contains("WO-1048 · HC20 NCO"));
    }
}
