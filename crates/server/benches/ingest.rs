//! Webhook ingest rate (issue 5): signed Twilio SMS webhooks posted over loopback to a real server,
//! each verified, parsed, routed to its conversation and stored with its sync event; text only
//! and MMS with two photos side by side (issue 17). Requests are
//! signed before the clock starts. Run:
//! `cargo bench -p inbox-server --bench ingest [-- MESSAGES CONCURRENCY]`; on PostgreSQL with
//! `INBOX_BENCH_POSTGRES_URL=postgres://…/postgres`, over two instances (requests alternate
//! between them) with `INBOX_BENCH_INSTANCES=2` as well (issue 8). `INBOX_BENCH_ORGS=10` spreads
//! the traffic over ten organisations (issue 15); by default it all goes to one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use inbox_core::providers::Provider;
use std::sync::Arc;
use std::time::Instant;

use inbox_core::providers::twilio_signature;
use inbox_server::seed::{demo_dataset, garages_dataset};
use inbox_server::{app, store, AppState};

mod support;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let total = args.first().copied().unwrap_or(20_000);
    let concurrency = args.get(1).copied().unwrap_or(32);

    let db = support::BenchDb::new("ingest.db").await;
    let (instances, label) = db.instances();
    let store = store::open(&db.url).await.unwrap();
    let hash = inbox_server::auth::password::hash("bench-password").unwrap();
    let orgs: usize = std::env::var("INBOX_BENCH_ORGS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let data = match orgs {
        1 => demo_dataset(7, chrono::Utc::now(), &hash),
        n => garages_dataset(7, chrono::Utc::now(), n, &hash),
    };
    // Each organisation's Twilio account and number; spread over them all.
    let accounts: Vec<(String, String, String)> = data.organisations[..orgs]
        .iter()
        .map(|o| {
            let p = &o.providers;
            (
                p.twilio_account_sid.clone(),
                p.twilio_auth_token.clone(),
                p.twilio_numbers[0].clone(),
            )
        })
        .collect();
    let label = if orgs > 1 {
        format!("{label}, {orgs} organisations")
    } else {
        label
    };
    store.import(data, chrono::Utc::now()).await.unwrap();
    let mut urls = Vec::new();
    for i in 0..instances {
        let store = if i == 0 {
            Arc::clone(&store)
        } else {
            store::open(&db.url).await.unwrap()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut state = AppState::new(store);
        state.providers.public_url = base.clone();
        tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
        urls.push(format!("{base}/webhooks/twilio/sms"));
    }

    // Senders: the demo's customers (07700 900000…) and some unknown numbers. Issue 17: text
    // only and MMS with two photos, batch after batch side by side in this one run (the files are
    // queued for download after the answer, so the two should ingest alike).
    let make = |i: usize, media: bool| {
        let url = urls[i % instances].clone();
        // Both instances see every organisation, as behind a load balancer.
        let (sid, token, number) = &accounts[(i / instances) % orgs];
        let mut params: Vec<(String, String)> = vec![
            ("MessageSid".into(), format!("SM{:032x}", i + 1)),
            ("AccountSid".into(), sid.clone()),
            ("From".into(), format!("+447700900{:03}", i % 997)),
            ("To".into(), number.clone()),
            (
                "Body".into(),
                format!("Load test message {i}: is my car ready for collection?"),
            ),
            ("NumMedia".into(), if media { "2" } else { "0" }.into()),
            ("ApiVersion".into(), "2010-04-01".into()),
        ];
        if media {
            for n in 0..2 {
                params.push((
                    format!("MediaUrl{n}"),
                    format!("https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages/MM{i:030x}/Media/ME{n}"),
                ));
                params.push((format!("MediaContentType{n}"), "image/jpeg".into()));
            }
        }
        let signature = twilio_signature::sign(&url, &params, token);
        let body = params
            .iter()
            .map(|(k, v)| format!("{k}={}", form(v)))
            .collect::<Vec<_>>()
            .join("&");
        (url, body, signature)
    };

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    const ROUNDS: usize = 3;
    let batch = total / (2 * ROUNDS);
    let mut rates: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut next = 0;
    for _ in 0..ROUNDS {
        for media in [false, true] {
            let requests: Vec<_> = (next..next + batch).map(|i| make(i, media)).collect();
            next += batch;
            let (ok, took) = post_all(&http, requests, concurrency).await;
            rates[usize::from(media)].push(ok as f64 / took.as_secs_f64());
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (text, mms) = (median(&mut rates[0]), median(&mut rates[1]));
    println!(
        "ingest: signed SMS webhooks, {concurrency} concurrent, {ROUNDS} batches of {batch} each way: median {text:.0} messages/s text only, {mms:.0} messages/s with two photos each (ratio {:.2}) ({label}, verified, routed, stored with sync events; files queued for download)",
        mms / text
    );

    // The store alone, one message after another: how much of the above is the database.
    let org = 1;
    let n = 5_000;
    let started = Instant::now();
    for i in 0..n {
        store
            .ingest_message(
                org,
                inbox_server::store::NewInbound {
                    attachments: Vec::new(),
                    uploads: Vec::new(),
                    channel: inbox_core::Channel::Sms,
                    from_number: Some(format!("+447700900{:03}", i % 997)),
                    customer_id: None,
                    body: format!("Store-only message {i}"),
                    provider: Provider::Twilio,
                    provider_id: format!("SM-store-{i}"),
                    at: chrono::Utc::now(),
                },
            )
            .await
            .unwrap();
    }
    let took = started.elapsed();
    println!(
        "ingest: store alone ({label}), sequential: {n} messages in {took:.2?}: {:.0} messages/s",
        n as f64 / took.as_secs_f64()
    );
}

/// Form-encodes a value.
fn form(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Posts every request with `concurrency` workers; how many were answered 200, and how long.
async fn post_all(
    http: &reqwest::Client,
    requests: Vec<(String, String, String)>,
    concurrency: usize,
) -> (usize, std::time::Duration) {
    let queue = Arc::new(tokio::sync::Mutex::new(requests.into_iter()));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, queue) = (http.clone(), Arc::clone(&queue));
        workers.push(tokio::spawn(async move {
            let mut ok = 0usize;
            loop {
                let next = queue.lock().await.next();
                let Some((url, body, signature)) = next else {
                    return ok;
                };
                let res = http
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("x-twilio-signature", signature)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
                ok += 1;
            }
        }));
    }
    let mut ok = 0;
    for w in workers {
        ok += w.await.unwrap();
    }
    (ok, started.elapsed())
}
