//! The webhook spool: a provider webhook the database could not take is appended, fsync'd, to a
//! local file and answered 200, then replayed through the same handler on start and every few
//! seconds until the database takes it. Twilio does not retry messaging webhooks by default, so
//! without this a busy or read-only database loses the customer's message. Replays are
//! idempotent because every handler is (provider ids, forward-only statuses).
//!
//! The file is one JSON line per request (path and query, the headers its signature needs, the
//! raw body in base64). A replay first moves the file aside (`.replaying`), so webhooks that fail
//! meanwhile append to a fresh file; what still fails is appended back. A crash in between leaves
//! the `.replaying` file, which the next replay takes first: at worst a request is replayed
//! twice, which changes nothing.
//!
//! A handler that has not answered within `HANDLER_DEADLINE` (a database that hangs rather than
//! fails: PostgreSQL unreachable, SQLite locked by a backup) is spooled too, because Twilio gives
//! up after 15 s and does not retry. The handler runs as a task of its own and may still commit
//! later; the replay then finds the message stored and changes nothing. A request the handler
//! refuses on replay (4xx) is kept in a dead-letter file beside the spool, never dropped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::state::AppState;

/// Beyond this size the spool takes nothing more (the webhook gets its 500 as before), so a
/// flood while the database is down cannot fill the disk.
pub const MAX_SPOOL_BYTES: u64 = 256 * 1024 * 1024;

/// Requests whose signature cannot be checked without the database (a Twilio account this
/// instance has not seen, or one whose auth token was rotated since) are spooled only while the
/// spool is below this, so forged ones cannot crowd out the rest of `MAX_SPOOL_BYTES`.
pub const MAX_UNVERIFIED_SPOOL_BYTES: u64 = 16 * 1024 * 1024;

/// How long a spoolable webhook's handler may take before the request is spooled and answered:
/// well inside Twilio's 15 s webhook timeout.
pub const HANDLER_DEADLINE: Duration = Duration::from_secs(8);

tokio::task_local! {
    /// While a spooled request is replayed: when it first arrived, so that a message that waited
    /// in the spool keeps its place in the thread.
    static RECEIVED_AT: chrono::DateTime<chrono::Utc>;
}

/// When the request being handled arrived: its first arrival for a replay, else now.
pub fn received_at(state: &AppState) -> chrono::DateTime<chrono::Utc> {
    RECEIVED_AT
        .try_with(|at| *at)
        .unwrap_or_else(|_| state.clock.now())
}

/// The headers a replay needs: the signatures and the body's type.
const KEPT_HEADERS: [&str; 3] = ["x-twilio-signature", "x-hub-signature-256", "content-type"];

/// One spooled request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Path and query as the provider called them (the Twilio signature covers both).
    pub uri: String,
    pub headers: Vec<(String, String)>,
    /// The raw body, base64.
    pub body: String,
    /// When it first arrived (milliseconds since the epoch); absent in older spool files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at_ms: Option<i64>,
}

pub struct Spool {
    path: PathBuf,
    /// How long a handler may take before its request is spooled (`HANDLER_DEADLINE`).
    deadline: Duration,
    /// Appends and the replay's file moves take turns.
    /// `MAX_UNVERIFIED_SPOOL_BYTES` unless a test sets another.
    unverified_cap: u64,
    lock: Mutex<()>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Spool({})", self.path.display())
    }
}

impl Spool {
    /// The spool of one server instance: `dir/webhook-spool-<instance>.jsonl`.
    pub fn open(dir: &Path, instance: &str) -> std::io::Result<Spool> {
        std::fs::create_dir_all(dir)?;
        let name: String = instance
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        Ok(Spool {
            path: dir.join(format!("webhook-spool-{name}.jsonl")),
            deadline: HANDLER_DEADLINE,
            unverified_cap: MAX_UNVERIFIED_SPOOL_BYTES,
            lock: Mutex::new(()),
        })
    }

    /// Another size below which unverified requests are spooled (tests use a small one).
    pub fn with_unverified_cap(mut self, bytes: u64) -> Spool {
        self.unverified_cap = bytes;
        self
    }

    /// Another handler deadline (tests use a short one).
    pub fn with_deadline(mut self, deadline: Duration) -> Spool {
        self.deadline = deadline;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn replaying_path(&self) -> PathBuf {
        self.path.with_extension("jsonl.replaying")
    }

    /// Where requests refused on replay are kept for a person to look at.
    pub fn refused_path(&self) -> PathBuf {
        self.path.with_extension("refused.jsonl")
    }

    fn guard(&self) -> std::io::Result<std::sync::MutexGuard<'_, ()>> {
        self.lock
            .lock()
            .map_err(|_| std::io::Error::other("spool lock poisoned"))
    }

