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
    pub on_submit: Callback<SignIn>,
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
    let on_submit = {
        let (busy, error) = (busy.clone(), error.clone());
        let on_signed_in = props.on_signed_in.clone();
        Callback::from(move |form: SignIn| {
            if form.email.is_empty() || form.password.is_empty() || form.server.is_empty() {
                error.set(Some(
                    "Enter the server address, your email and your password.".into(),
                ));
                return;
            }
            busy.set(true);
            error.set(None);
            let (busy, error, on_signed_in) = (busy.clone(), error.clone(), on_signed_in.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, Session>(cmd::SIGN_IN, &form).await {
                    Ok(session) => on_signed_in.emit(session),
                    Err(e) => error.set(Some(e.message)),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <LoginForm error={(*error).clone()} notice={props.notice.clone()} busy={*busy} {on_submit} />
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
            on_submit: Callback::noop(),
        })
        .await;
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
            on_submit: Callback::noop(),
        })
        .await;
        assert!(!html.contains("login-error"), "{html}");
        assert!(html.contains("Signing in…"), "{html}");
    }
}
