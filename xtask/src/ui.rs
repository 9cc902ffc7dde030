//! `cargo xtask ui`: builds the Yew UI into `ui/dist`, the directory Tauri bundles.
//!
//! `inbox-ui` → wasm32 (`[profile.ui]`: for size, whole-program) → `wasm-bindgen --target web` → `ui/dist/`, plus the static
//! files of `ui/static/` (index.html, main.js, styles.css) and the icons of `assets/icons/`
//! (as `ui/dist/icons/`). The wasm-bindgen CLI must match the `wasm-bindgen` version in
//! Cargo.lock; a missing or different one is installed (pinned) first.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::cmd::{cargo, root, target_dir, timed};

/// Builds the UI; returns `ui/dist`.
pub fn build() -> anyhow::Result<PathBuf> {
    let root = root();
    let dist = root.join("ui").join("dist");
    ensure_wasm_target()?;
    let version = locked_wasm_bindgen_version(&root.join("Cargo.lock"))?;
    ensure_wasm_bindgen_cli(&version)?;
    timed(
        "ui wasm",
        cargo([
            "build",
            "-p",
            "inbox-ui",
            "--lib",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "ui",
        ]),
    )?;
    let target = target_dir();
    let wasm = target
        .join("wasm32-unknown-unknown")
        .join("ui")
        .join("inbox_ui.wasm");
    // Built beside the target first, then copied into ui/dist file by file where the bytes
    // differ: the app's build script watches ui/dist, so rewriting identical files would relink
    // the app (debug, test and dist builds alike) after every `cargo xtask ui`.
    let staging = target.join("ui-dist");
    if staging.exists() {
        fs::remove_dir_all(&staging).with_context(|| format!("clearing {}", staging.display()))?;
    }
    fs::create_dir_all(&staging)?;
    let mut bindgen = Command::new("wasm-bindgen");
    bindgen
        // The name section only names functions in a debugger's stack traces; WebKit parses and
        // keeps it with the module (a fifth of the file).
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--remove-name-section",
            "--out-dir",
        ])
        .arg(&staging)
        .arg(&wasm);
    timed("ui bindgen", bindgen)?;
    copy_dir(&root.join("ui").join("static"), &staging)?;
    copy_dir(&root.join("assets").join("icons"), &staging.join("icons"))?;
    let changed = sync_dir(&staging, &dist)?;
    eprintln!("ui: built {} ({changed} files changed)", dist.display());
    Ok(dist)
}

fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running rustup")?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    let mut add = Command::new("rustup");
    add.args(["target", "add", "wasm32-unknown-unknown"]);
    timed("rustup target", add).map(|_| ())
}

/// The `wasm-bindgen` version Cargo.lock pins (the CLI must be exactly this version).
pub fn locked_wasm_bindgen_version(lock: &Path) -> anyhow::Result<String> {
    let text = fs::read_to_string(lock).with_context(|| format!("reading {}", lock.display()))?;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
            {
                return Ok(v.trim_matches('"').to_string());
            }
        }
    }
    anyhow::bail!("Cargo.lock has no wasm-bindgen package")
}

fn ensure_wasm_bindgen_cli(version: &str) -> anyhow::Result<()> {
    let current = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if current.as_deref() == Some(&format!("wasm-bindgen {version}")) {
        return Ok(());
    }
    // Without --locked: the CLI's own lock file names a crate version the index may lack.
    timed(
        "install wasm-bindgen-cli",
        cargo(["install", "wasm-bindgen-cli", "--version", version]),
    )
    .map(|_| ())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()))?;
        } else {
            fs::copy(&path, to.join(entry.file_name()))
                .with_context(|| format!("copying {}", path.display()))?;
        }
    }
    Ok(())
}

/// Makes `to` hold exactly the files of `from`, writing only those whose bytes differ and
/// removing those `from` lacks; returns how many files it wrote or removed.
fn sync_dir(from: &Path, to: &Path) -> anyhow::Result<usize> {
    fs::create_dir_all(to)?;
    let mut changed = 0;
    let mut wanted = std::collections::HashSet::new();
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        wanted.insert(entry.file_name());
        if src.is_dir() {
            if dst.is_file() {
                fs::remove_file(&dst)?;
            }
            changed += sync_dir(&src, &dst)?;
        } else {
            let bytes = fs::read(&src).with_context(|| format!("reading {}", src.display()))?;
            if dst.is_dir() {
                fs::remove_dir_all(&dst)?;
            }
            if fs::read(&dst).ok().as_deref() != Some(bytes.as_slice()) {
                fs::write(&dst, &bytes).with_context(|| format!("writing {}", dst.display()))?;
                changed += 1;
            }
        }
    }
    for entry in fs::read_dir(to)? {
        let entry = entry?;
        if !wanted.contains(&entry.file_name()) {
            let path = entry.path();
            if path.is_dir() {
                fs::remove_dir_all(&path)?;
            } else {
                fs::remove_file(&path)?;
            }
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_locked_wasm_bindgen_version() {
        let dir = std::env::temp_dir().join(format!("xtask-lock-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let lock = dir.join("Cargo.lock");
        fs::write(
            &lock,
            "[[package]]\nname = \"wasm-bindgen-macro\"\nversion = \"0.2.1\"\n\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n",
        )
        .unwrap();
        assert_eq!(locked_wasm_bindgen_version(&lock).unwrap(), "0.2.130");
        fs::remove_dir_all(&dir).unwrap();
    }

    /// An unchanged build leaves ui/dist's files untouched (the app's build script watches
    /// their modification times); changed, new and removed files are carried over.
    #[test]
    fn sync_writes_only_what_differs() {
        let base = std::env::temp_dir().join(format!("xtask-sync-{}", std::process::id()));
        let (from, to) = (base.join("from"), base.join("to"));
        fs::create_dir_all(from.join("icons")).unwrap();
        fs::write(from.join("index.html"), "<html>").unwrap();
        fs::write(from.join("icons/sms.svg"), "<svg/>").unwrap();
        assert_eq!(sync_dir(&from, &to).unwrap(), 2);
        let stamp = |p: &Path| fs::metadata(p).unwrap().modified().unwrap();
        let before = stamp(&to.join("index.html"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(sync_dir(&from, &to).unwrap(), 0);
        assert_eq!(stamp(&to.join("index.html")), before);

        fs::write(from.join("index.html"), "<html lang=en>").unwrap();
        fs::remove_file(from.join("icons/sms.svg")).unwrap();
        fs::write(to.join("stale.js"), "old").unwrap();
        assert_eq!(sync_dir(&from, &to).unwrap(), 3);
        assert_eq!(
            fs::read_to_string(to.join("index.html")).unwrap(),
            "<html lang=en>"
        );
        assert!(!to.join("icons/sms.svg").exists() && !to.join("stale.js").exists());
        fs::remove_dir_all(&base).unwrap();
    }
}
