//! The end-to-end harness: a real `inbox-server` in this process over a temporary SQLite
//! database seeded with the demo data, its dispatcher sending through the simulator's fake APIs,
//! and a signed-in front-desk client.

use std::sync::Arc;
use std::time::{Duration, Instant};

use inbox_server::dispatch::Dispatcher;
use inbox_server::{app, AppState};
use inbox_sim::{Customers, Delays, Sim, SimConfig, Summary};
use serde_json::{json, Value};

pub const APP_SECRET: &str = "sim-test-app-secret";
/// The server believes it is reached here (Twilio signs it); the simulator posts to the real
/// loopback address instead, as it would through a tunnel.
pub const PUBLIC_URL: &str = "https://inbox.sim.test";
/// The garage's own phone, which incoming calls ring before voicemail.
pub const GARAGE_MOBILE: &str = "+447700900999";

pub struct World {
    pub server: String,
    pub sim: Arc<Sim>,
    pub customers: Customers,
    pub http: reqwest::Client,
    pub token: String,
    _dir: tempfile::TempDir,
}

pub async fn world() -> World {
    // Shown for a failing test: what the simulator did, and what the server refused.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("inbox_sim=debug,inbox_server=warn")
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inbox.db");
    let store = inbox_server::store::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let seeded = inbox_server::seed::seed_demo(store.as_ref(), 7)
        .await
        .unwrap();
    let summary = Summary::from_value(serde_json::to_value(&seeded).unwrap()).unwrap();
    // Nothing in the product sets the number calls ring yet; set it as an admin would.
    let org_id = summary.organisations[0].id;
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE provider_settings SET voice_forward_to = ?1 WHERE org_id = ?2",
            rusqlite::params![GARAGE_MOBILE, org_id],
        )
        .unwrap();

    let server_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("http://{}", server_listener.local_addr().unwrap());
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_base = format!("http://{}", sim_listener.local_addr().unwrap());

    let mut state = AppState::new(Arc::clone(&store));
    state.providers.public_url = PUBLIC_URL.into();
    state.providers.twilio_api_base = sim_base.clone();
    state.providers.whatsapp_api_base = format!("{sim_base}/v23.0");
    state.providers.whatsapp_app_secret = Some(APP_SECRET.into());
    state.providers.whatsapp_verify_token = Some("sim-test-verify".into());
    let blobs = Arc::new(inbox_server::media::Blobs::new(dir.path().join("media")));
    state.blobs = Some(Arc::clone(&blobs));
    // Customers' files are fetched from the simulator's provider APIs.
    inbox_server::media::start(
        Arc::clone(&store),
        state.clock.clone(),
        Arc::clone(&blobs),
        &state.providers,
    );
    let mut dispatcher = Dispatcher::new(
        Arc::clone(&store),
        state.providers.clone(),
        state.clock.clone(),
    )
    .with_blobs(blobs);
    dispatcher.retry_base = Duration::from_millis(50);
    Arc::new(dispatcher).start();
    tokio::spawn(async move { axum::serve(server_listener, app(state)).await.unwrap() });

    let mut config = SimConfig::new(&server);
    config.public_url = PUBLIC_URL.into();
    config.app_secret = Some(APP_SECRET.into());
    config.failure_rate = 0.0;
    config.seed = 42;
    config.media_base = Some(sim_base.clone());
    config.rate = 25.0;
    config.max_events = Some(16);
    config.delays = Delays {
        min: Duration::from_millis(100),
        max: Duration::from_millis(200),
    };
    let sim = Sim::new(config, summary);
    tokio::spawn(inbox_sim::serve_apis(
        sim_listener,
        Arc::clone(&sim),
        std::future::pending(),
    ));
    let customers = Customers::new(Arc::clone(&sim)).unwrap();

    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{server}/api/v1/auth/login"))
        .json(&json!({ "email": "frontdesk@demo.test", "password": "demo-password" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("signed in").to_string();
    World {
        server,
        sim,
        customers,
        http,
        token,
        _dir: dir,
    }
}

impl World {
    pub async fn get(&self, path: &str) -> Value {
        let res = self
            .http
            .get(format!("{}{path}", self.server))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.server))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (
            res.status().as_u16(),
            res.json().await.unwrap_or(Value::Null),
        )
    }

    /// Where the server keeps messages' files.
    pub fn media_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("media")
    }

    /// Uploads a file as staff do before attaching it to a reply (issue 17).
    pub async fn upload(&self, bytes: Vec<u8>, content_type: &str, name: &str) -> Value {
        let res = self
            .http
            .post(format!("{}/api/v1/media", self.server))
            .query(&[("file_name", name)])
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "upload {name}");
        res.json().await.unwrap()
    }

    /// The conversation a search finds first.
    pub async fn conversation(&self, q: &str) -> Value {
        let found = self.get(&format!("/api/v1/conversations?q={q}")).await;
        found["items"]
            .as_array()
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or_else(|| panic!("no conversation for {q:?}: {found}"))
    }

    pub async fn thread(&self, conversation: &Value) -> Vec<Value> {
        self.get(&format!(
            "/api/v1/conversations/{}/messages",
            conversation["id"]
        ))
        .await["items"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// The first call in the thread of the conversation a search finds.
    pub async fn first_call(&self, q: &str) -> Value {
        let items = self.thread(&self.conversation(q).await).await;
        items
            .into_iter()
            .find(|i| i["type"] == "call")
            .unwrap_or_else(|| panic!("no call for {q}"))
    }

    /// Waits until the simulator has played the last status of the send with this body.
    pub async fn wait_final(&self, body: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = self.sim.sent().into_iter().find(|s| s.body == body) {
                if let Some(f) = s.final_status {
                    return f;
                }
            }
            assert!(Instant::now() < deadline, "no final status for {body:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the thread's message `id` has one of `statuses`.
    pub async fn wait_status(&self, conversation: &Value, id: &Value, statuses: &[&str]) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let m = self
                .thread(conversation)
                .await
                .into_iter()
                .find(|i| i["id"] == *id)
                .expect("the reply is in the thread");
            if statuses.iter().any(|s| m["status"] == *s) {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "message stuck at {}: {m}",
                m["status"]
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
