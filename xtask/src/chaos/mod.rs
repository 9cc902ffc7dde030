//! `cargo xtask chaos [ROUNDS]`: the fault campaign of issue 13. Runs the real server on a
//! SQLite file, the provider simulator and N headless desktop engines (behind a TCP proxy that
//! can cut their connections) on loopback; each round sends customer messages and staff replies
//! while injecting faults at random (seeded), then lets everything settle and checks the ledger:
//! every inbound message in every engine's cache once, every reply at the fake provider once (or
//! marked `unknown`), every engine's cursor at the server's head. Writes
//! `target/chaos/report.json` and fails when anything was lost or doubled.

mod faults;
mod http;
mod ledger;
mod proxy;
mod rng;
mod stack;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use crate::cmd::{root, secs};
use ledger::{Cached, Findings, Inbound, Reply, Stored};
use rng::Rng;
use stack::{Binaries, Proc, Run};

/// The options of one campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub rounds: u64,
    pub seed: u64,
    pub engines: usize,
    pub faults_per_round: u64,
    /// How long traffic and faults run in each round.
    pub window: Duration,
    /// How long a round may take to come to rest.
    pub settle: Duration,
    /// How long the end of the campaign waits for every queued reply (past the dispatcher's
    /// 120 s lease of a killed server's claims, and its retry backoff).
    pub final_settle: Duration,
    pub release: bool,
}

/// Rounds when none are given: about 50 faults, a few minutes (the CI run).
pub const DEFAULT_ROUNDS: u64 = 10;

pub fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options {
        rounds: DEFAULT_ROUNDS,
        seed: std::env::var("INBOX_CHAOS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(clock_seed),
        engines: 3,
        faults_per_round: 5,
        window: Duration::from_secs(6),
        settle: Duration::from_secs(30),
        final_settle: Duration::from_secs(300),
        release: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .with_context(|| format!("{name} needs a value"))
                .and_then(|v| v.parse::<u64>().with_context(|| format!("{name} {v:?}")))
        };
        match a.as_str() {
            "--seed" => o.seed = value("--seed")?,
            "--engines" => o.engines = value("--engines")? as usize,
            "--faults" => o.faults_per_round = value("--faults")?,
            "--window-secs" => o.window = Duration::from_secs(value("--window-secs")?),
            "--settle-secs" => o.settle = Duration::from_secs(value("--settle-secs")?),
            "--final-settle-secs" => {
                o.final_settle = Duration::from_secs(value("--final-settle-secs")?)
            }
            "--release" => o.release = true,
            n if !n.starts_with('-') => {
                o.rounds = n.parse().with_context(|| format!("ROUNDS {n:?}"))?
            }
            other => anyhow::bail!(
                "unknown option {other:?}: cargo xtask chaos [ROUNDS] [--seed N] [--engines N] \
                 [--faults N] [--window-secs N] [--settle-secs N] [--final-settle-secs N] [--release]"
            ),
        }
    }
    if o.rounds == 0 || o.engines == 0 {
        anyhow::bail!("ROUNDS and --engines must be at least 1");
    }
    Ok(o)
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(13)
}

/// A customer of the campaign: their number, the channel they write on, their conversation.
#[derive(Debug, Clone)]
pub struct Customer {
    pub from: String,
    pub channel: &'static str,
    pub conversation_id: i64,
}

/// Everything the campaign's threads share.
pub struct Campaign {
    pub options: Options,
    pub bins: Binaries,
    pub run: Run,
    pub proxy: proxy::Proxy,
    pub prefix: String,
    pub org_id: i64,
    pub server: Mutex<Proc>,
    pub engines: Mutex<Vec<Proc>>,
    pub sessions: Vec<(String, i64)>,
    pub staff_token: String,
    pub customers: Mutex<Vec<Customer>>,
    pub inbound: Mutex<Vec<Inbound>>,
    pub replies: Mutex<Vec<Reply>>,
    pub faults: Mutex<BTreeMap<&'static str, u64>>,
    pub locks: Mutex<Vec<Proc>>,
    pub notes: Mutex<Vec<String>>,
    counter: AtomicU64,
}

