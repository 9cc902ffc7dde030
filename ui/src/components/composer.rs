//! The composer under the thread (CMP-1 … CMP-6, VOI-5, THR-8): a reply on the channel picked
//! (the customer's last by default), WhatsApp templates with their parameters and a preview when
//! the 24-hour window has closed, quick messages from a picker or typed as `/name`, and internal
//! notes. What is typed is kept as a draft in the cache, so a crash or restart loses nothing.

use std::rc::Rc;

use inbox_core::desktop::{cmd, ConversationRef, Draft, NoteArgs, OutboxEntry, ReplyArgs};
use inbox_core::{
    CapabilitySet, Channel, ConversationDetail, Note, QuickMessage, TemplateUse, WhatsappTemplate,
};
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::components::attach::{self, Picked, PickedFiles};
use crate::compose::{
    insert_quick, length_hint, matching, reply_mode, slash_query, template_blocked, template_needs,
    ReplyMode,
};
use crate::format::channel_label;
use crate::ipc;
use crate::state::ThreadState;

#[derive(Properties, PartialEq)]
pub struct ComposerProps {
    pub detail: Rc<ConversationDetail>,
    pub thread: Rc<ThreadState>,
    pub capabilities: CapabilitySet,
    /// A session that ended while sending.
    pub on_signed_out: Callback<Option<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Reply,
    Note,
}

/// The reference data the composer offers, loaded with the conversation.
#[derive(Debug, Clone, Default, PartialEq)]
struct Catalog {
    quick: Vec<QuickMessage>,
    templates: Vec<WhatsappTemplate>,
}

