//! The operator's tools, driven through the real `inbox-server` binary against a database a
//! running server shares: `org add`, `user disable|enable|set-password|revoke-sessions`,
//! `provider set` and `portal revoke`.

use std::io::Write;
use std::process::{Output, Stdio};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::cli::bin;
use crate::support::*;

/// Runs `inbox-server --database-url URL ARGS…`, with `stdin` written to it.
pub(crate) fn run(url: &str, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = bin()
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env_remove("INBOX_USER_PASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Stdout of a run that must succeed.
pub(crate) fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Stderr of a run that must fail.
pub(crate) fn fails(out: Output) -> String {
    assert!(
        !out.status.success(),
        "expected a failure, got: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

async fn sign_in(s: &Server, email: &str, password: &str) -> (u16, Value) {
    let (status, body) = s
        .anonymous()
        .post(
            "/api/v1/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await;
    (status.as_u16(), body)
}

#[tokio::test]
async fn org_add_sets_up_a_garage_whose_owner_signs_in_with_every_capability() {
    let db = Arc::new(TestDb::new().await);
    let url = db.url.clone();
    let out = ok(run(
        &url,
        &[
            "org",
            "add",
            "--name",
            "Hill Street Garage",
            "--time-zone",
            "Europe/Dublin",
            "--owner-email",
            "owner@hill.test",
            "--owner-name",
            "Hana Hill",
        ],
        &[],
        "owner-password\n",
    ));
    let created: Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(out.trim().lines().count(), 1, "{out}");
    assert_eq!(created["organisation"]["name"], "Hill Street Garage");
    assert_eq!(created["organisation"]["time_zone"], "Europe/Dublin");
    assert_eq!(created["owner"]["email"], "owner@hill.test");
    assert_eq!(created["owner"]["role"], "Owner");
    assert_eq!(
        created["owner"]["capabilities"],
        json!([
            "messages.view",
            "messages.send",
            "messages.approve",
            "settings.ai.manage",
            "settings.roles.manage",
            "settings.users.manage",
            "settings.templates.manage"
        ])
    );
    let org = created["organisation"]["id"].as_i64().unwrap().to_string();

    // The same email cannot own a second garage; a bad time zone and a short password are
    // refused before anything is written.
    let taken = fails(run(
        &url,
        &[
            "org",
            "add",
            "--name",
            "Again",
            "--owner-email",
            "OWNER@hill.test",
            "--owner-name",
            "X",
        ],
        &[("INBOX_USER_PASSWORD", "owner-password")],
        "",
    ));
    assert!(taken.contains("already exists"), "{taken}");
    let tz = fails(run(
        &url,
        &[
            "org",
            "add",
            "--name",
            "Mars",
            "--time-zone",
            "Mars/Olympus",
            "--owner-email",
            "m@mars.test",
            "--owner-name",
            "M",
        ],
        &[("INBOX_USER_PASSWORD", "owner-password")],
        "",
    ));
    assert!(tz.contains("not an IANA time zone"), "{tz}");
    let short = fails(run(
        &url,
        &[
            "org",
            "add",
            "--name",
            "Short",
            "--owner-email",
            "s@short.test",
            "--owner-name",
            "S",
        ],
        &[],
        "short\n",
    ));
    assert!(short.contains("at least 8 characters"), "{short}");

    // A real garage's providers, set without seed-demo.
    let set = ok(run(
        &url,
        &[
            "provider",
            "set",
            "--org",
            &org,
            "--twilio-account-sid",
            TWILIO_SID,
            "--twilio-numbers",
            "01632 960001",
            "--whatsapp-phone-number-id",
            WA_PHONE_NUMBER_ID,
        ],
        &[
            ("INBOX_TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
            ("INBOX_WHATSAPP_ACCESS_TOKEN", "EAAG-hill"),
        ],
        "",
    ));
    assert_eq!(
        set.trim(),
        format!("organisation {org} (Hill Street Garage): Twilio account {TWILIO_SID} with numbers [+441632960001]; WhatsApp phone number id {WA_PHONE_NUMBER_ID}; no language model")
    );
    // AIA-1: its language model, the key from the environment; an exported key does not get in
    // the way of setting anything else.
    let key = [("INBOX_AI_MODEL_KEY", "sk-hill")];
    let model = ok(run(
        &url,
        &[
            "provider",
            "set",
            "--org",
            &org,
            "--ai-model-url",
            "http://127.0.0.1:11434/v1",
            "--ai-model",
            "llama3.1:8b",
        ],
        &key,
        "",
    ));
    assert!(
        model
            .trim()
            .ends_with("language model llama3.1:8b at http://127.0.0.1:11434/v1 with a key"),
        "{model}"
    );
    let other = ok(run(
        &url,
        &[
            "provider",
            "set",
            "--org",
            &org,
            "--voice-forward-to",
            "+447700900123",
        ],
        &key,
        "",
    ));
    assert!(other.contains("with a key"), "{other}");
    let half = fails(run(
        &url,
        &["provider", "set", "--org", &org, "--ai-model-key", "sk-1"],
        &[],
        "",
    ));
    assert!(half.contains("--ai-model-url"), "{half}");
    let unknown = fails(run(
        &url,
        &[
            "provider",
            "set",
            "--org",
            "999",
            "--twilio-numbers",
            "01632 960009",
        ],
        &[],
        "",
    ));
    assert!(
        unknown.contains("there is no organisation 999"),
        "{unknown}"
    );

    let s = Server::over(Arc::clone(&db), |_| {}).await;
    let (status, body) = sign_in(&s, "owner@hill.test", "owner-password").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["organisation"]["name"], "Hill Street Garage");
    assert_eq!(body["user"]["role"], "Owner");
    // The Twilio account works: a signed inbound SMS lands in the new garage.
    let (status, _) = crate::webhooks::twilio(
        &s,
        "/webhooks/twilio/sms",
        &[
            ("MessageSid", "SM00000000000000000000000000000001"),
            ("AccountSid", TWILIO_SID),
            ("From", "+447700900321"),
            ("To", "+441632960001"),
            ("Body", "First message to a real garage"),
        ],
        Some(TWILIO_TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    let owner = s.login_with("owner@hill.test", "owner-password").await;
    let page = owner.ok("/api/v1/conversations?range=all_time").await;
    assert_eq!(
        page["items"][0]["preview"],
        "First message to a real garage"
    );
}

#[tokio::test]
async fn user_tools_disable_enable_reset_and_revoke_take_effect_on_a_running_server() {
    let s = Server::start().await;
    let url = s.db.url.clone();
    let email = "frontdesk@fixture.test";
    let before = s.login(email).await;

    let out = ok(run(&url, &["user", "disable", "--email", email], &[], ""));
    assert_eq!(
        out.trim(),
        format!("disabled {email} (user 1, organisation 1); 1 session ended")
    );
    assert_eq!(before.get("/api/v1/me").await.0, 401, "their session ended");
    let (status, body) = sign_in(&s, email, PASSWORD).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["error"]["message"],
        "this account is disabled; ask the garage's owner to enable it"
    );
    let (status, _) = sign_in(&s, email, "wrong-password").await;
    assert_eq!(
        status, 401,
        "a wrong password says nothing about the account"
    );

    let out = ok(run(&url, &["user", "enable", "--email", email], &[], ""));
    assert_eq!(
        out.trim(),
        format!("enabled {email} (user 1, organisation 1); they can sign in again")
    );
    let c = s.login(email).await;

    let out = ok(run(
        &url,
        &["user", "set-password", "--email", "FrontDesk@fixture.test"],
        &[],
        "a-brand-new-password\n",
    ));
    assert_eq!(
        out.trim(),
        format!("set a new password for {email} (user 1, organisation 1); 1 session ended")
    );
    assert_eq!(c.get("/api/v1/me").await.0, 401);
    assert_eq!(sign_in(&s, email, PASSWORD).await.0, 401);
    let c = s.login_with(email, "a-brand-new-password").await;
    let short = fails(run(
        &url,
        &["user", "set-password", "--email", email],
        &[("INBOX_USER_PASSWORD", "short")],
        "",
    ));
    assert!(short.contains("at least 8 characters"), "{short}");

    let other = s.login("manager@fixture.test").await;
    let out = ok(run(
        &url,
        &["user", "revoke-sessions", "--email", email],
        &[],
        "",
    ));
    assert_eq!(
        out.trim(),
        format!("1 session of {email} (user 1, organisation 1) ended")
    );
    assert_eq!(c.get("/api/v1/me").await.0, 401);
    assert_eq!(
        other.get("/api/v1/me").await.0,
        200,
        "other users keep theirs"
    );
    s.login_with(email, "a-brand-new-password").await;

    for verb in ["disable", "enable", "set-password", "revoke-sessions"] {
        let err = fails(run(
            &url,
            &["user", verb, "--email", "nobody@fixture.test"],
            &[("INBOX_USER_PASSWORD", "long-enough-password")],
            "",
        ));
        assert!(
            err.contains("there is no user with email nobody@fixture.test"),
            "{verb}: {err}"
        );
    }
}

#[tokio::test]
async fn portal_tokens_expire_after_their_lifetime_and_can_be_revoked() {
    let s = Server::start_with(|st| st.portal_token_ttl = chrono::Duration::days(90)).await;
    let url = s.db.url.clone();
    let issue = |days_ago: i64, customer: i64| {
        let store = Arc::clone(&s.store);
        async move {
            let token = inbox_server::auth::token::generate();
            store
                .create_portal_token(
                    1,
                    customer,
                    inbox_server::auth::token::hash(&token),
                    now() - chrono::Duration::days(days_ago),
                )
                .await
                .unwrap();
            token
        }
    };
    let read = |token: String| {
        let base = s.base.clone();
        async move {
            let res = reqwest::Client::new()
                .get(format!("{base}/api/v1/portal/messages"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let (alice, bob) = (1, 2);
    let old = issue(91, alice).await;
    let (status, body) = read(old).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["message"],
        "this portal link expired on 2026-06-16; ask the garage for a new one"
    );
    let nearly = issue(89, alice).await;
    assert_eq!(read(nearly.clone()).await.0, 200);

    let out = ok(run(
        &url,
        &["portal", "revoke", "--token", &nearly],
        &[],
        "",
    ));
    assert_eq!(
        out.trim(),
        "revoked the portal token of customer 1 in organisation 1"
    );
    let (status, body) = read(nearly.clone()).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["message"],
        format!(
            "this portal link was revoked on {}; ask the garage for a new one",
            chrono::Utc::now().format("%Y-%m-%d")
        )
    );
    let again = fails(run(
        &url,
        &["portal", "revoke", "--token", &nearly],
        &[],
        "",
    ));
    assert!(again.contains("no live portal token matches"), "{again}");

    let (b1, b2, mine) = (
        issue(0, bob).await,
        issue(1, bob).await,
        issue(0, alice).await,
    );
    let out = ok(run(
        &url,
        &["portal", "revoke", "--org", "1", "--customer-id", "2"],
        &[],
        "",
    ));
    assert_eq!(
        out.trim(),
        "revoked 2 portal tokens of customer 2 in organisation 1"
    );
    assert_eq!(read(b1).await.0, 401);
    assert_eq!(read(b2).await.0, 401);
    assert_eq!(
        read(mine).await.0,
        200,
        "another customer's token still works"
    );

    let err = fails(run(
        &url,
        &["portal", "revoke", "--org", "1", "--customer-id", "9999"],
        &[],
        "",
    ));
    assert!(err.contains("organisation 1 has no customer 9999"), "{err}");
    let err = fails(run(
        &url,
        &["portal", "revoke", "--org", "77", "--customer-id", "1"],
        &[],
        "",
    ));
    assert!(err.contains("there is no organisation 77"), "{err}");
}

/// A provider change is audited with what it changed in one order on either database (issue
/// 15): the settings as `provider set` lists them, the numbers after them, the language model
/// (its key, then the model) last.
#[tokio::test]
async fn a_provider_change_is_audited_with_what_changed_numbers_before_the_model() {
    let s = Server::start().await;
    let update = inbox_server::store::ProviderUpdate {
        voice_forward_to: Some("+447700900999".into()),
        twilio_numbers: Some(vec![GARAGE_NUMBER.into(), "+441632960099".into()]),
        ai_model: Some(inbox_core::api::LanguageModelUpdate {
            url: "https://models.example.test/v1".into(),
            model: "small".into(),
            key: None,
        }),
        ..Default::default()
    };
    s.store
        .set_provider_settings(1, update, now())
        .await
        .unwrap();
    let (detail, by) =
        s.db.two_texts(
            "SELECT detail, coalesce(CAST(user_id AS TEXT), 'none') FROM audit_log
             WHERE action = 'provider.updated' ORDER BY id DESC LIMIT 1",
        )
        .await;
    let detail: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(
        detail,
        json!({ "changed": ["voice_forward_to", "twilio_numbers", "ai_model_key", "ai_model"] })
    );
    assert_eq!(by, "none", "the command line has no one to name");
}
