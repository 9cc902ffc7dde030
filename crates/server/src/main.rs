//! The `inbox-server` command line: serve, migrate, seed-demo, and the operator's tools (user,
//! org, provider, portal, release) whose work is in `inbox_server::admin` and
//! `inbox_server::releases`.

use std::io::Read;
use std::sync::Arc;

use anyhow::Context;
use clap::{ArgGroup, Args, Parser, Subcommand};
use inbox_core::api::LanguageModelUpdate;
use inbox_core::{Capability, CapabilitySet};
use inbox_server::config::{default_database_url, redact_url, DEFAULT_LISTEN};
use inbox_server::dispatch::Dispatcher;
use inbox_server::media::blobs::{Blobs, S3Settings, DEFAULT_S3_REGION};
use inbox_server::providers::ProviderConfig;
use inbox_server::releases::{self, Releases};
use inbox_server::status_lookup::StatusLookup;
use inbox_server::store::{self, NewUser};
use inbox_server::webhooks::spool::{self, Spool};
use inbox_server::{admin, auth, seed, AppState};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "inbox-server", version, about = "Garage Inbox backend")]
struct Cli {
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB (default: a SQLite file in the platform
    /// data directory).
    #[arg(long, env = "INBOX_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Where published desktop updates live (default: a `releases` folder beside the SQLite
    /// database, else in the platform data directory).
    #[arg(long, env = "INBOX_RELEASES_DIR", global = true)]
    releases_dir: Option<std::path::PathBuf>,
    /// Where messages' photos, documents and voice notes are stored (default: a `media` folder
    /// beside the SQLite database, else in the platform data directory). Back it up with the
    /// database.
    #[arg(long, env = "INBOX_MEDIA_DIR", global = true)]
    media_dir: Option<std::path::PathBuf>,
    /// Keep messages' files in this S3-compatible bucket instead of the media folder, so that
    /// several server instances share them. Credentials: AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY (or the rest of the standard AWS environment).
    #[arg(long, env = "INBOX_MEDIA_S3_BUCKET", global = true)]
    media_s3_bucket: Option<String>,
    /// The bucket's endpoint when it is not AWS itself (MinIO, Garage, R2…), such as
    /// http://127.0.0.1:9000; addressed path-style.
    #[arg(long, env = "INBOX_MEDIA_S3_ENDPOINT", global = true)]
    media_s3_endpoint: Option<String>,
    /// The bucket's region.
    #[arg(long, env = "INBOX_MEDIA_S3_REGION", global = true, default_value = DEFAULT_S3_REGION)]
    media_s3_region: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API.
    Serve {
        #[arg(long, env = "INBOX_LISTEN", default_value = DEFAULT_LISTEN)]
        listen: String,
        /// Days of sync events kept; desktops offline for longer rebuild from a snapshot.
        #[arg(long, env = "INBOX_EVENT_RETENTION_DAYS", default_value_t = 30)]
        event_retention_days: i64,
        /// Where webhooks the database could not take wait to be replayed (default: the
        /// platform data directory). One file per listen address.
        #[arg(long, env = "INBOX_SPOOL_DIR")]
        spool_dir: Option<std::path::PathBuf>,
        /// Hours without activity after which a session ends (an open desktop counts as activity).
        #[arg(long, env = "INBOX_SESSION_IDLE_HOURS", default_value_t = auth::session::DEFAULT_IDLE_HOURS)]
        session_idle_hours: i64,
        /// Days a customer's portal token works after it is issued.
        #[arg(long, env = "INBOX_PORTAL_TOKEN_DAYS", default_value_t = inbox_server::webhooks::portal::DEFAULT_TOKEN_DAYS)]
        portal_token_days: i64,
        #[command(flatten)]
        providers: ProviderArgs,
        #[command(flatten)]
        edges: EdgeArgs,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Fill the database with the demo garages and print a JSON summary on stdout.
    SeedDemo {
        /// Random seed, for a different but still reproducible dataset.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Manage an organisation's provider accounts.
    Provider {
        #[command(subcommand)]
        command: ProviderCommand,
    },
    /// Manage customers' portal tokens.
    Portal {
        #[command(subcommand)]
        command: PortalCommand,
    },
    /// Publish desktop updates (signed elsewhere) to the releases folder.
    Release {
        #[command(subcommand)]
        command: ReleaseCommand,
    },
}

#[derive(Subcommand)]
enum ReleaseCommand {
    /// Publish one signed update file for one platform. The signature must verify against
    /// INBOX_UPDATE_PUBKEY (the updater's public key, as in tauri.conf.json). Prints JSON.
    Add(ReleaseAdd),
    /// Every published update, newest version first, one JSON object per line.
    List,
}

#[derive(Args)]
struct ReleaseAdd {
    /// The app version of the file, e.g. 0.2.0 (as signed: `tauri signer sign --app-version`).
    #[arg(long)]
    version: String,
    /// linux, windows or darwin.
    #[arg(long)]
    target: String,
    /// x86_64 or aarch64.
    #[arg(long)]
    arch: String,
    /// The update file: the .deb, the NSIS -setup.exe or the .app.tar.gz.
    #[arg(long)]
    file: std::path::PathBuf,
    /// Its .sig file, as `tauri signer sign` (or `tauri build`) wrote it.
    #[arg(long)]
    signature: std::path::PathBuf,
    /// What changed, as the update prompt shows it.
    #[arg(long)]
    notes: Option<String>,
    /// The updater's public key: the base64 text of `plugins.updater.pubkey` in tauri.conf.json.
    #[arg(long, env = "INBOX_UPDATE_PUBKEY")]
    update_pubkey: Option<String>,
}

/// Where the providers are and how they reach us (issue 5).
#[derive(Args)]
struct ProviderArgs {
    /// The server's public base URL (Twilio signs it; callback URLs are built from it).
    /// Default: http://<listen address>.
    #[arg(long, env = "INBOX_PUBLIC_URL")]
    public_url: Option<String>,
    #[arg(
        long,
        env = "INBOX_TWILIO_API_BASE",
        default_value = "https://api.twilio.com"
    )]
    twilio_api_base: String,
    #[arg(
        long,
        env = "INBOX_WHATSAPP_API_BASE",
        default_value = "https://graph.facebook.com/v23.0"
    )]
    whatsapp_api_base: String,
    /// The Meta app secret that signs WhatsApp webhooks.
    #[arg(long, env = "INBOX_WHATSAPP_APP_SECRET", hide_env_values = true)]
    whatsapp_app_secret: Option<String>,
    /// The token Meta's webhook verification handshake must present.
    #[arg(long, env = "INBOX_WHATSAPP_VERIFY_TOKEN", hide_env_values = true)]
    whatsapp_verify_token: Option<String>,
    /// Send WhatsApp read receipts when staff open a thread.
    #[arg(long, env = "INBOX_WHATSAPP_READ_RECEIPTS", default_value_t = false)]
    whatsapp_read_receipts: bool,
    /// Seconds a Twilio reply may stay pending with no status callback before Twilio is asked
    /// where it stands (a callback lost while the server was down).
    #[arg(long, env = "INBOX_STATUS_LOOKUP_AFTER_SECS", default_value_t = 600)]
    status_lookup_after_secs: u64,
}

