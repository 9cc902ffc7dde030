//! The details sidebar (SDB-1 … SDB-4): who the customer is, the linked work order with link
//! (a search dialog) and unlink (a confirmation), and the assignment dropdown. Shown beside the
//! thread at 1280 px and wider, toggled at 1024–1279 px, a slide-out sheet below (CSS decides
//! from the `sidebar-open` class its container carries).

use std::rc::Rc;

use gloo_timers::callback::Timeout;
use inbox_core::desktop::{cmd, AssignArgs, ConversationRef, LinkArgs, SearchArgs};
use inbox_core::{CapabilitySet, ConversationDetail, ConversationSummary, Id, StaffRef, WorkOrder};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::components::dialog::Dialog;
use crate::format::context_label;
use crate::ipc;

#[derive(Properties, PartialEq)]
pub struct SidebarProps {
    pub detail: Rc<ConversationDetail>,
    pub capabilities: CapabilitySet,
    /// The conversation changed here (assigned, linked, unlinked): its new detail.
    pub on_changed: Callback<ConversationDetail>,
    pub on_open_work_order: Callback<Id>,
    /// Closes the slide-out sheet (narrow widths).
    pub on_close: Callback<()>,
    pub on_signed_out: Callback<Option<String>>,
}

#[function_component]
pub fn Sidebar(props: &SidebarProps) -> Html {
    let staff = use_state(Vec::<StaffRef>::new);
    let error = use_state(|| None::<String>);
    let dialog = use_state(|| None::<Dialogs>);
    // Bumped when an assignment fails: the dropdown is rebuilt to show the real assignee again.
    let refused = use_state(|| 0u32);
    {
        let staff = staff.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(list) = ipc::call::<_, Vec<StaffRef>>(cmd::STAFF, &()).await {
                    staff.set(list);
                }
            });
        });
    }
    let d = &props.detail;
    let s = &d.summary;
    let id = s.id;
    let can_write = props.capabilities.can_write();

    let fail = {
        let (error, on_signed_out) = (error.clone(), props.on_signed_out.clone());
        Callback::from(move |e: inbox_core::desktop::CommandError| {
            if e.signed_out {
                on_signed_out.emit(Some(e.message));
            } else {
                error.set(Some(e.message));
            }
        })
    };

    let on_assign = {
        let (detail, on_changed, fail, error) = (
            props.detail.clone(),
            props.on_changed.clone(),
            fail.clone(),
            error.clone(),
        );
        let refused = refused.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            let args = AssignArgs {
                conversation_id: id,
                user_id: value.parse().ok(),
            };
            let (detail, on_changed, fail, error) = (
                detail.clone(),
                on_changed.clone(),
                fail.clone(),
                error.clone(),
            );
            let refused = refused.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, ConversationSummary>(cmd::ASSIGN, &args).await {
                    Ok(summary) => {
                        error.set(None);
                        on_changed.emit(ConversationDetail {
                            summary,
                            ..(*detail).clone()
                        });
                    }
                    Err(e) => {
                        refused.set(*refused + 1);
                        fail.emit(e);
                    }
                }
            });
        })
    };

    let open_dialog = |which: Dialogs| {
        let dialog = dialog.clone();
        Callback::from(move |_: MouseEvent| dialog.set(Some(which)))
    };
    let close_dialog = {
        let dialog = dialog.clone();
        Callback::from(move |()| dialog.set(None))
    };
    let linked = {
        let (dialog, on_changed, error) = (dialog.clone(), props.on_changed.clone(), error.clone());
        Callback::from(move |d: ConversationDetail| {
            dialog.set(None);
            error.set(None);
            on_changed.emit(d);
        })
    };

    let assignee = s.assignee.as_ref().map(|a| a.id);
    let on_close = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <aside id="sidebar" class="sidebar" aria-label="Conversation details">
            <header class="sidebar-head">
                <h3>{ "Details" }</h3>
                <button id="close-details" type="button" class="icon-button sheet-close"
                    aria-label="Close details" onclick={on_close}>{ "×" }</button>
            </header>
            <section id="sidebar-customer" class="sidebar-section">
                <h4>{ "Customer" }</h4>
                { customer_block(d) }
            </section>
            <section id="sidebar-work-order" class="sidebar-section">
                <h4>{ "Work order" }</h4>
                if let Some(w) = &d.linked_work_order {
                    { work_order_block(w) }
                    <div class="sidebar-actions">
                        <button id="open-work-order" type="button" class="button"
                            onclick={props.on_open_work_order.reform({ let wid = w.id; move |_: MouseEvent| wid })}>
                            { "Open work order" }
                        </button>
                        if can_write {
                            <button id="unlink-work-order" type="button" class="button danger-outline"
                                onclick={open_dialog(Dialogs::Unlink)}>{ "Unlink" }</button>
                        }
                    </div>
                } else {
                    <p class="muted">{ "No work order linked." }</p>
                    if can_write {
                        <button id="link-work-order" type="button" class="button"
                            onclick={open_dialog(Dialogs::Link)}>{ "Link a work order" }</button>
                    }
                }
            </section>
            <section class="sidebar-section">
                <h4><label for="assignee">{ "Assigned to" }</label></h4>
                <select id="assignee" key={format!("assignee-{}-{}", assignee.unwrap_or_default(), *refused)}
                    disabled={!can_write} onchange={on_assign}>
                    <option value="" selected={assignee.is_none()}>{ "Unassigned" }</option>
                    { for staff.iter().map(|m| html! {
                        <option value={m.id.to_string()} selected={assignee == Some(m.id)}>{ &m.name }</option>
                    }) }
                    // The assignee may have left the staff list (disabled): still show who it is.
                    if let Some(a) = s.assignee.as_ref().filter(|a| !staff.iter().any(|m| m.id == a.id)) {
                        <option value={a.id.to_string()} selected=true>{ &a.name }</option>
                    }
                </select>
                if s.assignee.is_none() {
                    <p class="muted context">{ format!("Context: {}", context_label(s.context_badge)) }</p>
                }
            </section>
            if let Some(e) = &*error {
                <p id="sidebar-error" class="form-error" role="alert">{ e }</p>
            }
            if *dialog == Some(Dialogs::Link) {
                <LinkDialog conversation_id={id} on_close={close_dialog.clone()} on_linked={linked.clone()}
                    on_signed_out={props.on_signed_out.clone()} />
            }
            if let (Some(Dialogs::Unlink), Some(w)) = (*dialog, &d.linked_work_order) {
                <UnlinkDialog conversation_id={id} number={w.number.clone()} on_close={close_dialog}
                    on_unlinked={linked} on_signed_out={props.on_signed_out.clone()} />
            }
        </aside>
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialogs {
    Link,
    Unlink,
}

