//! The desktop cache under load: 100,000 conversations and ~1,000,000 messages (the server's
//! `conversation_list` dataset: same generator, seed and scale) in a cache file. Measures the
//! list's first page with its counts (target p50 < 5 ms), search (target p50 < 20 ms) and
//! applying batches of 1,000 message + conversation events (target > 50,000 events/s).
//!
//! `cargo bench -p inbox-client --bench cache`
//!
//! The cache file is built once under `target/bench-data/` with `Cache::bulk_load` (one
//! transaction, one search-index rebuild at the end) and reused by later runs (the name carries
//! the seed and the scale; delete it to rebuild). The event batches go through
//! `Cache::apply_events` on a copy of that file, so the reused file never grows. All times are
//! relative to a fixed instant, so the ranges select the same rows on every run.
//!
//! Run as a test (`cargo test --benches`, no `--bench` argument), it uses demo-sized data in a
//! temporary directory and runs each case once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Days, NaiveDate, Utc};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use inbox_client::cache::{Cache, LocalQuery, LocalScope};
use inbox_core::api::{ConversationPage, ListFilter};
use inbox_core::range::{resolve, RangePreset};
use inbox_core::sync::{Change, Event};
use inbox_core::{Direction, Id, Message};
use inbox_server::seed::{bench_dataset, Scale};

#[path = "cache/dataset.rs"]
mod dataset;

const SEED: u64 = 20_250_604;

/// As the server's `conversation_list` bench: 60,000 customers with one conversation each of up
/// to 2 × 20 − 1 items, plus 40,000 unknown and withheld numbers: ~1,000,000 messages.
const FULL: Scale = Scale {
    customers: 60_000,
    work_orders: 6_000,
    conversations: 100_000,
    items_per_customer_conversation: 20,
    days: 730,
};

/// Bumped when the conversion or the cache schema change what a file of the same scale holds.
const DATA_VERSION: u32 = 4;

/// The signed-in user: frontdesk@bench.test, the generator's first user.
const ME: Id = 1;

/// Events per `apply_events` batch: half messages, half the conversation rows they move.
const BATCH: usize = 1_000;

/// "Now" for the generator and the ranges: a Wednesday afternoon (2025-06-04T15:00:00Z).
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_749_049_200, 0).expect("fixed instant")
}

fn count(conn: &rusqlite::Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap_or(0)
}

fn cache_file(dir: &Path, scale: Scale) -> PathBuf {
    dir.join(format!(
        "cache-v{DATA_VERSION}-seed{SEED}-c{}-w{}-n{}-i{}-d{}.sqlite",
        scale.customers,
        scale.work_orders,
        scale.conversations,
        scale.items_per_customer_conversation,
        scale.days
    ))
}

/// Removes a database file and its WAL companions.
fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(&p);
    }
}

/// Generates the dataset and bulk-loads it into `path` via a temporary name, so a file with the
/// final name is always complete.
fn build(path: &Path, scale: Scale) {
    let partial = path.with_extension("partial");
    remove_db(&partial);
    remove_db(path);
    let started = Instant::now();
    let data = bench_dataset(SEED, now(), scale, "!");
    let org = data
        .organisations
        .into_iter()
        .next()
        .expect("one organisation");
    let generated = started.elapsed();
    let mut cache = Cache::open(&partial).expect("open cache");
    cache
        .bulk_load(dataset::changes(org, now()))
        .expect("bulk load");
    drop(cache);
    let conn = rusqlite::Connection::open(&partial).expect("open");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    drop(conn);
    std::fs::rename(&partial, path).expect("rename");
    remove_db(&partial);
    println!(
        "cache: built {} in {:.1?} (generate {:.1?}, bulk load + index rebuild {:.1?})",
        path.display(),
        started.elapsed(),
        generated,
        started.elapsed() - generated
    );
}

struct Fixture {
    cache: Cache,
    /// The most common surname among the conversation titles.
    surname: String,
    /// A customer's number as someone would type it: "07700 912345".
    phone: String,
}

