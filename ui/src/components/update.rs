//! DSK-1: the update card. The shell offers a newer version of Garage Inbox published on the
//! signed-in server; the card says which, with its notes, and installs it only when the person
//! presses "Install and restart". A refused download is explained on the card in plain words.

use inbox_core::desktop::{cmd, event, AppUpdate};
use yew::prelude::*;

use crate::ipc;

/// The card's heading, e.g. "Garage Inbox 0.2.0 is available".
pub fn heading(version: &str) -> String {
    format!("Garage Inbox {version} is available")
}

#[derive(Properties, PartialEq)]
pub struct UpdateCardProps {
    pub state: AppUpdate,
    pub on_install: Callback<()>,
    pub on_later: Callback<()>,
}

/// The card itself, from its state alone.
#[function_component]
pub fn UpdateCard(props: &UpdateCardProps) -> Html {
    let (version, notes) = match &props.state {
        AppUpdate::None => return Html::default(),
        AppUpdate::Available { version, notes }
        | AppUpdate::Installing { version, notes }
        | AppUpdate::Failed { version, notes, .. } => (version, notes),
    };
    let installing = matches!(props.state, AppUpdate::Installing { .. });
    let install = props.on_install.reform(|_: MouseEvent| ());
    let later = props.on_later.reform(|_: MouseEvent| ());
    let (message, retry) = match &props.state {
        AppUpdate::Failed { message, retry, .. } => (Some(message.clone()), *retry),
        _ => (None, true),
    };
    let install_label = match (&props.state, installing) {
        (_, true) => "Installing…",
        (AppUpdate::Failed { .. }, _) => "Try again",
        _ => "Install and restart",
    };
    html! {
        <section id="update-card" class="update-card" data-state={state_tag(&props.state)}
            aria-labelledby="update-title">
            <h2 id="update-title">{ heading(version) }</h2>
            if !notes.trim().is_empty() {
                <p id="update-notes" class="update-notes">{ notes.clone() }</p>
            }
            if installing {
                <p id="update-progress" class="muted" role="status">
                    { "Downloading and checking the update. Garage Inbox restarts when it is installed." }
                </p>
            }
            if let Some(message) = message {
                <p id="update-error" class="update-error" role="alert">{ message }</p>
            }
            <div class="update-actions">
                if retry {
                    <button id="update-install" type="button" class="button primary"
                        onclick={install} disabled={installing}>{ install_label }</button>
                }
                <button id="update-later" type="button" class="button" onclick={later}
                    disabled={installing}>{ "Later" }</button>
            </div>
        </section>
    }
}

fn state_tag(state: &AppUpdate) -> &'static str {
    match state {
        AppUpdate::None => "none",
        AppUpdate::Available { .. } => "available",
        AppUpdate::Installing { .. } => "installing",
        AppUpdate::Failed { .. } => "failed",
    }
}

/// The card wired to the shell: asks what is on offer once, follows `event::APP_UPDATE`, and
/// sends the person's choice back.
#[function_component]
pub fn Updates() -> Html {
    let state = use_state(AppUpdate::default);
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            let listener = {
                let state = state.clone();
                ipc::listen::<AppUpdate>(event::APP_UPDATE, move |u| state.set(u))
            };
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(now) = ipc::call::<_, AppUpdate>(cmd::UPDATE_STATUS, &()).await {
                    state.set(now);
                }
            });
            move || {
                let _unsubscribe = listener;
            }
        });
    }
    let on_install = {
        let state = state.clone();
        Callback::from(move |()| {
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                // Success restarts the app; a refusal comes back as the card's new state (the
                // event), and as the error here in case the event was missed.
                if let Err(e) = ipc::call::<_, ()>(cmd::INSTALL_UPDATE, &()).await {
                    if let Ok(now) = ipc::call::<_, AppUpdate>(cmd::UPDATE_STATUS, &()).await {
                        state.set(now);
                    } else if let Some(version) = state.version().map(str::to_string) {
                        state.set(AppUpdate::Failed {
                            version,
                            notes: String::new(),
                            message: e.message,
                            retry: true,
                        });
                    }
                }
            });
        })
    };
    let on_later = {
        let state = state.clone();
        Callback::from(move |()| {
            state.set(AppUpdate::None);
            wasm_bindgen_futures::spawn_local(async move {
                let _ = ipc::call::<_, ()>(cmd::DISMISS_UPDATE, &()).await;
            });
        })
    };
    html! { <UpdateCard state={(*state).clone()} {on_install} {on_later} /> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::test_render;

    async fn render(state: AppUpdate) -> String {
        test_render::<UpdateCard>(UpdateCardProps {
            state,
            on_install: Callback::noop(),
            on_later: Callback::noop(),
        })
        .await
    }

    #[tokio::test]
    async fn dsk1_no_update_no_card() {
        assert_eq!(render(AppUpdate::None).await, "");
    }

    #[tokio::test]
    async fn dsk1_the_card_names_the_version_and_its_notes_and_asks() {
        let html = render(AppUpdate::Available {
            version: "0.2.0".into(),
            notes: "Faster lists".into(),
        })
        .await;
        assert!(html.contains("Garage Inbox 0.2.0 is available"), "{html}");
        assert!(html.contains("Faster lists"));
        assert!(html.contains("Install and restart"));
        assert!(html.contains("Later"));
        assert!(!html.contains("update-error"));
    }

    #[tokio::test]
    async fn dsk1_a_refused_update_says_why_and_offers_no_retry_for_a_bad_signature() {
        let html = render(AppUpdate::Failed {
            version: "0.2.0".into(),
            notes: String::new(),
            message: "The download of Garage Inbox 0.2.0 is not signed".into(),
            retry: false,
        })
        .await;
        assert!(html.contains("role=\"alert\""), "{html}");
        assert!(html.contains("is not signed"));
        assert!(!html.contains("update-install"));
        assert!(html.contains("update-later"));
    }

    #[tokio::test]
    async fn dsk1_installing_disables_the_buttons() {
        let html = render(AppUpdate::Installing {
            version: "0.2.0".into(),
            notes: String::new(),
        })
        .await;
        assert!(html.contains("Installing…"), "{html}");
        assert!(html.contains("Downloading and checking"));
        assert_eq!(html.matches("disabled=\"disabled\"").count(), 2, "{html}");
    }
}
