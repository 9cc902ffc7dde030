//! The engine as its own process, for crash tests: syncs a cache and prints each applied cursor
//! as `cursor N` on stdout. Usage: sync_probe <server-url> <token> <user-id> <cache-path> [apply-delay-ms]

use std::time::Duration;

use inbox_client::{Engine, EngineConfig, Update};
use inbox_core::{CapabilitySet, User};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [server, token, user_id, cache, rest @ ..] = a.as_slice() else {
        anyhow::bail!(
            "usage: sync_probe <server-url> <token> <user-id> <cache-path> [apply-delay-ms]"
        );
    };
    let user = User {
        id: user_id.parse()?,
        email: String::new(),
        name: String::new(),
        role: String::new(),
        capabilities: CapabilitySet::default(),
    };
    let mut config =
        EngineConfig::new(server, token, user, chrono_tz::Europe::London, cache.into());
    config.apply_delay =
        Duration::from_millis(rest.first().map(|d| d.parse()).transpose()?.unwrap_or(0));
    config.backoff_min = Duration::from_millis(100);
    config.backoff_max = Duration::from_millis(500);
    let engine = Engine::start(config).await?;
    let mut updates = engine.subscribe();
    loop {
        match updates.recv().await {
            Ok(Update::Changed { cursor, .. }) => println!("cursor {cursor}"),
            Ok(Update::Connection { state }) => {
                println!("state {}", serde_json::to_string(&state)?)
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => anyhow::bail!(e),
        }
    }
}