/// How the server protects itself from slow, idle and abusive clients (issue 13).
#[derive(Args)]
struct EdgeArgs {
    /// Seconds a client has to send its request headers.
    #[arg(long, env = "INBOX_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    header_timeout_secs: u64,
    /// Seconds a connection may stay silent both ways before it is closed.
    #[arg(long, env = "INBOX_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    idle_timeout_secs: u64,
    /// Connections open at once; further clients wait until one closes.
    #[arg(long, env = "INBOX_MAX_CONNECTIONS", default_value_t = 4096)]
    max_connections: usize,
    /// Live sync connections one user may hold open.
    #[arg(long, env = "INBOX_SOCKETS_PER_USER", default_value_t = inbox_server::state::DEFAULT_SOCKETS_PER_USER)]
    sockets_per_user: usize,
    /// Reverse proxies whose X-Forwarded-For is believed, as CIDR networks separated by commas
    /// (e.g. 127.0.0.1/32,10.0.0.0/8). Setting it also turns on the per-address sign-in limit.
    #[arg(long, env = "INBOX_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: String,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user to an organisation. The password is read from INBOX_USER_PASSWORD or stdin.
    Add(UserAdd),
    /// Stop a user from signing in and end their sessions (open desktops close at once).
    Disable(UserEmail),
    /// Let a disabled user sign in again.
    Enable(UserEmail),
    /// Set a user's password (from INBOX_USER_PASSWORD or stdin); their sessions end.
    SetPassword(UserEmail),
    /// End every session of a user (open desktops close at once); they can sign in again.
    RevokeSessions(UserEmail),
}

