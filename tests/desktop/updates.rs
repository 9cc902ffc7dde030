//! DSK-1 in the real window: the signed-in server offers a newer version, published with
//! `inbox-server release add`; the app shows the card with its version and notes, "Later" puts
//! it away, and a file changed after publication is refused with a plain message while the app
//! keeps running.
//!
//! The app trusts the test's own key pair here through `GARAGE_INBOX_UPDATE_PUBKEY`, which only a
//! debug build reads (docs/ARCHITECTURE.md, "Desktop updates"). What these tests cannot do is the
//! install itself: a run from the cargo build is no installed package, and on Linux the updater
//! installs a `.deb` through pkexec and dpkg, which needs a person at a polkit prompt
//! (docs/updates.md, "What only a real machine tests").

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;

use crate::support::{bins, App, Stack};

const DESK: &str = "frontdesk@demo.test";
const NOTES: &str = "Faster lists, and the thread remembers where you were.";

/// A minisign key pair made for the run, as `tauri signer generate` makes them.
struct TestKey {
    pk: minisign::PublicKey,
    sk: minisign::SecretKey,
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

impl TestKey {
    fn new() -> TestKey {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        TestKey {
            pk: kp.pk,
            sk: kp.sk,
        }
    }

    /// As in tauri.conf.json's `plugins.updater.pubkey`.
    fn public(&self) -> String {
        b64(&self.pk.to_box().unwrap().to_string())
    }

    /// The `.sig` of `tauri signer sign --app-version`.
    fn sign(&self, bytes: &[u8], file: &str, version: &str) -> String {
        let comment = format!("timestamp:1781694000\tfile:{file}\tversion:{version}");
        let sig = minisign::sign(Some(&self.pk), &self.sk, bytes, Some(&comment), None).unwrap();
        b64(&sig.to_string())
    }
}

/// A version newer than the app's own (the workspace version, as in tauri.conf.json).
fn next_version() -> String {
    let mut parts = env!("CARGO_PKG_VERSION").split('.');
    let major: u64 = parts.next().unwrap().parse().unwrap();
    let minor: u64 = parts.next().unwrap().parse().unwrap();
    format!("{major}.{}.0", minor + 1)
}

/// Publishes a signed update file for this machine with `inbox-server release add`, into the
/// stack's releases folder (the default one, beside its database); returns the published file.
fn publish(stack: &Stack, key: &TestKey, version: &str) -> std::path::PathBuf {
    let name = format!("Garage-Inbox_{version}_amd64.deb");
    let file = stack.dir.path().join(&name);
    let bytes = format!("!<arch>\nnot really Garage Inbox {version}\n").repeat(2000);
    std::fs::write(&file, &bytes).unwrap();
    let sig = stack.dir.path().join(format!("{name}.sig"));
    std::fs::write(&sig, key.sign(bytes.as_bytes(), &name, version)).unwrap();
    let out = Command::new(bins::path("inbox-server"))
        .args(["release", "add", "--version", version, "--target", "linux"])
        .args(["--arch", std::env::consts::ARCH, "--notes", NOTES])
        .arg("--file")
        .arg(&file)
        .arg("--signature")
        .arg(&sig)
        .env("INBOX_RELEASES_DIR", releases(stack))
        .env("INBOX_UPDATE_PUBKEY", key.public())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "release add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    releases(stack)
        .join(version)
        .join("linux")
        .join(std::env::consts::ARCH)
        .join(name)
}

/// The server's releases folder: its default, beside the stack's SQLite database.
fn releases(stack: &Stack) -> std::path::PathBuf {
    stack.dir.path().join("releases")
}

async fn launch(stack: &Stack, test: &str, key: &TestKey) -> App {
    let public = key.public();
    let app = App::launch_with(
        &stack.data_dir(test),
        test,
        &[("GARAGE_INBOX_UPDATE_PUBKEY", OsStr::new(&public))],
    )
    .await;
    app.sign_in(&stack.url, DESK).await;
    app.wait_text("h1", "reads Messages", |t| t == "Messages")
        .await;
    app
}

/// The size and modification time of a file, to see that nothing replaced it.
fn stamp(path: &Path) -> (u64, std::time::SystemTime) {
    let m = std::fs::metadata(path).unwrap();
    (m.len(), m.modified().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn dsk1_a_newer_version_is_offered_with_its_notes_and_later_puts_it_away() {
    let stack = Stack::start().await;
    let key = TestKey::new();
    let version = next_version();
    publish(&stack, &key, &version);
    let app = launch(&stack, "update-offered", &key).await;

    // Checked at sign-in: the card names the version and its notes, and asks.
    app.wait_text("#update-title", "names the new version", |t| {
        t == format!("Garage Inbox {version} is available")
    })
    .await;
    assert_eq!(app.text("#update-notes").await.as_deref(), Some(NOTES));
    assert_eq!(
        app.text("#update-install").await.as_deref(),
        Some("Install and restart")
    );
    assert_eq!(
        app.attr("#update-card", "data-state").await.as_deref(),
        Some("available")
    );
    app.screenshots("card").await;

    // "Later": the card goes, the inbox stays as it was.
    app.click("#update-later").await;
    app.wait_gone("#update-card").await;
    assert_eq!(app.text("h1").await.as_deref(), Some("Messages"));
    app.screenshot("later").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dsk1_a_tampered_update_is_refused_and_the_app_keeps_running() {
    let stack = Stack::start().await;
    let key = TestKey::new();
    let version = next_version();
    let published = publish(&stack, &key, &version);
    // Changed on the server after publication (a broken disk, or someone who got in): the
    // signature no longer matches.
    let mut bytes = std::fs::read(&published).unwrap();
    bytes[100] ^= 0x01;
    std::fs::write(&published, bytes).unwrap();
    let app_binary = bins::app();
    let before = stamp(&app_binary);

    let app = launch(&stack, "update-tampered", &key).await;
    app.wait_text("#update-title", "offers the update", |t| {
        t.contains(&version)
    })
    .await;
    app.click("#update-install").await;
    let message = app
        .wait_text("#update-error", "says the update was refused", |t| {
            !t.is_empty()
        })
        .await;
    assert_eq!(
        message,
        format!(
            "The download of Garage Inbox {version} is not signed by the makers of Garage \
             Inbox, so it was not installed. It may have been damaged or tampered with. Garage \
             Inbox keeps running as it is; please tell whoever looks after your server."
        )
    );
    assert_eq!(
        app.attr("#update-card", "data-state").await.as_deref(),
        Some("failed")
    );
    // Trying again would fetch the same bad file: only "Later" is offered.
    assert_eq!(app.count("#update-install").await, 0);
    app.screenshot("refused").await;

    // The app keeps running, unchanged, and the inbox still works.
    assert_eq!(
        stamp(&app_binary),
        before,
        "the app's binary was not touched"
    );
    app.click("button[data-range=\"all_time\"]").await;
    app.wait(".conversation-row").await;
    app.click("#update-later").await;
    app.wait_gone("#update-card").await;
    app.quit().await;
}
