//! Running cargo and other programs from the workspace root, as named and timed steps.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// The workspace root: the directory above this crate.
pub fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` (relative to the root) or `target/`.
pub fn target_dir() -> PathBuf {
    let root = root();
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"))
}

/// `cargo` as a command run from the workspace root. Uses the cargo that started us (`$CARGO`),
/// so a pinned toolchain stays pinned.
pub fn cargo<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new(cargo);
    c.args(args).current_dir(root());
    c
}

/// The command line as a person would type it, for messages.
pub fn display(c: &Command) -> String {
    let program = Path::new(c.get_program())
        .file_name()
        .unwrap_or(c.get_program())
        .to_string_lossy()
        .into_owned();
    std::iter::once(program)
        .chain(c.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the command runs and exits 0, with its output discarded (tool detection).
pub fn succeeds(mut c: Command) -> bool {
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs a command with inherited stdio; an error names the step and the command.
pub fn run(step: &str, mut c: Command) -> anyhow::Result<()> {
    let line = display(&c);
    let status = c
        .status()
        .with_context(|| format!("step `{step}`: could not start `{line}`"))?;
    if !status.success() {
        anyhow::bail!("step `{step}` failed: `{line}` exited with {status}");
    }
    Ok(())
}

/// Runs a step, printing what it runs before and how long it took after.
pub fn timed(step: &str, c: Command) -> anyhow::Result<Duration> {
    eprintln!("==> {step}: {}", display(&c));
    let start = Instant::now();
    let result = run(step, c);
    let took = start.elapsed();
    match &result {
        Ok(()) => eprintln!("<== {step}: ok in {}", secs(took)),
        Err(_) => eprintln!("<== {step}: FAILED after {}", secs(took)),
    }
    result.map(|()| took)
}

/// A duration as seconds with one decimal, e.g. `12.3s`.
pub fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}
