//! The desktop app's figures (issue 6), whole-process, in the real window under Xvfb:
//!
//! 1. cold start to the first rendered list, from a cache holding 100,000 conversations;
//! 2. inbound webhook → the row on top of the list;
//! 3. the app's resident memory (shell + web process) under simulated traffic.
//!
//! Run with `cargo xtask bench desktop [-- CONVERSATIONS MINUTES RATE]` (it provides the display,
//! the session bus and the keychain; release builds).

#![allow(clippy::unwrap_used, clippy::expect_used)]

// The end-to-end harness, of which the benchmark uses a part.
#[allow(dead_code, unused_imports)]
#[path = "../desktop/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use inbox_server::seed::{bench_dataset, Scale};
use inbox_server::{app, store, AppState};
use support::{App, Stack};

const PASSWORD: &str = "bench-password";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(name: &str, mut v: Vec<Duration>) {
    v.sort();
    println!(
        "{name}: n={} p50 {:.0?} p95 {:.0?} max {:.0?}",
        v.len(),
        percentile(&v, 0.5),
        percentile(&v, 0.95),
        v[v.len() - 1]
    );
}

/// Cold start: a server with `conversations` conversations; the app signs in and syncs them
/// all, quits, then starts again five times: each time from the WebDriver session request (which launches
/// the app) to the first conversation row on screen.
async fn cold_start(conversations: usize) {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&format!(
        "sqlite://{}",
        dir.path().join("server.db").display()
    ))
    .await
    .unwrap();
    let hash = inbox_server::auth::password::hash(PASSWORD).unwrap();
    let scale = Scale {
        customers: conversations * 6 / 10,
        work_orders: conversations / 20,
        conversations,
        items_per_customer_conversation: 3,
        days: 120,
    };
    let built = Instant::now();
    store
        .import(bench_dataset(5, chrono::Utc::now(), scale, &hash))
        .await
        .unwrap();
    println!(
        "cold_start: server seeded with {conversations} conversations in {:.0?}",
        built.elapsed()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(Arc::clone(&store));
    tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });

    let data = dir.path().join("desktop");
    std::fs::create_dir_all(&data).unwrap();
    let app = App::launch(&data, "bench-cold-start").await;
    app.wait("#sign-in").await;
    app.fill("#server", &base).await;
    app.fill("#email", "frontdesk@bench.test").await;
    app.fill("#password", PASSWORD).await;
    let synced = Instant::now();
    app.click("#sign-in").await;
    app.until_within(
        Duration::from_secs(900),
        "the first sync to go live",
        || async {
            app.attr("#connection", "data-state")
                .await
                .filter(|s| s == "live")
        },
    )
    .await;
    println!(
        "cold_start: first sync of {conversations} conversations live in {:.1?}",
        synced.elapsed()
    );
    app.click("button[data-range=\"all_time\"]").await;
    app.until_within(Duration::from_secs(120), "All time's count", || async {
        app.text("button[data-filter=\"all\"] .count")
            .await
            .filter(|t| t.parse::<usize>().ok() == Some(conversations))
    })
    .await;
    app.quit().await;

    let mut runs = Vec::new();
    for i in 0..5 {
        let started = Instant::now();
        let app = App::launch(&data, &format!("bench-cold-start-{i}")).await;
        app.until("the first row", || async {
            (app.count(".conversation-row").await > 0).then_some(())
        })
        .await;
        runs.push(started.elapsed());
        if i == 0 {
            app.screenshot("first-list").await;
        }
        app.quit().await;
    }
    summary(
        &format!("cold_start: launch → first rendered list, {conversations} conversations cached"),
        runs,
    );
}

/// Live traffic: the demo garage with the simulator's customers at `rate` events/s for `minutes`;
/// every 20 s one more inbound SMS is timed from webhook to its row on top; resident memory is
/// sampled throughout.
async fn live_traffic(minutes: u64, rate: f64) {
    let stack = Stack::start_with_customers(Some(rate)).await;
    let token = stack.token("frontdesk@demo.test").await;
    let app = App::launch(&stack.data_dir("bench-live"), "bench-live").await;
    app.sign_in(&stack.url, "frontdesk@demo.test").await;
    app.wait("#connection[data-state=\"live\"]").await;
    app.click("button[data-range=\"all_time\"]").await;
    app.wait(".conversation-row").await;

    let customers: Vec<String> = {
        let page = stack.get(&token, "/conversations?range=all_time").await;
        let mut phones = Vec::new();
        for c in page["items"].as_array().unwrap() {
            if c["customer_id"].is_null() {
                continue;
            }
            let d = stack
                .get(&token, &format!("/conversations/{}", c["id"]))
                .await;
            if let Some(p) = d["customer"]["phones"][0].as_str() {
                phones.push(p.to_string());
            }
        }
        phones
    };
    let mut latencies = Vec::new();
    let mut rss = Vec::new();
    let end = Instant::now() + Duration::from_secs(minutes * 60);
    let mut i = 0usize;
    while Instant::now() < end {
        let phone = &customers[i % customers.len()];
        let body = format!("Timing message {i}");
        let sent = Instant::now();
        stack.inbound_sms(phone, &body).await;
        // Under traffic other rows overtake it at once: any row showing the message counts.
        app.until("the timed message in the list", || async {
            app.js(
                "return [...document.querySelectorAll('.conversation-row .row-preview')]\
                 .some(e => e.textContent.includes(arguments[0]));",
                vec![serde_json::json!(body)],
            )
            .await
            .as_bool()
            .filter(|on_screen| *on_screen)
        })
        .await;
        latencies.push(sent.elapsed());
        rss.push(memory());
        i += 1;
        tokio::time::sleep(Duration::from_secs(20)).await;
    }
    summary(
        "inbound webhook → its row on screen (under traffic)",
        latencies,
    );
    let (shell, web) = rss.last().copied().unwrap_or_default();
    let peak_shell = rss.iter().map(|r| r.0).max().unwrap_or(0);
    let peak_web = rss.iter().map(|r| r.1).max().unwrap_or(0);
    let first = rss.first().copied().unwrap_or_default();
    println!(
        "memory after {minutes} min at {rate} events/s: app {} MiB (start {}, peak {}), web process {} MiB (start {}, peak {})",
        shell / 1024, first.0 / 1024, peak_shell / 1024, web / 1024, first.1 / 1024, peak_web / 1024
    );
    app.screenshot("after-traffic").await;
    app.quit().await;
}

/// Resident memory in KiB of the app process and of its WebKit web process.
fn memory() -> (u64, u64) {
    let mut shell = 0;
    let mut web = 0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        let name = status
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("Name:")
            .trim();
        let kib = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        match name {
            "garage-inbox" => shell += kib,
            "WebKitWebProces" | "WebKitWebProcess" => web += kib,
            _ => {}
        }
    }
    (shell, web)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let conversations = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let minutes = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let rate = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3.0);
    if conversations > 0 {
        cold_start(conversations).await;
    }
    if minutes > 0 {
        live_traffic(minutes, rate).await;
    }
}
