//! A real server with the demo garages and the provider simulator, as processes: the server can
//! be killed and started again on the same port and database (offline tests).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use inbox_sim::callbacks::Poster;
use inbox_sim::media::File;
use inbox_sim::meta_payloads::{inbound_notification, Business, Content, Inbound};
use inbox_sim::twilio_payloads::inbound_message;
use serde_json::{json, Value};

use super::bins;

const APP_SECRET: &str = "e2e-meta-app-secret";
pub const PASSWORD: &str = "demo-password";

pub struct Stack {
    pub url: String,
    port: u16,
    database: String,
    sim_url: String,
    server: Option<Child>,
    sim: Child,
    pub seed: Value,
    http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// An API call; anything but a 2xx fails the test.
async fn call(req: reqwest::RequestBuilder) -> Value {
    req.send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Stack {
    /// Seeds a fresh database with the demo garages, starts the server and the simulator (its
    /// provider APIs only, answering sends with quick delivery receipts and no failures).
    pub async fn start() -> Stack {
        Stack::start_with_customers(None).await
    }

    /// As [`Stack::start`], with the simulator's customers writing and calling at `rate` events
    /// per second when given.
    pub async fn start_with_customers(rate: Option<f64>) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}", dir.path().join("inbox.db").display());
        let out = Command::new(bins::path("inbox-server"))
            .args(["seed-demo", "--database-url", &database])
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "seed-demo failed");
        let seed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let summary = dir.path().join("seed.json");
        std::fs::write(&summary, &out.stdout).unwrap();
        let port = free_port();
        let sim_port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let sim_url = format!("http://127.0.0.1:{sim_port}");
        let sim = Command::new(bins::path("inbox-sim"))
            .args([
                "--server",
                &url,
                "--listen",
                &format!("127.0.0.1:{sim_port}"),
            ])
            .arg("--summary")
            .arg(&summary)
            .args(["--app-secret", APP_SECRET])
            .args(match rate {
                Some(r) => vec!["--rate".to_string(), r.to_string()],
                None => vec!["--no-customers".to_string()],
            })
            .args([
                "--failure-rate",
                "0",
                "--min-delay-ms",
                "150",
                "--max-delay-ms",
                "400",
            ])
            .env("RUST_LOG", "warn")
            .spawn()
            .unwrap();
        let mut stack = Stack {
            url,
            port,
            database,
            sim_url,
            server: None,
            sim,
            seed,
            http: reqwest::Client::new(),
            dir,
        };
        stack.start_server().await;
        wait_for_port(sim_port, "inbox-sim").await;
        stack
    }

    pub async fn start_server(&mut self) {
        assert!(self.server.is_none(), "the server is already running");
        let child = Command::new(bins::path("inbox-server"))
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .args(["--database-url", &self.database])
            // The test's own webhook spool, not the user's data directory.
            .env("INBOX_SPOOL_DIR", self.dir.path())
            .env("INBOX_PUBLIC_URL", &self.url)
            .env("INBOX_TWILIO_API_BASE", &self.sim_url)
            .env("INBOX_WHATSAPP_API_BASE", format!("{}/v23.0", self.sim_url))
            .env("INBOX_WHATSAPP_APP_SECRET", APP_SECRET)
            .env("INBOX_WHATSAPP_VERIFY_TOKEN", "e2e-verify-token")
            .env("RUST_LOG", "warn")
            .spawn()
            .unwrap();
        self.server = Some(child);
        wait_for_port(self.port, "inbox-server").await;
    }

    /// SIGKILL: the server vanishes as in a crash or a dead network.
    pub fn kill_server(&mut self) {
        if let Some(mut c) = self.server.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The server's `127.0.0.1:PORT`, for a proxy in front of it.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn data_dir(&self, name: &str) -> PathBuf {
        let d = self.dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    pub async fn token(&self, email: &str) -> String {
        let req = self.http.post(format!("{}/api/v1/auth/login", self.url));
        let v = call(req.json(&json!({"email": email, "password": PASSWORD}))).await;
        v["token"].as_str().unwrap().to_string()
    }

    pub async fn get(&self, token: &str, path: &str) -> Value {
        let req = self.http.get(format!("{}/api/v1{path}", self.url));
        call(req.bearer_auth(token)).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Value {
        let req = self.http.post(format!("{}/api/v1{path}", self.url));
        call(req.bearer_auth(token).json(&body)).await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Value {
        let req = self.http.put(format!("{}/api/v1{path}", self.url));
        call(req.bearer_auth(token).json(&body)).await
    }

    /// Every conversation of the first garage, newest first (all time).
    pub async fn conversations(&self, token: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/conversations?range=all_time&cursor={c}"),
                None => "/conversations?range=all_time".to_string(),
            };
            let page = self.get(token, &path).await;
            items.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return items,
            }
        }
    }

    /// The newest conversation whose detail (`GET /conversations/{id}`) satisfies `pick`.
    pub async fn find_conversation(&self, token: &str, pick: impl Fn(&Value) -> bool) -> Value {
        for c in self.conversations(token).await {
            let detail = self
                .get(token, &format!("/conversations/{}", c["id"]))
                .await;
            if pick(&detail) {
                return detail;
            }
        }
        panic!("the demo data has no conversation of the kind this test needs");
    }

    /// The newest conversation (of those `among` accepts) with a newest-page thread item that
    /// satisfies `pick`: (conversation summary, item).
    pub async fn find_item(
        &self,
        token: &str,
        among: impl Fn(&Value) -> bool,
        pick: impl Fn(&Value) -> bool,
    ) -> (Value, Value) {
        for c in self
            .conversations(token)
            .await
            .into_iter()
            .filter(|c| among(c))
        {
            let page = self
                .get(token, &format!("/conversations/{}/messages", c["id"]))
                .await;
            if let Some(item) = page["items"].as_array().unwrap().iter().find(|i| pick(i)) {
                return (c, item.clone());
            }
        }
        panic!("the demo data has no thread item of the kind this test needs");
    }

    /// A customer texts the first garage, through a Twilio webhook signed as Twilio signs it.
    pub async fn inbound_sms(&self, from: &str, body: &str) {
        let org = &self.seed["organisations"][0];
        let account_sid = org["twilio"]["account_sid"].as_str().unwrap();
        let auth_token = org["twilio"]["auth_token"].as_str().unwrap();
        let to = org["twilio"]["numbers"][0].as_str().unwrap();
        let sid = format!("SM{:032x}", rand::random::<u128>());
        let params = inbound_message(account_sid, &sid, from, to, body, &[]);
        let poster = Poster::new(&self.url, &self.url, None);
        let answer = poster
            .twilio(
                &format!("{}/webhooks/twilio/sms", self.url),
                &params,
                auth_token,
            )
            .await;
        assert!(
            answer.ok(),
            "the SMS webhook was refused: {}",
            answer.status
        );
    }
}

