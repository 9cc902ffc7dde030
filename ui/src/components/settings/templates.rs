//! SET-1's WhatsApp templates: the only replies allowed outside the 24-hour window (CMP-2). Each
//! shows its name, language, body and parameter count; the editor previews the body as it is
//! typed, with `{{1}}`, `{{2}}` … marked as the parameters.

use inbox_core::desktop::{cmd, IdRef};
use inbox_core::{Id, WhatsappTemplate};
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::template_form::{header_from, pieces, Piece, TemplateForm, HEADERS};
use super::{upsert, DeleteDialog};
use crate::components::app::unless_signed_out;
use crate::components::page::{failure, Load};
use crate::ipc;

fn params_label(n: u32) -> String {
    match n {
        0 => "No parameters".into(),
        1 => "1 parameter".into(),
        n => format!("{n} parameters"),
    }
}

/// A body with its parameters marked.
fn marked(body: &str) -> Html {
    html! {
        { for pieces(body).into_iter().map(|p| match p {
            Piece::Text(t) => html! { { t } },
            Piece::Param(n) => html! {
                <mark class="param" data-param={n.to_string()} title={format!("Parameter {n}")}>
                    { format!("{{{{{n}}}}}") }
                </mark>
            },
        }) }
    }
}

#[derive(Properties, PartialEq)]
pub struct TemplatesProps {
    pub on_signed_out: Callback<Option<String>>,
}