fn customer_block(d: &ConversationDetail) -> Html {
    match &d.customer {
        Some(c) => html! {
            <dl class="facts">
                <dt>{ "Name" }</dt><dd class="customer-name">{ &c.name }</dd>
                if !c.phones.is_empty() {
                    <dt>{ "Phone" }</dt>
                    <dd>{ for c.phones.iter().map(|p| html! { <div class="phone">{ p }</div> }) }</dd>
                }
                if let Some(e) = &c.email {
                    <dt>{ "Email" }</dt><dd>{ e }</dd>
                }
            </dl>
        },
        None if d.summary.withheld => {
            html! { <p class="muted">{ "Withheld number — not matched to a customer." }</p> }
        }
        None => html! {
            <p class="muted">
                { format!("Unknown caller {} — not matched to a customer.", d.summary.caller_number.clone().unwrap_or_default()) }
            </p>
        },
    }
}

fn work_order_block(w: &WorkOrder) -> Html {
    html! {
        <dl class="facts" data-work-order-id={w.id.to_string()}>
            <dt>{ "Number" }</dt><dd class="work-order-number">{ &w.number }</dd>
            <dt>{ "Vehicle" }</dt><dd>{ &w.vehicle_registration }</dd>
            <dt>{ "Job" }</dt><dd>{ &w.description }</dd>
            <dt>{ "Status" }</dt><dd>{ w.status.as_str() }</dd>
        </dl>
    }
}

