//! The `inbox-server` binary as the demo and operators use it: migrate, seed-demo's JSON summary
//! (DESIGN.md Fixed points), user add, and serve.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

pub(crate) fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_inbox-server"))
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `inbox-server … serve` on a port the system picks and returns it, read from the
/// server's "bound" log line. A port found free beforehand may be taken by another test before
/// the server binds it, and the test would then talk to that test's server.
pub(crate) fn serve_on_any_port(cmd: &mut Command) -> (Child, u16) {
    let mut child = Child(
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            // The "bound" line is at info, whatever the caller's RUST_LOG.
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = child.0.stderr.take().unwrap();
    let (found, port) = std::sync::mpsc::channel();
    // Reads the log to its end, so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(p) = bound_port(&line) {
                let _ = found.send(p);
            }
        }
    });
    let port = port
        .recv_timeout(Duration::from_secs(60))
        .expect("the server logs the address it bound");
    (child, port)
}

/// The port of an "inbox-server bound address=127.0.0.1:PORT" log line (colours removed).
fn bound_port(line: &str) -> Option<u16> {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // An ANSI colour: ESC [ … m.
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    if !plain.contains("inbox-server bound") {
        return None;
    }
    plain
        .split_whitespace()
        .find_map(|w| w.strip_prefix("address="))?
        .rsplit(':')
        .next()?
        .parse()
        .ok()
}

