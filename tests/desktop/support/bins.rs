//! The binaries under test, built by `cargo xtask e2e` into the same target directory as this
//! test binary (`target/debug/deps/desktop-…` → `target/debug/`).

use std::path::PathBuf;

pub fn dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe.parent().expect("deps directory");
    deps.parent().expect("profile directory").to_path_buf()
}

/// A workspace binary; panics with the command that builds it when it is missing.
pub fn path(name: &str) -> PathBuf {
    let p = dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        p.exists(),
        "{} is missing: run the desktop tests with `cargo xtask e2e` (it builds the app, the server and the simulator)",
        p.display()
    );
    p
}

/// The desktop app under test: the installed one when `GARAGE_INBOX_APP` names it (`cargo xtask
/// installed-e2e`, issue 14), else the workspace's build.
pub fn app() -> PathBuf {
    std::env::var_os("GARAGE_INBOX_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| path("garage-inbox"))
}

/// `target/screenshots/` of the workspace.
pub fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("screenshots");
    std::fs::create_dir_all(&dir).expect("creating target/screenshots");
    dir
}
