//! SET-1's quick messages: the snippets staff pick in the composer (CMP-6). Listed by name, with
//! New, Edit and Delete; the server's refusals (a blank field, a name already taken) show by the
//! form.

use inbox_core::desktop::{cmd, IdRef, SaveQuickMessage};
use inbox_core::{Id, QuickMessage};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::{upsert, DeleteDialog};
use crate::components::app::unless_signed_out;
use crate::components::page::{failure, Load};
use crate::ipc;

/// The server refuses longer names.
pub const NAME_MAX: usize = 60;

/// The form's fields; `id` None creates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuickMessageForm {
    pub id: Option<Id>,
    pub name: String,
    pub body: String,
}

impl QuickMessageForm {
    pub fn edit(q: &QuickMessage) -> QuickMessageForm {
        QuickMessageForm {
            id: Some(q.id),
            name: q.name.clone(),
            body: q.body.clone(),
        }
    }

    /// What Save sends, or why it would be refused (the server's rules, checked first here).
    pub fn validate(&self) -> Result<SaveQuickMessage, String> {
        let (name, body) = (self.name.trim(), self.body.trim());
        if name.is_empty() || body.is_empty() {
            return Err("A quick message needs a name and a text.".into());
        }
        if name.chars().count() > NAME_MAX {
            return Err(format!("Keep the name to {NAME_MAX} characters or fewer."));
        }
        Ok(SaveQuickMessage {
            id: self.id,
            name: name.to_string(),
            body: body.to_string(),
        })
    }
}

#[derive(Properties, PartialEq)]
pub struct QuickMessagesProps {
    pub on_signed_out: Callback<Option<String>>,
}

