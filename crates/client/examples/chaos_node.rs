//! The fault campaign's (`cargo xtask chaos`) helper process, one mode per run:
//!
//! - `engine <server-url> <token> <user-id> <cache-path> <apply-delay-ms>`: a headless desktop
//!   engine syncing its cache, printing each applied cursor as `cursor N` (so it can be
//!   SIGKILLed between receiving events and applying them, and restarted on the same cache);
//! - `cache <cache-path> <prefix>`: one JSON line `{ "cursor", "bodies": { body: count } }` for
//!   the cached messages whose body starts with `prefix`;
//! - `server <database> <org-id> <prefix>`: one JSON line `{ "head", "messages": [...] }` from
//!   the server's SQLite file: the organisation's event-log head and the messages whose body
//!   starts with `prefix`;
//! - `lock <database> <ms>`: holds `BEGIN EXCLUSIVE` on the server's SQLite file for `ms`.

use std::collections::BTreeMap;
use std::time::Duration;

use inbox_client::{Engine, EngineConfig, Update};
use inbox_core::{CapabilitySet, User};
use rusqlite::{Connection, OpenFlags};
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    match a.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["engine", server, token, user_id, cache, delay] => {
            engine(server, token, user_id, cache, delay.parse()?).await
        }
        ["cache", cache, prefix] => cache_report(cache, prefix),
        ["server", database, org, prefix] => server_report(database, org.parse()?, prefix),
        ["lock", database, ms] => lock(database, ms.parse()?),
        _ => anyhow::bail!(
            "usage: chaos_node engine <server-url> <token> <user-id> <cache> <apply-delay-ms> \
             | cache <cache> <prefix> | server <database> <org-id> <prefix> | lock <database> <ms>"
        ),
    }
}

async fn engine(
    server: &str,
    token: &str,
    user_id: &str,
    cache: &str,
    apply_delay_ms: u64,
) -> anyhow::Result<()> {
    let user = User {
        id: user_id.parse()?,
        email: String::new(),
        name: String::new(),
        role: String::new(),
        capabilities: CapabilitySet::default(),
    };
    let mut config =
        EngineConfig::new(server, token, user, chrono_tz::Europe::London, cache.into());
    config.apply_delay = Duration::from_millis(apply_delay_ms);
    config.backoff_min = Duration::from_millis(100);
    config.backoff_max = Duration::from_millis(1000);
    let engine = Engine::start(config).await?;
    let mut updates = engine.subscribe();
    loop {
        match updates.recv().await {
            Ok(Update::Changed { cursor, .. }) => println!("cursor {cursor}"),
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => anyhow::bail!(e),
        }
    }
}

fn read_only(path: &str) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

fn cache_report(path: &str, prefix: &str) -> anyhow::Result<()> {
    let conn = read_only(path)?;
    let cursor: Option<i64> = conn
        .query_row(
            "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'cursor'",
            [],
            |r| r.get(0),
        )
        .unwrap_or(None);
    let mut bodies: BTreeMap<String, u64> = BTreeMap::new();
    let mut stmt = conn.prepare(
        "SELECT json_extract(data, '$.body') FROM messages
         WHERE substr(json_extract(data, '$.body'), 1, length(?1)) = ?1",
    )?;
    for body in stmt.query_map([prefix], |r| r.get::<_, String>(0))? {
        *bodies.entry(body?).or_default() += 1;
    }
    println!("{}", json!({ "cursor": cursor, "bodies": bodies }));
    Ok(())
}

fn server_report(path: &str, org: i64, prefix: &str) -> anyhow::Result<()> {
    let conn = read_only(path)?;
    let head: i64 = conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM events WHERE org_id = ?1",
        [org],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare(
        "SELECT id, conversation_id, direction, body, status, client_id, provider_id, error
         FROM messages WHERE org_id = ?2 AND substr(body, 1, length(?1)) = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map(rusqlite::params![prefix, org], |r| {
        Ok(json!({
            "id": r.get::<_, i64>(0)?,
            "conversation_id": r.get::<_, i64>(1)?,
            "direction": r.get::<_, String>(2)?,
            "body": r.get::<_, String>(3)?,
            "status": r.get::<_, String>(4)?,
            "client_id": r.get::<_, Option<String>>(5)?,
            "provider_id": r.get::<_, Option<String>>(6)?,
            "error": r.get::<_, Option<String>>(7)?,
        }))
    })?;
    let messages = rows.collect::<Result<Vec<_>, _>>()?;
    println!("{}", json!({ "head": head, "messages": messages }));
    Ok(())
}

fn lock(path: &str, ms: u64) -> anyhow::Result<()> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.execute_batch("BEGIN EXCLUSIVE")?;
    println!("locked");
    std::thread::sleep(Duration::from_millis(ms));
    conn.execute_batch("ROLLBACK")?;
    println!("released");
    Ok(())
}
