//! Fan-out load (issue 4): N WebSocket clients of one organisation on loopback; an inbound
//! message is ingested and every client's arrival time is measured. Prints p50/p99/max latency
//! from ingest to delivery. Run: `cargo bench -p inbox-server --bench fanout [-- CLIENTS ROUNDS]`;
//! on PostgreSQL with `INBOX_BENCH_POSTGRES_URL=postgres://…/postgres`; with
//! `INBOX_BENCH_INSTANCES=2` the clients are spread over two instances while messages are ingested
//! through the first, so half the deliveries cross instances (LISTEN/NOTIFY, issue 8).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use inbox_core::providers::Provider;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use inbox_core::{Capability, CapabilitySet, Channel};
use inbox_server::seed::{Generator, Scale};
use inbox_server::store::dataset::{ProviderSettings, UserData};
use inbox_server::store::{self, Dataset, NewInbound};
use inbox_server::{app, AppState};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

mod support;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let clients = args.first().copied().unwrap_or(1000);
    let rounds = args.get(1).copied().unwrap_or(30);

    let db = support::BenchDb::new("fanout.db").await;
    let (instances, label) = db.instances();
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
        customers: 50,
        work_orders: 5,
        conversations: 100,
        items_per_customer_conversation: 4,
        days: 30,
    };
    let org = Generator::new(3, chrono::Utc::now()).organisation(
        "Fanout Garage",
        vec![user],
        ProviderSettings::default(),
        scale,
    );
    let imported = store
        .import(
            Dataset {
                organisations: vec![org],
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let org_id = imported.organisations[0].id;

    let mut addrs = Vec::new();
    for i in 0..instances {
        let store = if i == 0 {
            Arc::clone(&store)
        } else {
            store::open(&db.url).await.unwrap()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(listener.local_addr().unwrap());
        let mut state = AppState::new(store);
        // Every client signs in as the one user: its sockets are not capped as a person's are.
        state.sockets = Arc::new(inbox_server::limit::ConnectionSlots::new(clients));
        tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
    }
    let addr = addrs[0];
    let login: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": "desk@bench.test", "password": "bench-password" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();

    // Every client reports (round, arrival, instance) for each inbound message event it receives.
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Instant, usize)>();
    let connect_start = Instant::now();
    for k in 0..clients {
        let instance = k % instances;
        let addr = addrs[instance];
        let mut req = format!("ws://{addr}/api/v1/sync?since=1")
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Text(t) = msg {
                    let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "message" {
                        let round: usize = v["data"]["body"]
                            .as_str()
                            .unwrap()
                            .trim_start_matches("round ")
                            .parse()
                            .unwrap();
                        let _ = tx.send((round, Instant::now(), instance));
                    }
                }
            }
        });
    }
    println!(
        "fanout: {clients} clients connected in {:.2?}",
        connect_start.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut latencies = Vec::with_capacity(clients * rounds);
    let mut crossed = Vec::new();
    for round in 0..rounds {
        let t0 = Instant::now();
        store
            .ingest_message(
                org_id,
                NewInbound {
                    attachments: Vec::new(),
                    uploads: Vec::new(),
                    channel: Channel::Sms,
                    from_number: Some("+447700900001".into()),
                    customer_id: None,
                    body: format!("round {round}"),
                    provider: Provider::Twilio,
                    provider_id: format!("SM-bench-{round}"),
                    at: chrono::Utc::now(),
                },
            )
            .await
            .unwrap();
        let mut got = 0;
        while got < clients {
            let (r, at, instance) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .expect("every client receives")
                .unwrap();
            if r == round {
                latencies.push(at - t0);
                if instance != 0 {
                    crossed.push(at - t0);
                }
                got += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    println!(
        "fanout ({label}): {clients} clients × {rounds} inbound messages: ingest → delivered p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1]
    );
    if !crossed.is_empty() {
        crossed.sort();
        println!(
            "fanout ({label}): the {} deliveries to clients of another instance than the writer's: p50 {:.2?}, p99 {:.2?}, max {:.2?}",
            crossed.len(),
            percentile(&crossed, 0.5),
            percentile(&crossed, 0.99),
            crossed[crossed.len() - 1]
        );
    }
}
