//! Sign-in (ACC-3): server address, email, password. The form renders from props; the page
//! around it asks the shell to sign in.

use inbox_core::desktop::{cmd, Session, SignIn};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::ipc;

/// Where the demo server listens; most installs change it once.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8787";

#[derive(Properties, PartialEq)]
pub struct LoginFormProps {
    #[prop_or_default]
    pub error: Option<String>,
    /// Why the user is here (e.g. the session ended).
    #[prop_or_default]
    pub notice: Option<String>,
    #[prop_or_default]
    pub busy: bool,
    /// The keychain did not take the sign-in: offer to continue without remembering it.
    #[prop_or_default]
    pub offer_session_only: bool,
    pub on_submit: Callback<SignIn>,
    /// "Continue without remembering": sign in again for this session only.
    #[prop_or_default]
    pub on_session_only: Callback<()>,
}

#[function_component]
pub fn LoginForm(props: &LoginFormProps) -> Html {
    let server = use_state(|| DEFAULT_SERVER.to_string());
    let email = use_state(String::new);
    let password = use_state(String::new);
    let bind = |field: &UseStateHandle<String>| {
        let field = field.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                field.set(input.value());
            }
        })
    };
    let onsubmit = {
        let (server, email, password) = (server.clone(), email.clone(), password.clone());
        let on_submit = props.on_submit.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_submit.emit(SignIn {
                server: server.trim().to_string(),
                email: email.trim().to_string(),
                password: (*password).clone(),
                session_only: false,
            });
        })
    };
    html! {
        <main class="login-page">
            <form class="login-card" {onsubmit} aria-labelledby="login-title">
                <h1 id="login-title">{ "Garage Inbox" }</h1>
                <p class="subtitle">{ "Sign in to answer your customers." }</p>
                if let Some(n) = &props.notice {
                    <p id="signed-out-reason" class="notice" role="status">{ n }</p>
                }
                <label for="server">{ "Server address" }</label>
                <input id="server" type="url" required=true value={(*server).clone()}
                    oninput={bind(&server)} autocomplete="url" />
                <label for="email">{ "Email" }</label>
                <input id="email" type="email" required=true value={(*email).clone()}
                    oninput={bind(&email)} autocomplete="username" />
                <label for="password">{ "Password" }</label>
                <input id="password" type="password" required=true value={(*password).clone()}
                    oninput={bind(&password)} autocomplete="current-password" />
                if let Some(e) = &props.error {
                    <p id="login-error" class="form-error" role="alert">{ e }</p>
                }
                if props.offer_session_only {
                    <button id="continue-session-only" type="button" class="button"
                        disabled={props.busy}
                        onclick={props.on_session_only.reform(|_: MouseEvent| ())}>
                        { "Continue without remembering" }
                    </button>
                }
                <button id="sign-in" type="submit" class="button primary" disabled={props.busy}>
                    { if props.busy { "Signing in…" } else { "Sign in" } }
                </button>
            </form>
        </main>
    }
}

#[derive(Properties, PartialEq)]
pub struct LoginPageProps {
    #[prop_or_default]
    pub notice: Option<String>,
    pub on_signed_in: Callback<Session>,
}

#[function_component]
pub fn LoginPage(props: &LoginPageProps) -> Html {
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    // The form the keychain could not remember, for "Continue without remembering".
    let unremembered = use_state(|| None::<SignIn>);
    let sign_in = {
        let (busy, error, unremembered) = (busy.clone(), error.clone(), unremembered.clone());
        let on_signed_in = props.on_signed_in.clone();
        Callback::from(move |form: SignIn| {
            busy.set(true);
            error.set(None);
            unremembered.set(None);
            let (busy, error, unremembered, on_signed_in) = (
                busy.clone(),
                error.clone(),
                unremembered.clone(),
                on_signed_in.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, Session>(cmd::SIGN_IN, &form).await {
                    Ok(session) => on_signed_in.emit(session),
                    Err(e) => {
                        if e.keychain_unavailable {
                            unremembered.set(Some(form));
                        }
                        error.set(Some(e.message));
                    }
                }
                busy.set(false);
            });
        })
    };
    let on_submit = {
        let (error, sign_in) = (error.clone(), sign_in.clone());
        Callback::from(move |form: SignIn| {
            if form.email.is_empty() || form.password.is_empty() || form.server.is_empty() {
                error.set(Some(
                    "Enter the server address, your email and your password.".into(),
                ));
                return;
            }
            sign_in.emit(form);
        })
    };
    let on_session_only = {
        let unremembered = unremembered.clone();
        Callback::from(move |()| {
            if let Some(form) = (*unremembered).clone() {
                sign_in.emit(SignIn {
                    session_only: true,
                    ..form
                });
            }
        })
    };
    html! {
        <LoginForm error={(*error).clone()} notice={props.notice.clone()} busy={*busy}
            offer_session_only={unremembered.is_some()} {on_submit} {on_session_only} />
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::{open_tag, test_render};

    #[tokio::test]
    async fn acc3_sign_in_form_has_server_email_password_and_error() {
        let html = test_render::<LoginForm>(LoginFormProps {
            error: Some("Wrong email or password.".into()),
            notice: Some("Your session ended. Sign in again.".into()),
            busy: false,
            offer_session_only: false,
            on_submit: Callback::noop(),
            on_session_only: Callback::noop(),
        })
        .await;
        assert!(!html.contains("continue-session-only"), "{html}");
        assert!(
            html.contains(r#"id="server""#) && html.contains(DEFAULT_SERVER),
            "{html}"
        );
        assert!(html.contains(r#"id="email" type="email""#), "{html}");
        assert!(html.contains(r#"id="password" type="password""#), "{html}");
        assert!(html.contains(r#"id="sign-in" type="submit""#), "{html}");
        let error = open_tag(&html, r#"id="login-error""#);
        assert!(error.contains(r#"role="alert""#), "{error}");
        assert!(
            html.contains(r#"class="form-error">Wrong email or password.<"#),
            "{html}"
        );
        assert!(html.contains("Your session ended"), "{html}");
    }

    #[tokio::test]
    async fn acc3_no_error_region_until_something_failed() {
        let html = test_render::<LoginForm>(LoginFormProps {
            error: None,
            notice: None,
            busy: true,
            offer_session_only: false,
            on_submit: Callback::noop(),
            on_session_only: Callback::noop(),
        })
        .await;
        assert!(!html.contains("login-error"), "{html}");
        assert!(html.contains("Signing in…"), "{html}");
    }

    #[tokio::test]
    async fn acc3_a_keychain_that_did_not_answer_offers_a_session_only_sign_in() {
        let html = test_render::<LoginForm>(LoginFormProps {
            error: Some("You are signed in, but the system keychain did not answer.".into()),
            notice: None,
            busy: false,
            offer_session_only: true,
            on_submit: Callback::noop(),
            on_session_only: Callback::noop(),
        })
        .await;
        let button = open_tag(&html, r#"id="continue-session-only""#);
        assert!(button.contains(r#"type="button""#), "{button}");
        assert!(html.contains("Continue without remembering"), "{html}");
    }
}
