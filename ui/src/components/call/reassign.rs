//! VOI-6's dialog: move a call to a different customer (search, select) or detach it to an
//! anonymous conversation, with an optional reason for the audit log. The server's refusal
//! ("the call is already in that conversation") shows inside the dialog.

use std::rc::Rc;

use gloo_timers::callback::Timeout;
use inbox_core::api::CallMoved;
use inbox_core::desktop::{cmd, SearchArgs};
use inbox_core::{Call, Customer, Id};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::components::app::unless_signed_out;
use crate::components::dialog::Dialog;
use crate::components::page::{failure, Load};
use crate::ipc;

use super::destination::{Choice, Draft, REASON_MAX};

/// Typing pauses this long before the customer search runs.
const SEARCH_DEBOUNCE_MS: u32 = 250;

/// A finished move, for the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    /// The call as it is now.
    pub call: Call,
    pub to_conversation_id: Id,
    /// The destination's title as the dialog knew it.
    pub title: String,
}

#[derive(Properties, PartialEq)]
pub struct ReassignDialogProps {
    pub call: Call,
    /// The customer of the conversation the call is in, marked in the results.
    pub current_customer: Option<Id>,
    pub on_moved: Callback<Moved>,
    pub on_close: Callback<()>,
    pub on_signed_out: Callback<Option<String>>,
}

/// The dialog's container: customer search and the move itself.
#[function_component]
pub fn ReassignDialog(props: &ReassignDialogProps) -> Html {
    let draft = use_state(Draft::default);
    let query = use_state(String::new);
    let results = use_state(|| None::<Load<Vec<Customer>>>);
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let timer = use_mut_ref(|| None::<Timeout>);
    let searches = use_mut_ref(|| 0u64);

    let search: Rc<dyn Fn(String)> = {
        let (results, on_signed_out) = (results.clone(), props.on_signed_out.clone());
        Rc::new(move |q: String| {
            let n = {
                let mut n = searches.borrow_mut();
                *n += 1;
                *n
            };
            let (results, on_signed_out, searches) =
                (results.clone(), on_signed_out.clone(), searches.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let answer =
                    ipc::call::<_, Vec<Customer>>(cmd::SEARCH_CUSTOMERS, &SearchArgs { q }).await;
                if *searches.borrow() != n {
                    return; // a newer search is on its way
                }
                match answer {
                    Ok(found) => results.set(Some(Load::Loaded(found))),
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            results.set(Some(Load::Failed(failure("Could not search", &m))));
                        }
                    }
                }
            });
        })
    };

    let on_choice = {
        let (draft, results, search, error) = (
            draft.clone(),
            results.clone(),
            search.clone(),
            error.clone(),
        );
        let query = query.clone();
        Callback::from(move |choice: Choice| {
            draft.set(Draft {
                choice: Some(choice),
                ..(*draft).clone()
            });
            error.set(None);
            // The first 20 customers by name, before anything is typed.
            if choice == Choice::Customer && results.is_none() {
                results.set(Some(Load::Loading));
                search((*query).clone());
            }
        })
    };
    let on_query = {
        let (query, results, timer) = (query.clone(), results.clone(), timer.clone());
        Callback::from(move |q: String| {
            query.set(q.clone());
            results.set(Some(Load::Loading));
            let search = search.clone();
            let q = q.trim().to_string();
            *timer.borrow_mut() = Some(Timeout::new(SEARCH_DEBOUNCE_MS, move || search(q)));
        })
    };
    let on_select = {
        let (draft, results, error) = (draft.clone(), results.clone(), error.clone());
        Callback::from(move |id: Id| {
            if let Some(Load::Loaded(found)) = &*results {
                let customer = found.iter().find(|c| c.id == id).cloned();
                draft.set(Draft {
                    customer,
                    ..(*draft).clone()
                });
                error.set(None);
            }
        })
    };
    let on_reason = {
        let draft = draft.clone();
        Callback::from(move |reason: String| {
            draft.set(Draft {
                reason,
                ..(*draft).clone()
            })
        })
    };
    let on_confirm = {
        let (draft, busy, error) = (draft.clone(), busy.clone(), error.clone());
        let (call, on_moved, on_signed_out) = (
            props.call.clone(),
            props.on_moved.clone(),
            props.on_signed_out.clone(),
        );
        Callback::from(move |()| {
            let args = match draft.args(call.id) {
                Ok(args) => args,
                Err(why) => return error.set(Some(why)),
            };
            let title = draft.destination_title(&call);
            busy.set(true);
            error.set(None);
            let (busy, error, on_moved, on_signed_out) = (
                busy.clone(),
                error.clone(),
                on_moved.clone(),
                on_signed_out.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, CallMoved>(cmd::REASSIGN_CALL, &args).await {
                    Ok(m) => on_moved.emit(Moved {
                        call: m.call,
                        to_conversation_id: m.to_conversation_id,
                        title,
                    }),
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            error.set(Some(failure("Could not move the call", &m)));
                        }
                        busy.set(false);
                    }
                }
            });
        })
    };

    html! {
        <ReassignForm draft={(*draft).clone()} query={(*query).clone()} results={(*results).clone()}
            current_customer={props.current_customer} busy={*busy} error={(*error).clone()}
            {on_choice} {on_query} {on_select} {on_reason} {on_confirm}
            on_close={props.on_close.clone()} />
    }
}