    /// Appends entries and waits until they are on disk.
    fn append_blocking(&self, entries: &[Entry]) -> std::io::Result<()> {
        let _g = self.guard()?;
        append_lines(&self.path, entries, MAX_SPOOL_BYTES)
    }

    /// Appends one request, durably, before the provider is told it arrived; one whose
    /// signature could not be checked only while the spool is below the unverified budget.
    pub async fn append(
        self: &std::sync::Arc<Self>,
        entry: Entry,
        verified: bool,
    ) -> std::io::Result<()> {
        let spool = std::sync::Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            if verified {
                spool.append_blocking(&[entry])
            } else {
                let _g = spool.guard()?;
                append_lines(&spool.path, &[entry], spool.unverified_cap)
            }
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Takes the entries to replay: a `.replaying` file left by a crash first, else the spool
    /// moved aside.
    fn take_blocking(&self) -> std::io::Result<Vec<Entry>> {
        let _g = self.guard()?;
        let replaying = self.replaying_path();
        if !replaying.exists() {
            if !self.path.exists() {
                return Ok(Vec::new());
            }
            std::fs::rename(&self.path, &replaying)?;
            sync_dir(&self.path);
        }
        let text = std::fs::read_to_string(&replaying)?;
        // A line cut short by a crash mid-append was never answered 200: skip it.
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }

    /// Puts back what could not be replayed and drops the `.replaying` file.
    fn finish_blocking(&self, left: &[Entry]) -> std::io::Result<()> {
        self.append_blocking(left)?;
        let _g = self.guard()?;
        match std::fs::remove_file(self.replaying_path()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        sync_dir(&self.path);
        Ok(())
    }

    /// Other instances' spools in the same folder that hold requests: each spool is replayed
    /// only by the instance listening on its address, so one left behind by a changed
    /// `INBOX_LISTEN` must be pointed out.
    pub fn others_waiting(&self) -> Vec<(PathBuf, usize)> {
        let Some(dir) = self.path.parent() else {
            return Vec::new();
        };
        let Ok(read) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut found: Vec<(PathBuf, usize)> = read
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                name.starts_with("webhook-spool-")
                    && (name.ends_with(".jsonl") || name.ends_with(".jsonl.replaying"))
                    && !name.ends_with(".refused.jsonl")
                    && *p != self.path
                    && *p != self.replaying_path()
            })
            .filter_map(|p| {
                let n = std::fs::read_to_string(&p)
                    .ok()?
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .count();
                (n > 0).then_some((p, n))
            })
            .collect();
        found.sort();
        found
    }

    /// How many requests wait in the spool.
    pub fn pending(&self) -> std::io::Result<usize> {
        let _g = self.guard()?;
        let mut n = 0;
        for p in [self.path.clone(), self.replaying_path()] {
            match std::fs::read_to_string(&p) {
                Ok(t) => n += t.lines().filter(|l| !l.trim().is_empty()).count(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}

/// Appends entries as JSON lines to `path` and waits until they are on disk. A write that fails
/// part-way (a full disk) is cut back off, so that the torn line cannot swallow the next entry,
/// which would already have been answered 200.
fn append_lines(path: &Path, entries: &[Entry], cap: u64) -> std::io::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    if size >= cap {
        return Err(std::io::Error::other("the webhook spool is full"));
    }
    let created = size == 0 && !path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut buf = Vec::new();
    for e in entries {
        serde_json::to_writer(&mut buf, e)?;
        buf.push(b'\n');
    }
    if let Err(e) = file.write_all(&buf).and_then(|()| file.sync_data()) {
        if let Err(cut) = file.set_len(size) {
            tracing::error!(error = %cut, "could not cut a torn write off the webhook spool");
        }
        return Err(e);
    }
    if created {
        sync_dir(path);
    }
    Ok(())
}

/// Makes a created, renamed or removed file's directory entry durable.
fn sync_dir(file: &Path) {
    if let Some(dir) = file.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// The webhooks that are spooled: those whose answer carries no instructions. The voice
/// webhooks that answer TwiML (`/voice`, `/voice/dial`, `/voice/recorded`) drive a live call and
/// cannot be answered later, so they keep their 5xx (Twilio then uses the number's fallback URL).
fn spoolable(path: &str) -> bool {
    matches!(
        path,
        "/webhooks/twilio/sms"
            | "/webhooks/twilio/status"
            | "/webhooks/twilio/voice/status"
            | "/webhooks/twilio/voice/recording"
            | "/webhooks/twilio/voice/transcription"
            | "/webhooks/whatsapp"
    )
}

/// Middleware on the webhooks: a request its handler could not store (5xx) is spooled and
/// answered 200 as if stored.
pub async fn durable(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let uri = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().clone(), |o| o.0.clone());
    let spool = match &state.spool {
        Some(s) if req.method() == axum::http::Method::POST && spoolable(uri.path()) => {
            std::sync::Arc::clone(s)
        }
        _ => return next.run(req).await,
    };
    let (parts, body) = req.into_parts();
    let parts_headers = parts.headers.clone();
    let Ok(bytes) = axum::body::to_bytes(body, crate::http::BODY_LIMIT).await else {
        return too_large();
    };
    let received_at = state.clock.now();
    // A task of its own: it finishes even when the provider hangs up, and a slow one is spooled
    // at the deadline instead of outliving the provider's patience.
    let mut handler = tokio::spawn(next.run(Request::from_parts(parts, Body::from(bytes.clone()))));
    let failed = match tokio::time::timeout(spool.deadline, &mut handler).await {
        Ok(Ok(res)) if !res.status().is_server_error() => return res,
        Ok(Ok(res)) => res,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "webhook handler panicked");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(_) => {
            tracing::warn!(path = %uri.path(), "webhook handler is slow; spooling the request");
            (StatusCode::SERVICE_UNAVAILABLE, "the database is slow").into_response()
        }
    };
    let verified = signed(&state, &uri, &parts_headers, &bytes);
    let entry = Entry::of(&uri, &parts_headers, &bytes, received_at);
    match spool.append(entry, verified).await {
        Ok(()) => {
            tracing::warn!(path = %uri.path(), "webhook spooled: the database could not take it; it will be replayed");
            accepted(uri.path())
        }
        Err(e) => {
            tracing::error!(error = %e, "webhook could not be spooled either");
            failed
        }
    }
}

fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        "the request body is too large",
    )
        .into_response()
}

