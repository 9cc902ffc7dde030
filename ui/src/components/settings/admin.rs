//! What the admin sections (Roles, Users, Audit) share: a list read from the shell, re-read
//! after each change, and one line saying what the last change did or why it was refused.

use std::future::Future;

use inbox_core::desktop::CommandError;
use serde::de::DeserializeOwned;
use yew::prelude::*;

use crate::components::app::unless_signed_out;
use crate::components::page::{failure, Load};
use crate::ipc;

/// The last change's outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum Said {
    Done(String),
    Refused(String),
}

/// A section's list and its notice.
pub struct AdminList<T: Clone + PartialEq + 'static> {
    list: UseStateHandle<Load<Vec<T>>>,
    said: UseStateHandle<Option<Said>>,
    reload: Callback<()>,
    on_signed_out: Callback<Option<String>>,
}

impl<T: Clone + PartialEq + 'static> Clone for AdminList<T> {
    fn clone(&self) -> Self {
        AdminList {
            list: self.list.clone(),
            said: self.said.clone(),
            reload: self.reload.clone(),
            on_signed_out: self.on_signed_out.clone(),
        }
    }
}

impl<T: Clone + PartialEq + 'static> AdminList<T> {
    pub fn items(&self) -> Vec<T> {
        match &*self.list {
            Load::Loaded(items) => items.clone(),
            _ => Vec::new(),
        }
    }

    pub fn notice(&self) -> Option<Said> {
        (*self.said).clone()
    }

    /// "Loading…", or the reason the list could not be read.
    pub fn loading_or_error(&self) -> Html {
        match &*self.list {
            Load::Loading => html! { <p class="muted" role="status">{ "Loading…" }</p> },
            Load::Failed(e) => html! { <p class="page-error" role="alert">{ e }</p> },
            Load::Loaded(_) => Html::default(),
        }
    }

    /// Runs a change; says what it did (or why not) and re-reads the list.
    pub fn run<F, Fut>(&self, what: &'static str, change: F)
    where
        F: FnOnce() -> Fut + 'static,
        Fut: Future<Output = Result<String, CommandError>> + 'static,
    {
        let (said, reload, on_signed_out) = (
            self.said.clone(),
            self.reload.clone(),
            self.on_signed_out.clone(),
        );
        wasm_bindgen_futures::spawn_local(async move {
            match change().await {
                Ok(done) => said.set(Some(Said::Done(done))),
                Err(e) => {
                    if let Some(m) = unless_signed_out(e, &on_signed_out) {
                        said.set(Some(Said::Refused(failure(what, &m))));
                    }
                }
            }
            reload.emit(());
        });
    }
}

/// Reads `command` (no arguments) into a list, now and after every change.
#[hook]
pub fn use_admin_list<T>(
    command: &'static str,
    what: &'static str,
    on_signed_out: Callback<Option<String>>,
) -> AdminList<T>
where
    T: Clone + PartialEq + DeserializeOwned + 'static,
{
    let list = use_state(|| Load::<Vec<T>>::Loading);
    let said = use_state(|| None::<Said>);
    let reload = {
        let (list, on_signed_out) = (list.clone(), on_signed_out.clone());
        use_callback((), move |(), _| {
            let (list, on_signed_out) = (list.clone(), on_signed_out.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, Vec<T>>(command, &()).await {
                    Ok(items) => list.set(Load::Loaded(items)),
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            list.set(Load::Failed(failure(what, &m)));
                        }
                    }
                }
            });
        })
    };
    {
        let reload = reload.clone();
        use_effect_with((), move |_| reload.emit(()));
    }
    AdminList {
        list,
        said,
        reload,
        on_signed_out,
    }
}

#[derive(Properties, PartialEq)]
pub struct NoticeProps {
    pub notice: Option<Said>,
}

/// The last change's outcome, read aloud.
#[function_component]
pub fn Notice(props: &NoticeProps) -> Html {
    match &props.notice {
        Some(Said::Done(m)) => html! { <p class="admin-notice" role="status">{ m }</p> },
        Some(Said::Refused(m)) => html! { <p class="form-error" role="alert">{ m }</p> },
        None => Html::default(),
    }
}

/// Asks the shell `command` (no arguments) as a section is shown: the answer goes to `done`; a
/// refusal is said as `what` and the reason, and a session the server ended signs out.
pub fn read_once<T: DeserializeOwned + 'static>(
    command: &'static str,
    what: &'static str,
    said: UseStateHandle<Option<Said>>,
    on_signed_out: Callback<Option<String>>,
    done: impl FnOnce(T) + 'static,
) {
    wasm_bindgen_futures::spawn_local(async move {
        match ipc::call::<_, T>(command, &()).await {
            Ok(answer) => done(answer),
            Err(e) => {
                if let Some(m) = unless_signed_out(e, &on_signed_out) {
                    said.set(Some(Said::Refused(failure(what, &m))));
                }
            }
        }
    });
}

/// Keeps a text field's value in `state` as the user types.
pub fn input(state: &UseStateHandle<String>) -> Callback<InputEvent> {
    let state = state.clone();
    Callback::from(move |e: InputEvent| {
        if let Some(i) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
            state.set(i.value());
        }
    })
}