#[derive(Properties, PartialEq)]
pub struct LinkDialogProps {
    pub conversation_id: Id,
    pub on_close: Callback<()>,
    pub on_linked: Callback<ConversationDetail>,
    pub on_signed_out: Callback<Option<String>>,
}

/// SDB-3: find a work order (number, registration, job or customer) and link it.
#[function_component]
pub fn LinkDialog(props: &LinkDialogProps) -> Html {
    let results = use_state(|| None::<Vec<WorkOrder>>);
    let error = use_state(|| None::<String>);
    let timer = use_mut_ref(|| None::<Timeout>);
    // Only the newest search's answer is shown.
    let latest = use_mut_ref(|| 0u64);
    let search = {
        let (results, error) = (results.clone(), error.clone());
        move |q: String| {
            let (results, error, latest) = (results.clone(), error.clone(), latest.clone());
            let mine = {
                let mut l = latest.borrow_mut();
                *l += 1;
                *l
            };
            wasm_bindgen_futures::spawn_local(async move {
                let args = SearchArgs { q };
                let answer = ipc::call::<_, Vec<WorkOrder>>(cmd::SEARCH_WORK_ORDERS, &args).await;
                if *latest.borrow() != mine {
                    return;
                }
                match answer {
                    Ok(list) => {
                        error.set(None);
                        results.set(Some(list));
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            });
        }
    };
    {
        let search = search.clone();
        use_effect_with((), move |_| search(String::new()));
    }
    let on_input = Callback::from(move |e: InputEvent| {
        let q = e.target_unchecked_into::<HtmlInputElement>().value();
        let search = search.clone();
        *timer.borrow_mut() = Some(Timeout::new(200, move || search(q)));
    });
    let link = {
        let (error, on_linked, on_signed_out) = (
            error.clone(),
            props.on_linked.clone(),
            props.on_signed_out.clone(),
        );
        let conversation_id = props.conversation_id;
        Callback::from(move |work_order_id: Id| {
            let (error, on_linked, on_signed_out) =
                (error.clone(), on_linked.clone(), on_signed_out.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let args = LinkArgs {
                    conversation_id,
                    work_order_id,
                };
                match ipc::call::<_, ConversationDetail>(cmd::LINK_WORK_ORDER, &args).await {
                    Ok(d) => on_linked.emit(d),
                    Err(e) if e.signed_out => on_signed_out.emit(Some(e.message)),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    let cancel = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <Dialog id="link-dialog" title="Link a work order" on_close={props.on_close.clone()}>
            <input id="work-order-search" type="search" class="dialog-search" autofocus=true
                placeholder="Number, registration, job or customer" aria-label="Search work orders"
                oninput={on_input} />
            <ul class="dialog-results" role="listbox" aria-label="Work orders">
                { match &*results {
                    None => html! { <li class="muted">{ "Searching…" }</li> },
                    Some(list) if list.is_empty() => html! { <li class="muted">{ "No work order matches." }</li> },
                    Some(list) => list.iter().map(|w| {
                        let link = link.clone();
                        let wid = w.id;
                        html! {
                            <li>
                                <button type="button" class="work-order-option" data-work-order-id={w.id.to_string()}
                                    onclick={Callback::from(move |_: MouseEvent| link.emit(wid))}>
                                    <strong>{ &w.number }</strong>
                                    { format!(" · {} · {} · {}", w.vehicle_registration, w.description, w.customer_name) }
                                    <span class={classes!("wo-status", w.status.as_str())}>{ w.status.as_str() }</span>
                                </button>
                            </li>
                        }
                    }).collect::<Html>(),
                } }
            </ul>
            if let Some(e) = &*error {
                <p class="form-error" role="alert">{ e }</p>
            }
            <div class="dialog-actions">
                <button type="button" class="button" onclick={cancel}>{ "Cancel" }</button>
            </div>
        </Dialog>
    }
}

#[derive(Properties, PartialEq)]
pub struct UnlinkDialogProps {
    pub conversation_id: Id,
    pub number: String,
    pub on_close: Callback<()>,
    pub on_unlinked: Callback<ConversationDetail>,
    pub on_signed_out: Callback<Option<String>>,
}

/// SDB-3: unlinking asks first.
#[function_component]
pub fn UnlinkDialog(props: &UnlinkDialogProps) -> Html {
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let confirm = {
        let (error, busy, on_unlinked, on_signed_out) = (
            error.clone(),
            busy.clone(),
            props.on_unlinked.clone(),
            props.on_signed_out.clone(),
        );
        let conversation_id = props.conversation_id;
        Callback::from(move |_: MouseEvent| {
            busy.set(true);
            let (error, busy, on_unlinked, on_signed_out) = (
                error.clone(),
                busy.clone(),
                on_unlinked.clone(),
                on_signed_out.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let r = ConversationRef { conversation_id };
                let answer = ipc::call::<_, ConversationDetail>(cmd::UNLINK_WORK_ORDER, &r).await;
                busy.set(false);
                match answer {
                    Ok(d) => on_unlinked.emit(d),
                    Err(e) if e.signed_out => on_signed_out.emit(Some(e.message)),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    let cancel = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <Dialog id="unlink-dialog" title={format!("Unlink work order {}?", props.number)}
            on_close={props.on_close.clone()}>
            <p>{ "The conversation stays in the inbox; a note in the thread records the unlink." }</p>
            if let Some(e) = &*error {
                <p class="form-error" role="alert">{ e }</p>
            }
            <div class="dialog-actions">
                <button type="button" class="button" onclick={cancel}>{ "Cancel" }</button>
                <button id="confirm-unlink" type="button" class="button danger" onclick={confirm}
                    disabled={*busy}>{ "Unlink" }</button>
            </div>
        </Dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::test_render;
    use crate::fixtures::*;
    use inbox_core::whatsapp::WindowState;
    use inbox_core::{Capability, Customer, WorkOrderStatus};

    fn detail(linked: bool) -> ConversationDetail {
        let mut summary = row(4, 10);
        summary.customer_id = Some(9);
        ConversationDetail {
            summary,
            customer: Some(Customer {
                id: 9,
                name: "Amelia Davies".into(),
                phones: vec!["+447700900000".into()],
                email: Some("amelia@example.com".into()),
            }),
            linked_work_order: linked.then(|| WorkOrder {
                id: 47,
                number: "WO-1047".into(),
                status: WorkOrderStatus::Active,
                vehicle_registration: "MO22 TNT".into(),
                description: "VW Golf - Clutch".into(),
                customer_id: 9,
                customer_name: "Amelia Davies".into(),
            }),
            work_order_candidates: vec![],
            whatsapp_window: WindowState::NeverOpened,
            reply_channels: vec![],
        }
    }

    fn props(linked: bool, caps: &[Capability]) -> SidebarProps {
        SidebarProps {
            detail: Rc::new(detail(linked)),
            capabilities: CapabilitySet::new(caps.iter().copied()),
            on_changed: Callback::noop(),
            on_open_work_order: Callback::noop(),
            on_close: Callback::noop(),
            on_signed_out: Callback::noop(),
        }
    }

    #[tokio::test]
    async fn sdb2_sdb3_the_sidebar_shows_the_customer_and_links_or_unlinks() {
        let desk = [Capability::MessagesView, Capability::MessagesSend];
        let html = test_render::<Sidebar>(props(true, &desk)).await;
        assert!(
            html.contains("Amelia Davies") && html.contains("+447700900000"),
            "{html}"
        );
        assert!(html.contains("WO-1047") && html.contains("MO22 TNT"));
        assert!(html.contains(r#"id="unlink-work-order""#));
        assert!(html.contains(r#"id="open-work-order""#));
        assert!(html.contains(r#"id="assignee""#));
        let unlinked = test_render::<Sidebar>(props(false, &desk)).await;
        assert!(unlinked.contains(r#"id="link-work-order""#));
        assert!(unlinked.contains("No work order linked."));
        // A viewer sees the details but no controls that change them.
        let viewer = test_render::<Sidebar>(props(true, &[Capability::MessagesView])).await;
        assert!(!viewer.contains(r#"id="unlink-work-order""#));
        assert!(viewer.contains("disabled"));
    }
}
