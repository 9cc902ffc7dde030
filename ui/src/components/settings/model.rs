//! Settings › AI › Language model (AIA-1), for `settings.ai.manage`: an optional
//! OpenAI-compatible endpoint (the garage's own Ollama, or a hosted model) that refines intents
//! and writes one-line summaries. The key is typed here, sealed on the server and never shown
//! again.

use inbox_core::api::{LanguageModelSettings, LanguageModelUpdate};
use inbox_core::desktop::cmd;
use yew::prelude::*;

use super::admin::{input, read_once, Notice, Said};
use crate::components::app::unless_signed_out;
use crate::components::page::failure;
use crate::ipc;

#[derive(Properties, PartialEq)]
pub struct LanguageModelProps {
    pub on_signed_out: Callback<Option<String>>,
}

/// What a save asks for: the key only when one was typed (or removal was asked for).
fn update(url: &str, model: &str, key: &str, remove_key: bool) -> LanguageModelUpdate {
    LanguageModelUpdate {
        url: url.to_string(),
        model: model.to_string(),
        key: if remove_key {
            Some(String::new())
        } else {
            Some(key.to_string()).filter(|k| !k.trim().is_empty())
        },
    }
}

#[function_component]
pub fn LanguageModel(props: &LanguageModelProps) -> Html {
    let saved = use_state(|| None::<LanguageModelSettings>);
    let (url, model, key) = (
        use_state(String::new),
        use_state(String::new),
        use_state(String::new),
    );
    let said = use_state(|| None::<Said>);
    let on_signed_out = props.on_signed_out.clone();
    let shown = {
        let (saved, url, model, key) = (saved.clone(), url.clone(), model.clone(), key.clone());
        move |s: LanguageModelSettings| {
            url.set(s.url.clone());
            model.set(s.model.clone());
            key.set(String::new());
            saved.set(Some(s));
        }
    };
    {
        let (shown, said, on_signed_out) = (shown.clone(), said.clone(), on_signed_out.clone());
        use_effect_with((), move |_| {
            read_once(
                cmd::LANGUAGE_MODEL,
                "Could not read the language model settings",
                said,
                on_signed_out,
                move |s: LanguageModelSettings| shown(s),
            )
        });
    }
    let save = {
        let (shown, said, on_signed_out) = (shown.clone(), said.clone(), on_signed_out.clone());
        Callback::from(move |u: LanguageModelUpdate| {
            let u = match u.validate() {
                Ok(u) => u,
                Err(why) => return said.set(Some(Said::Refused(failure("Not saved", &why)))),
            };
            let (shown, said, on_signed_out) = (shown.clone(), said.clone(), on_signed_out.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, LanguageModelSettings>(cmd::SET_LANGUAGE_MODEL, &u).await {
                    Ok(s) => {
                        said.set(Some(Said::Done(if s.url.is_empty() {
                            "No language model: intents come from this server alone.".into()
                        } else {
                            format!("{} will refine new messages' intents and summarise voicemails and long threads.", s.model)
                        })));
                        shown(s);
                    }
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            said.set(Some(Said::Refused(failure(
                                "Could not save the language model",
                                &m,
                            ))));
                        }
                    }
                }
            });
        })
    };
    let on_save = {
        let (save, url, model, key) = (save.clone(), url.clone(), model.clone(), key.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            save.emit(update(&url, &model, &key, false));
        })
    };
    let on_remove = save.reform(|_: MouseEvent| update("", "", "", true));
    let Some(current) = (*saved).clone() else {
        return html! { <div id="language-model"><Notice notice={(*said).clone()} /></div> };
    };
    html! {
        <form id="language-model" class="inline-form model-form" onsubmit={on_save}>
            <h4>{ "Language model (optional)" }</h4>
            <Notice notice={(*said).clone()} />
            <p class="muted">{ "An OpenAI-compatible endpoint, such as your own Ollama. While AI is on, new customer messages and voicemail transcripts are sent to it to refine intents and write one-line summaries in the thread. It never replies to a customer." }</p>
            <label>{ "URL" }<input id="model-url" type="url" placeholder="http://127.0.0.1:11434/v1"
                value={(*url).clone()} oninput={input(&url)} /></label>
            <label>{ "Model" }<input id="model-name" type="text" placeholder="llama3.1:8b"
                value={(*model).clone()} oninput={input(&model)} /></label>
            <label>{ "Key" }<input id="model-key" type="password" autocomplete="off"
                placeholder={if current.key_set { "Saved — type to replace" } else { "None" }}
                value={(*key).clone()} oninput={input(&key)} /></label>
            <div class="form-actions">
                <button id="save-model" type="submit" class="button">{ "Save language model" }</button>
                if !current.url.is_empty() {
                    <button id="remove-model" type="button" class="link-button" onclick={on_remove}>{ "Remove" }</button>
                }
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aia1_a_save_sends_the_key_only_when_one_was_typed_or_removed() {
        assert_eq!(update("u", "m", "  ", false).key, None, "kept as stored");
        assert_eq!(update("u", "m", "sk-1", false).key.as_deref(), Some("sk-1"));
        assert_eq!(update("", "", "", true).key.as_deref(), Some(""), "removed");
    }
}
