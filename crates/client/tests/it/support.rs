//! Test harness: the server and the probe run as processes (examples of this crate) so tests can
//! kill them with SIGKILL; engines run in the test process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use inbox_client::api::Api;
use inbox_client::{Engine, EngineConfig, Transport};
use inbox_core::api::{ConversationQuery, LoginResponse};
use inbox_core::range::RangePreset;
use inbox_core::ConversationSummary;
use serde_json::Value;

pub const PASSWORD: &str = "engine-test-password";

/// A built example of this crate (cargo builds examples for `cargo test`).
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests with cargo test, which builds examples",
        path.display()
    );
    path
}

pub struct ServerProc {
    pub base: String,
    addr: String,
    db: PathBuf,
    child: Option<Child>,
}

impl ServerProc {
    pub fn start(dir: &Path) -> ServerProc {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut s = ServerProc {
            base: format!("http://{addr}"),
            addr,
            db: dir.join("server.db"),
            child: None,
        };
        s.restart();
        s
    }

    /// SIGKILL: every connection drops at once, as in a crash or a cut cable.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut child = Command::new(example("test_server"))
                .args([self.db.to_str().unwrap(), &self.addr])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            if line.starts_with("listening") {
                self.child = Some(child);
                return;
            }
            // The port may linger for a moment after a kill.
            let _ = child.wait();
            assert!(Instant::now() < deadline, "the test server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `127.0.0.1:PORT`, for a proxy in front.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    pub fn db_url(&self) -> String {
        format!("sqlite://{}", self.db.display())
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The system's trust store only: enough for the plain loopback server.
pub fn system_transport() -> Transport {
    Transport::new(None).unwrap()
}

pub async fn login(base: &str, email: &str) -> LoginResponse {
    Api::login(&system_transport(), base, email, PASSWORD)
        .await
        .unwrap()
}

pub fn engine_config(base: &str, login: &LoginResponse, cache: PathBuf) -> EngineConfig {
    let mut c = EngineConfig::new(
        base,
        &login.token,
        login.user.clone(),
        chrono_tz::Europe::London,
        cache,
    );
    c.backoff_min = Duration::from_millis(100);
    c.backoff_max = Duration::from_millis(400);
    c.pause_after = Duration::from_secs(2);
    c.heartbeat = Duration::from_secs(1);
    c.heartbeat_timeout = Duration::from_secs(5);
    c
}

pub async fn live(engine: &Engine) {
    let s = engine
        .wait_for_state(Duration::from_secs(20), |s| s.is_live())
        .await;
    assert!(
        s.is_some(),
        "the engine did not go live: {:?}",
        engine.connection()
    );
}

/// Polls `f` until it returns true or the time is up.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

pub async fn post(base: &str, token: &str, path: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub async fn get(base: &str, token: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every conversation as the server has it now (snapshot pages).
pub async fn server_conversations(base: &str, token: &str) -> (i64, Vec<ConversationSummary>) {
    let api = Api::new(base, token, &system_transport());
    let mut after = None;
    let mut all = Vec::new();
    let mut seq = None;
    loop {
        let page = api.snapshot(after).await.unwrap();
        seq.get_or_insert(page.seq);
        all.extend(page.conversations);
        match page.next_after {
            Some(a) => after = Some(a),
            None => break,
        }
    }
    all.sort_by_key(|c| c.id);
    (seq.unwrap(), all)
}

/// Every conversation the engine's cache holds (all-time list, every page).
pub async fn engine_conversations(engine: &Engine) -> Vec<ConversationSummary> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = engine
            .list(ConversationQuery {
                range: RangePreset::AllTime,
                cursor,
                ..Default::default()
            })
            .await
            .unwrap();
        all.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    all.sort_by_key(|c| c.id);
    all
}

/// The engine's cache equals the server: same conversations, same rows, cursor at the head.
pub async fn assert_in_step(engine: &Engine, base: &str, token: &str) {
    let (head, server) = server_conversations(base, token).await;
    let mut last = None;
    for _ in 0..100 {
        let mine = engine_conversations(engine).await;
        if mine == server && engine.cursor().await.unwrap() == Some(head) {
            return;
        }
        last = Some(mine);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mine = last.unwrap();
    assert_eq!(mine.len(), server.len(), "conversation count");
    for (a, b) in mine.iter().zip(&server) {
        assert_eq!(a, b, "conversation {}", b.id);
    }
    assert_eq!(
        engine.cursor().await.unwrap(),
        Some(head),
        "cursor at the server's head"
    );
}

/// A temporary directory, a server process, and the front desk signed in; the cache path for
/// their desktop lives in the directory.
pub async fn desk() -> (tempfile::TempDir, ServerProc, LoginResponse, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let desk = login(&server.base, "desk@engine.test").await;
    let cache = dir.path().join("desk.db");
    (dir, server, desk, cache)
}

/// Starts an engine and waits until it is live.
pub async fn start_live(base: &str, login: &LoginResponse, cache: PathBuf) -> Engine {
    let engine = Engine::start(engine_config(base, login, cache))
        .await
        .unwrap();
    live(&engine).await;
    engine
}
