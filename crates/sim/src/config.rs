//! The simulator's configuration: the command line (with `INBOX_SIM_*` environment fallbacks)
//! and the plain [`SimConfig`] the library runs from, so tests build one without clap.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// `inbox-sim`: plays Twilio, Meta and the garage's customers against an `inbox-server`.
#[derive(Debug, Parser)]
#[command(name = "inbox-sim", version, about = "Garage Inbox provider simulator")]
pub struct Cli {
    /// Where the server is reachable (webhooks and the portal API are posted here).
    #[arg(
        long,
        env = "INBOX_SIM_SERVER",
        default_value = "http://127.0.0.1:8787"
    )]
    pub server: String,
    /// The server's public base URL (its INBOX_PUBLIC_URL): Twilio signs `<public-url><path>`.
    /// Default: --server.
    #[arg(long, env = "INBOX_SIM_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Where the fake Twilio and Meta send APIs listen (point the server's
    /// --twilio-api-base at http://<listen> and --whatsapp-api-base at http://<listen>/v23.0).
    #[arg(long, env = "INBOX_SIM_LISTEN", default_value = "127.0.0.1:8788")]
    pub listen: String,
    /// The JSON that `inbox-server seed-demo` printed.
    #[arg(
        long,
        env = "INBOX_SIM_SUMMARY",
        default_value = "target/demo/seed.json"
    )]
    pub summary: PathBuf,
    /// The Meta app secret that signs WhatsApp webhooks (the server's INBOX_WHATSAPP_APP_SECRET).
    /// Without it no WhatsApp webhooks are sent.
    #[arg(long, env = "INBOX_WHATSAPP_APP_SECRET", hide_env_values = true)]
    pub app_secret: Option<String>,
    /// Customer events per second (on average; arrivals are random).
    #[arg(long, env = "INBOX_SIM_RATE", default_value_t = 0.5)]
    pub rate: f64,
    /// Share of outbound messages that fail or are undelivered (0 to 1).
    #[arg(long, env = "INBOX_SIM_FAILURE_RATE", default_value_t = 0.05)]
    pub failure_rate: f64,
    /// Random seed, for a reproducible run (default: from the clock, and logged).
    #[arg(long, env = "INBOX_SIM_SEED")]
    pub seed: Option<u64>,
    /// Which organisation of the summary the customers write to.
    #[arg(long, env = "INBOX_SIM_ORG_INDEX", default_value_t = 0)]
    pub org_index: usize,
    /// Only serve the fake provider APIs; no customer traffic.
    #[arg(long, env = "INBOX_SIM_NO_CUSTOMERS")]
    pub no_customers: bool,
    /// Stop the customers after this many events (the APIs keep serving).
    #[arg(long, env = "INBOX_SIM_EVENTS")]
    pub events: Option<u64>,
    /// Shortest provider delay (status callbacks, rings, recordings), in milliseconds.
    #[arg(long, env = "INBOX_SIM_MIN_DELAY_MS", default_value_t = 300)]
    pub min_delay_ms: u64,
    /// Longest provider delay, in milliseconds.
    #[arg(long, env = "INBOX_SIM_MAX_DELAY_MS", default_value_t = 2000)]
    pub max_delay_ms: u64,
}

/// How long the simulated providers take between steps: uniformly random in `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delays {
    pub min: Duration,
    pub max: Duration,
}

impl Default for Delays {
    fn default() -> Self {
        Delays {
            min: Duration::from_millis(300),
            max: Duration::from_millis(2000),
        }
    }
}

