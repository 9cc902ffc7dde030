//! Sign-in flood (issue 13): `GET /api/v1/me` latency, p50/p99, on a quiet server and while a
//! flood of sign-ins is in flight. The flood uses a different unknown email for every attempt, the
//! worst case: the per-account throttle never blocks it, so every attempt waits for a password
//! hashing slot. Prints the two latency figures and how the flood was answered.
//! Run: `cargo bench -p inbox-server --bench login_flood [-- LOGINS SAMPLES]` (default 5000 and
//! 400); on PostgreSQL with `INBOX_BENCH_POSTGRES_URL=postgres://…/postgres`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use inbox_core::{Capability, CapabilitySet};
use inbox_server::seed::{Generator, Scale};
use inbox_server::serve::{serve, ServeConfig};
use inbox_server::store::dataset::{ProviderSettings, UserData};
use inbox_server::store::{self, Dataset};
use inbox_server::{app, AppState};

mod support;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// `samples` sequential `/me` calls, or fewer if `until` says stop; sorted latencies.
async fn me_latencies(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    samples: usize,
    until: impl Fn() -> bool,
) -> Vec<Duration> {
    let mut out = Vec::with_capacity(samples);
    while out.len() < samples && !until() {
        let t = Instant::now();
        let res = http.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.bytes().await.unwrap();
        out.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    out.sort();
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let logins = args.first().copied().unwrap_or(5000);
    let samples = args.get(1).copied().unwrap_or(400);

    let db = support::BenchDb::new("login_flood.db").await;
    let (_, label) = db.instances();
    let store = store::open(&db.url).await.unwrap();
    let hash = inbox_server::auth::password::hash("bench-password").unwrap();
    let user = UserData {
        email: "desk@bench.test".into(),
        name: "Desk".into(),
        role: "Front desk".into(),
        capabilities: CapabilitySet::new([Capability::MessagesView, Capability::MessagesSend]),
        password_hash: hash,
    };
    let scale = Scale {
        customers: 20,
        work_orders: 2,
        conversations: 30,
        items_per_customer_conversation: 3,
        days: 30,
    };
    let org = Generator::new(5, chrono::Utc::now()).organisation(
        "Flood Garage",
        vec![user],
        ProviderSettings::default(),
        scale,
    );
    store
        .import(
            Dataset {
                organisations: vec![org],
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let state = AppState::new(Arc::clone(&store));
    let slots = state.login.hash_slots;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(
        listener,
        app(state),
        ServeConfig::default(),
        std::future::pending(),
    ));

    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": "desk@bench.test", "password": "bench-password" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let me = format!("{base}/api/v1/me");

    let quiet = me_latencies(&http, &me, &token, samples, || false).await;

    // The flood: every attempt on its own connection, all started at once.
    let flood_start = Instant::now();
    let attempts: Vec<_> = (0..logins)
        .map(|i| {
            let url = format!("{base}/api/v1/auth/login");
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(0)
                    .timeout(Duration::from_secs(120))
                    .build()
                    .unwrap();
                match client
                    .post(url)
                    .json(&serde_json::json!({ "email": format!("flood{i}@bench.test"), "password": "wrong" }))
                    .send()
                    .await
                {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                }
            })
        })
        .collect();
    // Let the flood reach the server before sampling.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let done = || attempts.iter().all(|a| a.is_finished());
    let flooded = me_latencies(&http, &me, &token, samples, done).await;
    let mut outcomes: BTreeMap<u16, usize> = BTreeMap::new();
    for a in attempts {
        *outcomes.entry(a.await.unwrap()).or_default() += 1;
    }
    let flood_time = flood_start.elapsed();

    println!(
        "login_flood ({label}): GET /api/v1/me quiet: p50 {:.2?}, p99 {:.2?} ({} samples)",
        percentile(&quiet, 0.5),
        percentile(&quiet, 0.99),
        quiet.len()
    );
    println!(
        "login_flood ({label}): GET /api/v1/me during {logins} sign-ins in flight: p50 {:.2?}, p99 {:.2?} ({} samples)",
        percentile(&flooded, 0.5),
        percentile(&flooded, 0.99),
        flooded.len()
    );
    println!(
        "login_flood ({label}): the flood took {flood_time:.2?} with {slots} hashing slots; answers by status (0 = connection error): {outcomes:?}"
    );
}
