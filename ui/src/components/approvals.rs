//! `/approvals` (APQ-1): replies of gated senders waiting for an approver. Approve sends one;
//! Reject asks for a reason the author will read. A decided item leaves the list at once, and the
//! list is re-read when the shell reports changes, so one another approver handled goes too.

pub mod queue;

pub use queue::{author, reject_reason, text, Queue, QueueAction};

use std::rc::Rc;

use chrono::Utc;
use inbox_core::desktop::{cmd, ConnectionState, MessageRef, RejectArgs, Session};
use inbox_core::{ApprovalItem, Id, Message};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::components::app::unless_signed_out;
use crate::components::dialog::Dialog;
use crate::components::header::Section;
use crate::components::page::{data_changed, failure, use_reread_on_update, PageFrame};
use crate::components::{ChannelIcon, NavLink};
use crate::format::{channel_label, Clock};
use crate::ipc;
use crate::route::{conversation_query, Route};

#[derive(Properties, PartialEq)]
pub struct ApprovalsPageProps {
    pub session: Rc<Session>,
    pub connection: ConnectionState,
    pub on_signed_out: Callback<Option<String>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Decision {
    Approve,
    Reject(String),
}

#[function_component]
pub fn ApprovalsPage(props: &ApprovalsPageProps) -> Html {
    let queue = use_reducer(Queue::default);
    let reads = use_mut_ref(|| 0u64);
    let rejecting = use_state(|| None::<Id>);
    let on_signed_out = props.on_signed_out.clone();

    let reread = {
        let dispatch = queue.dispatcher();
        let on_signed_out = on_signed_out.clone();
        Callback::from(move |()| {
            let read = {
                let mut n = reads.borrow_mut();
                *n += 1;
                *n
            };
            let (dispatch, on_signed_out) = (dispatch.clone(), on_signed_out.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, Vec<ApprovalItem>>(cmd::APPROVALS, &()).await {
                    Ok(items) => dispatch.dispatch(QueueAction::Loaded { read, items }),
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            let message = failure("Could not read the Approval Queue", &m);
                            dispatch.dispatch(QueueAction::LoadFailed { read, message });
                        }
                    }
                }
            });
        })
    };
    {
        let reread = reread.clone();
        use_effect_with((), move |_| reread.emit(()));
    }
    use_reread_on_update(data_changed, reread);

    let decide = {
        let dispatch = queue.dispatcher();
        Callback::from(move |(id, decision): (Id, Decision)| {
            dispatch.dispatch(QueueAction::Deciding(id));
            let (dispatch, on_signed_out) = (dispatch.clone(), on_signed_out.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let (what, answer) = match decision {
                    Decision::Approve => (
                        "Could not approve the message",
                        ipc::call::<_, Message>(cmd::APPROVE, &MessageRef { message_id: id }).await,
                    ),
                    Decision::Reject(reason) => {
                        let args = RejectArgs {
                            message_id: id,
                            reason,
                        };
                        (
                            "Could not reject the message",
                            ipc::call::<_, Message>(cmd::REJECT, &args).await,
                        )
                    }
                };
                if let Err(e) = answer {
                    if let Some(m) = unless_signed_out(e, &on_signed_out) {
                        let message = failure(what, &m);
                        dispatch.dispatch(QueueAction::DecisionFailed { id, message });
                    }
                }
            });
        })
    };
    let on_approve = decide.reform(|id: Id| (id, Decision::Approve));
    let on_reject = {
        let rejecting = rejecting.clone();
        Callback::from(move |id: Id| rejecting.set(Some(id)))
    };
    let on_close = {
        let rejecting = rejecting.clone();
        Callback::from(move |()| rejecting.set(None))
    };
    let on_confirm = {
        let (rejecting, decide) = (rejecting.clone(), decide.clone());
        Callback::from(move |reason: String| {
            if let Some(id) = *rejecting {
                rejecting.set(None);
                decide.emit((id, Decision::Reject(reason)));
            }
        })
    };

    let clock = Clock::new(Utc::now(), &props.session.organisation.time_zone);
    let visible = queue.visible();
    let dialog_for = (*rejecting).and_then(|id| visible.iter().find(|i| i.message.id == id));
    html! {
        <PageFrame session={props.session.clone()} connection={props.connection.clone()}
            on_signed_out={props.on_signed_out.clone()} section={Section::Approvals} class="approvals-page">
            <section class="approvals" aria-labelledby="approvals-title">
                <div class="page-heading">
                    <h2 id="approvals-title">{ "Approval Queue" }</h2>
                    <p class="muted">
                        { "Replies from colleagues whose messages need approval. Approve sends a reply; \
                           reject returns it to its author with your reason." }
                    </p>
                </div>
                if let Some(e) = &queue.error {
                    <p class="page-error" role="alert">{ e }</p>
                }
                if let Some(e) = &queue.load_error {
                    <p class="page-error" role="alert">{ e }</p>
                }
                if queue.items.is_some() {
                    <ApprovalList items={visible.clone()} {clock} {on_approve} {on_reject} />
                } else if queue.load_error.is_none() {
                    <p class="page-loading muted" role="status">{ "Loading…" }</p>
                }
            </section>
            if let Some(item) = dialog_for {
                <RejectDialog author={author(&item.message).to_string()}
                    conversation={item.conversation_title.clone()} {on_confirm} {on_close} />
            }
        </PageFrame>
    }
}