#[function_component]
pub fn Composer(props: &ComposerProps) -> Html {
    let conversation_id = props.detail.summary.id;
    let mode = use_state(|| Mode::Reply);
    let text = use_state(String::new);
    // The internal note has its own text, never kept as a reply draft: a note must not come
    // back in the reply box, one Ctrl+Enter from the customer.
    let note_text = use_state(String::new);
    let channel = use_state(|| None::<Channel>);
    let sms_chosen = use_state(|| false);
    let template = use_state(|| None::<String>);
    let params = use_state(Vec::<String>::new);
    let catalog = use_state(Catalog::default);
    let error = use_state(|| None::<String>);
    let sending = use_state(|| false);
    let picker_open = use_state(|| false);
    // Issue 17: photos and documents waiting to go with the reply.
    let files = use_state(Vec::<Picked>::new);
    // Typed since the conversation opened: a draft read late must not overwrite it.
    let typed = use_mut_ref(|| false);

    // A conversation opens: its draft comes back, the catalog is read.
    {
        let (typed, note_text, files) = (typed.clone(), note_text.clone(), files.clone());
        let (text, channel, sms_chosen, template, params, error, catalog, mode) = (
            text.clone(),
            channel.clone(),
            sms_chosen.clone(),
            template.clone(),
            params.clone(),
            error.clone(),
            catalog.clone(),
            mode.clone(),
        );
        use_effect_with(conversation_id, move |id| {
            let id = *id;
            text.set(String::new());
            channel.set(None);
            sms_chosen.set(false);
            template.set(None);
            params.set(Vec::new());
            error.set(None);
            mode.set(Mode::Reply);
            *typed.borrow_mut() = false;
            note_text.set(String::new());
            files.set(Vec::new());
            wasm_bindgen_futures::spawn_local(async move {
                let r = ConversationRef {
                    conversation_id: id,
                };
                let draft = ipc::call::<_, Option<Draft>>(cmd::DRAFT, &r).await;
                if let (Ok(Some(d)), false) = (draft, *typed.borrow()) {
                    text.set(d.body);
                    if d.channel.is_some() {
                        sms_chosen.set(d.channel == Some(Channel::Sms));
                        channel.set(d.channel);
                    }
                }
                let quick = ipc::call::<_, Vec<QuickMessage>>(cmd::QUICK_MESSAGES, &())
                    .await
                    .unwrap_or_default();
                let templates = ipc::call::<_, Vec<WhatsappTemplate>>(cmd::TEMPLATES, &())
                    .await
                    .unwrap_or_default();
                catalog.set(Catalog { quick, templates });
            });
            || ()
        });
    }

    let save_draft = {
        let channel = channel.clone();
        move |body: String| {
            let draft = Draft {
                conversation_id,
                body,
                channel: *channel,
            };
            wasm_bindgen_futures::spawn_local(async move {
                let _ = ipc::call::<_, ()>(cmd::SET_DRAFT, &draft).await;
            });
        }
    };

    let on_text = {
        let (text, save_draft, picker_open) =
            (text.clone(), save_draft.clone(), picker_open.clone());
        let typed = typed.clone();
        Callback::from(move |e: InputEvent| {
            *typed.borrow_mut() = true;
            let value = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            picker_open.set(slash_query(&value).is_some());
            save_draft(value.clone());
            text.set(value);
        })
    };
    // Files picked, dropped or pasted join the reply, within the limits; a file still being
    // read when another conversation opens is dropped, never added to that one.
    let shown = use_mut_ref(|| conversation_id);
    *shown.borrow_mut() = conversation_id;
    let add_files = {
        let (files, error, shown) = (files.clone(), error.clone(), shown.clone());
        Callback::from(move |list: web_sys::FileList| {
            let (files, error, shown) = (files.clone(), error.clone(), shown.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let picked = attach::read(list).await;
                if *shown.borrow() != conversation_id {
                    return;
                }
                let (next, refused) = attach::add(&files, picked);
                files.set(next);
                error.set(refused);
            });
        })
    };
    let on_pick = {
        let add_files = add_files.clone();
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<HtmlInputElement>();
            if let Some(list) = input.files() {
                add_files.emit(list);
            }
            // The same file can be picked again after it is removed.
            input.set_value("");
        })
    };
    let on_paste = {
        let add_files = add_files.clone();
        Callback::from(move |e: Event| {
            let Ok(e) = e.dyn_into::<web_sys::ClipboardEvent>() else {
                return;
            };
            let list = e.clipboard_data().and_then(|d| d.files());
            if let Some(list) = list.filter(|l| l.length() > 0) {
                e.prevent_default();
                add_files.emit(list);
            }
        })
    };
    let on_drop = {
        let add_files = add_files.clone();
        Callback::from(move |e: DragEvent| {
            let list = e.data_transfer().and_then(|d| d.files());
            if let Some(list) = list.filter(|l| l.length() > 0) {
                e.prevent_default();
                add_files.emit(list);
            }
        })
    };
    let on_remove_file = {
        let files = files.clone();
        Callback::from(move |i: usize| {
            let mut next = (*files).clone();
            if i < next.len() {
                next.remove(i);
            }
            files.set(next);
        })
    };

    let on_note_text = {
        let note_text = note_text.clone();
        Callback::from(move |e: InputEvent| {
            note_text.set(e.target_unchecked_into::<HtmlTextAreaElement>().value());
        })
    };

    let on_channel = {
        let (channel, sms_chosen, error) = (channel.clone(), sms_chosen.clone(), error.clone());
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            let picked = Channel::ALL.iter().copied().find(|c| c.as_str() == value);
            sms_chosen.set(picked == Some(Channel::Sms));
            channel.set(picked);
            error.set(None);
        })
    };

    let on_reply_by_sms = {
        let (channel, sms_chosen) = (channel.clone(), sms_chosen.clone());
        Callback::from(move |_: MouseEvent| {
            channel.set(Some(Channel::Sms));
            sms_chosen.set(true);
        })
    };

    let insert = {
        let (text, save_draft, picker_open) =
            (text.clone(), save_draft.clone(), picker_open.clone());
        let typed = typed.clone();
        Callback::from(move |q: QuickMessage| {
            *typed.borrow_mut() = true;
            let next = insert_quick(&text, &q);
            save_draft(next.clone());
            text.set(next);
            picker_open.set(false);
        })
    };

    let detail = &props.detail;
    let chosen = (*channel).or_else(|| detail.reply_channels.first().copied());
    let reply = reply_mode(
        &props.capabilities,
        detail,
        &props.thread.items,
        *channel,
        *sms_chosen,
    );

    // CMP-2: the template chosen, and why it cannot go yet (its header's file is missing).
    let picked_template = (*template)
        .as_ref()
        .and_then(|n| catalog.templates.iter().find(|t| &t.name == n))
        .cloned();
    let needs_file = picked_template.as_ref().and_then(|t| t.header).is_some();
    let blocked = match reply {
        ReplyMode::TemplatesOnly => {
            let kinds: Vec<&str> = files.iter().map(|f| f.content_type.as_str()).collect();
            template_blocked(picked_template.as_ref(), &kinds)
        }
        _ => None,
    };

    let send = {
        let note_text = note_text.clone();
        let blocked = blocked.clone();
        let (text, template, params, error, sending, mode) = (
            text.clone(),
            template.clone(),
            params.clone(),
            error.clone(),
            sending.clone(),
            mode.clone(),
        );
        let files = files.clone();
        let (save_draft, on_signed_out, reply) = (
            save_draft.clone(),
            props.on_signed_out.clone(),
            reply.clone(),
        );
        Callback::from(move |()| {
            if *sending {
                return;
            }
            let body = match *mode {
                Mode::Note => (*note_text).trim().to_string(),
                Mode::Reply => (*text).trim().to_string(),
            };
            let request = match (*mode, &reply) {
                (Mode::Note, _) => {
                    if body.is_empty() {
                        error.set(Some("Write the note first.".into()));
                        return;
                    }
                    Send::Note(NoteArgs {
                        conversation_id,
                        body,
                    })
                }
                (Mode::Reply, ReplyMode::TemplatesOnly) => {
                    if let Some(why) = blocked.clone() {
                        error.set(Some(why));
                        return;
                    }
                    let Some(name) = (*template).clone() else {
                        return;
                    };
                    // CMP-2: a media header's one file goes with the template.
                    Send::Reply(ReplyArgs {
                        conversation_id,
                        body: None,
                        template: Some(TemplateUse {
                            name,
                            params: (*params).clone(),
                        }),
                        channel: Some(Channel::Whatsapp),
                        files: files.iter().map(Picked::to_reply_file).collect(),
                    })
                }
                (Mode::Reply, ReplyMode::FreeText) => {
                    if body.is_empty() && files.is_empty() {
                        error.set(Some("Write a message first.".into()));
                        return;
                    }
                    Send::Reply(ReplyArgs {
                        conversation_id,
                        body: (!body.is_empty()).then_some(body),
                        template: None,
                        channel: chosen,
                        files: files.iter().map(Picked::to_reply_file).collect(),
                    })
                }
                _ => return,
            };
            sending.set(true);
            let (text, template, params, error, sending) = (
                text.clone(),
                template.clone(),
                params.clone(),
                error.clone(),
                sending.clone(),
            );
            let (save_draft, on_signed_out) = (save_draft.clone(), on_signed_out.clone());
            let (note_text, files) = (note_text.clone(), files.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = match &request {
                    Send::Reply(r) => ipc::call::<_, OutboxEntry>(cmd::SEND_REPLY, r)
                        .await
                        .map(|_| ()),
                    Send::Note(n) => ipc::call::<_, Note>(cmd::ADD_NOTE, n).await.map(|_| ()),
                };
                sending.set(false);
                match result {
                    Ok(()) => {
                        error.set(None);
                        if matches!(request, Send::Note(_)) {
                            note_text.set(String::new());
                        } else {
                            text.set(String::new());
                            files.set(Vec::new());
                            template.set(None);
                            params.set(Vec::new());
                            save_draft(String::new());
                        }
                    }
                    Err(e) if e.signed_out => on_signed_out.emit(Some(e.message)),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };

    let on_submit = {
        let send = send.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            send.emit(());
        })
    };
    let on_key = {
        let send = send.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
                e.prevent_default();
                send.emit(());
            }
        })
    };
    let set_mode = |m: Mode| {
        let (mode, error) = (mode.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            mode.set(m);
            error.set(None);
        })
    };
    let toggle_picker = {
        let picker_open = picker_open.clone();
        Callback::from(move |_: MouseEvent| picker_open.set(!*picker_open))
    };

    let can_note = props.capabilities.can_write();
    let gated = props.capabilities.replies_need_approval();
    let slash = slash_query(&text).unwrap_or_default().to_string();
    let quick_shown: Vec<QuickMessage> = if slash_query(&text).is_some() {
        matching(&catalog.quick, &slash)
            .into_iter()
            .cloned()
            .collect()
    } else {
        catalog.quick.clone()
    };

    let reply_body = match reply {
        ReplyMode::NotAllowed => html! {
            <p id="composer-blocked" class="composer-note muted">
                { "Your role can read conversations but not reply (needs messages.send or messages.send_gated)." }
            </p>
        },
        ReplyMode::NoChannel => html! {
            <p id="composer-blocked" class="composer-note muted">
                { "This caller withheld their number and has no portal account, so there is no way to reply. Add a note instead." }
            </p>
        },
        ReplyMode::ReplyBySms => html! {
            <div class="composer-voice">
                <p class="muted">{ "The customer cannot be answered on a voice call." }</p>
                <button id="reply-by-sms" type="button" class="button" onclick={on_reply_by_sms}>
                    { "Reply by SMS" }
                </button>
            </div>
        },
        ReplyMode::TemplatesOnly => html! {
            <TemplatePicker templates={catalog.templates.clone()} selected={(*template).clone()}
                params={(*params).clone()} blocked={blocked.clone()}
                on_select={{
                    let (template, params) = (template.clone(), params.clone());
                    Callback::from(move |(name, count): (Option<String>, usize)| {
                        template.set(name);
                        params.set(vec![String::new(); count]);
                    })
                }}
                on_params={{
                    let params = params.clone();
                    Callback::from(move |p: Vec<String>| params.set(p))
                }} />
        },
        ReplyMode::FreeText => html! {
            <>
                <textarea id="composer-text" class="composer-text" rows="3"
                    placeholder={format!("Reply by {} — Ctrl+Enter sends, / inserts a quick message", chosen.map(channel_label).unwrap_or("message"))}
                    aria-label="Reply" value={(*text).clone()} oninput={on_text.clone()}
                    onkeydown={on_key.clone()} onpaste={on_paste.clone()} />
                if let Some((len, max)) = chosen.and_then(|c| length_hint(&text, c)) {
                    <span class={classes!("length-hint", (len > max).then_some("over"))}>
                        { format!("{len} / {max}") }
                    </span>
                }
            </>
        },
    };

    let sendable = match *mode {
        Mode::Note => true,
        Mode::Reply => matches!(reply, ReplyMode::FreeText | ReplyMode::TemplatesOnly),
    };
    html! {
        <form id="composer" class="composer" data-mode={if *mode == Mode::Note { "note" } else { "reply" }}
            onsubmit={on_submit} ondrop={on_drop}
            ondragover={Callback::from(|e: DragEvent| e.prevent_default())}>
            if can_note {
                <div class="composer-tabs" role="tablist">
                    <button id="mode-reply" type="button" role="tab" aria-selected={(*mode == Mode::Reply).to_string()}
                        class={classes!("composer-tab", (*mode == Mode::Reply).then_some("active"))}
                        onclick={set_mode(Mode::Reply)}>{ "Reply" }</button>
                    <button id="mode-note" type="button" role="tab" aria-selected={(*mode == Mode::Note).to_string()}
                        class={classes!("composer-tab", (*mode == Mode::Note).then_some("active"))}
                        onclick={set_mode(Mode::Note)}>{ "Internal note" }</button>
                </div>
            }
            if *mode == Mode::Note {
                <textarea id="note-text" class="composer-text note" rows="3"
                    placeholder="An internal note — only staff see it" aria-label="Internal note"
                    value={(*note_text).clone()} oninput={on_note_text} onkeydown={on_key} />
            } else {
                if detail.reply_channels.len() > 1 && !matches!(reply, ReplyMode::NotAllowed | ReplyMode::ReplyBySms) {
                    <label class="composer-channel">
                        { "Send by " }
                        <select id="reply-channel" onchange={on_channel}>
                            { for detail.reply_channels.iter().map(|c| html! {
                                <option value={c.as_str()} selected={Some(*c) == chosen}>{ channel_label(*c) }</option>
                            }) }
                        </select>
                    </label>
                }
                if matches!(reply, ReplyMode::TemplatesOnly) {
                    <p id="window-expired" class="composer-note">
                        { "The WhatsApp 24-hour window has expired: only templates can be sent. Pick one, or switch to SMS." }
                    </p>
                }
                { reply_body }
                if matches!(reply, ReplyMode::FreeText) || !files.is_empty() {
                    <PickedFiles files={(*files).clone()} on_remove={on_remove_file} />
                }
                if *picker_open && matches!(reply, ReplyMode::FreeText) {
                    <ul id="quick-picker" class="quick-picker" role="listbox" aria-label="Quick messages">
                        if quick_shown.is_empty() {
                            <li class="muted">{ "No quick message by that name" }</li>
                        }
                        { for quick_shown.into_iter().map(|q| {
                            let insert = insert.clone();
                            let pick = q.clone();
                            html! {
                                <li role="option" class="quick-message-option" data-name={q.name.clone()}
                                    onmousedown={Callback::from(move |e: MouseEvent| { e.prevent_default(); insert.emit(pick.clone()); })}>
                                    <strong>{ format!("/{}", q.name) }</strong>
                                    <span class="muted">{ format!(" {}", q.body) }</span>
                                </li>
                            }
                        }) }
                    </ul>
                }
            }
            if let Some(e) = &*error {
                <p id="composer-error" class="composer-error" role="alert">{ e }</p>
            }
            <div class="composer-actions">
                if *mode == Mode::Reply && matches!(reply, ReplyMode::FreeText) {
                    <label id="attach" class="button-link attach-button" title="Attach a photo or PDF (or paste or drop one)">
                        { "Attach" }
                        <input id="attach-input" type="file" multiple=true accept={attach::ACCEPT}
                            class="visually-hidden" onchange={on_pick.clone()} />
                    </label>
                    <button id="open-quick-messages" type="button" class="button-link" onclick={toggle_picker}>
                        { "Quick messages" }
                    </button>
                }
                if *mode == Mode::Reply && matches!(reply, ReplyMode::TemplatesOnly) && needs_file {
                    <label id="attach" class="button-link attach-button" title="Attach the file this template sends">
                        { "Attach" }
                        <input id="attach-input" type="file" accept={attach::ACCEPT}
                            class="visually-hidden" onchange={on_pick} />
                    </label>
                }
                if gated && *mode == Mode::Reply {
                    <span class="muted gated-hint">{ "Replies wait in the Approval Queue until an approver sends them." }</span>
                }
                if sendable {
                    <button id={if *mode == Mode::Note { "add-note" } else { "send" }} type="submit"
                        class="button primary" disabled={*sending || (*mode == Mode::Reply && blocked.is_some())}
                        title={(*mode == Mode::Reply).then(|| blocked.clone()).flatten()}>
                        { match (*mode, *sending) {
                            (_, true) => "Sending…",
                            (Mode::Note, false) => "Add note",
                            (Mode::Reply, false) if gated => "Send for approval",
                            (Mode::Reply, false) => "Send",
                        } }
                    </button>
                }
            </div>
        </form>
    }
}