impl Entry {
    /// A request as it is spooled: its path and query, the headers its handler reads, the body.
    fn of(
        uri: &Uri,
        headers: &HeaderMap,
        body: &Bytes,
        received_at: chrono::DateTime<chrono::Utc>,
    ) -> Entry {
        Entry {
            uri: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string()),
            headers: KEPT_HEADERS
                .iter()
                .filter_map(|h| {
                    headers
                        .get(*h)
                        .and_then(|v| v.to_str().ok())
                        .map(|v| (h.to_string(), v.to_string()))
                })
                .collect(),
            body: base64::engine::general_purpose::STANDARD.encode(body),
            received_at_ms: Some(received_at.timestamp_millis()),
        }
    }
}

/// The answer to a request that cannot be served while the server starts: come back shortly.
pub fn starting() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5")],
        "the server is starting",
    )
        .into_response()
}

/// A request `before_store` answers while the server starts: a webhook that is spooled.
pub fn spooled_while_starting(req: &Request) -> bool {
    req.method() == axum::http::Method::POST && spoolable(req.uri().path())
}

/// A webhook while the server is starting: the port is bound before the store opens (which
/// may wait out a locked database), so a webhook that arrives meanwhile is spooled and answered
/// as if stored, to be replayed once the store is open; anything else is told to come back
/// (`starting`: 503 with `Retry-After`). Without the database only a WhatsApp signature can be checked, so a
/// Twilio request is spooled within the unverified budget (`signed`).
pub async fn before_store(
    spool: std::sync::Arc<Spool>,
    whatsapp_app_secret: Option<String>,
    req: Request,
) -> Response {
    let uri = req.uri().clone();
    if !spooled_while_starting(&req) {
        return starting();
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::http::BODY_LIMIT).await else {
        return too_large();
    };
    let verified = !uri.path().starts_with("/webhooks/twilio/")
        && meta_signed(whatsapp_app_secret.as_deref(), &parts.headers, &bytes);
    let entry = Entry::of(&uri, &parts.headers, &bytes, chrono::Utc::now());
    match spool.append(entry, verified).await {
        Ok(()) => {
            tracing::warn!(path = %uri.path(), "webhook spooled while the server starts; it will be replayed");
            accepted(uri.path())
        }
        Err(e) => {
            tracing::error!(error = %e, "webhook could not be spooled while the server starts");
            (StatusCode::SERVICE_UNAVAILABLE, "the server is starting").into_response()
        }
    }
}

/// A WhatsApp request signed with the app secret.
fn meta_signed(secret: Option<&str>, headers: &HeaderMap, body: &Bytes) -> bool {
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    secret.is_some_and(|secret| {
        inbox_core::providers::meta_signature::verify(body, secret, signature)
    })
}