#[derive(Properties, PartialEq)]
pub struct ReassignFormProps {
    pub draft: Draft,
    pub query: String,
    /// None until the first search.
    pub results: Option<Load<Vec<Customer>>>,
    pub current_customer: Option<Id>,
    #[prop_or_default]
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<String>,
    pub on_choice: Callback<Choice>,
    pub on_query: Callback<String>,
    pub on_select: Callback<Id>,
    pub on_reason: Callback<String>,
    pub on_confirm: Callback<()>,
    pub on_close: Callback<()>,
}

/// The dialog as it looks, from props.
#[function_component]
pub fn ReassignForm(props: &ReassignFormProps) -> Html {
    let d = &props.draft;
    let choice = |c: Choice| props.on_choice.reform(move |_: Event| c);
    let on_query = props.on_query.reform(|e: InputEvent| {
        e.target_dyn_into::<HtmlInputElement>()
            .map(|i| i.value())
            .unwrap_or_default()
    });
    let on_reason = props.on_reason.reform(|e: InputEvent| {
        e.target_dyn_into::<HtmlTextAreaElement>()
            .map(|t| t.value())
            .unwrap_or_default()
    });
    let onsubmit = props
        .on_confirm
        .reform(|e: SubmitEvent| e.prevent_default());
    let cancel = props.on_close.reform(|_: MouseEvent| ());
    let ready = d.destination().is_some() && !props.busy;
    let to_customer = d.choice == Some(Choice::Customer);
    html! {
        <Dialog id="reassign-dialog" title="Reassign this call" on_close={props.on_close.clone()}>
            <form class="dialog-form" {onsubmit}>
                <fieldset class="choices">
                    <legend class="visually-hidden">{ "Where the call goes" }</legend>
                    <label class="choice" for="move-to-customer">
                        <input id="move-to-customer" type="radio" name="reassign-destination"
                            checked={to_customer} onchange={choice(Choice::Customer)} />
                        { "Move to a different customer" }
                    </label>
                    <label class="choice" for="detach-anonymous">
                        <input id="detach-anonymous" type="radio" name="reassign-destination"
                            checked={d.choice == Some(Choice::Anonymous)}
                            onchange={choice(Choice::Anonymous)} />
                        { "Detach to anonymous" }
                    </label>
                </fieldset>
                if to_customer {
                    <div class="customer-picker">
                        <label for="customer-search" class="visually-hidden">{ "Search customers" }</label>
                        <input id="customer-search" class="search" type="search" autocomplete="off"
                            placeholder="Search by name, phone or email" value={props.query.clone()}
                            oninput={on_query} />
                        { customer_results(props) }
                    </div>
                }
                <label for="reassign-reason">
                    { "Reason " }<span class="muted">{ "(optional, for the audit log)" }</span>
                </label>
                <textarea id="reassign-reason" rows="2" maxlength={REASON_MAX.to_string()}
                    placeholder="e.g. Spouse calling from her phone"
                    value={d.reason.clone()} oninput={on_reason} />
                if let Some(e) = &props.error {
                    <p class="form-error" role="alert">{ e }</p>
                }
                <div class="dialog-actions">
                    <button type="button" class="button" onclick={cancel}>{ "Cancel" }</button>
                    <button id="confirm-reassign" type="submit" class="button primary"
                        disabled={!ready}>
                        { if props.busy { "Moving…" } else { "Confirm" } }
                    </button>
                </div>
            </form>
        </Dialog>
    }
}