/// The section's container.
#[function_component]
pub fn Templates(props: &TemplatesProps) -> Html {
    let list = use_state(|| Load::<Vec<WhatsappTemplate>>::Loading);
    let form = use_state(|| None::<TemplateForm>);
    let saving = use_state(|| false);
    let form_error = use_state(|| None::<String>);
    let deleting = use_state(|| None::<WhatsappTemplate>);
    let delete_busy = use_state(|| false);
    let delete_error = use_state(|| None::<String>);
    let on_signed_out = props.on_signed_out.clone();

    {
        let (list, on_signed_out) = (list.clone(), on_signed_out.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, Vec<WhatsappTemplate>>(cmd::TEMPLATES, &()).await {
                    Ok(items) => list.set(Load::Loaded(items)),
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            list.set(Load::Failed(failure("Could not read the templates", &m)));
                        }
                    }
                }
            });
        });
    }

    let open = {
        let (form, form_error) = (form.clone(), form_error.clone());
        Callback::from(move |f: TemplateForm| {
            form.set(Some(f));
            form_error.set(None);
        })
    };
    let on_new = open.reform(|_: MouseEvent| TemplateForm::default());
    let on_edit = {
        let list = list.clone();
        Callback::from(move |id: Id| {
            if let Load::Loaded(items) = &*list {
                if let Some(t) = items.iter().find(|t| t.id == id) {
                    open.emit(TemplateForm::edit(t));
                }
            }
        })
    };
    let on_change = {
        let form = form.clone();
        Callback::from(move |f: TemplateForm| form.set(Some(f)))
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
                match ipc::call::<_, WhatsappTemplate>(cmd::SAVE_TEMPLATE, &args).await {
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
                            form_error.set(Some(failure("Could not save the template", &m)));
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
                deleting.set(items.iter().find(|t| t.id == id).cloned());
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
            let Some(t) = (*deleting).clone() else { return };
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
                match ipc::call::<_, ()>(cmd::DELETE_TEMPLATE, &IdRef { id: t.id }).await {
                    Ok(()) => {
                        if let Load::Loaded(items) = &*list {
                            list.set(Load::Loaded(
                                items.iter().filter(|i| i.id != t.id).cloned().collect(),
                            ));
                        }
                        if form.as_ref().is_some_and(|f| f.id == Some(t.id)) {
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
        <section id="templates" class="settings-section" aria-labelledby="templates-title">
            <header class="section-head">
                <h3 id="templates-title">{ "WhatsApp templates" }</h3>
                <button id="new-template" type="button" class="button" onclick={on_new}>{ "New" }</button>
            </header>
            <p class="muted section-help">
                { "The only messages WhatsApp allows once the 24-hour window has closed." }
            </p>
            if let Some(f) = &*form {
                <TemplateEditor key={f.id.map_or("new".to_string(), |id| id.to_string())}
                    form={f.clone()} busy={*saving} error={(*form_error).clone()}
                    {on_change} {on_save} {on_cancel} />
            }
            {
                match &*list {
                    Load::Loading => html! { <p class="page-loading muted" role="status">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="page-error" role="alert">{ e }</p> },
                    Load::Loaded(items) => html! {
                        <TemplateList items={items.clone()} {on_edit} {on_delete} />
                    },
                }
            }
            if let Some(t) = &*deleting {
                <DeleteDialog title={format!("Delete the template \u{201c}{}\u{201d} ({})?", t.name, t.language)}
                    busy={*delete_busy} error={(*delete_error).clone()}
                    on_confirm={on_confirm_delete} on_close={on_close_delete} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct TemplateListProps {
    pub items: Vec<WhatsappTemplate>,
    pub on_edit: Callback<Id>,
    pub on_delete: Callback<Id>,
}

#[function_component]
pub fn TemplateList(props: &TemplateListProps) -> Html {
    if props.items.is_empty() {
        return html! {
            <p id="templates-empty" class="settings-empty muted">{ "No templates yet." }</p>
        };
    }
    html! {
        <ul class="settings-list">
            { for props.items.iter().map(|t| {
                let id = t.id;
                let on_edit = props.on_edit.reform(move |_: MouseEvent| id);
                let on_delete = props.on_delete.reform(move |_: MouseEvent| id);
                html! {
                    <li key={id} class="template settings-row" data-id={id.to_string()}>
                        <div class="row-text">
                            <div class="entry-line">
                                <span class="entry-name template-name">{ &t.name }</span>
                                <span class="language">{ &t.language }</span>
                                <span class="param-count muted">{ params_label(t.param_count) }</span>
                                if let Some(needs) = crate::compose::template_needs(t) {
                                    <span class="template-header muted">{ needs }</span>
                                }
                            </div>
                            <p class="entry-body">{ marked(&t.body) }</p>
                        </div>
                        <div class="row-actions">
                            <button type="button" class="button edit" onclick={on_edit}
                                aria-label={format!("Edit {} ({})", t.name, t.language)}>{ "Edit" }</button>
                            <button type="button" class="button delete" onclick={on_delete}
                                aria-label={format!("Delete {} ({})", t.name, t.language)}>{ "Delete" }</button>
                        </div>
                    </li>
                }
            }) }
        </ul>
    }
}

#[derive(Properties, PartialEq)]
pub struct TemplateEditorProps {
    pub form: TemplateForm,
    #[prop_or_default]
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<String>,
    pub on_change: Callback<TemplateForm>,
    pub on_save: Callback<()>,
    pub on_cancel: Callback<()>,
}

#[function_component]
pub fn TemplateEditor(props: &TemplateEditorProps) -> Html {
    let first = use_node_ref();
    {
        let first = first.clone();
        use_effect_with((), move |_| crate::keys::focus(&first));
    }
    let f = &props.form;
    let field = |set: fn(&mut TemplateForm, String)| {
        let (f, change) = (f.clone(), props.on_change.clone());
        Callback::from(move |e: InputEvent| {
            let value = e
                .target_dyn_into::<HtmlInputElement>()
                .map(|i| i.value())
                .or_else(|| {
                    e.target_dyn_into::<HtmlTextAreaElement>()
                        .map(|t| t.value())
                });
            if let Some(v) = value {
                let mut next = f.clone();
                set(&mut next, v);
                change.emit(next);
            }
        })
    };
    let onsubmit = props.on_save.reform(|e: SubmitEvent| e.prevent_default());
    let cancel = props.on_cancel.reform(|_: MouseEvent| ());
    let title = if f.id.is_some() {
        "Edit template"
    } else {
        "New template"
    };
    html! {
        <form id="template-form" class="settings-form" {onsubmit} aria-label={title}>
            <div class="form-row">
                <div class="form-field grow">
                    <label for="tpl-name">{ "Name" }</label>
                    <input id="tpl-name" type="text" required=true ref={first} value={f.name.clone()}
                        oninput={field(|f, v| f.name = v)} placeholder="e.g. vehicle_ready" />
                </div>
                <div class="form-field">
                    <label for="tpl-language">{ "Language" }</label>
                    <input id="tpl-language" type="text" required=true size="8" value={f.language.clone()}
                        oninput={field(|f, v| f.language = v)} />
                </div>
            </div>
            <div class="form-field">
                <label for="tpl-header">{ "Header" }</label>
                <select id="tpl-header" aria-describedby="tpl-header-hint" onchange={{
                    let (f, change) = (f.clone(), props.on_change.clone());
                    Callback::from(move |e: Event| {
                        let value = e.target_unchecked_into::<HtmlSelectElement>().value();
                        change.emit(TemplateForm { header: header_from(&value), ..f.clone() });
                    })
                }}>
                    { for HEADERS.iter().map(|(value, label, h)| html! {
                        <option value={*value} selected={f.header == *h}>{ *label }</option>
                    }) }
                </select>
                <p id="tpl-header-hint" class="hint muted">
                    { "As Meta approved it: with a photo or PDF header, each reply with this template sends one such file." }
                </p>
            </div>
            <label for="tpl-body">{ "Text" }</label>
            <textarea id="tpl-body" rows="3" required=true aria-describedby="tpl-hint"
                value={f.body.clone()} oninput={field(|f, v| f.body = v)}
                placeholder="Hi {{1}}, your vehicle {{2}} is ready for collection." />
            <p id="tpl-hint" class="hint muted">
                { "Write " }<code>{ "{{1}}" }</code>{ ", " }<code>{ "{{2}}" }</code>
                { " … where each reply fills in a value, numbered in order." }
            </p>
            <div id="tpl-preview" class="template-preview" aria-live="polite">
                <span class="preview-label">
                    { "Preview · " }<span id="tpl-param-count">{ params_label(f.param_count()) }</span>
                </span>
                <p class="preview-body">
                    if f.body.trim().is_empty() {
                        <span class="muted">{ "The text appears here as you type." }</span>
                    } else {
                        { marked(&f.body) }
                    }
                </p>
            </div>
            if let Some(e) = &props.error {
                <p class="form-error" role="alert">{ e }</p>
            }
            <div class="form-actions">
                <button type="button" class="button" onclick={cancel}>{ "Cancel" }</button>
                <button id="save-template" type="submit" class="button primary" disabled={props.busy}>
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

    fn ready() -> WhatsappTemplate {
        WhatsappTemplate {
            id: 1,
            name: "vehicle_ready".into(),
            language: "en_GB".into(),
            body: "Hi {{1}}, your vehicle {{2}} is ready for collection.".into(),
            param_count: 2,
            header: None,
        }
    }

    #[tokio::test]
    async fn set1_templates_list_name_language_body_and_parameter_count() {
        let html = test_render::<TemplateList>(TemplateListProps {
            items: vec![ready()],
            on_edit: Callback::noop(),
            on_delete: Callback::noop(),
        })
        .await;
        assert!(
            open_tag(&html, r#"data-id="1""#).contains("template"),
            "{html}"
        );
        assert!(html.contains("vehicle_ready"), "{html}");
        assert!(html.contains(r#"class="language">en_GB<"#), "{html}");
        assert!(html.contains("2 parameters"), "{html}");
        assert!(html.contains(r#"data-param="2""#), "{html}");
        assert!(html.contains("is ready for collection."), "{html}");
        assert!(
            html.contains(r#"class="button edit""#) && html.contains(r#"class="button delete""#)
        );
    }

    #[tokio::test]
    async fn set1_template_editor_hints_and_previews_parameters() {
        let html = test_render::<TemplateEditor>(TemplateEditorProps {
            form: TemplateForm::edit(&ready()),
            busy: false,
            error: Some(
                "Could not save the template: a template called vehicle_ready exists.".into(),
            ),
            on_change: Callback::noop(),
            on_save: Callback::noop(),
            on_cancel: Callback::noop(),
        })
        .await;
        assert!(open_tag(&html, r#"id="tpl-name""#).contains(r#"value="vehicle_ready""#));
        assert!(open_tag(&html, r#"id="tpl-language""#).contains(r#"value="en_GB""#));
        assert!(html.contains(r#"id="tpl-body""#), "{html}");
        assert!(
            html.contains(r#"id="tpl-hint""#) && html.contains("{{1}}"),
            "{html}"
        );
        let preview = &html[html.find(r#"id="tpl-preview""#).unwrap()..];
        assert!(preview.contains("2 parameters"), "{preview}");
        assert!(preview.contains(r#"data-param="1""#), "{preview}");
        assert!(html.contains(r#"id="save-template""#), "{html}");
        assert!(html.contains(r#"class="form-error""#), "{html}");
        assert!(
            open_tag(&html, r#"value="none""#).contains("selected"),
            "CMP-2: no header by default: {html}"
        );

        let html = test_render::<TemplateEditor>(TemplateEditorProps {
            form: TemplateForm::default(),
            busy: true,
            error: None,
            on_change: Callback::noop(),
            on_save: Callback::noop(),
            on_cancel: Callback::noop(),
        })
        .await;
        assert!(open_tag(&html, r#"id="tpl-language""#).contains(r#"value="en_GB""#));
        assert!(
            html.contains("Saving…") && !html.contains("form-error"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn cmp2_the_editor_offers_none_image_or_document_and_the_list_says_what_it_needs() {
        let invoice = WhatsappTemplate {
            header: Some(inbox_core::TemplateHeader::Document),
            ..ready()
        };
        let html = test_render::<TemplateEditor>(TemplateEditorProps {
            form: TemplateForm::edit(&invoice),
            busy: false,
            error: None,
            on_change: Callback::noop(),
            on_save: Callback::noop(),
            on_cancel: Callback::noop(),
        })
        .await;
        assert!(html.contains(r#"id="tpl-header""#), "{html}");
        for label in ["None (text only)", "Image (a photo)", "Document (a PDF)"] {
            assert!(html.contains(label), "{label}: {html}");
        }
        assert!(
            open_tag(&html, r#"value="document""#).contains("selected"),
            "{html}"
        );
        assert!(
            !open_tag(&html, r#"value="none""#).contains("selected"),
            "{html}"
        );

        let html = test_render::<TemplateList>(TemplateListProps {
            items: vec![invoice, ready()],
            on_edit: Callback::noop(),
            on_delete: Callback::noop(),
        })
        .await;
        assert_eq!(html.matches("Needs a PDF").count(), 1, "{html}");
    }
}