/// Whether a request its handler could not store is signed as its provider signs: a WhatsApp
/// request with the app secret (from the configuration), a Twilio request with its account's
/// auth token as this instance last read it. One that cannot be shown genuine without the
/// database (an account not seen since start, a token rotated since, or a forgery) is spooled
/// only within the unverified budget, so a flood of forgeries while the database is down cannot
/// crowd out the providers' own requests; the replay judges it with the database.
fn signed(state: &AppState, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> bool {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    if uri.path().starts_with("/webhooks/twilio/") {
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        let params = inbox_core::providers::twilio_signature::parse_form(body);
        return state.accounts.verify_last_seen(
            &state.providers.url(path),
            &params,
            header("x-twilio-signature"),
        ) == Some(true);
    }
    meta_signed(
        state.providers.whatsapp_app_secret.as_deref(),
        headers,
        body,
    )
}

/// The answer for a spooled request: what the handler answers when all is well.
fn accepted(path: &str) -> Response {
    if path.starts_with("/webhooks/twilio/") {
        super::twiml(inbox_core::providers::twiml::twiml_empty())
    } else {
        StatusCode::OK.into_response()
    }
}

/// Runs one spooled request through its handler again.
async fn replay_one(state: &AppState, e: &Entry) -> Response {
    use super::{twilio, whatsapp};
    let Ok(uri) = e.uri.parse::<Uri>() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Ok(body) = base64::engine::general_purpose::STANDARD.decode(&e.body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let body = Bytes::from(body);
    let mut headers = HeaderMap::new();
    for (k, v) in &e.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::try_from(k.as_str()),
            HeaderValue::try_from(v.as_str()),
        ) {
            headers.insert(k, v);
        }
    }
    if !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
    }
    let s = State(state.clone());
    let o = OriginalUri(uri.clone());
    let at = e
        .received_at_ms
        .and_then(chrono::DateTime::from_timestamp_millis)
        .unwrap_or_else(|| state.clock.now());
    RECEIVED_AT
        .scope(at, async move {
            match uri.path() {
                "/webhooks/twilio/sms" => twilio::sms(s, o, headers, body).await,
                "/webhooks/twilio/status" => twilio::status(s, o, headers, body).await,
                "/webhooks/twilio/voice/status" => twilio::voice_status(s, o, headers, body).await,
                "/webhooks/twilio/voice/recording" => twilio::recording(s, o, headers, body).await,
                "/webhooks/twilio/voice/transcription" => {
                    twilio::transcription(s, o, headers, body).await
                }
                "/webhooks/whatsapp" => whatsapp::notification(s, headers, body).await,
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        })
        .await
}

/// Replays what the spool holds; returns (stored, still waiting). A request its handler
/// refuses (4xx: a signature that no longer verifies after the auth token was rotated, say) is
/// moved to the dead-letter file (`refused_path`) with an error: replaying cannot fix it, and a
/// person may.
pub async fn replay(state: &AppState) -> std::io::Result<(usize, usize)> {
    let Some(spool) = state.spool.clone() else {
        return Ok((0, 0));
    };
    let taker = std::sync::Arc::clone(&spool);
    let entries = tokio::task::spawn_blocking(move || taker.take_blocking())
        .await
        .map_err(std::io::Error::other)??;
    if entries.is_empty() {
        let finisher = std::sync::Arc::clone(&spool);
        return tokio::task::spawn_blocking(move || finisher.finish_blocking(&[]))
            .await
            .map_err(std::io::Error::other)?
            .map(|()| (0, 0));
    }
    let mut left = Vec::new();
    let mut refused = Vec::new();
    let mut stored = 0;
    for e in entries {
        let status = replay_one(state, &e).await.status();
        if status.is_server_error() {
            left.push(e);
        } else if status.is_success() {
            stored += 1;
        } else {
            tracing::error!(uri = %e.uri, %status, "spooled webhook refused on replay; kept in the dead-letter file");
            refused.push(e);
        }
    }
    let waiting = left.len();
    tokio::task::spawn_blocking(move || {
        {
            let _g = spool.guard()?;
            // Bounded like the unverified budget: a flood of forged webhooks sent while the
            // server was starting cannot fill the disk.
            if let Err(e) = append_lines(&spool.refused_path(), &refused, MAX_UNVERIFIED_SPOOL_BYTES) {
                tracing::error!(error = %e, dropped = refused.len(), path = %spool.refused_path().display(), "refused webhooks could not be kept in the dead-letter file; dropped");
            }
        }
        spool.finish_blocking(&left)
    })
    .await
    .map_err(std::io::Error::other)??;
    if stored > 0 {
        tracing::info!(stored, waiting, "spooled webhooks replayed");
    }
    Ok((stored, waiting))
}

/// Replays the spool now and then every `every`, until the process ends.
pub fn start_replay(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = replay(&state).await {
                tracing::error!(error = %e, "replaying the webhook spool failed");
            }
            tokio::time::sleep(every).await;
        }
    })
}
