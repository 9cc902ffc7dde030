//! The processes of a fault campaign: the real `inbox-server` on a SQLite file, the simulator
//! `inbox-sim` playing Twilio and Meta (no customers of its own: the campaign sends every
//! message), and headless engines (`chaos_node engine`), each a process that can be SIGKILLed
//! and started again on the same database or cache. Logs go to files beside the database.

use std::fs::{File, OpenOptions};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;

use crate::cmd::{cargo, display};

/// The Meta app secret the server and the simulator share.
const APP_SECRET: &str = "chaos-meta-app-secret";

/// The three executables the campaign runs.
pub struct Binaries {
    pub server: PathBuf,
    pub sim: PathBuf,
    pub node: PathBuf,
}

/// Builds the server, the simulator and the `chaos_node` example in one cargo run (debug, or
/// release with `--release`); returns their paths as cargo reports them.
pub fn build(release: bool) -> anyhow::Result<Binaries> {
    let mut args = vec![
        "build",
        "-p",
        "inbox-server",
        "--bin",
        "inbox-server",
        "-p",
        "inbox-sim",
        "--bin",
        "inbox-sim",
        "-p",
        "inbox-client",
        "--example",
        "chaos_node",
        "--message-format=json-render-diagnostics",
    ];
    if release {
        args.push("--release");
    }
    let mut c = cargo(args);
    let line = display(&c);
    eprintln!("==> build: {line}");
    let out = c
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{line}`"))?;
    if !out.status.success() {
        anyhow::bail!("step `build` failed: `{line}` exited with {}", out.status);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let find = |name: &str| {
        stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .with_context(|| format!("cargo did not report the {name} executable"))
    };
    Ok(Binaries {
        server: find("inbox-server")?,
        sim: find("inbox-sim")?,
        node: find("chaos_node")?,
    })
}

/// A free loopback port (bound and released; the campaign is the only one asking).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until something listens on `address`.
pub fn wait_listening(address: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(address).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn log(dir: &Path, name: &str) -> anyhow::Result<(File, File)> {
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(name))
        .with_context(|| format!("opening {name}"))?;
    Ok((f.try_clone()?, f))
}

/// A child process killed (SIGKILL) and reaped when dropped.
pub struct Proc(pub Option<Child>);

impl Proc {
    /// SIGKILL, then reap. Returns whether it was running.
    pub fn kill(&mut self) -> bool {
        match self.0.take() {
            Some(mut c) => {
                let running = matches!(c.try_wait(), Ok(None));
                let _ = c.kill();
                let _ = c.wait();
                running
            }
            None => false,
        }
    }

    /// Whether the process is still running (reaps it if it has ended).
    pub fn running(&mut self) -> bool {
        match &mut self.0 {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The files of one campaign run.
pub struct Run {
    pub dir: PathBuf,
    pub database: PathBuf,
    pub seed_file: PathBuf,
    pub server_address: String,
    pub sim_address: String,
}

impl Run {
    pub fn new(dir: PathBuf) -> anyhow::Result<Run> {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(Run {
            database: dir.join("inbox.db"),
            seed_file: dir.join("seed.json"),
            server_address: format!("127.0.0.1:{}", free_port()?),
            sim_address: format!("127.0.0.1:{}", free_port()?),
            dir,
        })
    }

    pub fn database_url(&self) -> String {
        format!("sqlite://{}", self.database.display())
    }

    /// `inbox-server seed-demo` into the run's database; returns its summary.
    pub fn seed(&self, b: &Binaries) -> anyhow::Result<Value> {
        let out = Command::new(&b.server)
            .args(["seed-demo", "--database-url", &self.database_url()])
            .stderr(Stdio::inherit())
            .output()
            .context("running inbox-server seed-demo")?;
        if !out.status.success() {
            anyhow::bail!("inbox-server seed-demo exited with {}", out.status);
        }
        std::fs::write(&self.seed_file, &out.stdout)?;
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    /// Starts the server on the run's database and waits until it listens.
    pub fn server(&self, b: &Binaries) -> anyhow::Result<Proc> {
        let url = format!("http://{}", self.server_address);
        let sim = format!("http://{}", self.sim_address);
        let (out, err) = log(&self.dir, "server.log")?;
        let child = Command::new(&b.server)
            .args([
                "serve",
                "--listen",
                &self.server_address,
                "--database-url",
                &self.database_url(),
            ])
            // The run's own spool, beside its database (not the user's data directory).
            .env("INBOX_SPOOL_DIR", &self.dir)
            // Replies whose status callbacks met a killed server are looked up within the
            // final settle, not after the production default of ten minutes.
            .env("INBOX_STATUS_LOOKUP_AFTER_SECS", "15")
            .env("INBOX_PUBLIC_URL", &url)
            .env("INBOX_TWILIO_API_BASE", &sim)
            .env("INBOX_WHATSAPP_API_BASE", format!("{sim}/v23.0"))
            .env("INBOX_WHATSAPP_APP_SECRET", APP_SECRET)
            .env("INBOX_WHATSAPP_VERIFY_TOKEN", "chaos-verify-token")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .context("starting inbox-server")?;
        let mut p = Proc(Some(child));
        if !wait_listening(&self.server_address, Duration::from_secs(30)) || !p.running() {
            anyhow::bail!(
                "inbox-server did not start listening on {} (see {})",
                self.server_address,
                self.dir.join("server.log").display()
            );
        }
        Ok(p)
    }

    /// Starts the simulator: provider APIs only, nothing failing on its own, short delays.
    pub fn sim(&self, b: &Binaries, seed: u64) -> anyhow::Result<Proc> {
        let (out, err) = log(&self.dir, "sim.log")?;
        let child = Command::new(&b.sim)
            .args(["--server", &format!("http://{}", self.server_address)])
            .args(["--listen", &self.sim_address])
            .arg("--summary")
            .arg(&self.seed_file)
            .args(["--app-secret", APP_SECRET, "--no-customers"])
            .args(["--failure-rate", "0", "--min-delay-ms", "50"])
            .args(["--max-delay-ms", "400", "--seed", &seed.to_string()])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .context("starting inbox-sim")?;
        let p = Proc(Some(child));
        if !wait_listening(&self.sim_address, Duration::from_secs(30)) {
            anyhow::bail!("inbox-sim did not start listening on {}", self.sim_address);
        }
        Ok(p)
    }

    pub fn cache(&self, engine: usize) -> PathBuf {
        self.dir.join(format!("engine-{engine}.sqlite"))
    }

    /// Starts engine `i` (through `server_url`, the proxy) on its own cache.
    pub fn engine(
        &self,
        b: &Binaries,
        i: usize,
        server_url: &str,
        session: &(String, i64),
        apply_delay_ms: u64,
    ) -> anyhow::Result<Proc> {
        let (out, err) = log(&self.dir, &format!("engine-{i}.log"))?;
        let child = Command::new(&b.node)
            .args(["engine", server_url, &session.0, &session.1.to_string()])
            .arg(self.cache(i))
            .arg(apply_delay_ms.to_string())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .context("starting chaos_node engine")?;
        Ok(Proc(Some(child)))
    }

    /// Holds `BEGIN EXCLUSIVE` on the server's database for `ms`, in the background.
    pub fn lock(&self, b: &Binaries, ms: u64) -> anyhow::Result<Proc> {
        let (out, err) = log(&self.dir, "lock.log")?;
        let child = Command::new(&b.node)
            .arg("lock")
            .arg(&self.database)
            .arg(ms.to_string())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .context("starting chaos_node lock")?;
        Ok(Proc(Some(child)))
    }

    /// One JSON line from a `chaos_node` report mode.
    pub fn report(&self, b: &Binaries, args: &[&str]) -> anyhow::Result<Value> {
        let out = Command::new(&b.node)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .context("running chaos_node")?;
        if !out.status.success() {
            anyhow::bail!(
                "chaos_node {} failed: {}",
                args.first().copied().unwrap_or(""),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }
}
