//! Issue 13 in the real window: sign-in and live sync over https with a garage's own certificate
//! authority (`GARAGE_INBOX_EXTRA_CA`), no password over plain http to another host, and a
//! keychain that does not answer.

use std::ffi::OsStr;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{bins, eventually, App, LockedKeyring, Stack, TlsProxy, WAIT};

const DESK: &str = "frontdesk@demo.test";

#[tokio::test(flavor = "multi_thread")]
async fn https_sign_in_and_live_sync_with_the_garages_own_ca() {
    let stack = Stack::start().await;
    let proxy = TlsProxy::start(&stack.addr()).await;
    let ca = stack.dir.path().join("garage-ca.pem");
    std::fs::write(&ca, &proxy.ca_pem).unwrap();
    let app = App::launch_with(
        &stack.data_dir("https"),
        "https",
        &[("GARAGE_INBOX_EXTRA_CA", OsStr::new(&ca))],
    )
    .await;

    // ACC-3: plain http to another host is refused before the password leaves.
    app.sign_in("http://garage.example.com", DESK).await;
    app.wait_text("#login-error", "asks for https", |t| {
        t == "Use an https:// address; plain http is only allowed for this computer."
    })
    .await;
    app.screenshot("plain-http-refused").await;

    app.sign_in(&proxy.base, DESK).await;
    app.wait_text("h1", "reads Messages", |t| t == "Messages")
        .await;
    app.click("button[data-range=\"all_time\"]").await;
    app.wait(".conversation-row").await;
    app.wait("#connection[data-state=\"live\"]").await;

    // A customer texts in: the row arrives over the wss:// socket.
    stack
        .inbound_sms("+447700900777", "Is the MOT done? (over https)")
        .await;
    eventually("the new message's row", WAIT, || async {
        app.text(".conversation-row .row-preview")
            .await
            .filter(|t| t.contains("over https"))
    })
    .await;
    app.screenshot("live-over-https").await;
    app.quit().await;
}

/// The cache files in an app's data directory.
fn caches(data: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(data)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("cache-"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// ACC-3: a keychain that cannot be used. Sign-in says so within seconds instead of hanging at
/// "Signing in…", and offers to continue for this session only; that session's cache does not
/// outlive it, and the next launch asks for the password.
#[tokio::test(flavor = "multi_thread")]
async fn a_locked_keychain_offers_a_session_only_sign_in_that_leaves_nothing_behind() {
    let stack = Stack::start().await;
    let keyring = LockedKeyring::start().await;
    let data = stack.data_dir("locked-keyring");
    let env = [("DBUS_SESSION_BUS_ADDRESS", OsStr::new(&keyring.address))];
    let app = App::launch_with(&data, "locked-keyring", &env).await;

    let asked = Instant::now();
    app.sign_in(&stack.url, DESK).await;
    app.wait("#continue-session-only").await;
    eprintln!("keychain failure reported after {:?}", asked.elapsed());
    let said = app.text("#login-error").await.unwrap_or_default();
    assert!(said.contains("cannot remember the sign-in"), "{said}");
    app.screenshot("keychain-unavailable").await;

    app.click("#continue-session-only").await;
    app.wait_text("h1", "reads Messages", |t| t == "Messages")
        .await;
    app.wait(".conversation-row").await;
    let held = caches(&data);
    assert!(!held.is_empty(), "the session has its cache");

    // A second launch on this desktop (a link, a double-click) hands over to the running app and
    // exits; it must not delete the cache the running session-only sign-in is using.
    let mut second = Command::new(bins::path("garage-inbox"))
        .env("GARAGE_INBOX_DATA_DIR", &data)
        .env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let status = eventually("the second launch to exit", Duration::from_secs(20), || {
        let exited = second.try_wait().unwrap();
        async move { exited }
    })
    .await;
    assert!(status.success(), "the second launch hands over and exits");
    assert_eq!(
        caches(&data),
        held,
        "a second launch deleted the running session's cache"
    );
    app.quit().await;

    // Closing the window through WebDriver ends the app from outside, as a crash would: the
    // next launch deletes the session-only cache before anything opens, and asks for the
    // password.
    let app = App::launch_with(&data, "locked-keyring-again", &env).await;
    app.wait("#sign-in").await;
    assert_eq!(
        caches(&data),
        Vec::<String>::new(),
        "the session-only cache outlived the session"
    );
    app.quit().await;
}