#[derive(Args)]
struct UserEmail {
    #[arg(long)]
    email: String,
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation with its first user, the Owner (every capability). Prints JSON.
    /// The owner's password is read from INBOX_USER_PASSWORD or stdin.
    Add(OrgAdd),
}

#[derive(Args)]
struct OrgAdd {
    #[arg(long)]
    name: String,
    /// IANA time zone, e.g. Europe/London.
    #[arg(long, default_value = "Europe/London")]
    time_zone: String,
    #[arg(long)]
    owner_email: String,
    #[arg(long)]
    owner_name: String,
}

#[derive(Subcommand)]
enum ProviderCommand {
    /// Set or rotate Twilio and WhatsApp settings; what is not given stays as it is, an empty
    /// value clears it. Secrets are stored sealed, bound to the organisation.
    Set(ProviderSet),
}

#[derive(Args)]
struct ProviderSet {
    /// Organisation id.
    #[arg(long)]
    org: i64,
    /// AC followed by 32 hex digits.
    #[arg(long)]
    twilio_account_sid: Option<String>,
    #[arg(long, env = "INBOX_TWILIO_AUTH_TOKEN", hide_env_values = true)]
    twilio_auth_token: Option<String>,
    /// Comma-separated; replaces the organisation's numbers. The first sends SMS.
    #[arg(long, value_delimiter = ',')]
    twilio_numbers: Option<Vec<String>>,
    #[arg(long)]
    whatsapp_phone_number_id: Option<String>,
    #[arg(long, env = "INBOX_WHATSAPP_ACCESS_TOKEN", hide_env_values = true)]
    whatsapp_access_token: Option<String>,
    /// The phone an inbound call rings before voicemail.
    #[arg(long)]
    voice_forward_to: Option<String>,
    /// A language model (AIA-1): an OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1
    /// for Ollama. Empty, with an empty --ai-model, turns it off.
    #[arg(long, requires = "ai_model")]
    ai_model_url: Option<String>,
    /// The model's name at that endpoint, e.g. llama3.1:8b.
    #[arg(long, requires = "ai_model_url")]
    ai_model: Option<String>,
    /// The endpoint's API key, if it needs one (empty removes it); else INBOX_AI_MODEL_KEY when
    /// --ai-model-url is given. Without either, a new URL drops the stored key.
    #[arg(long, requires = "ai_model_url")]
    ai_model_key: Option<String>,
}

#[derive(Subcommand)]
enum PortalCommand {
    /// Revoke one portal token (--token) or every live token of a customer (--org --customer-id).
    Revoke(PortalRevoke),
}

#[derive(Args)]
#[command(group(ArgGroup::new("which").required(true).args(["token", "customer_id"])))]
struct PortalRevoke {
    /// The token itself, as the customer holds it (it may begin with `-`).
    #[arg(long, allow_hyphen_values = true, conflicts_with_all = ["org", "customer_id"])]
    token: Option<String>,
    /// Organisation id (with --customer-id).
    #[arg(long, requires = "customer_id")]
    org: Option<i64>,
    #[arg(long, requires = "org")]
    customer_id: Option<i64>,
}

