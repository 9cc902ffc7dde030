//! The desktop app's figures (issue 6), whole-process, in the real window under Xvfb:
//!
//! 1. cold start to the first rendered list, from a cache holding 100,000 conversations;
//! 2. inbound webhook → the row on top of the list, under customers' traffic to that garage;
//! 3. the app's resident memory (the app, WebKit's web and network processes) through that
//!    traffic, with the whole 100,000-conversation cache (issue 14: at most 250 MiB, no growth).
//!
//! Run with `cargo xtask bench desktop [-- CONVERSATIONS MINUTES RATE]` (it provides the display,
//! the session bus and the keychain; release builds). `INBOX_BENCH_APP_ENV` measures the app
//! under other settings side by side ([`Variant`]). Each memory sample also reads the UI's wasm
//! heap, and the run ends with the app's and the web process's largest mappings: where their
//! memory sits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// The end-to-end harness, of which the benchmark uses a part.
#[allow(dead_code, unused_imports)]
#[path = "../desktop/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use inbox_server::providers::ProviderConfig;
use inbox_server::seed::{bench_dataset, Scale};
use inbox_server::store::dataset::ProviderSettings;
use inbox_server::{app, store, AppState};
use inbox_sim::callbacks::Poster;
use inbox_sim::twilio_payloads::inbound_message;
use support::App;

const PASSWORD: &str = "bench-password";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name}: n={} p50 {:.0} ms p95 {:.0} ms max {:.0} ms",
        v.len(),
        ms(percentile(&v, 0.5)),
        ms(percentile(&v, 0.95)),
        ms(v[v.len() - 1])
    );
}

/// The benchmark's garage: an in-process server holding `conversations` conversations, and the
/// app's data directory, signed in and synced once.
struct Garage {
    conversations: usize,
    data: std::path::PathBuf,
    texts: Texts,
    /// Customers' numbers, to text the garage from.
    phones: Arc<Vec<String>>,
    _dir: tempfile::TempDir,
}

async fn garage(conversations: usize) -> Garage {
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
    let dataset = bench_dataset(5, chrono::Utc::now(), scale, &hash);
    let org = &dataset.organisations[0];
    let providers = org.providers.clone();
    let phones: Vec<String> = org
        .customers
        .iter()
        .filter_map(|c| c.phones.first().cloned())
        .collect();
    store.import(dataset, chrono::Utc::now()).await.unwrap();
    println!(
        "garage: server seeded with {conversations} conversations in {:.0?}",
        built.elapsed()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut state = AppState::new(Arc::clone(&store));
    // Twilio signs the URL it posts to: this server's.
    state.providers = ProviderConfig::new(&base);
    tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });

    let data = dir.path().join("desktop");
    std::fs::create_dir_all(&data).unwrap();
    let app = App::launch(&data, "bench-first-sync").await;
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
        "garage: first sync of {conversations} conversations live in {:.1?}",
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
    Garage {
        conversations,
        data,
        texts: Texts {
            poster: Arc::new(Poster::new(&base, &base, None)),
            base,
            providers,
        },
        phones: Arc::new(phones),
        _dir: dir,
    }
}

/// Cold start from the garage's cache, five times: each from the WebDriver session request
/// (which launches the app) to the first conversation row on screen.
async fn cold_start(garage: &Garage, variant: &Variant) {
    let conversations = garage.conversations;
    let mut runs = Vec::new();
    let mut phases = Vec::new();
    for i in 0..5 {
        let started = Instant::now();
        let requested = epoch_ms();
        let app = variant
            .launch(&garage.data, &format!("bench-cold-start-{i}"))
            .await;
        app.until("the first row", || async {
            (app.count(".conversation-row").await > 0).then_some(())
        })
        .await;
        runs.push(started.elapsed());
        phases.push(phases_of(&app, &garage.data, requested).await);
        if i == 0 {
            app.screenshot("first-list").await;
        }
        app.quit().await;
    }
    summary(
        &format!(
            "cold_start ({variant}): launch → first rendered list, {conversations} conversations cached"
        ),
        runs,
    );
    println!("  medians, ms from the session request:");
    for (i, (label, _)) in PHASES.iter().enumerate() {
        let mut v: Vec<f64> = phases.iter().filter_map(|p| p[i]).collect();
        v.sort_by(f64::total_cmp);
        if let Some(ms) = v.get(v.len() / 2) {
            println!("    {ms:>6.0}  {label}");
        }
    }
}