/// Kills the server when the test ends, pass or fail.
pub(crate) struct Child(pub(crate) std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn seed_demo_prints_the_fixed_summary_and_the_demo_users_can_sign_in() {
    let db = crate::support::TestDb::new().await;
    let url = db.url.clone();
    assert!(bin()
        .args(["--database-url", &url, "migrate"])
        .status()
        .unwrap()
        .success());
    let out = bin()
        .args(["--database-url", &url, "seed-demo"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    let orgs = summary["organisations"].as_array().unwrap();
    assert_eq!(orgs.len(), 2);
    let demo = &orgs[0];
    assert_eq!(demo["name"], "Demo Motors");
    assert_eq!(demo["time_zone"], "Europe/London");
    assert_eq!(demo["customers"], 200);
    assert_eq!(demo["work_orders"], 60);
    assert_eq!(demo["conversations"], 2000);
    assert!(demo["twilio"]["account_sid"]
        .as_str()
        .unwrap()
        .starts_with("AC"));
    assert_eq!(demo["twilio"]["account_sid"].as_str().unwrap().len(), 34);
    assert!(!demo["twilio"]["auth_token"].as_str().unwrap().is_empty());
    assert_eq!(demo["twilio"]["numbers"][0], "+441632960001");
    assert!(demo["whatsapp"]["phone_number_id"].is_string());
    let caps = |email: &str| -> Value {
        orgs.iter()
            .flat_map(|o| o["users"].as_array().unwrap())
            .find(|u| u["email"] == email)
            .unwrap()["capabilities"]
            .clone()
    };
    assert_eq!(
        caps("frontdesk@demo.test"),
        json!(["messages.view", "messages.send"])
    );
    assert_eq!(
        caps("trainee@demo.test"),
        json!(["messages.view", "messages.send_gated"])
    );
    assert_eq!(
        caps("manager@demo.test"),
        json!([
            "messages.view",
            "messages.send",
            "messages.approve",
            "settings.templates.manage"
        ])
    );
    assert_eq!(caps("viewer@demo.test"), json!(["messages.view"]));
    assert_eq!(caps("mechanic@demo.test"), json!([]));
    assert_eq!(orgs[1]["name"], "Northside Autos");
    assert_eq!(
        caps("frontdesk@northside.test"),
        json!(["messages.view", "messages.send"])
    );

    // Seeding twice is refused rather than doubling the data.
    let again = bin()
        .args(["--database-url", &url, "seed-demo"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds the demo data"));

    // user add reads the password from stdin.
    let org = demo["id"].as_i64().unwrap().to_string();
    let mut add = bin()
        .args([
            "--database-url",
            &url,
            "user",
            "add",
            "--org",
            &org,
            "--email",
            "new@demo.test",
            "--name",
            "New Starter",
            "--role",
            "Front desk",
            "--capabilities",
            "messages.view,messages.send",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a-long-password\n")
        .unwrap();
    assert!(add.wait_with_output().unwrap().status.success());
    let bad = bin()
        .args([
            "--database-url",
            &url,
            "user",
            "add",
            "--org",
            &org,
            "--email",
            "x@demo.test",
            "--name",
            "X",
            "--role",
            "R",
            "--capabilities",
            "messages.fly",
        ])
        .env("INBOX_USER_PASSWORD", "a-long-password")
        .output()
        .unwrap();
    assert!(!bad.status.success(), "unknown capabilities are refused");

    let (_server, port) = serve_on_any_port(bin().args(["--database-url", &url]));
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server answers /healthz");
    for (email, password) in [
        ("frontdesk@demo.test", "demo-password"),
        ("new@demo.test", "a-long-password"),
    ] {
        let res = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{email}");
        let body: Value = res.json().await.unwrap();
        let page: Value = http
            .get(format!("{base}/api/v1/conversations?range=all_time"))
            .bearer_auth(body["token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            page["counts"]["all"], 2000,
            "{email} sees all of Demo Motors"
        );
        assert_eq!(page["items"].as_array().unwrap().len(), 50);
    }
}

/// Issue 13: the PostgreSQL password never reaches the log or an error message. A server that
/// cannot reach its database names it with the password masked; on PostgreSQL runs the "schema
/// is up to date" log line of a successful migrate is checked too.
#[tokio::test]
async fn the_database_password_is_never_logged() {
    let secret = "hunter2-never-logged";
    let out = bin()
        .args([
            "--database-url",
            &format!("postgres://inbox:{secret}@127.0.0.1:1/inbox"),
            "migrate",
        ])
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(!stderr.contains(secret), "{stderr}");
    assert!(
        stderr.contains("postgres://inbox:***@127.0.0.1:1/inbox"),
        "{stderr}"
    );
    if !crate::support::postgres() {
        return;
    }
    let db = crate::support::TestDb::new().await;
    // The shared test cluster trusts loopback, so the password is accepted and never checked.
    let url = db.url.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{secret}@"),
        1,
    );
    let out = bin()
        .args(["--database-url", &url, "migrate"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("schema is up to date"), "{stderr}");
    assert!(stderr.contains("postgres:***@"), "{stderr}");
    assert!(!stderr.contains(secret), "{stderr}");
}

/// A SQLite database held by another connection under `BEGIN EXCLUSIVE` until released or
/// `at_most` has passed.
struct LockedDb {
    release: std::sync::mpsc::Sender<()>,
    released: std::sync::Arc<std::sync::atomic::AtomicBool>,
    holder: std::thread::JoinHandle<()>,
}

impl LockedDb {
    fn hold(url: &str, at_most: Duration) -> LockedDb {
        let path = url.strip_prefix("sqlite://").unwrap().to_string();
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        let released = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&released);
        let holder = std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
            locked_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(at_most);
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            conn.execute_batch("ROLLBACK").unwrap();
        });
        locked_rx.recv().unwrap();
        LockedDb {
            release,
            released,
            holder,
        }
    }

    fn released(&self) -> bool {
        self.released.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn release(self) {
        let _ = self.release.send(());
        self.holder.join().unwrap();
    }
}

/// `inbox-server serve` on `url` on a free port, its spool in a folder of its own.
fn serve_behind(url: &str) -> (Child, u16, tempfile::TempDir) {
    let spool = tempfile::tempdir().unwrap();
    let (server, port) = serve_on_any_port(
        bin()
            .args(["--database-url", url])
            .env("INBOX_SPOOL_DIR", spool.path()),
    );
    (server, port, spool)
}

/// Issue 13: a server started while its SQLite database is locked by another process binds its
/// port at once. A webhook that arrives meanwhile is spooled and answered 200 (a refused one
/// Twilio may never resend), other requests wait for the store, and the spooled message is in the
/// inbox once the lock ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_starting_behind_a_locked_database_takes_webhooks_at_once() {
    if crate::support::postgres() {
        eprintln!("skipped: SQLite's file lock");
        return;
    }
    let db = crate::support::TestDb::new().await;
    let url = db.url.clone();
    let out = bin()
        .args(["--database-url", &url, "seed-demo"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let twilio = &summary["organisations"][0]["twilio"];
    let (account, token) = (
        twilio["account_sid"].as_str().unwrap().to_string(),
        twilio["auth_token"].as_str().unwrap().to_string(),
    );

    let lock = LockedDb::hold(&url, Duration::from_secs(12));
    let (_server, port, _spool) = serve_behind(&url);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let params: Vec<(String, String)> = [
        ("AccountSid", account.as_str()),
        ("MessageSid", "SM5a1e0000000000000000000000000001"),
        ("From", "+447700900777"),
        ("To", "+441632960001"),
        ("Body", "Sent while the server was starting"),
        ("NumMedia", "0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let webhook = format!("{base}/webhooks/twilio/sms");
    let signature = inbox_core::providers::twilio_signature::sign(&webhook, &params, &token);
    let mut answered = None;
    for _ in 0..100 {
        if let Ok(res) = http
            .post(&webhook)
            .header("X-Twilio-Signature", &signature)
            .form(&params)
            .send()
            .await
        {
            // No connection is kept open into the handover to the real server.
            assert_eq!(res.headers()["connection"], "close");
            answered = Some(res.status().as_u16());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        answered,
        Some(200),
        "the webhook is answered while starting"
    );
    assert!(
        !lock.released(),
        "answered while the database was still locked"
    );

    // Sign-in waits for the store instead of failing.
    let res = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": "frontdesk@demo.test", "password": "demo-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(lock.released());
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut found = false;
    for _ in 0..100 {
        let page: Value = http
            .get(format!(
                "{base}/api/v1/conversations?range=all_time&q=starting"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page["items"].as_array().is_some_and(|i| !i.is_empty()) {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(found, "the spooled message was replayed into the inbox");
    lock.release();
}

/// Issue 13: a server told to stop while it waits for a locked database stops at once, and a
/// request that was waiting for the store is told to come back (503 with `Retry-After`) rather
/// than cut off.
#[cfg(unix)]
#[tokio::test]
async fn a_server_stopped_while_waiting_for_its_database_tells_waiting_requests_to_come_back() {
    if crate::support::postgres() {
        eprintln!("skipped: SQLite's file lock");
        return;
    }
    let db = crate::support::TestDb::new().await;
    let url = db.url.clone();
    assert!(bin()
        .args(["--database-url", &url, "seed-demo"])
        .output()
        .unwrap()
        .status
        .success());
    let lock = LockedDb::hold(&url, Duration::from_secs(60));
    let (mut server, port, _spool) = serve_behind(&url);
    let base = format!("http://127.0.0.1:{port}");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let waiting = tokio::spawn(reqwest::get(format!("{base}/api/v1/me")));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "the request waits for the store");

    let pid = server.0.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let res = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("answered when the server stops")
        .unwrap()
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = server.0.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(exited
        .expect("stopped within 5 s, the database still locked")
        .success());
    lock.release();
}