#[derive(Args)]
struct UserAdd {
    /// Organisation id.
    #[arg(long)]
    org: i64,
    #[arg(long)]
    email: String,
    #[arg(long)]
    name: String,
    /// Role name; created with --capabilities if the organisation lacks it.
    #[arg(long)]
    role: String,
    /// Comma-separated, e.g. messages.view,messages.send
    #[arg(long, value_delimiter = ',')]
    capabilities: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let database_url = cli.database_url.unwrap_or_else(default_database_url);
    let releases_dir = cli
        .releases_dir
        .unwrap_or_else(|| releases::default_dir(&database_url));
    let media_dir = cli
        .media_dir
        .unwrap_or_else(|| releases::beside_database(&database_url, "media"));
    let media_s3 = cli.media_s3_bucket.map(|bucket| S3Settings {
        bucket,
        region: cli.media_s3_region,
        endpoint: cli.media_s3_endpoint,
        credentials: None,
    });
    match cli.command {
        Command::Serve {
            listen,
            event_retention_days,
            spool_dir,
            session_idle_hours,
            portal_token_days,
            providers,
            edges,
        } => {
            let spool_dir = spool_dir.unwrap_or_else(inbox_server::config::data_dir);
            let limits = Limits {
                retention_days: event_retention_days,
                session_idle_hours,
                portal_token_days,
            };
            let places = Places {
                spool_dir: &spool_dir,
                releases_dir: &releases_dir,
                media_dir: &media_dir,
                media_s3,
            };
            serve(&database_url, &listen, limits, places, providers, edges).await
        }
        Command::Migrate => {
            store::open(&database_url).await?;
            tracing::info!(database_url = %redact_url(&database_url), "schema is up to date");
            Ok(())
        }
        Command::SeedDemo { seed } => {
            let store = store::open(&database_url).await?;
            let summary = seed::seed_demo(store.as_ref(), seed).await?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
        Command::User { command } => user(&database_url, command).await,
        Command::Org {
            command: OrgCommand::Add(o),
        } => {
            let password = read_password()?;
            let store = store::open(&database_url).await?;
            let garage = admin::NewGarage {
                name: o.name,
                time_zone: o.time_zone,
                owner_email: o.owner_email,
                owner_name: o.owner_name,
            };
            let out = admin::add_organisation(store.as_ref(), garage, &password).await?;
            println!("{out}");
            Ok(())
        }
        Command::Provider {
            command: ProviderCommand::Set(p),
        } => {
            let store = store::open(&database_url).await?;
            let input = admin::ProviderInput {
                twilio_account_sid: p.twilio_account_sid,
                twilio_auth_token: p.twilio_auth_token,
                twilio_numbers: p.twilio_numbers,
                whatsapp_phone_number_id: p.whatsapp_phone_number_id,
                whatsapp_access_token: p.whatsapp_access_token,
                voice_forward_to: p.voice_forward_to,
                ai_model: p.ai_model_url.map(|url| LanguageModelUpdate {
                    url,
                    model: p.ai_model.unwrap_or_default(),
                    // Read here, not by clap: an exported key must not make every other
                    // `provider set` require --ai-model-url.
                    key: p
                        .ai_model_key
                        .or_else(|| std::env::var("INBOX_AI_MODEL_KEY").ok()),
                }),
            };
            println!(
                "{}",
                admin::set_providers(store.as_ref(), p.org, input).await?
            );
            Ok(())
        }
        Command::Portal {
            command: PortalCommand::Revoke(p),
        } => {
            let target = match (p.token, p.org, p.customer_id) {
                (Some(t), _, _) => admin::PortalTarget::Token(t),
                (None, Some(org_id), Some(customer_id)) => admin::PortalTarget::Customer {
                    org_id,
                    customer_id,
                },
                _ => anyhow::bail!("give --token, or --org with --customer-id"),
            };
            let store = store::open(&database_url).await?;
            println!("{}", admin::revoke_portal(store.as_ref(), target).await?);
            Ok(())
        }
        Command::Release { command } => release(&releases_dir, command),
    }
}

/// `release add` and `release list`: the releases folder only, no database.
fn release(dir: &std::path::Path, command: ReleaseCommand) -> anyhow::Result<()> {
    let releases = Releases::new(dir);
    match command {
        ReleaseCommand::Add(r) => {
            let key = r.update_pubkey.as_deref().filter(|k| !k.trim().is_empty()).context(
                "set INBOX_UPDATE_PUBKEY to the updater's public key (plugins.updater.pubkey in \
                 tauri.conf.json): release add publishes only files whose signature verifies",
            )?;
            let key = releases::PublicKey::parse(key)?;
            let new = releases::NewRelease {
                version: r.version,
                target: r.target,
                arch: r.arch,
                file: r.file,
                signature: r.signature,
                notes: r.notes,
            };
            let (status, published) = match releases.publish(&new, &key, chrono::Utc::now())? {
                releases::Outcome::Published(p) => ("published", p),
                releases::Outcome::AlreadyPublished(p) => ("already published", p),
            };
            let mut line = serde_json::to_value(&published)?;
            line["status"] = status.into();
            line["folder"] = dir.display().to_string().into();
            println!("{line}");
        }
        ReleaseCommand::List => {
            for r in releases.list()? {
                println!("{}", serde_json::to_string(&r)?);
            }
        }
    }
    Ok(())
}

async fn user(database_url: &str, command: UserCommand) -> anyhow::Result<()> {
    let line = match command {
        UserCommand::Add(u) => return add_user(database_url, u).await,
        UserCommand::SetPassword(u) => {
            let password = read_password()?;
            admin::check_password(&password)?;
            let store = store::open(database_url).await?;
            admin::set_password(store.as_ref(), &u.email, &password).await?
        }
        UserCommand::Disable(u) => {
            admin::disable_user(store::open(database_url).await?.as_ref(), &u.email).await?
        }
        UserCommand::Enable(u) => {
            admin::enable_user(store::open(database_url).await?.as_ref(), &u.email).await?
        }
        UserCommand::RevokeSessions(u) => {
            admin::revoke_sessions(store::open(database_url).await?.as_ref(), &u.email).await?
        }
    };
    println!("{line}");
    Ok(())
}

/// A new password: `INBOX_USER_PASSWORD`, else stdin up to its end (one trailing newline dropped).
fn read_password() -> anyhow::Result<String> {
    match std::env::var("INBOX_USER_PASSWORD") {
        Ok(p) => Ok(p),
        Err(_) => {
            let mut p = String::new();
            std::io::stdin().read_to_string(&mut p)?;
            Ok(p.trim_end_matches(['\r', '\n']).to_string())
        }
    }
}

/// Folders of `serve`.
struct Places<'a> {
    spool_dir: &'a std::path::Path,
    releases_dir: &'a std::path::Path,
    media_dir: &'a std::path::Path,
    /// A bucket for messages' files instead of `media_dir` (issue 17).
    media_s3: Option<S3Settings>,
}