/// Where a cold start's time goes: each phase's label and the key `PHASE_SCRIPT` answers it
/// under (ms after the page began). The app's process start is read from `/proc` (10 ms steps);
/// the UI marks its own steps on the page's timeline (`ipc::mark_once`).
const PHASES: &[(&str, &str)] = &[
    ("the app's process started", ""),
    ("its page began", "origin"),
    (
        "the page loaded (the UI's wasm fetched and compiled)",
        "loaded",
    ),
    ("the UI started", "start"),
    ("the saved session answered", "session"),
    ("the first list asked", "list"),
    ("the first list answered", "page"),
    ("the first rows rendered", "rows"),
    ("the first row seen by the benchmark", "now"),
];

const PHASE_SCRIPT: &str = "const nav = performance.getEntriesByType('navigation')[0];\
    const mark = (n) => (performance.getEntriesByName(n)[0] || {}).startTime;\
    return { origin: 0, now: performance.now(), loaded: nav ? nav.loadEventEnd : null,\
      start: mark('ui:start'), session: mark('session:answered'),\
      list: mark('list_conversations:asked'), page: mark('list_conversations:answered'),\
      rows: mark('list:rows'), timeOrigin: performance.timeOrigin };";

/// The [`PHASES`] of one cold start, in ms from the WebDriver session request.
async fn phases_of(app: &App, data: &std::path::Path, requested: f64) -> Vec<Option<f64>> {
    let page = app.js(PHASE_SCRIPT, vec![]).await;
    let origin = page["timeOrigin"].as_f64();
    PHASES
        .iter()
        .map(|(_, key)| match *key {
            "" => support::app_processes(data)
                .first()
                .and_then(|pid| process_started_ms(*pid))
                .map(|ms| ms - requested),
            key => Some(origin? + page[key].as_f64()? - requested),
        })
        .collect()
}

fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// When process `pid` started, in ms since the epoch: now less its age, which is the time since
/// boot (`/proc/uptime`) less its start in clock ticks after boot (`/proc/PID/stat`, field 22;
/// 100 ticks a second on Linux).
fn process_started_ms(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let ticks: f64 = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(epoch_ms() - (uptime - ticks / 100.0) * 1000.0)
}

/// Customers texting the garage: Twilio webhooks signed as Twilio signs them.
#[derive(Clone)]
struct Texts {
    base: String,
    providers: ProviderSettings,
    poster: Arc<Poster>,
}

impl Texts {
    async fn sms(&self, from: &str, body: &str) {
        let p = &self.providers;
        let sid = format!("SM{:032x}", rand::random::<u128>());
        let params = inbound_message(
            &p.twilio_account_sid,
            &sid,
            from,
            &p.twilio_numbers[0],
            body,
            &[],
        );
        let answer = self
            .poster
            .twilio(
                &format!("{}/webhooks/twilio/sms", self.base),
                &params,
                &p.twilio_auth_token,
            )
            .await;
        assert!(
            answer.ok(),
            "the SMS webhook was refused: {}",
            answer.status
        );
    }
}