#[derive(Properties, PartialEq)]
pub struct ApprovalListProps {
    pub items: Vec<ApprovalItem>,
    pub clock: Clock,
    pub on_approve: Callback<Id>,
    pub on_reject: Callback<Id>,
}

/// The pending replies, oldest first as the server gives them, or the empty state.
#[function_component]
pub fn ApprovalList(props: &ApprovalListProps) -> Html {
    if props.items.is_empty() {
        return html! {
            <div id="approvals-empty" class="empty-state" role="status">
                <p class="empty-title">{ "Nothing waiting for approval" }</p>
                <p class="muted">{ "Replies that need approval appear here as they are written." }</p>
            </div>
        };
    }
    let count = props.items.len();
    html! {
        <>
            <p class="approvals-count muted" role="status">
                { if count == 1 { "1 reply waiting".to_string() } else { format!("{count} replies waiting") } }
            </p>
            <ul class="approval-list">
                { for props.items.iter().map(|item| approval(item, props)) }
            </ul>
        </>
    }
}

fn approval(item: &ApprovalItem, props: &ApprovalListProps) -> Html {
    let m = &item.message;
    let id = m.id;
    let on_approve = props.on_approve.reform(move |_: MouseEvent| id);
    let on_reject = props.on_reject.reform(move |_: MouseEvent| id);
    let clock = props.clock;
    html! {
        <li key={id} class="approval" data-message-id={id.to_string()}
            data-channel={m.channel.as_str()}>
            <div class="approval-meta">
                <ChannelIcon channel={m.channel} />
                <span class="approval-author">{ author(m) }</span>
                <span class="muted">{ "to" }</span>
                <NavLink to={Route::Messages} query={conversation_query(m.conversation_id)}
                    class="approval-conversation" title="Open the conversation">
                    { &item.conversation_title }
                </NavLink>
                <span class="approval-channel">{ channel_label(m.channel) }</span>
                <time datetime={m.created_at.to_rfc3339()} title={clock.full_time(m.created_at)}>
                    { clock.item_time(m.created_at) }
                </time>
            </div>
            <p class="approval-body">{ text(m) }</p>
            <div class="approval-actions">
                <button type="button" class="button primary approve" onclick={on_approve}>
                    { "Approve" }
                </button>
                <button type="button" class="button reject" onclick={on_reject}>{ "Reject" }</button>
            </div>
        </li>
    }
}

#[derive(Properties, PartialEq)]
pub struct RejectDialogProps {
    pub author: String,
    pub conversation: String,
    /// The trimmed reason.
    pub on_confirm: Callback<String>,
    pub on_close: Callback<()>,
}

