//! Initial sync end to end over loopback (issue 4): a real server with a large organisation, an
//! engine with an empty cache, timed from start until it is live. Reports messages (thread items)
//! per second. Run: `cargo bench -p inbox-client --bench initial_sync [-- CONVERSATIONS]`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use inbox_client::{Engine, EngineConfig};
use inbox_core::api::LoginResponse;
use inbox_server::seed::{bench_dataset, Scale};
use inbox_server::{app, store, AppState};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let conversations = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000usize);
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&format!(
        "sqlite://{}",
        dir.path().join("server.db").display()
    ))
    .await
    .unwrap();
    let hash = inbox_server::auth::password::hash("bench-password").unwrap();
    let scale = Scale {
        customers: conversations * 6 / 10,
        work_orders: conversations / 20,
        conversations,
        items_per_customer_conversation: 10,
        days: 120,
    };
    let built = Instant::now();
    let imported = store
        .import(
            bench_dataset(5, chrono::Utc::now(), scale, &hash),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let org = &imported.organisations[0];
    println!(
        "initial_sync: server holds {} conversations, {} messages, {} calls (built in {:.1?})",
        org.conversations,
        org.messages,
        org.calls,
        built.elapsed()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(Arc::clone(&store));
    tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
    let login: LoginResponse = inbox_client::api::Api::login(
        &inbox_client::Transport::new(None).unwrap(),
        &base,
        "frontdesk@bench.test",
        "bench-password",
    )
    .await
    .unwrap();

    let cache_path = dir.path().join("cache.db");
    let config = EngineConfig::new(
        &base,
        &login.token,
        login.user.clone(),
        chrono_tz::Europe::London,
        cache_path.clone(),
    );
    let started = Instant::now();
    let engine = Engine::start(config).await.unwrap();
    engine
        .wait_for_state(Duration::from_secs(600), |s| s.is_live())
        .await
        .expect("live");
    let took = started.elapsed();
    engine.shutdown().await;
    let cache = inbox_client::cache::Cache::open(&cache_path).unwrap();
    let stats = cache.stats().unwrap();
    println!(
        "initial_sync: {} conversations and {} thread items in {:.2?}: {:.0} items/s, {:.0} conversations/s",
        stats.conversations,
        stats.items,
        took,
        stats.items as f64 / took.as_secs_f64(),
        stats.conversations as f64 / took.as_secs_f64()
    );
}