/// Live traffic on the garage, its whole cache on the desktop: customers text at `rate` a second
/// for `minutes`; every 20 s one more message is timed from webhook to its row on screen, the
/// top row is opened (a thread rendered, the list scrolled), and resident memory is sampled.
async fn live_traffic(garage: &Garage, variant: &Variant, minutes: u64, rate: f64) {
    assert!(
        garage.phones.len() >= 2,
        "the traffic needs two customers with numbers at least"
    );
    let app = variant.launch(&garage.data, "bench-live").await;
    app.wait("#connection[data-state=\"live\"]").await;
    app.click("button[data-range=\"all_time\"]").await;
    app.wait(".conversation-row").await;

    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let traffic = {
        let (phones, texts, sent) = (
            Arc::clone(&garage.phones),
            garage.texts.clone(),
            Arc::clone(&sent),
        );
        tokio::spawn(async move {
            // Paced by the clock, so the rate holds however long each webhook takes.
            let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.01)));
            let mut i = 0usize;
            loop {
                pace.tick().await;
                // The second half of the customers: the timed messages come from the first, so
                // no traffic message replaces one as its conversation's preview.
                let half = phones.len() / 2;
                let from = &phones[half + (i * 7919) % (phones.len() - half)];
                texts.sms(from, &format!("Traffic message {i}")).await;
                sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                i += 1;
            }
        })
    };
    let mut latencies = Vec::new();
    let mut rss = Vec::new();
    let end = Instant::now() + Duration::from_secs(minutes * 60);
    let mut i = 0usize;
    let began = Instant::now();
    while Instant::now() < end {
        // A refused webhook ends the traffic task: the figures would flatter the app.
        assert!(!traffic.is_finished(), "the customers' traffic stopped");
        let phone = &garage.phones[(i * 104_729) % (garage.phones.len() / 2).max(1)];
        let body = format!("Timing message {i}");
        let sent_at = Instant::now();
        garage.texts.sms(phone, &body).await;
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
        latencies.push(sent_at.elapsed());
        // A receptionist at work: the newest conversation opened, its thread read.
        app.js(
            "const r = document.querySelector('.conversation-row'); if (r) r.click(); return true;",
            vec![],
        )
        .await;
        let mut sample = memory(&garage.data);
        sample.wasm = app
            .js(
                "return globalThis.inboxWasm ? inboxWasm.memory.buffer.byteLength : 0;",
                vec![],
            )
            .await
            .as_u64()
            .unwrap_or(0)
            / 1024;
        println!(
            "  {:>4} s: app {} MiB, web process {} MiB (PSS together {} MiB), wasm heap {} MiB",
            began.elapsed().as_secs(),
            sample.shell / 1024,
            sample.web / 1024,
            (sample.pss_shell + sample.pss_web) / 1024,
            sample.wasm / 1024
        );
        rss.push(sample);
        i += 1;
        tokio::time::sleep(Duration::from_secs(20)).await;
    }
    assert!(!traffic.is_finished(), "the customers' traffic stopped");
    traffic.abort();
    let messages = sent.load(std::sync::atomic::Ordering::Relaxed) + i as u64;
    summary(
        &format!("inbound webhook → its row on screen (under traffic, {variant})"),
        latencies,
    );
    let total = |m: &Memory| m.shell + m.web + m.network;
    let first = rss.first().copied().unwrap_or_default();
    let last = rss.last().copied().unwrap_or_default();
    let peak = rss.iter().map(total).max().unwrap_or(0);
    // Growth: the mean of the last quarter of the samples against the first quarter's.
    let quarter = (rss.len() / 4).max(1);
    let mean = |s: &[Memory]| s.iter().map(total).sum::<u64>() / s.len().max(1) as u64;
    println!(
        "memory ({variant}) after {minutes} min at {:.2} messages/s ({messages} messages), {} cached conversations:\n  \
         app {} MiB (start {}), web process {} MiB (start {}), network process {} MiB (start {})\n  \
         together {} MiB (start {}, peak {}); last quarter's mean {} MiB vs first quarter's {} MiB",
        messages as f64 / began.elapsed().as_secs_f64(),
        garage.conversations,
        last.shell / 1024,
        first.shell / 1024,
        last.web / 1024,
        first.web / 1024,
        last.network / 1024,
        first.network / 1024,
        total(&last) / 1024,
        total(&first) / 1024,
        peak / 1024,
        mean(&rss[rss.len().saturating_sub(quarter)..]) / 1024,
        mean(&rss[..quarter.min(rss.len())]) / 1024,
    );
    // RSS counts a shared library once in every process that maps it (WebKitGTK, JSC, GTK and
    // the GL driver are in both); PSS divides each shared page among the processes sharing it,
    // so the pair's PSS is what the app and its web process cost the machine together.
    let pair = |m: &Memory| m.pss_shell + m.pss_web;
    println!(
        "  proportional (PSS): app {} MiB, web process {} MiB, together {} MiB (start {}, peak {})",
        last.pss_shell / 1024,
        last.pss_web / 1024,
        pair(&last) / 1024,
        pair(&first) / 1024,
        rss.iter().map(pair).max().unwrap_or(0) / 1024,
    );
    println!(
        "  the UI's wasm heap: {} MiB (start {})",
        last.wasm / 1024,
        first.wasm / 1024
    );
    for (pid, who) in
        family(&garage.data)
            .into_iter()
            .filter_map(|(pid, name)| match name.as_str() {
                "garage-inbox" => Some((pid, "app")),
                "WebKitWebProces" | "WebKitWebProcess" => Some((pid, "web process")),
                _ => None,
            })
    {
        println!("  the {who}'s largest mappings (resident MiB):");
        for (rss, name) in largest_mappings(pid, 12) {
            println!("    {:>6.1}  {name}", rss as f64 / 1024.0);
        }
    }
    app.screenshot("after-traffic").await;
    app.quit().await;
}