/// Time limits of `serve`.
struct Limits {
    retention_days: i64,
    session_idle_hours: i64,
    portal_token_days: i64,
}

async fn serve(
    database_url: &str,
    listen: &str,
    limits: Limits,
    places: Places<'_>,
    p: ProviderArgs,
    edges: EdgeArgs,
) -> anyhow::Result<()> {
    if limits.retention_days < 1 {
        anyhow::bail!("--event-retention-days must be at least 1");
    }
    if limits.session_idle_hours < 1 {
        anyhow::bail!("--session-idle-hours (INBOX_SESSION_IDLE_HOURS) must be at least 1");
    }
    if limits.portal_token_days < 1 {
        anyhow::bail!("--portal-token-days (INBOX_PORTAL_TOKEN_DAYS) must be at least 1");
    }
    if !(1..=inbox_server::status_lookup::LOOK_BACK_SECS).contains(&p.status_lookup_after_secs) {
        anyhow::bail!(
            "INBOX_STATUS_LOOKUP_AFTER_SECS must be between 1 and {} (replies older than that are not looked up)",
            inbox_server::status_lookup::LOOK_BACK_SECS
        );
    }
    if edges.header_timeout_secs == 0 || edges.idle_timeout_secs == 0 {
        anyhow::bail!("the header and idle timeouts must be at least 1 second");
    }
    if edges.max_connections == 0 || edges.sockets_per_user == 0 {
        anyhow::bail!("--max-connections and --sockets-per-user must be at least 1");
    }
    let trusted_proxies = auth::throttle::parse_trusted_proxies(&edges.trusted_proxies)
        .map_err(|e| anyhow::anyhow!("INBOX_TRUSTED_PROXIES: {e}"))?;
    let spool_dir = places.spool_dir;
    let spool = Arc::new(
        Spool::open(spool_dir, listen)
            .with_context(|| format!("opening the webhook spool in {}", spool_dir.display()))?,
    );
    tracing::info!(spool = %spool.path().display(), "webhook spool");
    for (other, waiting) in spool.others_waiting() {
        tracing::error!(
            spool = %other.display(),
            waiting,
            "another listen address's webhook spool holds requests already answered 200; start an instance with that address (INBOX_LISTEN) to replay them"
        );
    }
    // Bound before the store opens (which may wait out a locked database): a webhook that
    // arrives meanwhile is spooled and answered, not refused, since a refused webhook is one
    // Twilio may never send again.
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?
        .into_std()?;
    tracing::info!(address = %listener.local_addr()?, "inbox-server bound");
    let config = inbox_server::serve::ServeConfig {
        header_read_timeout: std::time::Duration::from_secs(edges.header_timeout_secs),
        idle_timeout: std::time::Duration::from_secs(edges.idle_timeout_secs),
        max_connections: edges.max_connections,
        ..Default::default()
    };
    let starting = serve_while_starting(
        tokio::net::TcpListener::from_std(listener.try_clone()?)?,
        config.clone(),
        Arc::clone(&spool),
        p.whatsapp_app_secret.clone(),
    );
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let stop_signal = shutdown();
    tokio::pin!(stop_signal);
    let (store, secrets) = tokio::select! {
        opened = store::open_with_report(database_url) => opened?,
        () = &mut stop_signal => {
            tracing::info!("stopped before the store had opened");
            starting.stop().await;
            // The open is blocked in SQLite's busy wait on a blocking thread, which the
            // runtime would wait for on the way out; nothing else is open yet (the spool
            // syncs each entry before answering it).
            std::process::exit(0);
        }
    };
    if !secrets.plaintext.is_empty() {
        let problems: Vec<String> = secrets.plaintext.iter().map(|e| e.to_string()).collect();
        anyhow::bail!(
            "refusing to start: provider secrets are stored in plain text:\n- {}",
            problems.join("\n- ")
        );
    }
    let mut state = AppState::new(Arc::clone(&store));
    state.sync.retention = chrono::Duration::days(limits.retention_days);
    state.session_idle = chrono::Duration::hours(limits.session_idle_hours);
    state.portal_token_ttl = chrono::Duration::days(limits.portal_token_days);
    state.sockets = Arc::new(inbox_server::limit::ConnectionSlots::new(
        edges.sockets_per_user,
    ));
    if !trusted_proxies.is_empty() {
        state.login = Arc::new(auth::throttle::LoginThrottle::new(
            state.login.hash_slots,
            trusted_proxies,
        ));
    }
    // Without INBOX_PUBLIC_URL, the listen address as given, or the address bound when the
    // system chose the port (`:0`).
    let bound = listener.local_addr()?;
    let public_url = p
        .public_url
        .clone()
        .unwrap_or_else(|| match listen.ends_with(":0") {
            true => format!("http://{bound}"),
            false => format!("http://{listen}"),
        });
    state.providers = ProviderConfig {
        public_url: public_url.trim_end_matches('/').to_string(),
        twilio_api_base: p.twilio_api_base,
        whatsapp_api_base: p.whatsapp_api_base,
        whatsapp_app_secret: p.whatsapp_app_secret,
        whatsapp_verify_token: p.whatsapp_verify_token,
        whatsapp_read_receipts: p.whatsapp_read_receipts,
    };
    tracing::info!(providers = ?state.providers, "provider configuration");
    let blobs = match places.media_s3 {
        Some(s3) => {
            tracing::info!(
                bucket = %s3.bucket,
                endpoint = s3.endpoint.as_deref().unwrap_or("AWS"),
                region = %s3.region,
                "messages' files in an S3 bucket"
            );
            Blobs::s3(s3).map_err(|e| anyhow::anyhow!("INBOX_MEDIA_S3_*: {e}"))?
        }
        None => {
            tracing::info!(media = %places.media_dir.display(), "messages' files folder");
            Blobs::new(places.media_dir)
        }
    };
    blobs
        .check()
        .await
        .map_err(|e| anyhow::anyhow!("messages' files: {e}"))?;
    let blobs = Arc::new(blobs);
    Arc::new(
        Dispatcher::new(
            Arc::clone(&store),
            state.providers.clone(),
            state.clock.clone(),
        )
        .with_blobs(Arc::clone(&blobs)),
    )
    .start();
    Arc::new(StatusLookup::new(
        Arc::clone(&store),
        &state.providers.twilio_api_base,
        state.clock.clone(),
        std::time::Duration::from_secs(p.status_lookup_after_secs),
    ))
    .start();
    tokio::spawn(prune_events(Arc::clone(&store), state.sync.retention));
    // The intent model trains on first use (AIA-1); do it now, off the request path, then
    // classify any messages stored before intents were (after an upgrade).
    let backfill = Arc::clone(&store);
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        let _ = tokio::task::spawn_blocking(inbox_core::intent::model).await;
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "intent model trained"
        );
        match inbox_server::intent_backfill::run(backfill).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(messages = n, "intents given to messages stored before them"),
            Err(e) => {
                tracing::warn!(error = %e, "classifying older messages failed; the next start retries")
            }
        }
    });
    tracing::info!(releases = %places.releases_dir.display(), "desktop updates folder");
    state.releases = Some(Arc::new(Releases::new(places.releases_dir)));
    state.spool = Some(spool);
    inbox_server::language_model::start(Arc::clone(&state.store), state.clock.clone());
    state.blobs = Some(Arc::clone(&blobs));
    inbox_server::media::start(
        Arc::clone(&state.store),
        state.clock.clone(),
        blobs,
        &state.providers,
    );
    spool::start_replay(state.clone(), std::time::Duration::from_secs(5));
    let app = inbox_server::app(state);
    starting.ready(app.clone());
    tracing::info!(
        address = %listener.local_addr()?,
        database_url = %redact_url(database_url),
        "inbox-server listening"
    );
    inbox_server::serve::serve(listener, app, config, stop_signal).await?;
    Ok(())
}

