//! `cargo xtask ui`: builds the Yew UI into `ui/dist`, the directory Tauri bundles.
//!
//! `inbox-ui` → wasm32 (release) → `wasm-bindgen --target web` → `ui/dist/`, plus the static
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
            "--release",
        ]),
    )?;
    let wasm = target_dir()
        .join("wasm32-unknown-unknown")
        .join("release")
        .join("inbox_ui.wasm");
    if dist.exists() {
        fs::remove_dir_all(&dist).with_context(|| format!("clearing {}", dist.display()))?;
    }
    fs::create_dir_all(&dist)?;
    let mut bindgen = Command::new("wasm-bindgen");
    bindgen
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&dist)
        .arg(&wasm);
    timed("ui bindgen", bindgen)?;
    copy_dir(&root.join("ui").join("static"), &dist)?;
    copy_dir(&root.join("assets").join("icons"), &dist.join("icons"))?;
    eprintln!("ui: built {}", dist.display());
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
}
