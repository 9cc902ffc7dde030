//! `cargo xtask package linux`: the `.deb` and `.rpm` from Tauri's bundler, and
//! `cargo xtask installed-e2e`: the `.deb` installed with `apt-get` and driven end to end.
//!
//! The bundler is the Tauri CLI pinned in `packaging/package.json` (npm, with its lock file):
//! the npm package carries a prebuilt binary, where `cargo install tauri-cli` would compile for
//! ten minutes on every clean CI run. The CLI wants its configuration next to a package's
//! `Cargo.toml`, so `packaging/stage-tauri-cli.sh` stages it in `src-tauri/` first and removes
//! the copies afterwards.
//!
//! One `[profile.dist]` build serves the packages, the installed end-to-end run and the size
//! figures. An AppImage is not made: the bundler downloads linuxdeploy and its AppRun at bundle
//! time, which a build without network access to GitHub cannot do.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::cmd::{root, succeeds, target_dir, timed};

/// The Tauri CLI version `packaging/package.json` pins, as `tauri --version` prints it.
const TAURI_CLI: &str = "tauri-cli 2.12.5";

/// Where the installed package puts the app.
const INSTALLED_APP: &str = "/usr/bin/garage-inbox";

/// Builds the app with `[profile.dist]` and bundles it; returns the `.deb` and the `.rpm`.
pub fn package() -> anyhow::Result<Vec<PathBuf>> {
    crate::ui::build()?;
    let cli = tauri_cli()?;
    let root = root();
    let stage = root.join("packaging/stage-tauri-cli.sh");
    timed("stage tauri.conf.json", bash(&stage, &[]))?;
    let mut build = Command::new(&cli);
    build
        .args(["build", "--ci", "--no-sign", "--bundles", "deb,rpm", "--"])
        .args(["--profile", "dist"])
        .current_dir(root.join("src-tauri"));
    let built = timed("tauri build (profile dist; .deb and .rpm)", build);
    timed("unstage tauri.conf.json", bash(&stage, &["clean"]))?;
    built?;

    let bundle = target_dir().join("dist").join("bundle");
    let packages = [("deb", "deb"), ("rpm", "rpm")]
        .iter()
        .map(|(dir, ext)| newest(&bundle.join(dir), ext))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let binary = target_dir().join("dist").join("garage-inbox");
    eprintln!("package linux: app binary {}", super::mb(bytes(&binary)?));
    for p in &packages {
        let size = bytes(p)?;
        eprintln!("package linux: {} {}", p.display(), super::mb(size));
        anyhow::ensure!(
            size <= super::MAX_INSTALLER_BYTES,
            "{} is {}, over the {} budget",
            p.display(),
            super::mb(size),
            super::mb(super::MAX_INSTALLER_BYTES)
        );
    }
    Ok(packages)
}

/// Builds the `.deb`, installs it system-wide (root, or sudo), and runs the end-to-end test
/// that drives the installed app (`installed::`), with `GARAGE_INBOX_APP` naming it.
pub fn installed_e2e() -> anyhow::Result<()> {
    let packages = package()?;
    let deb = packages
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .context("the bundler made no .deb")?;
    // apt-get rather than dpkg -i: it installs the package's dependencies too, as a garage's
    // machine would, and fails when one cannot be met.
    let mut install = as_root("apt-get");
    install
        .args([
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "--reinstall",
        ])
        .arg(deb)
        .env("DEBIAN_FRONTEND", "noninteractive");
    timed("install the .deb", install)?;
    anyhow::ensure!(
        Path::new(INSTALLED_APP).is_file(),
        "the .deb did not install {INSTALLED_APP}"
    );
    crate::e2e::run_installed(INSTALLED_APP)
}

/// The pinned Tauri CLI under `packaging/node_modules`, installed with `npm ci` when missing or
/// at another version.
fn tauri_cli() -> anyhow::Result<PathBuf> {
    let packaging = root().join("packaging");
    let cli = packaging.join("node_modules/.bin/tauri");
    let version = |cli: &Path| {
        Command::new(cli)
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    if version(&cli).as_deref() == Some(TAURI_CLI) {
        return Ok(cli);
    }
    if !succeeds({
        let mut c = Command::new("npm");
        c.arg("--version");
        c
    }) {
        anyhow::bail!("npm is not installed (Debian package `npm`; .ci/setup.sh installs it)");
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&packaging);
    timed("install the Tauri CLI (npm ci)", npm)?;
    let got = version(&cli);
    anyhow::ensure!(
        got.as_deref() == Some(TAURI_CLI),
        "packaging/node_modules has {got:?}, not {TAURI_CLI}: packaging/package.json and its lock file disagree with xtask"
    );
    Ok(cli)
}

/// The most recently written `*.ext` in `dir` (the bundler names files by version).
fn newest(dir: &Path, ext: &str) -> anyhow::Result<PathBuf> {
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, p)| p)
        .with_context(|| format!("no .{ext} in {}", dir.display()))
}

fn bytes(path: &Path) -> anyhow::Result<u64> {
    Ok(path
        .metadata()
        .with_context(|| format!("{} is missing", path.display()))?
        .len())
}

fn bash(script: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("bash");
    c.arg(script).args(args).current_dir(root());
    c
}

/// `program` as root: directly when we are root (CI), through sudo otherwise.
fn as_root(program: &str) -> Command {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if is_root {
        Command::new(program)
    } else {
        let mut c = Command::new("sudo");
        c.arg(program);
        c
    }
}