fn fixture(path: &Path, scale: Scale) -> Fixture {
    let complete = path.exists() && {
        let conn = rusqlite::Connection::open(path).expect("open");
        count(&conn, "conversations") == scale.conversations as i64
    };
    if complete {
        println!("cache: reusing {}", path.display());
    } else {
        build(path, scale);
    }
    let conn = rusqlite::Connection::open(path).expect("open");
    println!(
        "cache: {} conversations, {} messages, {} calls, {} notes, {} activity rows; {:.0} MiB",
        count(&conn, "conversations"),
        count(&conn, "messages"),
        count(&conn, "calls"),
        count(&conn, "notes"),
        count(&conn, "activity"),
        std::fs::metadata(path).map_or(0, |m| m.len()) as f64 / (1024.0 * 1024.0)
    );
    let surname: String = conn
        .query_row(
            "SELECT substr(title, instr(title, ' ') + 1) AS surname FROM conversations
             WHERE customer_id IS NOT NULL GROUP BY surname ORDER BY count(*) DESC, surname LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("surname");
    let e164: String = conn
        .query_row(
            "SELECT data ->> '$.phones[0]' FROM customers ORDER BY id LIMIT 1 OFFSET ?1",
            [count(&conn, "customers") / 2],
            |r| r.get(0),
        )
        .expect("phone");
    let national = e164.strip_prefix("+44").expect("a UK number");
    let phone = format!("0{} {}", &national[..4], &national[4..]);
    Fixture {
        cache: Cache::open(path).expect("open cache"),
        surname,
        phone,
    }
}

fn query(scope: LocalScope, filter: ListFilter) -> LocalQuery {
    LocalQuery {
        scope,
        filter,
        after: None,
        me: ME,
    }
}

/// One measured list request: group, name, the p50 target in ms if the brief sets one.
struct Case {
    group: &'static str,
    name: String,
    target_ms: Option<u64>,
    query: LocalQuery,
}

/// The list requests being measured, as the engine builds them.
fn cases(f: &Fixture) -> Vec<Case> {
    let now = now();
    let tz = chrono_tz::Europe::London;
    let range =
        |preset: RangePreset| LocalScope::Range(resolve(preset, None, now, tz).expect("range"));
    // A month in the past: most conversations were active after it ended, so "any activity in
    // the range" probes the activity table for them (LST-9).
    let today = now.with_timezone(&tz).date_naive();
    let back = |days: u64| -> NaiveDate { today.checked_sub_days(Days::new(days)).expect("date") };
    let past_month = LocalScope::Range(
        resolve(RangePreset::Custom, Some((back(90), back(61))), now, tz).expect("range"),
    );
    let search = |q: &str| LocalScope::Search(q.to_string());
    let case = |group, name: &str, target_ms, scope, filter| Case {
        group,
        name: name.to_string(),
        target_ms,
        query: query(scope, filter),
    };
    let list = "list/first_page_and_counts";
    let fts = "search/fts";
    vec![
        case(
            list,
            "last_30_days",
            Some(5),
            range(RangePreset::Last30Days),
            ListFilter::All,
        ),
        case(
            list,
            "all_time",
            Some(5),
            range(RangePreset::AllTime),
            ListFilter::All,
        ),
        case(
            list,
            "unread_all_time",
            None,
            range(RangePreset::AllTime),
            ListFilter::Unread,
        ),
        case(
            list,
            "mine_this_week",
            None,
            range(RangePreset::ThisWeek),
            ListFilter::Mine,
        ),
        case(list, "custom_past_month", None, past_month, ListFilter::All),
        case(
            fts,
            &format!("name_{}", f.surname),
            Some(20),
            search(&f.surname),
            ListFilter::All,
        ),
        case(
            fts,
            "body_clutch",
            Some(20),
            search("clutch"),
            ListFilter::All,
        ),
        case(
            fts,
            "body_squealing",
            None,
            search("squealing"),
            ListFilter::All,
        ),
        case(fts, "phone", None, search(&f.phone), ListFilter::All),
    ]
}

fn list(cache: &Cache, q: &LocalQuery) -> ConversationPage {
    cache.list(q).expect("list")
}

/// (p50, p90, max) of some timings.
fn percentiles(mut times: Vec<Duration>) -> [Duration; 3] {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    [at(0.5), at(0.9), at(1.0)]
}

/// Which conversations a batch's events go to.
#[derive(Clone, Copy)]
enum Spread {
    /// Any of the 100,000, uniformly: nearly every event lands on a different page (worst case).
    Uniform,
    /// The 2,000 most recently active: a busy day's working set, as a live desktop sees it.
    Recent,
}

/// Makes batches of `BATCH` events as the server emits them: a new inbound message, then its
/// conversation's row with the message as preview, newest activity and one more unread.
struct Batches {
    seq: i64,
    next_message: Id,
    /// Every conversation row, as the cache holds it, kept current as batches change them.
    rows: Vec<inbox_core::ConversationSummary>,
    /// Indexes into `rows` of the most recently active conversations.
    recent: Vec<usize>,
    clock: DateTime<Utc>,
    rng: u64,
}

impl Batches {
    fn new(cache: &Cache, path: &Path) -> Batches {
        let conn = rusqlite::Connection::open(path).expect("open");
        let max: Id = conn
            .query_row("SELECT coalesce(max(id), 0) FROM messages", [], |r| {
                r.get(0)
            })
            .expect("max id");
        let rows: Vec<inbox_core::ConversationSummary> = conn
            .prepare("SELECT data FROM conversations ORDER BY id")
            .expect("prepare")
            .query_map([], |r| r.get::<_, String>(0))
            .expect("rows")
            .map(|d| serde_json::from_str(&d.expect("row")).expect("summary"))
            .collect();
        let mut recent: Vec<usize> = (0..rows.len()).collect();
        recent.sort_by_key(|i| std::cmp::Reverse(rows[*i].last_activity_at));
        recent.truncate(2_000);
        Batches {
            seq: cache.cursor().expect("cursor").unwrap_or(0),
            next_message: max + 1,
            rows,
            recent,
            clock: now(),
            rng: 0x9e37_79b9_7f4a_7c15,
        }
    }

    fn next(&mut self, spread: Spread) -> Vec<Event> {
        let mut events = Vec::with_capacity(BATCH);
        for _ in 0..BATCH / 2 {
            // xorshift: a spread of conversations without another dependency.
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            let index = match spread {
                Spread::Uniform => (self.rng % self.rows.len() as u64) as usize,
                Spread::Recent => self.recent[(self.rng % self.recent.len() as u64) as usize],
            };
            self.clock += chrono::Duration::milliseconds(1500);
            let row = &mut self.rows[index];
            let body = format!("Is my car ready yet? Ref {}", self.next_message);
            let message = Message {
                attachments: Vec::new(),
                id: self.next_message,
                conversation_id: row.id,
                direction: Direction::Inbound,
                channel: row.last_channel,
                body: body.clone(),
                template: None,
                status: inbox_core::DeliveryStatus::Delivered,
                author: None,
                sender_name: row.title.clone(),
                client_id: None,
                error: None,
                created_at: self.clock,
                updated_at: self.clock,
                read_at: None,
                intent: None,
            };
            self.next_message += 1;
            row.preview = body;
            row.last_activity_at = self.clock;
            row.unread_count += 1;
            for change in [Change::Message(message), Change::Conversation(row.clone())] {
                self.seq += 1;
                events.push(Event {
                    seq: self.seq,
                    at: self.clock,
                    change,
                });
            }
        }
        events
    }
}

fn main() {
    // `cargo bench` passes --bench; without it (`cargo test --benches`) this is a smoke test.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let _tmp;
    let (dir, scale) = if benchmarking {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        let dir = target.join("bench-data");
        std::fs::create_dir_all(&dir).expect("bench-data dir");
        (dir.canonicalize().expect("dir"), FULL)
    } else {
        _tmp = tempfile::tempdir().expect("tempdir");
        (_tmp.path().to_path_buf(), Scale::DEMO)
    };
    let path = cache_file(&dir, scale);
    let f = fixture(&path, scale);
    let cases = cases(&f);
    for case in &cases {
        let page = list(&f.cache, &case.query);
        let c = page.counts;
        println!(
            "cache: {}/{}: {} items, more: {}, counts all {} unread {} unassigned {} mine {}",
            case.group,
            case.name,
            page.items.len(),
            page.next_cursor.is_some(),
            c.all,
            c.unread,
            c.unassigned,
            c.mine
        );
    }

    // Event batches go into a copy, so the reusable file stays as built.
    let apply_path = path.with_extension("apply.sqlite");
    remove_db(&apply_path);
    std::fs::copy(&path, &apply_path).expect("copy");
    let mut copy = Cache::open(&apply_path).expect("open copy");
    let mut batches = Batches::new(&copy, &apply_path);
    if !benchmarking {
        for spread in [Spread::Uniform, Spread::Recent] {
            let batch = batches.next(spread);
            let applied = copy.apply_events(&batch).expect("apply");
            println!(
                "cache: applied {} events, cursor {}",
                batch.len(),
                applied.cursor
            );
        }
        drop(copy);
        remove_db(&apply_path);
        return;
    }

    // Modest samples for two shared cores; flat sampling suits calls of milliseconds.
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    for group_name in ["list/first_page_and_counts", "search/fts"] {
        let mut group = c.benchmark_group(group_name);
        group.sampling_mode(SamplingMode::Flat);
        for case in cases.iter().filter(|c| c.group == group_name) {
            group.bench_function(&case.name, |b| b.iter(|| list(&f.cache, &case.query)));
        }
        group.finish();
    }
    {
        let mut group = c.benchmark_group("apply_events");
        group.sampling_mode(SamplingMode::Flat);
        group.throughput(Throughput::Elements(BATCH as u64));
        group.sample_size(10);
        for (name, spread) in [
            ("uniform_1000", Spread::Uniform),
            ("recent_1000", Spread::Recent),
        ] {
            group.bench_function(name, |b| {
                b.iter_batched(
                    || batches.next(spread),
                    |events| copy.apply_events(&events).expect("apply"),
                    BatchSize::PerIteration,
                )
            });
        }
        group.finish();
    }
    c.final_summary();

    const CALLS: usize = 100;
    println!("\ncache: per-call latency over {CALLS} calls (p50 / p90 / max):");
    for case in &cases {
        let times = (0..CALLS)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(list(&f.cache, &case.query));
                t.elapsed()
            })
            .collect();
        let [p50, p90, max] = percentiles(times);
        let verdict = match case.target_ms {
            Some(ms) if p50 < Duration::from_millis(ms) => format!("  (target < {ms} ms: met)"),
            Some(ms) => format!("  <-- misses the {ms} ms target"),
            None => String::new(),
        };
        println!(
            "  {:<44} {p50:>9.2?} {p90:>9.2?} {max:>9.2?}{verdict}",
            format!("{}/{}", case.group, case.name)
        );
    }
    const BATCHES: usize = 30;
    println!(
        "\ncache: apply_events, {BATCHES} batches of {BATCH} (p50 / p90 / max per batch; sustained = all events / all time, WAL checkpoints included):"
    );
    for (name, spread) in [("uniform", Spread::Uniform), ("recent", Spread::Recent)] {
        let mut times = Vec::with_capacity(BATCHES);
        for _ in 0..BATCHES {
            let events = batches.next(spread);
            let t = Instant::now();
            copy.apply_events(&events).expect("apply");
            times.push(t.elapsed());
        }
        let total: Duration = times.iter().sum();
        let [p50, p90, max] = percentiles(times);
        let rate = |d: Duration| BATCH as f64 / d.as_secs_f64();
        println!(
            "  {:<44} {p50:>9.2?} {p90:>9.2?} {max:>9.2?}  {:>7.0} events/s at p50, {:>7.0} sustained",
            format!("apply_events/{name}_1000"),
            rate(p50),
            (BATCHES * BATCH) as f64 / total.as_secs_f64()
        );
    }
    drop(copy);
    remove_db(&apply_path);
}
