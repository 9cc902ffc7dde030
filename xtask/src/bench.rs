//! `cargo xtask bench`: every benchmark of the workspace, or the one named.
//!
//! | name | what it measures |
//! |---|---|
//! | `conversation_list` | server: first page + the four counts, and search, at 100k conversations / 1M messages (criterion) |
//! | `fanout` | server: 1,000 WebSocket clients, inbound message → every client, p50/p99 |
//! | `ingest` | server: signed Twilio SMS webhooks per second (verify, route, store) |
//! | `login_flood` | server: `GET /api/v1/me` p50/p99, quiet and during a 5,000-sign-in flood |
//! | `cache` | desktop cache: list + counts, FTS search, applying events, at 100k / 1M (criterion) |
//! | `initial_sync` | desktop engine from an empty cache to live over loopback: items/s |
//! | `desktop` | the real app under Xvfb: cold start from a 100k-conversation cache, webhook → row on screen, resident memory under traffic |

use crate::cmd::{cargo, timed};

const BENCHES: &[(&str, &str)] = &[
    ("conversation_list", "inbox-server"),
    ("fanout", "inbox-server"),
    ("ingest", "inbox-server"),
    ("login_flood", "inbox-server"),
    ("cache", "inbox-client"),
    ("initial_sync", "inbox-client"),
    ("desktop", "inbox-e2e"),
];

/// `args`: an optional benchmark name first, then arguments for that benchmark (after `--`).
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let (selected, rest): (Vec<(&str, &str)>, &[String]) = match args.first() {
        Some(name) => match BENCHES.iter().find(|(b, _)| b == name) {
            Some(b) => (vec![*b], &args[1..]),
            None => anyhow::bail!(
                "unknown benchmark {name:?}; one of: {}",
                BENCHES.iter().map(|b| b.0).collect::<Vec<_>>().join(", ")
            ),
        },
        None => (BENCHES.to_vec(), &[]),
    };
    for (bench, package) in selected {
        let mut c = cargo(["bench", "-p", package, "--bench", bench]);
        if !rest.is_empty() {
            c.arg("--").args(rest);
        }
        if bench == "desktop" {
            crate::e2e::prepare(true)?;
            timed(bench, crate::e2e::in_session(&c))?;
        } else {
            timed(bench, c)?;
        }
    }
    Ok(())
}