fn customer_results(props: &ReassignFormProps) -> Html {
    let picked = props.draft.customer.as_ref().map(|c| c.id);
    match &props.results {
        None | Some(Load::Loading) => {
            html! { <p class="picker-status muted" role="status">{ "Searching…" }</p> }
        }
        Some(Load::Failed(e)) => html! { <p class="form-error" role="alert">{ e }</p> },
        Some(Load::Loaded(found)) if found.is_empty() => html! {
            <p class="picker-status muted" role="status">{ "No customers match." }</p>
        },
        Some(Load::Loaded(found)) => html! {
            <ul class="customer-results" aria-label="Customers">
                { for found.iter().map(|c| {
                    let id = c.id;
                    let selected = picked == Some(id);
                    let onclick = props.on_select.reform(move |_: MouseEvent| id);
                    let contact = c.phones.first().into_iter().chain(c.email.as_ref())
                        .cloned().collect::<Vec<_>>().join(" · ");
                    html! {
                        <li key={id}>
                            <button type="button" data-customer-id={id.to_string()}
                                class={classes!("customer-option", selected.then_some("selected"))}
                                aria-pressed={selected.to_string()} {onclick}>
                                <span class="customer-name">{ &c.name }</span>
                                if props.current_customer == Some(id) {
                                    <span class="current-tag">{ "current" }</span>
                                }
                                <span class="customer-contact muted">{ contact }</span>
                            </button>
                        </li>
                    }
                }) }
            </ul>
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::destination::tests::customer;
    use super::*;
    use crate::components::{open_tag, test_render};

    fn props(draft: Draft, results: Option<Load<Vec<Customer>>>) -> ReassignFormProps {
        ReassignFormProps {
            draft,
            query: "no".into(),
            results,
            current_customer: Some(4),
            busy: false,
            error: None,
            on_choice: Callback::noop(),
            on_query: Callback::noop(),
            on_select: Callback::noop(),
            on_reason: Callback::noop(),
            on_confirm: Callback::noop(),
            on_close: Callback::noop(),
        }
    }

    #[tokio::test]
    async fn voi6_dialog_offers_both_destinations_and_waits_for_one() {
        let html = test_render::<ReassignForm>(props(Draft::default(), None)).await;
        assert!(html.contains(r#"id="reassign-dialog""#), "{html}");
        assert!(
            html.contains(r#"id="move-to-customer" type="radio""#),
            "{html}"
        );
        assert!(html.contains("Move to a different customer"), "{html}");
        assert!(
            html.contains(r#"id="detach-anonymous" type="radio""#),
            "{html}"
        );
        assert!(html.contains("Detach to anonymous"), "{html}");
        assert!(
            !html.contains("customer-search"),
            "no search before choosing"
        );
        assert!(html.contains(r#"id="reassign-reason""#), "{html}");
        assert!(html.contains("for the audit log"), "{html}");
        assert!(open_tag(&html, r#"id="confirm-reassign""#).contains("disabled"));
    }

    #[tokio::test]
    async fn voi6_customer_search_lists_options_and_marks_the_pick() {
        let draft = Draft {
            choice: Some(Choice::Customer),
            customer: Some(customer(3, "Noah King")),
            reason: String::new(),
        };
        let found = vec![customer(3, "Noah King"), customer(4, "Nora Jones")];
        let html = test_render::<ReassignForm>(props(draft, Some(Load::Loaded(found)))).await;
        assert!(html.contains(r#"id="customer-search""#), "{html}");
        let pick = open_tag(&html, r#"data-customer-id="3""#);
        assert!(pick.contains("customer-option selected"), "{pick}");
        assert!(pick.contains(r#"aria-pressed="true""#), "{pick}");
        let other = open_tag(&html, r#"data-customer-id="4""#);
        assert!(!other.contains("selected"), "{other}");
        assert!(
            html.contains("current"),
            "the call's own customer is marked"
        );
        assert!(
            html.contains("+447700900602 · noah.king@example.com"),
            "{html}"
        );
        let confirm = open_tag(&html, r#"id="confirm-reassign""#);
        assert!(!confirm.contains("disabled"), "{confirm}");
    }

    #[tokio::test]
    async fn voi6_the_servers_refusal_shows_in_the_dialog() {
        let mut p = props(
            Draft {
                choice: Some(Choice::Anonymous),
                ..Draft::default()
            },
            None,
        );
        p.error = Some("Could not move the call: the call is already in that conversation.".into());
        let html = test_render::<ReassignForm>(p).await;
        let dialog = &html[html.find(r#"id="reassign-dialog""#).unwrap()..];
        assert!(
            open_tag(dialog, "form-error").contains(r#"role="alert""#)
                && dialog.contains("the call is already in that conversation"),
            "{html}"
        );
        assert!(open_tag(&html, r#"id="detach-anonymous""#).contains("checked"));
    }
}
