//! DSK-1 (issue 14): the app as a garage's machine has it, installed from the `.deb`, not the
//! cargo build. It starts, signs in, syncs live, raises a notification and opens from a
//! `garage-inbox://` link through the scheme its package registered with the desktop.
//!
//! Needs the installed package, so it is ignored in the ordinary run: `cargo xtask
//! installed-e2e` builds the `.deb`, installs it and runs this test with `GARAGE_INBOX_APP`
//! naming the installed binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::{app_processes, eventually, signed_in, NotificationWatch, Stack, WAIT};

const DESK: &str = "frontdesk@demo.test";

/// The installed binary the run was given.
fn installed_app() -> PathBuf {
    std::env::var_os("GARAGE_INBOX_APP")
        .map(PathBuf::from)
        .expect("GARAGE_INBOX_APP names the installed app: run with `cargo xtask installed-e2e`")
}

/// The desktop entry a fresh user's desktop picks for `garage-inbox://` links, as `xdg-mime`
/// finds it (from the MIME cache the package's install updated), in a profile with no per-user registrations (so a development build
/// registered by an earlier run cannot answer instead of the package).
fn scheme_handler(profile: &Path) -> String {
    let out = Command::new("xdg-mime")
        .args(["query", "default", "x-scheme-handler/garage-inbox"])
        .env("XDG_DATA_HOME", profile.join("data"))
        .env("XDG_CONFIG_HOME", profile.join("config"))
        .output()
        .expect("xdg-mime (package xdg-utils)");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the installed .deb: cargo xtask installed-e2e"]
async fn installed_package_signs_in_syncs_notifies_and_opens_links() {
    let installed = installed_app();
    let stack = Stack::start().await;
    let token = stack.token(DESK).await;
    let watch = NotificationWatch::start().await;
    let app = signed_in(&stack, "installed", DESK).await;

    // The window belongs to the installed binary, not a build in the workspace.
    let pids = app_processes(&app.data_dir);
    assert!(!pids.is_empty(), "no app process for this profile");
    for pid in &pids {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
        assert_eq!(exe, installed, "the app under test is the installed one");
    }

    // Live sync and a native notification (RT-1, DSK-4).
    app.click("button[data-range=\"all_time\"]").await;
    app.wait("#connection[data-state=\"live\"]").await;
    let all = stack.conversations(&token).await;
    let texter = all
        .iter()
        .filter(|c| !c["customer_id"].is_null() && c["last_channel"] == "sms")
        .nth(3)
        .unwrap();
    let texter_id = texter["id"].as_i64().unwrap();
    let detail = stack
        .get(&token, &format!("/conversations/{texter_id}"))
        .await;
    let phone = detail["customer"]["phones"][0].as_str().unwrap();
    app.hover("h1").await;
    stack
        .inbound_sms(phone, "Is the Fiesta ready? (installed app)")
        .await;
    eventually("the texter's row at the top", WAIT, || async {
        (app.row_ids().await.first() == Some(&texter_id)).then_some(())
    })
    .await;
    let title = texter["title"].as_str().unwrap().to_string();
    eventually("a Notify call for the inbound message", WAIT, || async {
        (watch.notifications_mentioning(&title) > 0).then_some(())
    })
    .await;
    app.screenshots("synced").await;

    // LST-7: the package registered the scheme, and a link opened through the desktop reaches
    // the running app, which opens that thread.
    let profile = tempfile::tempdir().unwrap();
    let handler = scheme_handler(profile.path());
    assert_eq!(
        handler, "Garage Inbox.desktop",
        "the .deb registers garage-inbox:// with the desktop"
    );
    let target = all
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .find(|id| *id != texter_id)
        .unwrap();
    let link = format!("garage-inbox://messages?conversation={target}");
    // gio, as GNOME opens a link (xdg-utils' generic path splits "Garage Inbox.desktop" at
    // its space).
    let opened = Command::new("gio")
        .arg("open")
        .arg(&link)
        .env("XDG_DATA_HOME", profile.path().join("data"))
        .env("XDG_CONFIG_HOME", profile.path().join("config"))
        .env("GARAGE_INBOX_DATA_DIR", &app.data_dir)
        .env("RUST_LOG", "warn")
        .status()
        .expect("gio (package libglib2.0-bin)");
    assert!(opened.success(), "gio open {link}: {opened}");
    app.wait(&format!("#thread[data-conversation-id=\"{target}\"]"))
        .await;
    eventually(
        "the link's launch to hand over and exit",
        Duration::from_secs(20),
        || async { (app_processes(&app.data_dir).len() == pids.len()).then_some(()) },
    )
    .await;
    app.screenshots("opened-by-link").await;
    app.quit().await;
}
