//! The Analytics tab's answer (AIA-1) over a big garage group: one organisation with ~100,000
//! conversations and ~1,000,000 messages, Last 30 days and All time, on SQLite and (with
//! `INBOX_BENCH_POSTGRES_URL` set to a maintenance URL) PostgreSQL. Target: p50 under 200 ms.
//!
//! `cargo bench -p inbox-server --bench analytics`
//!
//! The dataset is the seed generator's (`seed::bench_dataset`), imported through
//! `Store::import`, which counts it as the live write path would (a rebuild from history).
//! The SQLite file is kept in `target/bench-data/` and reused; the PostgreSQL database is made
//! for the run and dropped after. Each call is `Store::analytics_inputs` plus
//! `report::build`, as the HTTP handler does, for a manager (per-staff figures included).
//!
//! Run as a test (`cargo test --benches`), it uses demo-sized data in a temporary directory
//! and measures each case once.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use inbox_core::analytics::report::build;
use inbox_core::analytics::AnalyticsQuery;
use inbox_core::range::RangePreset;
use inbox_core::{Capability, CapabilitySet};
use inbox_server::seed::{bench_dataset, Scale};
use inbox_server::store::postgres::PgStore;
use inbox_server::store::sqlite::SqliteStore;
use inbox_server::store::{Actor, Store};
use tokio::runtime::Runtime;

const SEED: u64 = 20_250_604;

/// The conversation list benchmark's scale: ~1,000,000 messages over two years.
const FULL: Scale = Scale::BENCH;

/// Bumped when the generator, the importer or the counters change what a file holds.
const DATA_VERSION: u32 = 1;

fn now() -> anyhow::Result<DateTime<Utc>> {
    DateTime::from_timestamp(1_749_049_200, 0).context("fixed instant") // 2025-06-04T15:00:00Z
}

fn manager(org_id: i64) -> Actor {
    Actor {
        org_id,
        user_id: 1,
        capabilities: CapabilitySet::new([
            Capability::MessagesView,
            Capability::MessagesSend,
            Capability::MessagesApprove,
        ]),
        time_zone: chrono_tz::Europe::London,
    }
}

/// Per-call latencies (p50, p90, max) of the whole answer.
fn measure(
    rt: &Runtime,
    store: &Store,
    actor: &Actor,
    preset: RangePreset,
    calls: usize,
) -> anyhow::Result<([Duration; 3], i64)> {
    let q = AnalyticsQuery {
        range: preset,
        from: None,
        to: None,
    };
    let (from, to) = q.dates(now()?, actor.time_zone)?;
    let mut total = 0;
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        let report = build(rt.block_on(store.analytics_inputs(actor, from, to, true))?);
        times.push(t.elapsed());
        total = report.volume.total;
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok(([at(0.5), at(0.9), at(1.0)], total))
}

fn report(
    rt: &Runtime,
    backend: &str,
    store: &Store,
    org: i64,
    calls: usize,
) -> anyhow::Result<()> {
    let actor = manager(org);
    for preset in [RangePreset::Last30Days, RangePreset::AllTime] {
        // Warm the caches once, as a desk that has the tab open would have them.
        measure(rt, store, &actor, preset, 1)?;
        let ([p50, p90, max], total) = measure(rt, store, &actor, preset, calls)?;
        let flag = if p50 < Duration::from_millis(200) {
            ""
        } else {
            "  <-- misses the 200 ms target"
        };
        println!(
            "  {backend:<10} {:<14} {total:>9} contacts {p50:>10.2?} {p90:>10.2?} {max:>10.2?}{flag}",
            preset.as_str()
        );
    }
    Ok(())
}

fn sqlite_file(dir: &Path, scale: Scale) -> PathBuf {
    dir.join(format!(
        "analytics-v{DATA_VERSION}-seed{SEED}-n{}-i{}-d{}.sqlite",
        scale.conversations, scale.items_per_customer_conversation, scale.days
    ))
}

