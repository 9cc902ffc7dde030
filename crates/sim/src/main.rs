//! The `inbox-sim` command line: fake Twilio and Meta send APIs plus simulated customers
//! against an `inbox-server`, until Ctrl-C.

use anyhow::Context;
use clap::Parser;
use inbox_sim::config::Cli;
use inbox_sim::{SimConfig, Summary};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut config = SimConfig::from_cli(&cli)?;
    let summary = Summary::load(&cli.summary)?;
    let listener = tokio::net::TcpListener::bind(&cli.listen)
        .await
        .with_context(|| format!("binding {}", cli.listen))?;
    let address = listener.local_addr()?;
    config.media_base = Some(format!("http://{address}"));
    tracing::info!(
        %address,
        server = %config.server,
        public_url = %config.public_url,
        seed = config.seed,
        twilio_api_base = %format!("http://{address}"),
        whatsapp_api_base = %format!("http://{address}/v23.0"),
        "inbox-sim listening"
    );
    inbox_sim::run(config, summary, listener, shutdown()).await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
