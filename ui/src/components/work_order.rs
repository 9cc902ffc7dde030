//! `/work-orders/:id` (WO-1): the job, and a Messages tab that renders the same conversation
//! component as the inbox — every channel interleaved, the composer defaulting to the customer's
//! last channel — so a reply from either surface shows in the other at once (both re-read on the
//! shell's updates).

use std::rc::Rc;

use chrono::Utc;
use inbox_core::desktop::{
    cmd, event, AttentionArgs, ConnectionState, Session, Update, WorkOrderArgs, WorkOrderView,
};
use inbox_core::Id;
use yew::prelude::*;

use crate::components::attention::use_read_marking;
use crate::components::conversation::ConversationPane;
use crate::components::header::Section;
use crate::components::messages::{load_earlier, load_thread};
use crate::components::page::{failure, Load, PageFrame};
use crate::components::NavLink;
use crate::format::Clock;
use crate::ipc;
use crate::route::{conversation_query, Route};
use crate::state::{Action, Inbox};

#[derive(Properties, PartialEq)]
pub struct WorkOrderPageProps {
    pub id: Id,
    pub session: Rc<Session>,
    pub connection: ConnectionState,
    pub on_signed_out: Callback<Option<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Messages,
    Details,
}

#[function_component]
pub fn WorkOrderPage(props: &WorkOrderPageProps) -> Html {
    let view = use_state(|| Load::<WorkOrderView>::Loading);
    let tab = use_state(|| Tab::Messages);
    let inbox = use_reducer(Inbox::default);

    {
        let (view, dispatch, on_signed_out) = (
            view.clone(),
            inbox.dispatcher(),
            props.on_signed_out.clone(),
        );
        use_effect_with(props.id, move |id| {
            let work_order_id = *id;
            view.set(Load::Loading);
            wasm_bindgen_futures::spawn_local(async move {
                let args = WorkOrderArgs { work_order_id };
                match ipc::call::<_, WorkOrderView>(cmd::WORK_ORDER, &args).await {
                    Ok(v) => {
                        if let Some(cid) = v.conversation_id {
                            dispatch.dispatch(Action::ThreadOpened(cid));
                            load_thread(cid, dispatch.clone(), on_signed_out.clone());
                            let _ = ipc::call::<_, ()>(
                                cmd::SET_ATTENTION,
                                &AttentionArgs {
                                    conversation_id: Some(cid),
                                },
                            )
                            .await;
                        }
                        view.set(Load::Loaded(v));
                    }
                    Err(e) if e.signed_out => on_signed_out.emit(Some(e.message)),
                    Err(e) => view.set(Load::Failed(failure(
                        "Could not open the work order",
                        &e.message,
                    ))),
                }
            });
        });
    }
    // THR-7: read once someone is looking at it.
    use_read_marking(&inbox, props.on_signed_out.clone());
    // Leaving the page: nothing is open any more.
    use_effect_with((), |_| {
        || {
            wasm_bindgen_futures::spawn_local(async {
                let _ = ipc::call::<_, ()>(cmd::SET_ATTENTION, &AttentionArgs::default()).await;
            })
        }
    });
    // The thread re-reads when the shell reports a change to it (a reply from the inbox).
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
    {
        let dispatch = inbox.dispatcher();
        let open = inbox.open_id();
        let on_signed_out = props.on_signed_out.clone();
        use_effect_with(inbox.thread_epoch, move |epoch| {
            if let (true, Some(id)) = (*epoch > 0, open) {
                load_thread(id, dispatch, on_signed_out);
            }
        });
    }

    let on_load_earlier = {
        let (dispatch, thread, on_signed_out) = (
            inbox.dispatcher(),
            inbox.thread.clone(),
            props.on_signed_out.clone(),
        );
        Callback::from(move |()| {
            load_earlier(thread.as_deref(), dispatch.clone(), on_signed_out.clone())
        })
    };
    let on_touched = {
        let dispatch = inbox.dispatcher();
        Callback::from(move |id: Id| dispatch.dispatch(Action::Touched(vec![id])))
    };
    let set_tab = |t: Tab| {
        let tab = tab.clone();
        Callback::from(move |_: MouseEvent| tab.set(t))
    };
    let clock = Clock::new(Utc::now(), &props.session.organisation.time_zone);

    let body = match &*view {
        Load::Loading => html! { <p class="muted" role="status">{ "Opening the work order…" }</p> },
        Load::Failed(e) => html! { <p class="page-error" role="alert">{ e }</p> },
        Load::Loaded(v) => {
            let w = &v.work_order;
            html! {
                <section id="work-order" class="work-order-page" data-work-order-id={w.id.to_string()}>
                    <header class="work-order-head">
                        <h2>{ format!("{} · {}", w.number, w.vehicle_registration) }</h2>
                        <p class="muted">{ format!("{} — {} ({})", w.description, w.customer_name, w.status.as_str()) }</p>
                        <nav class="work-order-tabs" role="tablist">
                            <button id="wo-tab-messages" type="button" role="tab"
                                aria-selected={(*tab == Tab::Messages).to_string()}
                                class={classes!("composer-tab", (*tab == Tab::Messages).then_some("active"))}
                                onclick={set_tab(Tab::Messages)}>{ "Messages" }</button>
                            <button id="wo-tab-details" type="button" role="tab"
                                aria-selected={(*tab == Tab::Details).to_string()}
                                class={classes!("composer-tab", (*tab == Tab::Details).then_some("active"))}
                                onclick={set_tab(Tab::Details)}>{ "Details" }</button>
                        </nav>
                    </header>
                    if *tab == Tab::Details {
                        <dl class="facts work-order-details">
                            <dt>{ "Number" }</dt><dd>{ &w.number }</dd>
                            <dt>{ "Vehicle" }</dt><dd>{ &w.vehicle_registration }</dd>
                            <dt>{ "Job" }</dt><dd>{ &w.description }</dd>
                            <dt>{ "Customer" }</dt><dd>{ &w.customer_name }</dd>
                            <dt>{ "Status" }</dt><dd>{ w.status.as_str() }</dd>
                        </dl>
                    } else if let Some(thread) = inbox.thread.clone() {
                        <div class="work-order-messages">
                            <ConversationPane {thread} session={props.session.clone()} {clock}
                                link_query={conversation_query(inbox.open_id().unwrap_or_default())}
                                on_back={Callback::noop()} {on_load_earlier} {on_touched}
                                on_signed_out={props.on_signed_out.clone()} />
                        </div>
                    } else {
                        <p id="work-order-no-messages" class="muted">
                            { format!("{} has not been in touch yet: no conversation to show.", w.customer_name) }
                        </p>
                    }
                </section>
            }
        }
    };
    html! {
        <PageFrame session={props.session.clone()} connection={props.connection.clone()}
            on_signed_out={props.on_signed_out.clone()} section={Section::Inbox} class="work-order-frame">
            <NavLink to={Route::Messages} query={inbox.open_id().map(|c| AttrValue::from(conversation_query(c)))}
                id={AttrValue::from("back-to-inbox")} class={classes!("button-link")}>{ "‹ Back to the inbox" }</NavLink>
            { body }
        </PageFrame>
    }
}