/// Settings the app runs under, measured one after the other on the same garage so they
/// compare side by side: `INBOX_BENCH_APP_ENV` lists them, `|` between variants and `,`
/// between one variant's `NAME=value` pairs (`-` for the app as shipped), e.g.
/// `-|WEBKIT_SKIA_ENABLE_CPU_RENDERING=1`. Unset, the app runs as shipped.
/// `GARAGE_INBOX_APP=/path/to/garage-inbox` runs another build of the app: two builds compare
/// side by side so (a copy of the last build against the current one). The copy keeps the name
/// `garage-inbox`, by which the benchmark finds the app's processes.
struct Variant(Vec<(String, String)>);

impl Variant {
    fn from_env() -> Vec<Variant> {
        let list = std::env::var("INBOX_BENCH_APP_ENV").unwrap_or_else(|_| "-".into());
        list.split('|')
            .map(|v| {
                Variant(
                    v.split(',')
                        .filter_map(|kv| kv.trim().split_once('='))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                )
            })
            .collect()
    }

    async fn launch(&self, data: &std::path::Path, test: &str) -> App {
        let env: Vec<(&str, &std::ffi::OsStr)> = self
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), std::ffi::OsStr::new(v.as_str())))
            .collect();
        App::launch_with(data, test, &env).await
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("as shipped");
        }
        let pairs: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        f.write_str(&pairs.join(", "))
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    shell: u64,
    web: u64,
    network: u64,
    pss_shell: u64,
    pss_web: u64,
    /// The UI's wasm linear memory, KiB.
    wasm: u64,
}

/// A `/proc` file's `key:` line in KiB.
fn kib(text: &str, key: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
}

/// The benchmark's app (the process running on `data`) and its children, WebKit's web and
/// network processes, with the names `/proc/PID/status` gives them; other apps on the machine
/// (a test run beside the benchmark) are not counted.
fn family(data: &std::path::Path) -> Vec<(u32, String)> {
    let apps = support::app_processes(data);
    let status = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/status")).ok();
    let field = |status: &str, key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
    };
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let status = status(pid)?;
            let parent: u32 = field(&status, "PPid:")?.parse().ok()?;
            (apps.contains(&pid) || apps.contains(&parent))
                .then(|| (pid, field(&status, "Name:").unwrap_or_default()))
        })
        .collect()
}

/// The `top` mappings of `pid` by resident KiB, named by their file (or `[anon]`, `[heap]`)
/// and, for unnamed ones, their size: where a process's memory sits.
fn largest_mappings(pid: u32, top: usize) -> Vec<(u64, String)> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut maps: Vec<(u64, String)> = Vec::new();
    let mut current = String::new();
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            let (from, to) = first.split_once('-').unwrap_or(("0", "0"));
            let size = u64::from_str_radix(to, 16)
                .unwrap_or(0)
                .saturating_sub(u64::from_str_radix(from, 16).unwrap_or(0));
            current = match words.nth(4) {
                Some(path) => path.to_string(),
                None => format!("[anon {} MiB]", size >> 20),
            };
        } else if first == "Rss:" {
            let kib = words.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            // A library's several mappings count as one.
            match maps
                .iter_mut()
                .find(|(_, n)| *n == current && !n.starts_with("[anon"))
            {
                Some(m) => m.0 += kib,
                None => maps.push((kib, current.clone())),
            }
        }
    }
    maps.sort_by_key(|m| std::cmp::Reverse(m.0));
    maps.truncate(top);
    maps
}

/// Resident memory in KiB of the app process and of its WebKit web and network processes
/// (VmRSS), and the proportional set size of the first two.
fn memory(data: &std::path::Path) -> Memory {
    let mut m = Memory::default();
    for (pid, name) in family(data) {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss = kib(&status, "VmRSS:");
        let pss = || {
            let rollup =
                std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
            kib(&rollup, "Pss:")
        };
        match name.as_str() {
            "garage-inbox" => {
                m.shell += rss;
                m.pss_shell += pss();
            }
            "WebKitWebProces" | "WebKitWebProcess" => {
                m.web += rss;
                m.pss_web += pss();
            }
            "WebKitNetworkPr" | "WebKitNetworkProcess" => m.network += rss,
            _ => {}
        }
    }
    m
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
    let garage = garage(conversations.max(1)).await;
    for variant in Variant::from_env() {
        cold_start(&garage, &variant).await;
        if minutes > 0 {
            live_traffic(&garage, &variant, minutes, rate).await;
        }
    }
}