/// The server while its store opens, on a second handle of the bound port, with the same
/// connection limits and timeouts as the real one: webhooks are spooled and answered at once
/// (`spool::before_store`); every other request waits for the real app (at most
/// `STARTING_PATIENCE`, then 503 with `Retry-After`) and is handed to it (`Starting::ready`).
/// Every answer closes its connection, so no client keeps one open into the handover.
struct Starting {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    app: tokio::sync::watch::Sender<Option<axum::Router>>,
}

/// How long a request waits for the store to open before it is told to come back.
const STARTING_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

fn serve_while_starting(
    listener: tokio::net::TcpListener,
    config: inbox_server::serve::ServeConfig,
    spool: Arc<Spool>,
    whatsapp_app_secret: Option<String>,
) -> Starting {
    let (app, ready) = tokio::sync::watch::channel::<Option<axum::Router>>(None);
    let router = axum::Router::new()
        .fallback(move |req: axum::extract::Request| {
            let (spool, secret, mut ready) = (
                Arc::clone(&spool),
                whatsapp_app_secret.clone(),
                ready.clone(),
            );
            async move {
                use axum::response::IntoResponse;
                use tower_service::Service;
                if spool::spooled_while_starting(&req) {
                    return spool::before_store(spool, secret, req).await;
                }
                let app = tokio::time::timeout(STARTING_PATIENCE, ready.wait_for(Option::is_some))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .and_then(|a| a.clone());
                match app {
                    // A Router is always ready, so it is called straight away.
                    Some(mut app) => app.call(req).await.into_response(),
                    None => spool::starting(),
                }
            }
        })
        .layer(axum::middleware::map_response(
            |mut r: axum::response::Response| async move {
                r.headers_mut().insert(
                    axum::http::header::CONNECTION,
                    axum::http::HeaderValue::from_static("close"),
                );
                r
            },
        ));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = inbox_server::serve::ServeConfig {
        drain: std::time::Duration::from_secs(5),
        ..config
    };
    let task = tokio::spawn(async move {
        let stopped = async move {
            let _ = stopped.await;
        };
        if let Err(e) = inbox_server::serve::serve(listener, router, config, stopped).await {
            tracing::warn!(error = %e, "serving while starting failed");
        }
    });
    Starting { stop, task, app }
}

