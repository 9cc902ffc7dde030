//! `inbox-sim`: plays the providers and the customers for Garage Inbox's demo, tests and load
//! runs. It serves fake Twilio Messages and WhatsApp Cloud API send endpoints (answering like
//! them, then posting signed status callbacks) and plays customers who text, message on
//! WhatsApp, write in the portal and call, every webhook signed exactly as the real provider
//! signs it. The binary in `main.rs` is a thin CLI over [`run`].

pub mod admin;
pub mod callbacks;
pub mod calls;
pub mod config;
pub mod customers;
pub mod events;
pub mod media;
pub mod meta_api;
pub mod meta_payloads;
pub mod outbound_media;
pub mod random;
pub mod state;
pub mod summary;
pub mod texts;
pub mod twilio_api;
pub mod twilio_payloads;
pub mod twiml;
pub mod voice_payloads;

use std::future::Future;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

pub use config::{Delays, SimConfig};
pub use customers::Customers;
pub use state::Sim;
pub use summary::Summary;

/// The fake provider APIs: Twilio's Messages resource and the Cloud API's messages endpoint
/// (any Graph version), and the simulator's control API under `/sim/` ([`admin`]).
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route(
            "/2010-04-01/Accounts/{account_sid}/Messages.json",
            post(twilio_api::create_message).get(twilio_api::list_messages),
        )
        .route(
            "/2010-04-01/Accounts/{account_sid}/Messages/{message}",
            get(twilio_api::fetch_message),
        )
        .route(
            "/{version}/{phone_number_id}/messages",
            post(meta_api::messages),
        )
        .route(
            "/{version}/{phone_number_id}/media",
            post(outbound_media::upload),
        )
        .route(
            "/2010-04-01/Accounts/{account_sid}/Messages/{message}/Media/{media}",
            get(media::mms),
        )
        .route("/{version}/{media_id}", get(media::info))
        .route("/sim/media/{media_id}", get(media::file))
        .route("/healthz", get(|| async { "ok" }))
        .route("/sim/faults", post(admin::set_fault).get(admin::faults_met))
        .route("/sim/sent", get(admin::sent))
        .route("/sim/inbound", post(admin::inbound))
        .with_state(sim)
}

/// Serves the fake APIs on `listener` until `shutdown` completes.
pub async fn serve_apis(
    listener: tokio::net::TcpListener,
    sim: Arc<Sim>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(sim))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Runs the simulator: the fake APIs on `listener` and, unless turned off, the customers, until
/// `shutdown` completes.
pub async fn run(
    config: SimConfig,
    summary: Summary,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    summary.org(config.org_index)?;
    let sim = Sim::new(config, summary);
    let customers = if sim.config.customers {
        let c = Customers::new(Arc::clone(&sim))?;
        Some(tokio::spawn(c.run()))
    } else {
        tracing::info!("customers are off (--no-customers): serving the provider APIs only");
        None
    };
    let served = serve_apis(listener, Arc::clone(&sim), shutdown).await;
    if let Some(c) = customers {
        c.abort();
    }
    let stats = &sim.poster.stats;
    tracing::info!(
        accepted = stats.accepted(),
        rejected = stats.rejected(),
        failed = stats.failed(),
        "inbox-sim stopped"
    );
    Ok(served?)
}
