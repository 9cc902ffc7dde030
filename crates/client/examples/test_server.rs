//! A real `inbox-server` for the engine's tests, as its own process so a test can kill it
//! (SIGKILL) and start it again on the same port and database. Seeds a small garage on first
//! start, with fast sync timers, and keeps messages' files beside the database. Usage: test_server <db-path> <listen-addr>

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use inbox_core::{Capability, CapabilitySet};
use inbox_server::seed::{Generator, Scale};
use inbox_server::store::dataset::{ProviderSettings, UserData};
use inbox_server::store::{self, Dataset};
use inbox_server::{app, AppState};

pub const PASSWORD: &str = "engine-test-password";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(listen)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: test_server <db-path> <listen-addr>");
    };
    let fresh = !std::path::Path::new(&db).exists();
    let store = store::open(&format!("sqlite://{db}")).await?;
    if fresh {
        let hash = inbox_server::auth::password::hash(PASSWORD)?;
        let user = |email: &str, caps: &[Capability]| UserData {
            email: email.into(),
            name: email.split('@').next().unwrap_or(email).into(),
            role: email.into(),
            capabilities: CapabilitySet::new(caps.iter().copied()),
            password_hash: hash.clone(),
        };
        let users = vec![
            user(
                "desk@engine.test",
                &[Capability::MessagesView, Capability::MessagesSend],
            ),
            user(
                "second@engine.test",
                &[Capability::MessagesView, Capability::MessagesSend],
            ),
            user(
                "manager@engine.test",
                &[
                    Capability::MessagesView,
                    Capability::MessagesSend,
                    Capability::MessagesApprove,
                    Capability::SettingsTemplatesManage,
                ],
            ),
            user(
                "trainee@engine.test",
                &[Capability::MessagesView, Capability::MessagesSendGated],
            ),
            user("owner@engine.test", &inbox_core::roles::OWNER_CAPABILITIES),
        ];
        let scale = Scale {
            customers: 30,
            work_orders: 6,
            conversations: 120,
            items_per_customer_conversation: 6,
            days: 60,
        };
        let org = Generator::new(11, Utc::now()).organisation(
            "Engine Garage",
            users,
            ProviderSettings::default(),
            scale,
        );
        store
            .import(
                Dataset {
                    organisations: vec![org],
                },
                chrono::Utc::now(),
            )
            .await?;
    }
    let mut state = AppState::new(Arc::clone(&store));
    state.sync.heartbeat = Duration::from_millis(500);
    state.sync.session_check = Duration::from_millis(300);
    // Messages' files beside the database, kept across restarts like the database.
    state.blobs = Some(Arc::new(inbox_server::media::Blobs::new(format!(
        "{db}.media"
    ))));
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening {}", listener.local_addr()?);
    axum::serve(listener, app(state)).await?;
    Ok(())
}