fn main() -> anyhow::Result<()> {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let rt = Runtime::new()?;
    let _tmp;
    let (dir, scale, calls) = if benchmarking {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        let dir = target.join("bench-data");
        std::fs::create_dir_all(&dir)?;
        (dir.canonicalize()?, FULL, 30)
    } else {
        _tmp = tempfile::tempdir()?;
        (_tmp.path().to_path_buf(), Scale::DEMO, 1)
    };
    let data = || bench_dataset(SEED, now().unwrap_or_default(), scale, "!");

    let path = sqlite_file(&dir, scale);
    let url = path
        .to_str()
        .context("database path is not UTF-8")?
        .to_string();
    let sqlite = if path.exists() {
        Store::from(rt.block_on(SqliteStore::open(&url))?)
    } else {
        let partial = path.with_extension("partial");
        let _ = std::fs::remove_file(&partial);
        let t = Instant::now();
        let store = Store::from(rt.block_on(SqliteStore::open(partial.to_str().context("path")?))?);
        let imported = rt.block_on(store.import(data(), chrono::Utc::now()))?;
        drop(store);
        rusqlite::Connection::open(&partial)?.query_row(
            "PRAGMA wal_checkpoint(TRUNCATE)",
            [],
            |_| Ok(()),
        )?;
        std::fs::rename(&partial, &path)?;
        let org = imported.organisations.first().context("no organisation")?;
        println!(
            "analytics: built {} in {:.1?}: {} conversations, {} messages, {} calls",
            path.display(),
            t.elapsed(),
            org.conversations,
            org.messages,
            org.calls
        );
        Store::from(rt.block_on(SqliteStore::open(&url))?)
    };
    rt.block_on(sqlite.rebuild_stale_analytics())?;
    println!("analytics: per-call latency over {calls} calls (p50 / p90 / max):");
    report(&rt, "sqlite", &sqlite, 1, calls)?;

    if let Ok(admin) = std::env::var("INBOX_BENCH_POSTGRES_URL") {
        // Kept between runs like the SQLite file: a database named for the data, marked
        // complete only once the import committed.
        let name = format!(
            "inbox_bench_analytics_v{DATA_VERSION}_{}",
            scale.conversations
        );
        let (base, _) = admin
            .rsplit_once('/')
            .context("the URL names no database")?;
        let pg_url = format!("{base}/{name}");
        let ready = rt.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin).await?;
            let exists: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                    .bind(&name)
                    .fetch_optional(&mut conn)
                    .await?;
            if exists.is_none() {
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await?;
                return anyhow::Ok(false);
            }
            let mut db = sqlx::PgConnection::connect(&pg_url).await?;
            let done: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM information_schema.tables WHERE table_name = 'bench_complete'",
            )
            .fetch_optional(&mut db)
            .await?;
            anyhow::Ok(done.is_some())
        })?;
        let store = Store::from(rt.block_on(PgStore::open(&pg_url))?);
        if !ready {
            let t = Instant::now();
            let imported: Option<i64> = rt.block_on(async {
                use sqlx::Connection;
                let mut db = sqlx::PgConnection::connect(&pg_url).await?;
                anyhow::Ok(
                    sqlx::query_scalar("SELECT id FROM users WHERE email = 'manager@bench.test'")
                        .fetch_optional(&mut db)
                        .await?,
                )
            })?;
            // An import that committed before a run was stopped is kept.
            if imported.is_none() {
                rt.block_on(store.import(data(), chrono::Utc::now()))?;
            }
            rt.block_on(async {
                use sqlx::Connection;
                let mut db = sqlx::PgConnection::connect(&pg_url).await?;
                // The steady state autovacuum keeps a live table in: statistics and a
                // visibility map, so the counters are read from the index alone. (VACUUM runs
                // outside any transaction: statements one by one.)
                sqlx::raw_sql("VACUUM ANALYZE").execute(&mut db).await?;
                sqlx::raw_sql("CREATE TABLE bench_complete ()")
                    .execute(&mut db)
                    .await?;
                anyhow::Ok(())
            })?;
            println!("analytics: imported into PostgreSQL in {:.1?}", t.elapsed());
        }
        rt.block_on(store.rebuild_stale_analytics())?;
        let org: i64 = rt.block_on(async {
            use sqlx::Connection;
            let mut db = sqlx::PgConnection::connect(&pg_url).await?;
            anyhow::Ok(
                sqlx::query_scalar("SELECT org_id FROM users WHERE email = 'manager@bench.test'")
                    .fetch_one(&mut db)
                    .await?,
            )
        })?;
        report(&rt, "postgres", &store, org, calls)?;
    }
    Ok(())
}
