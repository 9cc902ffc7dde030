//! `cargo xtask demo`: the whole product on one machine, seeded with the demo garages.
//!
//! Build `inbox-server` and `inbox-sim`, seed a fresh database, print who can sign in, then run
//! the server with its providers pointed at the simulator, and the simulator playing customers
//! (SMS, WhatsApp, portal, calls) and the providers' delivery receipts, and the desktop app
//! (sign in as a demo user; the server address is prefilled), until Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context;
use serde_json::Value;

use crate::cmd::{cargo, display, root, secs};

const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
/// Where the simulator serves the fake Twilio and Meta APIs.
const SIM_LISTEN: &str = "127.0.0.1:8788";
/// The demo's made-up Meta app secret (signs WhatsApp webhooks between the two).
const DEMO_APP_SECRET: &str = "demo-meta-app-secret";

/// Where the demo keeps its files: `target/demo/` in the workspace.
struct Files {
    dir: PathBuf,
    database: PathBuf,
    seed: PathBuf,
}

impl Files {
    fn new() -> Files {
        let dir = root().join("target").join("demo");
        Files {
            database: dir.join("inbox.db"),
            seed: dir.join("seed.json"),
            dir,
        }
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}", self.database.display())
    }
}

pub fn run() -> anyhow::Result<()> {
    let listen = std::env::var("INBOX_LISTEN")
        .ok()
        .filter(|l| !l.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let files = Files::new();
    let server = build_binary("inbox-server")?;
    let sim = build_binary("inbox-sim")?;
    crate::ui::build()?;
    let desktop = build_binary("garage-inbox")?;
    fresh_database(&files)?;
    let seed = seed(&server, &files)?;
    print_summary(&listen, &files, &seed);
    serve(&server, &sim, &desktop, &files, &listen)
}

/// The desktop app, with its own profile under `target/demo/desktop` (fresh each demo, like the
/// database), once the server answers. Without a display (a headless machine) it says so and
/// the server and simulator run on their own.
fn start_desktop(desktop: &Path, files: &Files) -> anyhow::Result<Option<Background>> {
    let graphical = cfg!(any(target_os = "macos", windows))
        || std::env::var_os("DISPLAY").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if !graphical {
        eprintln!(
            "demo: no display (DISPLAY is unset), so the desktop app is not started; \
             run `{}` in a graphical session",
            desktop.display()
        );
        return Ok(None);
    }
    let profile = files.dir.join("desktop");
    if profile.exists() {
        std::fs::remove_dir_all(&profile)
            .with_context(|| format!("clearing {}", profile.display()))?;
    }
    std::fs::create_dir_all(&profile)?;
    let mut c = Command::new(desktop);
    c.env("GARAGE_INBOX_DATA_DIR", &profile);
    eprintln!("==> desktop app: {}", display(&c));
    let child = c
        .spawn()
        .with_context(|| format!("step `desktop`: could not start `{}`", display(&c)))?;
    Ok(Some(Background(child)))
}

/// `cargo build --release` of one binary (package and binary share the name); returns its path
/// as cargo reports it, so a custom `CARGO_TARGET_DIR` is honoured.
fn build_binary(name: &str) -> anyhow::Result<PathBuf> {
    let mut c = cargo([
        "build",
        "--release",
        "-p",
        name,
        "--bin",
        name,
        "--message-format=json-render-diagnostics",
    ]);
    let line = display(&c);
    eprintln!("==> build: {line}");
    let start = Instant::now();
    let out = c
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("step `build`: could not start `{line}`"))?;
    if !out.status.success() {
        anyhow::bail!("step `build` failed: `{line}` exited with {}", out.status);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let binary = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .with_context(|| format!("step `build`: cargo did not report the {name} executable"))?;
    eprintln!("<== build: ok in {}", secs(start.elapsed()));
    Ok(binary)
}

/// Deletes the previous demo database (with its WAL and shared-memory files) and the webhooks
/// its server spooled, which belong to that database.
fn fresh_database(files: &Files) -> anyhow::Result<()> {
    std::fs::create_dir_all(&files.dir)
        .with_context(|| format!("creating {}", files.dir.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = files.database.clone().into_os_string();
        name.push(suffix);
        remove_if_present(Path::new(&name))?;
    }
    for entry in std::fs::read_dir(&files.dir)?.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("webhook-spool-")
        {
            remove_if_present(&entry.path())?;
        }
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("deleting {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// `inbox-server seed-demo`; its JSON summary is saved to `seed.json` and returned.
fn seed(server: &Path, files: &Files) -> anyhow::Result<Value> {
    let mut c = Command::new(server);
    c.args(["seed-demo", "--database-url", &files.database_url()]);
    let line = display(&c);
    eprintln!("==> seed: {line}");
    let start = Instant::now();
    let out = c
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("step `seed`: could not start `{line}`"))?;
    if !out.status.success() {
        anyhow::bail!("step `seed` failed: `{line}` exited with {}", out.status);
    }
    std::fs::write(&files.seed, &out.stdout)
        .with_context(|| format!("writing {}", files.seed.display()))?;
    let summary: Value = serde_json::from_slice(&out.stdout)
        .context("step `seed`: inbox-server seed-demo did not print a JSON object")?;
    eprintln!("<== seed: ok in {}", secs(start.elapsed()));
    Ok(summary)
}

fn print_summary(listen: &str, files: &Files, seed: &Value) {
    let url = format!(
        "http://{}",
        listen
            .replace("0.0.0.0", "127.0.0.1")
            .replace("[::]", "[::1]")
    );
    let password = seed["password"].as_str().unwrap_or("demo-password");
    println!();
    println!("Garage Inbox demo");
    println!("  server    {url}  (health: {url}/healthz, API: {url}/api/v1)");
    println!("  database  {}", files.database.display());
    println!(
        "  seed      {}  (organisation ids, users, provider settings)",
        files.seed.display()
    );
    println!("  password  {password}  (every demo user)");
    let organisations = seed["organisations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for org in &organisations {
        println!();
        println!(
            "  {} (organisation {}, {} conversations)",
            org["name"].as_str().unwrap_or("?"),
            org["id"],
            org["conversations"]
        );
        for user in org["users"].as_array().into_iter().flatten() {
            let caps: Vec<&str> = user["capabilities"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let caps = if caps.is_empty() {
                "(no capabilities)".to_string()
            } else {
                caps.join(", ")
            };
            println!("    {:<28} {caps}", user["email"].as_str().unwrap_or("?"));
        }
    }
    if organisations.len() > 1 {
        println!();
        println!("  The second garage is there to check isolation: its users never see the first's data.");
    }
    println!();
    println!("Sign in, for example:");
    println!(
        "  curl -s {url}/api/v1/auth/login -H 'content-type: application/json' \\\n    -d '{{\"email\":\"frontdesk@demo.test\",\"password\":\"{password}\"}}'"
    );
    println!();
    println!("The provider simulator ({SIM_LISTEN}) plays customers writing and calling, and the");
    println!("providers' delivery receipts for replies. The desktop app opens on the sign-in");
    println!("screen (server {url} prefilled): sign in as frontdesk@demo.test / {password}.");
    println!("Serving until Ctrl-C.");
    println!();
}

/// Kills a background process when the demo ends, however it ends.
struct Background(std::process::Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `inbox-server serve` with its providers pointed at the simulator; once it answers, the
/// simulator starts; both run until Ctrl-C (which reaches every process of the terminal).
fn serve(
    server: &Path,
    sim: &Path,
    desktop: &Path,
    files: &Files,
    listen: &str,
) -> anyhow::Result<()> {
    let public_url = format!("http://{}", listen.replace("0.0.0.0", "127.0.0.1"));
    let sim_url = format!("http://{SIM_LISTEN}");
    let mut c = Command::new(server);
    c.args([
        "serve",
        "--listen",
        listen,
        "--database-url",
        &files.database_url(),
    ])
    // The demo's webhook spool beside its database (a fresh demo starts with an empty one).
    .env("INBOX_SPOOL_DIR", &files.dir)
    .env("INBOX_PUBLIC_URL", &public_url)
    .env("INBOX_TWILIO_API_BASE", &sim_url)
    .env("INBOX_WHATSAPP_API_BASE", format!("{sim_url}/v23.0"))
    .env("INBOX_WHATSAPP_APP_SECRET", DEMO_APP_SECRET)
    .env("INBOX_WHATSAPP_VERIFY_TOKEN", "demo-verify-token");
    let line = display(&c);
    let mut server_child = c
        .spawn()
        .with_context(|| format!("step `serve`: could not start `{line}`"))?;
    let address = listen.replace("0.0.0.0", "127.0.0.1");
    let deadline = Instant::now() + std::time::Duration::from_secs(15);
    while std::net::TcpStream::connect(&address).is_err() {
        if Instant::now() > deadline {
            let _ = server_child.kill();
            anyhow::bail!("step `serve`: the server did not start listening on {address}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let mut s = Command::new(sim);
    s.args(["--server", &public_url, "--listen", SIM_LISTEN, "--summary"])
        .arg(&files.seed)
        .args(["--app-secret", DEMO_APP_SECRET]);
    let sim_line = display(&s);
    eprintln!("==> simulator: {sim_line}");
    let _sim = Background(
        s.spawn()
            .with_context(|| format!("step `simulator`: could not start `{sim_line}`"))?,
    );
    let _desktop = start_desktop(desktop, files)?;
    let status = server_child
        .wait()
        .with_context(|| format!("step `serve`: `{line}`"))?;
    if !status.success() {
        anyhow::bail!("step `serve` failed: `{line}` exited with {status}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_database_removes_the_old_file_and_its_wal_and_shm() {
        let dir = std::env::temp_dir().join(format!("xtask-demo-test-{}", std::process::id()));
        let files = Files {
            database: dir.join("inbox.db"),
            seed: dir.join("seed.json"),
            dir: dir.clone(),
        };
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "inbox.db",
            "inbox.db-wal",
            "inbox.db-shm",
            "seed.json",
            "webhook-spool-127_0_0_1_8787.jsonl",
        ] {
            std::fs::write(dir.join(name), b"old").unwrap();
        }
        fresh_database(&files).unwrap();
        assert!(!files.database.exists());
        assert!(!dir.join("webhook-spool-127_0_0_1_8787.jsonl").exists());
        assert!(!dir.join("inbox.db-wal").exists());
        assert!(!dir.join("inbox.db-shm").exists());
        // Absent files are fine too: the first run has none.
        fresh_database(&files).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