/// Reject with a reason (required: the author reads it to know what to change).
#[function_component]
pub fn RejectDialog(props: &RejectDialogProps) -> Html {
    let reason = use_state(String::new);
    let field = use_node_ref();
    {
        let field = field.clone();
        use_effect_with((), move |_| crate::keys::focus(&field));
    }
    let oninput = {
        let reason = reason.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(t) = e.target_dyn_into::<HtmlTextAreaElement>() {
                reason.set(t.value());
            }
        })
    };
    let ready = reject_reason(&reason);
    let onsubmit = {
        let (ready, on_confirm) = (ready.clone(), props.on_confirm.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(r) = ready.clone() {
                on_confirm.emit(r);
            }
        })
    };
    let cancel = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <Dialog id="reject-dialog" title="Reject this reply?" on_close={props.on_close.clone()}>
            <form class="dialog-form" {onsubmit}>
                <p class="muted">
                    { format!("{} will see your reason on their reply to {}.", props.author, props.conversation) }
                </p>
                <label for="reject-reason">{ "Reason" }</label>
                <textarea id="reject-reason" rows="3" required=true ref={field}
                    placeholder="What should change before it is sent?"
                    value={(*reason).clone()} {oninput} />
                <div class="dialog-actions">
                    <button type="button" class="button" onclick={cancel}>{ "Cancel" }</button>
                    <button id="confirm-reject" type="submit" class="button danger"
                        disabled={ready.is_none()}>{ "Reject" }</button>
                </div>
            </form>
        </Dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::queue::tests::item;
    use super::*;
    use crate::components::{open_tag, test_render};
    use crate::fixtures::at;

    async fn render(items: Vec<ApprovalItem>) -> String {
        test_render::<ApprovalList>(ApprovalListProps {
            items,
            clock: Clock::new(at(60), "Europe/London"),
            on_approve: Callback::noop(),
            on_reject: Callback::noop(),
        })
        .await
    }

    #[tokio::test]
    async fn apq1_each_item_shows_author_conversation_channel_text_and_time() {
        let html = render(vec![item(5037, 236), item(5038, 237)]).await;
        assert!(open_tag(&html, r#"data-message-id="5037""#).contains(r#"class="approval""#));
        assert!(html.contains(r#"data-message-id="5038""#), "{html}");
        assert!(html.contains("Toby Trainee"), "{html}");
        let link = open_tag(&html, "approval-conversation");
        assert!(
            link.contains(r##"href="#/messages?conversation=236""##),
            "{link}"
        );
        assert!(html.contains(">Amelia Davies</a>"), "{html}");
        assert!(open_tag(&html, "channel-icon").contains(r#"data-channel="sms""#));
        assert!(html.contains(r#"class="approval-channel">SMS<"#), "{html}");
        assert!(html.contains("Can we book you in for Tuesday?"), "{html}");
        assert!(
            html.contains(">10:30</time>"),
            "in the organisation's zone: {html}"
        );
        assert!(open_tag(&html, "approve\"").contains("button"), "{html}");
        assert!(html.contains(r#"class="button reject""#), "{html}");
        assert!(html.contains("2 replies waiting"), "{html}");
        assert!(!html.contains("approvals-empty"));
    }

    #[tokio::test]
    async fn apq1_empty_queue_says_so() {
        let html = render(vec![]).await;
        assert!(html.contains(r#"id="approvals-empty""#), "{html}");
        assert!(html.contains("Nothing waiting for approval"), "{html}");
        assert!(!html.contains("approval-list"), "{html}");
    }

    #[tokio::test]
    async fn apq1_reject_dialog_asks_for_a_reason_before_confirming() {
        let html = test_render::<RejectDialog>(RejectDialogProps {
            author: "Toby Trainee".into(),
            conversation: "Amelia Davies".into(),
            on_confirm: Callback::noop(),
            on_close: Callback::noop(),
        })
        .await;
        assert!(html.contains(r#"id="reject-dialog""#), "{html}");
        let field = open_tag(&html, r#"id="reject-reason""#);
        assert!(
            field.starts_with("<textarea") && field.contains("required"),
            "{field}"
        );
        let confirm = open_tag(&html, r#"id="confirm-reject""#);
        assert!(confirm.contains("disabled"), "blank reason: {confirm}");
        assert!(html.contains("Toby Trainee will see your reason"), "{html}");
    }
}