/// Everything the simulator needs besides the seed summary.
#[derive(Clone)]
pub struct SimConfig {
    /// Base URL the simulator posts to, without a trailing `/`.
    pub server: String,
    /// Base URL the server believes it is reached at (Twilio signs it), without a trailing `/`.
    pub public_url: String,
    pub app_secret: Option<String>,
    pub rate: f64,
    pub failure_rate: f64,
    pub seed: u64,
    pub org_index: usize,
    pub customers: bool,
    pub max_events: Option<u64>,
    pub delays: Delays,
    /// Issue 17: the base the simulator's MMS media URLs name, its own address (the server's
    /// `INBOX_TWILIO_API_BASE`); None: Twilio's, as a real MMS names.
    pub media_base: Option<String>,
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConfig")
            .field("server", &self.server)
            .field("public_url", &self.public_url)
            .field(
                "app_secret",
                &self.app_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("rate", &self.rate)
            .field("failure_rate", &self.failure_rate)
            .field("seed", &self.seed)
            .field("org_index", &self.org_index)
            .field("customers", &self.customers)
            .field("max_events", &self.max_events)
            .field("delays", &self.delays)
            .field("media_base", &self.media_base)
            .finish()
    }
}

impl SimConfig {
    /// A configuration for `server` (also its public URL) with the defaults of the command line.
    pub fn new(server: &str) -> SimConfig {
        let server = server.trim_end_matches('/').to_string();
        SimConfig {
            public_url: server.clone(),
            server,
            app_secret: None,
            rate: 0.5,
            failure_rate: 0.05,
            seed: 0,
            org_index: 0,
            customers: true,
            max_events: None,
            delays: Delays::default(),
            media_base: None,
        }
    }

    /// Checks the command line and turns it into a configuration.
    pub fn from_cli(cli: &Cli) -> anyhow::Result<SimConfig> {
        if !(cli.rate > 0.0 && cli.rate.is_finite()) {
            anyhow::bail!("--rate must be a positive number of events per second");
        }
        if !(0.0..=1.0).contains(&cli.failure_rate) {
            anyhow::bail!("--failure-rate must be between 0 and 1");
        }
        if cli.min_delay_ms > cli.max_delay_ms {
            anyhow::bail!("--min-delay-ms must not exceed --max-delay-ms");
        }
        let mut c = SimConfig::new(&cli.server);
        if let Some(p) = &cli.public_url {
            c.public_url = p.trim_end_matches('/').to_string();
        }
        c.app_secret = cli.app_secret.clone().filter(|s| !s.is_empty());
        c.rate = cli.rate;
        c.failure_rate = cli.failure_rate;
        c.seed = cli.seed.unwrap_or_else(clock_seed);
        c.org_index = cli.org_index;
        c.customers = !cli.no_customers;
        c.max_events = cli.events;
        c.delays = Delays {
            min: Duration::from_millis(cli.min_delay_ms),
            max: Duration::from_millis(cli.max_delay_ms),
        };
        Ok(c)
    }
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_command_line_becomes_a_configuration() {
        let cli = Cli::parse_from([
            "inbox-sim",
            "--server",
            "http://127.0.0.1:9000/",
            "--app-secret",
            "s3cret",
            "--seed",
            "42",
            "--no-customers",
            "--min-delay-ms",
            "10",
            "--max-delay-ms",
            "20",
        ]);
        let c = SimConfig::from_cli(&cli).unwrap();
        assert_eq!(c.server, "http://127.0.0.1:9000");
        assert_eq!(
            c.public_url, "http://127.0.0.1:9000",
            "the public URL defaults to the server"
        );
        assert_eq!(c.seed, 42);
        assert!(!c.customers);
        assert_eq!(c.delays.max, Duration::from_millis(20));
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "secrets stay out of logs"
        );
    }

    #[test]
    fn nonsense_is_refused() {
        let bad = |args: &[&str]| {
            let mut all = vec!["inbox-sim"];
            all.extend_from_slice(args);
            SimConfig::from_cli(&Cli::parse_from(all)).is_err()
        };
        assert!(bad(&["--rate", "0"]));
        assert!(bad(&["--failure-rate", "1.5"]));
        assert!(bad(&["--min-delay-ms", "5", "--max-delay-ms", "1"]));
        assert!(!bad(&["--rate", "3"]));
    }
}