impl Campaign {
    /// A number unique within the run (bodies, client ids, provider ids).
    pub fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    pub fn count_fault(&self, kind: &'static str) {
        if let Ok(mut f) = self.faults.lock() {
            *f.entry(kind).or_default() += 1;
        }
    }

    /// Faults that took effect so far, the providers' included.
    pub fn faults_so_far(&self) -> u64 {
        let own: u64 = self.faults.lock().map(|f| f.values().sum()).unwrap_or(0);
        own + self.provider_faults().iter().map(|(_, n)| n).sum::<u64>()
    }

    /// The provider faults the fake providers report as met by a send, by campaign kind.
    pub fn provider_faults(&self) -> Vec<(&'static str, u64)> {
        let met = http::call(
            &self.run.sim_address,
            "GET",
            "/sim/faults",
            None,
            None,
            Duration::from_secs(10),
        )
        .map(|a| a.body["met"].clone())
        .unwrap_or_default();
        [
            ("provider_5xx", "error"),
            ("provider_timeout", "timeout"),
            ("provider_slow", "slow"),
        ]
        .into_iter()
        .map(|(kind, fault)| (kind, met[fault].as_u64().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
    }

    pub fn note(&self, what: String) {
        eprintln!("chaos: {what}");
        if let Ok(mut n) = self.notes.lock() {
            n.push(what);
        }
    }

    pub fn engine_url(&self) -> String {
        format!("http://{}", self.proxy.address)
    }

    /// Restarts the server if it is not running (after a kill), retrying while the database is
    /// held by a lock fault.
    pub fn ensure_server(&self) -> anyhow::Result<()> {
        let mut server = self
            .server
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        if server.running() {
            return Ok(());
        }
        let mut last = None;
        for _ in 0..5 {
            match self.run.server(&self.bins) {
                Ok(p) => {
                    *server = p;
                    return Ok(());
                }
                Err(e) => {
                    self.note(format!("server restart failed, retrying: {e:#}"));
                    last = Some(e);
                    std::thread::sleep(Duration::from_secs(2));
                }
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("the server would not start")))
    }

    pub fn start_engine(&self, i: usize, rng: &mut Rng) -> anyhow::Result<Proc> {
        self.run.engine(
            &self.bins,
            i,
            &self.engine_url(),
            &self.sessions[i],
            rng.range(0, 40),
        )
    }

    /// Reads the server's database, the provider ledger and every engine's cache, and checks.
    pub fn check(&self) -> anyhow::Result<Findings> {
        let server = self.run.report(
            &self.bins,
            &[
                "server",
                &self.run.database.to_string_lossy(),
                &self.org_id.to_string(),
                &self.prefix,
            ],
        )?;
        let head = server["head"].as_i64().unwrap_or(-1);
        let stored: Vec<Stored> = server["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| Stored {
                body: m["body"].as_str().unwrap_or("").to_string(),
                status: m["status"].as_str().unwrap_or("").to_string(),
                error: m["error"].as_str().map(str::to_string),
            })
            .collect();
        let sent = http::call(
            &self.run.sim_address,
            "GET",
            "/sim/sent",
            None,
            None,
            Duration::from_secs(10),
        )?;
        let mut provided: HashMap<String, u64> = HashMap::new();
        for s in sent.body["sent"].as_array().into_iter().flatten() {
            if let Some(b) = s["body"].as_str() {
                *provided.entry(b.to_string()).or_default() += 1;
            }
        }
        let mut engines = Vec::new();
        for i in 0..self.options.engines {
            let cache = self.run.cache(i);
            // A cache not created yet, or being created, holds nothing yet.
            let report = cache.exists().then(|| {
                self.run.report(
                    &self.bins,
                    &["cache", &cache.to_string_lossy(), &self.prefix],
                )
            });
            let c = if let Some(Ok(v)) = report {
                Cached {
                    cursor: v["cursor"].as_i64(),
                    bodies: v["bodies"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
                        .collect(),
                }
            } else {
                Cached::default()
            };
            engines.push(c);
        }
        let inbound = self.inbound.lock().map(|v| v.clone()).unwrap_or_default();
        let replies = self.replies.lock().map(|v| v.clone()).unwrap_or_default();
        Ok(ledger::check(
            &inbound, &replies, &stored, &provided, &engines, head,
        ))
    }

    /// Ends every fault, restarts what is down, and waits (up to `within`) until the system is
    /// at rest: engines at the server's head, every delivery accepted, two checks a second apart
    /// alike (and, with `replies_too`, no reply still queued). Returns the last check.
    pub fn quiesce(
        &self,
        within: Duration,
        replies_too: bool,
        rng: &mut Rng,
    ) -> anyhow::Result<Findings> {
        faults::provider(self, "none", 0)?;
        if let Ok(mut locks) = self.locks.lock() {
            for l in locks.iter_mut() {
                if let Some(c) = l.0.as_mut() {
                    let _ = c.wait();
                }
            }
            locks.clear();
        }
        self.ensure_server()?;
        {
            let mut engines = self
                .engines
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?;
            for (i, e) in engines.iter_mut().enumerate() {
                if !e.running() {
                    *e = self.start_engine(i, rng)?;
                }
            }
        }
        let deadline = Instant::now() + within;
        let mut previous = None;
        loop {
            let f = self.check()?;
            let figures = f.figures();
            if (f.quiet(replies_too) && previous == Some(figures)) || Instant::now() > deadline {
                return Ok(f);
            }
            previous = Some(figures);
            std::thread::sleep(Duration::from_millis(1000));
        }
    }
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let options = parse(args)?;
    let started = Instant::now();
    eprintln!(
        "chaos: seed {} (replay: cargo xtask chaos {} --seed {}), {} engines, {} faults a round",
        options.seed, options.rounds, options.seed, options.engines, options.faults_per_round
    );
    let bins = stack::build(options.release)?;
    let out_dir = root().join("target").join("chaos");
    let run = Run::new(out_dir.join("run"))?;
    let seed_summary = run.seed(&bins)?;
    let org_id = seed_summary["organisations"][0]["id"].as_i64().unwrap_or(1);
    let password = seed_summary["password"]
        .as_str()
        .unwrap_or("demo-password")
        .to_string();
    let server = run.server(&bins)?;
    let sim = run.sim(&bins, options.seed)?;
    let proxy = proxy::Proxy::start(run.server_address.clone())?;
    let mut sessions = Vec::new();
    for _ in 0..=options.engines {
        sessions.push(faults::login(&run.server_address, &password)?);
    }
    let staff = sessions.pop().map(|s| s.0).unwrap_or_default();
    let campaign = Campaign {
        prefix: format!("chaos-{}-", options.seed),
        org_id,
        server: Mutex::new(server),
        engines: Mutex::new(Vec::new()),
        sessions,
        staff_token: staff,
        customers: Mutex::new(Vec::new()),
        inbound: Mutex::new(Vec::new()),
        replies: Mutex::new(Vec::new()),
        faults: Mutex::new(BTreeMap::new()),
        locks: Mutex::new(Vec::new()),
        notes: Mutex::new(Vec::new()),
        counter: AtomicU64::new(1),
        options,
        bins,
        run,
        proxy,
    };
    let _sim = sim;
    let mut rng = Rng::new(campaign.options.seed);
    {
        let mut engines = Vec::new();
        for i in 0..campaign.options.engines {
            engines.push(campaign.start_engine(i, &mut rng)?);
        }
        *campaign
            .engines
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))? = engines;
    }
    faults::meet_customers(&campaign, &mut rng)?;
    let mut rounds = Vec::new();
    for round in 1..=campaign.options.rounds {
        let began = Instant::now();
        let before = campaign.faults_so_far();
        faults::round(&campaign, &mut rng)?;
        let last = campaign.quiesce(campaign.options.settle, false, &mut rng)?;
        let injected = campaign.faults_so_far();
        eprintln!(
            "chaos: round {round}/{}: {} faults, {} so far | lost {} duplicated {} unknown {} queued {} cursors behind {} | {}",
            campaign.options.rounds,
            injected - before,
            injected,
            last.lost,
            last.duplicated,
            last.unknown.len(),
            last.in_flight,
            last.cursors_behind,
            secs(began.elapsed())
        );
        rounds.push(json!({
            "round": round,
            "faults": injected - before,
            "lost": last.lost,
            "duplicated": last.duplicated,
            "unknown": last.unknown.len(),
            "replies_still_queued": last.in_flight,
            "cursors_behind": last.cursors_behind,
            "secs": began.elapsed().as_secs_f64(),
        }));
    }
    // Replies queued behind a dead server's lease (120 s) or a retry backoff go out now.
    eprintln!(
        "chaos: final settle (up to {}s)",
        campaign.options.final_settle.as_secs()
    );
    let last = campaign.quiesce(campaign.options.final_settle, true, &mut rng)?;
    let report = report(&campaign, &last, rounds, started.elapsed());
    std::fs::write(
        out_dir.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    print_summary(&report);
    // A reply the fake provider never took but the server gave up on: the campaign's provider
    // faults (a few sends each) are far fewer than the dispatcher's attempts, so staff seeing
    // "failed" means a send path gave up too early.
    let failed = last.lost
        + last.duplicated
        + last.not_accepted
        + last.in_flight
        + last.cursors_behind
        + last.failed_shown;
    if failed > 0 {
        anyhow::bail!(
            "the fault campaign found {} lost, {} duplicated, {} never accepted or still queued, {} failed although retries were left, {} engine cursors behind (seed {}; see target/chaos/report.json and the logs in target/chaos/run/)",
            last.lost,
            last.duplicated,
            last.not_accepted + last.in_flight,
            last.failed_shown,
            last.cursors_behind,
            campaign.options.seed
        );
    }
    Ok(())
}

fn report(c: &Campaign, f: &Findings, rounds: Vec<Value>, took: Duration) -> Value {
    let mut faults = c.faults.lock().map(|f| f.clone()).unwrap_or_default();
    faults.extend(c.provider_faults());
    let inbound = c.inbound.lock().map(|v| v.len()).unwrap_or(0);
    let replies = c.replies.lock().map(|v| v.len()).unwrap_or(0);
    json!({
        "seed": c.options.seed,
        "rounds": c.options.rounds,
        "engines": c.options.engines,
        "secs": took.as_secs_f64(),
        "faults_injected": faults.values().sum::<u64>(),
        "faults_by_kind": faults,
        "inbound_messages": inbound,
        "replies_written": replies,
        "findings": f.to_json(),
        "notes": c.notes.lock().map(|n| n.clone()).unwrap_or_default(),
        "per_round": rounds,
    })
}

fn print_summary(r: &Value) {
    let f = &r["findings"];
    println!();
    println!("Fault campaign (seed {})", r["seed"]);
    println!(
        "  rounds {}   engines {}   {:.0}s",
        r["rounds"],
        r["engines"],
        r["secs"].as_f64().unwrap_or(0.0)
    );
    println!("  faults injected {}:", r["faults_injected"]);
    for (kind, n) in r["faults_by_kind"].as_object().into_iter().flatten() {
        println!("    {kind:<28} {n}");
    }
    println!(
        "  inbound messages {}   replies {}",
        r["inbound_messages"], r["replies_written"]
    );
    println!("  messages lost        {}", f["lost"]);
    println!("  messages duplicated  {}", f["duplicated"]);
    println!("  replies unknown      {}", f["replies_unknown"]);
    println!(
        "  inbound stored though its sender heard no 2xx {}",
        f["inbound_stored_without_a_2xx"]
    );
    println!(
        "  replies failed (shown to staff) {}",
        f["replies_failed_shown_to_staff"]
    );
    println!(
        "  never accepted {}   still queued {}   engine cursors behind {}",
        f["never_accepted"], f["replies_still_queued"], f["cursors_behind"]
    );
    for (kind, n) in f["by_kind"].as_object().into_iter().flatten() {
        println!("    {kind:<60} {n}");
    }
    for u in f["unknown"].as_array().into_iter().flatten().take(10) {
        println!("    unknown: {} ({})", u["body"], u["why"]);
    }
    println!("  report: target/chaos/report.json");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rounds_seed_and_options_are_read() {
        let o = parse(&args(&["200", "--seed", "42", "--engines", "2"])).unwrap();
        assert_eq!((o.rounds, o.seed, o.engines), (200, 42, 2));
        assert_eq!(parse(&args(&[])).unwrap().rounds, DEFAULT_ROUNDS);
        assert!(parse(&args(&["0"])).is_err());
        assert!(parse(&args(&["--bogus"])).is_err());
        assert!(parse(&args(&["--seed"])).is_err());
    }
}
