//! A desktop killed (SIGKILL) between receiving events and applying them restarts consistent:
//! the cache's data and cursor commit together, so nothing is half-applied, lost or doubled.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use inbox_client::cache::Cache;
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsk3_a_client_killed_mid_apply_restarts_consistent() {
    let (dir, server, desk, _) = desk().await;
    let writer = login(&server.base, "second@engine.test").await;
    let cache_path = dir.path().join("probe.db");
    let probe = |delay_ms: &str| {
        Command::new(example("sync_probe"))
            .args([
                server.base.as_str(),
                desk.token.as_str(),
                &desk.user.id.to_string(),
                cache_path.to_str().unwrap(),
                delay_ms,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // First run: wait until it is live, then kill it while a burst of events is being received
    // and (slowly) applied.
    let mut child = probe("300");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("probe output").unwrap();
        if line.contains("\"live\"") {
            break;
        }
    }
    let conversations = {
        let (_, all) = server_conversations(&server.base, &desk.token).await;
        all.into_iter().take(5).map(|c| c.id).collect::<Vec<_>>()
    };
    for (i, c) in conversations.iter().cycle().take(30).enumerate() {
        post(
            &server.base,
            &writer.token,
            &format!("/api/v1/conversations/{c}/notes"),
            json!({ "body": format!("burst-{i}") }),
        )
        .await;
    }
    // Events are in flight: the probe sleeps 300 ms between receiving and applying each batch.
    tokio::time::sleep(Duration::from_millis(450)).await;
    child.kill().unwrap();
    child.wait().unwrap();

    // Whatever the kill interrupted, the cache is at a consistent cursor.
    let cursor_after_kill = Cache::open(&cache_path).unwrap().cursor().unwrap();
    assert!(cursor_after_kill.is_some());

    // Restart (no delay): it resumes from its cursor and ends in step with the server.
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    assert_in_step(&engine, &server.base, &desk.token).await;
    engine.shutdown().await;
    let cache = Cache::open(&cache_path).unwrap();
    let mut bodies: Vec<String> = conversations
        .iter()
        .flat_map(|c| cache.thread(*c, None, 10_000).unwrap())
        .filter_map(|i| match i {
            inbox_core::ThreadItem::Note(n) if n.body.starts_with("burst-") => Some(n.body),
            _ => None,
        })
        .collect();
    let total = bodies.len();
    bodies.sort();
    bodies.dedup();
    assert_eq!((bodies.len(), total), (30, 30), "every note once");
}