impl Stack {
    /// Issue 17: a customer sends the first garage a WhatsApp file (a photo with a caption, a
    /// voice note), signed as Meta signs it; the server fetches the file from the simulator's
    /// Graph API.
    pub async fn inbound_whatsapp_file(
        &self,
        from_digits: &str,
        file: File,
        caption: Option<&str>,
    ) {
        let org = &self.seed["organisations"][0];
        let business = Business {
            phone_number_id: org["whatsapp"]["phone_number_id"]
                .as_str()
                .unwrap()
                .to_string(),
            display_phone_number: "441632960001".into(),
        };
        let message = Inbound {
            wa_id: from_digits.into(),
            profile_name: "Media Customer".into(),
            id: format!("wamid.E2E{:016x}", rand::random::<u64>()),
            timestamp: chrono::Utc::now().timestamp(),
            content: Content::Media {
                file,
                media_id: file.whatsapp_id(&mut rand::thread_rng()),
                sha256: "0".repeat(64),
                caption: caption.map(str::to_string),
                filename: None,
            },
        };
        let poster = Poster::new(&self.url, &self.url, Some(APP_SECRET.into()));
        let answer = poster
            .meta(&inbound_notification(&business, &message))
            .await;
        assert!(
            answer.ok(),
            "the WhatsApp webhook was refused: {}",
            answer.status
        );
    }
}

impl Stack {
    /// Issue 17: what the simulator's fake provider APIs accepted (`GET /sim/sent`).
    pub async fn sim_sent(&self) -> Vec<Value> {
        let v = call(self.http.get(format!("{}/sim/sent", self.sim_url))).await;
        v["sent"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.kill_server();
        let _ = self.sim.kill();
        let _ = self.sim.wait();
    }
}
