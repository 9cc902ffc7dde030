//! Provider secrets at rest: each sealed value is bound to its organisation, plain text is
//! refused with the way out, and values sealed before the binding are re-sealed on migrate.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::ChaCha20Poly1305;

use crate::admin::{ok, run};
use crate::cli::{bin, free_port, Child};
use crate::support::*;

/// A fixed key for the CLI runs of a test, so the test can seal as the server did.
const KEY: [u8; 32] = [42; 32];

fn key_env() -> (&'static str, String) {
    ("INBOX_SECRET_KEY", STANDARD.encode(KEY))
}

/// A value in the form servers stored before issue 13: `v1:` and no associated data.
fn sealed_unbound(plain: &str) -> String {
    let cipher = ChaCha20Poly1305::new(&KEY.into());
    let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
    let mut out = nonce.to_vec();
    out.extend(cipher.encrypt(&nonce, plain.as_bytes()).unwrap());
    format!("v1:{}", STANDARD.encode(out))
}

/// A fresh database with one organisation (id 1) made by the CLI.
async fn one_garage() -> TestDb {
    let db = TestDb::new().await;
    let (k, v) = key_env();
    ok(run(
        &db.url,
        &[
            "org",
            "add",
            "--name",
            "Keyed Garage",
            "--owner-email",
            "owner@keyed.test",
            "--owner-name",
            "K",
        ],
        &[(k, &v), ("INBOX_USER_PASSWORD", "owner-password")],
        "",
    ));
    db
}

#[tokio::test]
async fn a_sealed_token_copied_to_another_organisation_does_not_open() {
    let s = Server::start().await;
    // Someone with write access to the database gives the other garage a Twilio account whose
    // auth token is the fixture garage's sealed one.
    let other_sid = crate::webhooks::sid("AC", 2);
    s.db.execute(&format!(
        "UPDATE provider_settings SET twilio_account_sid = '{other_sid}',
           twilio_auth_token = (SELECT twilio_auth_token FROM provider_settings WHERE org_id = 1)
         WHERE org_id = 2;
         INSERT INTO org_numbers (e164, org_id) VALUES ('+441632960099', 2);"
    ))
    .await;
    let err = s.store.twilio_account(&other_sid).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("the Twilio auth token of organisation 2 does not open"),
        "{err}"
    );
    // A webhook signed with the copied token is not taken as that garage's.
    let (status, _) = crate::webhooks::twilio(
        &s,
        "/webhooks/twilio/sms",
        &[
            ("MessageSid", "SM00000000000000000000000000000077"),
            ("AccountSid", &other_sid),
            ("From", "+447700900321"),
            ("To", "+441632960099"),
            ("Body", "forged"),
        ],
        Some(TWILIO_TOKEN),
    )
    .await;
    assert_ne!(status, 200);
    let other = s.login("frontdesk@other.test").await;
    let page = other.ok("/api/v1/conversations?range=all_time").await;
    assert!(!page.to_string().contains("forged"));
    // The fixture garage's own token still opens.
    assert!(s.store.twilio_account(TWILIO_SID).await.unwrap().is_some());
}

/// Runs `serve` and returns its stderr once it exits; a server that starts instead is stopped
/// and fails the test.
fn refused_to_serve(url: &str, listen: &str, env: (&str, &str)) -> String {
    let mut child = bin()
        .args(["--database-url", url, "serve", "--listen", listen])
        .env(env.0, env.1)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success());
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            return err;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server started with a plain-text secret in its database");
}

#[tokio::test]
async fn plaintext_secrets_stop_the_server_until_provider_set_seals_them() {
    let db = one_garage().await;
    db.execute(&format!(
        "INSERT INTO provider_settings (org_id, twilio_account_sid, twilio_auth_token)
         VALUES (1, '{TWILIO_SID}', 'a-plaintext-token')"
    ))
    .await;
    let (k, v) = key_env();
    let port = free_port().to_string();
    let listen = format!("127.0.0.1:{port}");
    let refused = refused_to_serve(&db.url, &listen, (k, &v));
    assert!(
        refused.contains("refusing to start: provider secrets are stored in plain text"),
        "{refused}"
    );
    assert!(
        refused.contains("the Twilio auth token of organisation 1 is stored in plain text"),
        "{refused}"
    );
    assert!(
        refused.contains("inbox-server provider set --org 1 --twilio-auth-token"),
        "{refused}"
    );

    let set = ok(run(
        &db.url,
        &[
            "provider",
            "set",
            "--org",
            "1",
            "--twilio-auth-token",
            TWILIO_TOKEN,
        ],
        &[(k, &v)],
        "",
    ));
    assert!(
        set.contains(&format!("Twilio account {TWILIO_SID}")),
        "{set}"
    );
    let (stored, _) = db
        .two_texts("SELECT twilio_auth_token, twilio_account_sid FROM provider_settings")
        .await;
    assert!(stored.starts_with("v2:") && !stored.contains(TWILIO_TOKEN));

    let _server = Child(
        bin()
            .args(["--database-url", &db.url, "serve", "--listen", &listen])
            .env(k, &v)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if http
            .get(format!("http://{listen}/healthz"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server starts once the secret is sealed");
}

#[tokio::test]
async fn secrets_sealed_before_the_binding_are_resealed_on_migrate() {
    let db = one_garage().await;
    let old_twilio = sealed_unbound(TWILIO_TOKEN);
    let old_whatsapp = sealed_unbound("EAAG-old-token");
    db.execute(&format!(
        "INSERT INTO provider_settings (org_id, twilio_account_sid, twilio_auth_token,
                                        whatsapp_phone_number_id, whatsapp_access_token)
         VALUES (1, '{TWILIO_SID}', '{old_twilio}', '{WA_PHONE_NUMBER_ID}', '{old_whatsapp}');
         INSERT INTO org_numbers (e164, org_id) VALUES ('{GARAGE_NUMBER}', 1);"
    ))
    .await;
    let (k, v) = key_env();
    ok(run(&db.url, &["migrate"], &[(k, &v)], ""));
    let (twilio, whatsapp) = db
        .two_texts("SELECT twilio_auth_token, whatsapp_access_token FROM provider_settings")
        .await;
    assert!(
        twilio.starts_with("v2:") && twilio != old_twilio,
        "{twilio}"
    );
    assert!(whatsapp.starts_with("v2:"), "{whatsapp}");

    // They open, bound to their organisation: the CLI reads both back after a change.
    let set = ok(run(
        &db.url,
        &[
            "provider",
            "set",
            "--org",
            "1",
            "--voice-forward-to",
            "01632 960123",
        ],
        &[(k, &v)],
        "",
    ));
    assert_eq!(
        set.trim(),
        format!("organisation 1 (Keyed Garage): Twilio account {TWILIO_SID} with numbers [{GARAGE_NUMBER}]; WhatsApp phone number id {WA_PHONE_NUMBER_ID}; no language model")
    );
    // Migrating again changes nothing.
    ok(run(&db.url, &["migrate"], &[(k, &v)], ""));
    assert_eq!(
        db.two_texts("SELECT twilio_auth_token, whatsapp_access_token FROM provider_settings")
            .await,
        (twilio, whatsapp)
    );
}