/// The section's container.
#[function_component]
pub fn QuickMessages(props: &QuickMessagesProps) -> Html {
    let list = use_state(|| Load::<Vec<QuickMessage>>::Loading);
    let form = use_state(|| None::<QuickMessageForm>);
    let saving = use_state(|| false);
    let form_error = use_state(|| None::<String>);
    let deleting = use_state(|| None::<QuickMessage>);
    let delete_busy = use_state(|| false);
    let delete_error = use_state(|| None::<String>);
    let on_signed_out = props.on_signed_out.clone();

    {
        let (list, on_signed_out) = (list.clone(), on_signed_out.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, Vec<QuickMessage>>(cmd::QUICK_MESSAGES, &()).await {
                    Ok(items) => list.set(Load::Loaded(items)),
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            list.set(Load::Failed(failure(
                                "Could not read the quick messages",
                                &m,
                            )));
                        }
                    }
                }
            });
        });
    }

    let open = {
        let (form, form_error) = (form.clone(), form_error.clone());
        Callback::from(move |f: QuickMessageForm| {
            form.set(Some(f));
            form_error.set(None);
        })
    };
    let on_new = open.reform(|_: MouseEvent| QuickMessageForm::default());
    let on_edit = {
        let list = list.clone();
        Callback::from(move |id: Id| {
            if let Load::Loaded(items) = &*list {
                if let Some(q) = items.iter().find(|q| q.id == id) {
                    open.emit(QuickMessageForm::edit(q));
                }
            }
        })
    };
    let on_change = {
        let form = form.clone();
        Callback::from(move |f: QuickMessageForm| form.set(Some(f)))
    };
    let on_cancel = {
        let form = form.clone();
        Callback::from(move |()| form.set(None))
    };
    let on_save = {
        let (list, form, saving, form_error) = (
            list.clone(),
            form.clone(),
            saving.clone(),
            form_error.clone(),
        );
        let on_signed_out = on_signed_out.clone();
        Callback::from(move |()| {
            let Some(f) = &*form else { return };
            let args = match f.validate() {
                Ok(args) => args,
                Err(why) => return form_error.set(Some(why)),
            };
            saving.set(true);
            form_error.set(None);
            let (list, form, saving, form_error, on_signed_out) = (
                list.clone(),
                form.clone(),
                saving.clone(),
                form_error.clone(),
                on_signed_out.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, QuickMessage>(cmd::SAVE_QUICK_MESSAGE, &args).await {
                    Ok(saved) => {
                        if let Load::Loaded(items) = &*list {
                            let mut items = items.clone();
                            upsert(&mut items, saved);
                            list.set(Load::Loaded(items));
                        }
                        form.set(None);
                    }
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            form_error.set(Some(failure("Could not save the quick message", &m)));
                        }
                    }
                }
                saving.set(false);
            });
        })
    };
    let on_delete = {
        let (list, deleting, delete_error) = (list.clone(), deleting.clone(), delete_error.clone());
        Callback::from(move |id: Id| {
            if let Load::Loaded(items) = &*list {
                deleting.set(items.iter().find(|q| q.id == id).cloned());
                delete_error.set(None);
            }
        })
    };
    let on_close_delete = {
        let deleting = deleting.clone();
        Callback::from(move |()| deleting.set(None))
    };
    let on_confirm_delete = {
        let (list, form, deleting, delete_busy, delete_error) = (
            list.clone(),
            form.clone(),
            deleting.clone(),
            delete_busy.clone(),
            delete_error.clone(),
        );
        Callback::from(move |()| {
            let Some(q) = (*deleting).clone() else { return };
            delete_busy.set(true);
            let (list, form, deleting, delete_busy, delete_error, on_signed_out) = (
                list.clone(),
                form.clone(),
                deleting.clone(),
                delete_busy.clone(),
                delete_error.clone(),
                on_signed_out.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, ()>(cmd::DELETE_QUICK_MESSAGE, &IdRef { id: q.id }).await {
                    Ok(()) => {
                        if let Load::Loaded(items) = &*list {
                            list.set(Load::Loaded(
                                items.iter().filter(|i| i.id != q.id).cloned().collect(),
                            ));
                        }
                        if form.as_ref().is_some_and(|f| f.id == Some(q.id)) {
                            form.set(None);
                        }
                        deleting.set(None);
                    }
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            delete_error.set(Some(failure("Could not delete it", &m)));
                        }
                    }
                }
                delete_busy.set(false);
            });
        })
    };

    html! {
        <section id="quick-messages" class="settings-section" aria-labelledby="quick-messages-title">
            <header class="section-head">
                <h3 id="quick-messages-title">{ "Quick messages" }</h3>
                <button id="new-quick-message" type="button" class="button" onclick={on_new}>
                    { "New" }
                </button>
            </header>
            <p class="muted section-help">{ "Ready-made texts staff can pick when replying." }</p>
            if let Some(f) = &*form {
                <QuickMessageEditor key={f.id.map_or("new".to_string(), |id| id.to_string())}
                    form={f.clone()} busy={*saving} error={(*form_error).clone()}
                    {on_change} {on_save} {on_cancel} />
            }
            {
                match &*list {
                    Load::Loading => html! { <p class="page-loading muted" role="status">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="page-error" role="alert">{ e }</p> },
                    Load::Loaded(items) => html! {
                        <QuickMessageList items={items.clone()} {on_edit} {on_delete} />
                    },
                }
            }
            if let Some(q) = &*deleting {
                <DeleteDialog title={format!("Delete the quick message \u{201c}{}\u{201d}?", q.name)}
                    busy={*delete_busy} error={(*delete_error).clone()}
                    on_confirm={on_confirm_delete} on_close={on_close_delete} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct QuickMessageListProps {
    pub items: Vec<QuickMessage>,
    pub on_edit: Callback<Id>,
    pub on_delete: Callback<Id>,
}

#[function_component]
pub fn QuickMessageList(props: &QuickMessageListProps) -> Html {
    if props.items.is_empty() {
        return html! {
            <p id="quick-messages-empty" class="settings-empty muted">{ "No quick messages yet." }</p>
        };
    }
    html! {
        <ul class="settings-list">
            { for props.items.iter().map(|q| {
                let id = q.id;
                let on_edit = props.on_edit.reform(move |_: MouseEvent| id);
                let on_delete = props.on_delete.reform(move |_: MouseEvent| id);
                html! {
                    <li key={id} class="quick-message settings-row" data-id={id.to_string()}>
                        <div class="row-text">
                            <span class="entry-name">{ &q.name }</span>
                            <p class="entry-body">{ &q.body }</p>
                        </div>
                        <div class="row-actions">
                            <button type="button" class="button edit" onclick={on_edit}
                                aria-label={format!("Edit {}", q.name)}>{ "Edit" }</button>
                            <button type="button" class="button delete" onclick={on_delete}
                                aria-label={format!("Delete {}", q.name)}>{ "Delete" }</button>
                        </div>
                    </li>
                }
            }) }
        </ul>
    }
}

#[derive(Properties, PartialEq)]
pub struct QuickMessageEditorProps {
    pub form: QuickMessageForm,
    #[prop_or_default]
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<String>,
    pub on_change: Callback<QuickMessageForm>,
    pub on_save: Callback<()>,
    pub on_cancel: Callback<()>,
}

#[function_component]
pub fn QuickMessageEditor(props: &QuickMessageEditorProps) -> Html {
    let first = use_node_ref();
    {
        let first = first.clone();
        use_effect_with((), move |_| crate::keys::focus(&first));
    }
    let f = &props.form;
    let on_name = {
        let (f, change) = (f.clone(), props.on_change.clone());
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
                change.emit(QuickMessageForm {
                    name: i.value(),
                    ..f.clone()
                });
            }
        })
    };
    let on_body = {
        let (f, change) = (f.clone(), props.on_change.clone());
        Callback::from(move |e: InputEvent| {
            if let Some(t) = e.target_dyn_into::<HtmlTextAreaElement>() {
                change.emit(QuickMessageForm {
                    body: t.value(),
                    ..f.clone()
                });
            }
        })
    };
    let onsubmit = props.on_save.reform(|e: SubmitEvent| e.prevent_default());
    let cancel = props.on_cancel.reform(|_: MouseEvent| ());
    let title = if f.id.is_some() {
        "Edit quick message"
    } else {
        "New quick message"
    };
    html! {
        <form id="quick-message-form" class="settings-form" {onsubmit} aria-label={title}>
            <label for="qm-name">{ "Name" }</label>
            <input id="qm-name" type="text" maxlength={NAME_MAX.to_string()} required=true
                ref={first} value={f.name.clone()} oninput={on_name} placeholder="e.g. call-back" />
            <label for="qm-body">{ "Text" }</label>
            <textarea id="qm-body" rows="3" required=true value={f.body.clone()} oninput={on_body}
                placeholder="Sorry we missed your call, we'll ring you back shortly." />
            if let Some(e) = &props.error {
                <p class="form-error" role="alert">{ e }</p>
            }
            <div class="form-actions">
                <button type="button" class="button" onclick={cancel}>{ "Cancel" }</button>
                <button id="save-quick-message" type="submit" class="button primary" disabled={props.busy}>
                    { if props.busy { "Saving…" } else { "Save" } }
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::{open_tag, test_render};

    #[test]
    fn set1_quick_message_form_checks_what_the_server_would_refuse() {
        let mut f = QuickMessageForm {
            id: None,
            name: "  brakes ".into(),
            body: " Your brake pads need replacing. ".into(),
        };
        assert_eq!(
            f.validate(),
            Ok(SaveQuickMessage {
                id: None,
                name: "brakes".into(),
                body: "Your brake pads need replacing.".into()
            })
        );
        f.body = "  ".into();
        assert!(f.validate().unwrap_err().contains("name and a text"));
        f.body = "x".into();
        f.name = "n".repeat(NAME_MAX + 1);
        assert!(f.validate().unwrap_err().contains("60"));
        let existing = QuickMessage {
            id: 3,
            name: "call-back".into(),
            body: "Sorry".into(),
        };
        assert_eq!(
            QuickMessageForm::edit(&existing).validate().unwrap().id,
            Some(3),
            "an edit saves over its own id"
        );
    }

    #[tokio::test]
    async fn set1_quick_messages_list_with_edit_and_delete() {
        let html = test_render::<QuickMessageList>(QuickMessageListProps {
            items: vec![QuickMessage {
                id: 3,
                name: "call-back".into(),
                body: "Sorry we missed your call.".into(),
            }],
            on_edit: Callback::noop(),
            on_delete: Callback::noop(),
        })
        .await;
        let row = open_tag(&html, r#"data-id="3""#);
        assert!(row.contains("quick-message"), "{row}");
        assert!(html.contains("call-back") && html.contains("Sorry we missed your call."));
        assert!(html.contains(r#"class="button edit""#), "{html}");
        assert!(html.contains(r#"class="button delete""#), "{html}");

        let empty = test_render::<QuickMessageList>(QuickMessageListProps {
            items: vec![],
            on_edit: Callback::noop(),
            on_delete: Callback::noop(),
        })
        .await;
        assert!(empty.contains("No quick messages yet."), "{empty}");
    }

    #[tokio::test]
    async fn set1_quick_message_editor_fields_and_server_error() {
        let html = test_render::<QuickMessageEditor>(QuickMessageEditorProps {
            form: QuickMessageForm {
                id: Some(3),
                name: "brakes".into(),
                body: "Your brake pads need replacing.".into(),
            },
            busy: false,
            error: Some(
                "Could not save the quick message: a quick message called \"brakes\" already exists."
                    .into(),
            ),
            on_change: Callback::noop(),
            on_save: Callback::noop(),
            on_cancel: Callback::noop(),
        })
        .await;
        assert!(open_tag(&html, r#"id="qm-name""#).contains(r#"value="brakes""#));
        assert!(html.contains(r#"id="qm-body""#), "{html}");
        assert!(html.contains(r#"id="save-quick-message""#), "{html}");
        assert!(html.contains(r#"class="form-error""#), "{html}");
        assert!(html.contains("already exists"), "{html}");
    }
}