impl Starting {
    /// Hands the requests that waited to `app` and stops taking connections; the requests under
    /// way finish in the background (a few seconds at most), while the real server takes the
    /// port's next connections.
    fn ready(self, app: axum::Router) {
        let _ = self.app.send(Some(app));
        tokio::spawn(self.stop());
    }

    /// Stops taking connections, tells the requests still waiting for the app to come back,
    /// and lets the requests under way finish.
    async fn stop(self) {
        let _ = self.stop.send(());
        drop(self.app);
        if tokio::time::timeout(std::time::Duration::from_secs(6), self.task)
            .await
            .is_err()
        {
            tracing::warn!("requests taken while starting were still open after 6 s");
        }
    }
}

/// Drops sync events past their retention, hourly.
async fn prune_events(store: Arc<store::Store>, retention: chrono::Duration) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        match store.prune_events(chrono::Utc::now() - retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "old sync events pruned"),
            Err(e) => tracing::warn!(error = %e, "pruning sync events failed"),
        }
    }
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

async fn add_user(database_url: &str, u: UserAdd) -> anyhow::Result<()> {
    let caps = u
        .capabilities
        .iter()
        .map(|c| Capability::parse(c.trim()).with_context(|| format!("unknown capability {c:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let password = read_password()?;
    admin::check_password(&password)?;
    let store = store::open(database_url).await?;
    let id = store
        .create_user(
            NewUser {
                org_id: u.org,
                email: u.email.trim().to_string(),
                name: u.name,
                role: u.role,
                capabilities: CapabilitySet::new(caps),
                password_hash: auth::password::hash(&password)?,
            },
            chrono::Utc::now(),
        )
        .await
        .map_err(|e| match e {
            store::StoreError::NotFound => anyhow::anyhow!("there is no organisation {}", u.org),
            e => anyhow::anyhow!(e),
        })?;
    println!("{}", serde_json::json!({ "id": id, "email": u.email }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One portal token in 64 begins with `-` (URL-safe base64); the admin pastes it as is.
    #[test]
    fn a_portal_token_may_begin_with_a_hyphen() {
        let cli = Cli::try_parse_from(["inbox-server", "portal", "revoke", "--token", "-gAbc"])
            .expect("parses");
        let Command::Portal {
            command: PortalCommand::Revoke(p),
        } = cli.command
        else {
            panic!("not portal revoke");
        };
        assert_eq!(p.token.as_deref(), Some("-gAbc"));
    }
}