enum Send {
    Reply(ReplyArgs),
    Note(NoteArgs),
}

#[derive(Properties, PartialEq)]
pub struct TemplatePickerProps {
    pub templates: Vec<WhatsappTemplate>,
    pub selected: Option<String>,
    pub params: Vec<String>,
    /// Why Send is disabled (CMP-2: a header's file is missing or of the wrong kind), if it is.
    #[prop_or_default]
    pub blocked: Option<String>,
    /// The template picked (None: none) and its parameter count.
    pub on_select: Callback<(Option<String>, usize)>,
    pub on_params: Callback<Vec<String>>,
}

/// CMP-2: the template, its parameters, and what the customer will read.
#[function_component]
pub fn TemplatePicker(props: &TemplatePickerProps) -> Html {
    let on_select = {
        let (templates, on_select) = (props.templates.clone(), props.on_select.clone());
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            let t = templates.iter().find(|t| t.name == value);
            on_select.emit((
                t.map(|t| t.name.clone()),
                t.map_or(0, |t| t.param_count as usize),
            ));
        })
    };
    let picked = props
        .selected
        .as_ref()
        .and_then(|n| props.templates.iter().find(|t| &t.name == n));
    html! {
        <div class="template-picker">
            <label>
                { "Template " }
                <select id="template-picker" onchange={on_select}>
                    <option value="" selected={picked.is_none()}>{ "Choose a template…" }</option>
                    { for props.templates.iter().map(|t| html! {
                        <option value={t.name.clone()} selected={picked.is_some_and(|p| p.id == t.id)}>
                            { match template_needs(t) {
                                Some(needs) => format!("{} ({}) · {needs}", t.name, t.language),
                                None => format!("{} ({})", t.name, t.language),
                            } }
                        </option>
                    }) }
                </select>
            </label>
            if let Some(t) = picked {
                <div class="template-params">
                    { for props.params.iter().enumerate().map(|(i, value)| {
                        let (params, on_params) = (props.params.clone(), props.on_params.clone());
                        html! {
                            <label class="template-param-label">
                                { format!("{{{{{}}}}} ", i + 1) }
                                <input class="template-param" data-index={i.to_string()} value={value.clone()}
                                    oninput={Callback::from(move |e: InputEvent| {
                                        let mut next = params.clone();
                                        next[i] = e.target_unchecked_into::<HtmlInputElement>().value();
                                        on_params.emit(next);
                                    })} />
                            </label>
                        }
                    }) }
                </div>
                if let Some(needs) = template_needs(t) {
                    <p id="template-needs" class="composer-note">
                        { format!("{needs}: Attach it below; the customer sees it above the text.") }
                    </p>
                }
                <p id="template-preview" class="template-preview">{ t.render(&props.params) }</p>
            }
            if let Some(why) = &props.blocked {
                <p id="send-blocked" class="muted" aria-live="polite">{ why }</p>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::test_render;

    #[tokio::test]
    async fn cmp2_the_template_picker_previews_what_the_customer_reads() {
        let templates = vec![WhatsappTemplate {
            id: 1,
            name: "vehicle_ready".into(),
            language: "en_GB".into(),
            body: "Hi {{1}}, your vehicle {{2}} is ready for collection.".into(),
            param_count: 2,
            header: None,
        }];
        let html = test_render::<TemplatePicker>(TemplatePickerProps {
            templates,
            selected: Some("vehicle_ready".into()),
            params: vec!["Amelia".into(), "MO22 TNT".into()],
            blocked: None,
            on_select: Callback::noop(),
            on_params: Callback::noop(),
        })
        .await;
        assert!(html.contains("vehicle_ready (en_GB)"), "{html}");
        assert_eq!(html.matches(r#"class="template-param""#).count(), 2);
        assert!(html.contains("Hi Amelia, your vehicle MO22 TNT is ready for collection."));
    }

    #[tokio::test]
    async fn cmp2_the_picker_says_a_template_needs_a_photo_and_why_send_waits() {
        let pads = WhatsappTemplate {
            id: 2,
            name: "brake_pads_photo".into(),
            language: "en_GB".into(),
            body: "Hi {{1}}, here is the photo of your brake pads.".into(),
            param_count: 1,
            header: Some(inbox_core::TemplateHeader::Image),
        };
        let invoice = WhatsappTemplate {
            id: 3,
            name: "invoice_ready".into(),
            header: Some(inbox_core::TemplateHeader::Document),
            ..pads.clone()
        };
        let templates = vec![pads.clone(), invoice.clone()];
        let blocked = crate::compose::template_blocked(Some(&pads), &[]);
        let html = test_render::<TemplatePicker>(TemplatePickerProps {
            templates: templates.clone(),
            selected: Some("brake_pads_photo".into()),
            params: vec!["Sam".into()],
            blocked,
            on_select: Callback::noop(),
            on_params: Callback::noop(),
        })
        .await;
        assert!(
            html.contains("brake_pads_photo (en_GB) · Needs a photo"),
            "{html}"
        );
        assert!(
            html.contains("invoice_ready (en_GB) · Needs a PDF"),
            "{html}"
        );
        assert!(html.contains(r#"id="template-needs""#), "{html}");
        assert!(
            html.contains("Attach the photo this template sends."),
            "the reason Send is disabled: {html}"
        );
        // With the photo attached nothing holds Send back.
        let html = test_render::<TemplatePicker>(TemplatePickerProps {
            templates,
            selected: Some("brake_pads_photo".into()),
            params: vec!["Sam".into()],
            blocked: crate::compose::template_blocked(Some(&pads), &["image/jpeg"]),
            on_select: Callback::noop(),
            on_params: Callback::noop(),
        })
        .await;
        assert!(!html.contains(r#"id="send-blocked""#), "{html}");
    }
}
