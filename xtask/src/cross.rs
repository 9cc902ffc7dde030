//! `cargo xtask clippy-windows` and `cargo xtask clippy-macos`: clippy `-D warnings` over the
//! desktop side for the platforms the users run (issue 14), so `cfg(windows)` and
//! `cfg(target_os = "macos")` code is compiled and linted on every commit, here on Linux.
//!
//! Checked: `inbox-core`, `inbox-client` and `garage-inbox` (the app), all targets (tests
//! included); for Intel Macs the app and the libraries it uses, without the tests. The UI is left out: it is wasm32 on every platform, and the host clippy already
//! lints it. Clippy only type-checks, so nothing is linked, but build scripts run, and those
//! that compile C (bundled SQLite, ring) need a C compiler for the target:
//! - Windows: Debian's mingw-w64 (`x86_64-w64-mingw32-gcc`), which the `cc` crate finds itself;
//! - macOS: `zig cc` from the PyPI package `ziglang` (pinned), through `packaging/macos/zig-cc`.
//!   Apple's SDK is not here: `mac-notification-sys` (under notify-rust) compiles Objective-C
//!   against Cocoa in its build script, which it skips when `DOCS_RS` is set; for clippy the
//!   skipped object file does not matter (docs/ARCHITECTURE.md, "Shipping").

use std::path::Path;
use std::process::Command;

use crate::cmd::{cargo, root, succeeds, timed};

/// The crates of the desktop side that build for the desktop platforms.
const DESKTOP: [&str; 3] = ["inbox-core", "inbox-client", "garage-inbox"];

pub const WINDOWS: &str = "x86_64-pc-windows-gnu";
/// The macOS target checked, and zig's name for it. Apple silicon only: Intel Macs run the same
/// `cfg(target_os = "macos")` code and differ in the CPU alone, and a second macOS check cost six
/// minutes of CI (the release workflow builds both natively).
const MACOS: (&str, &str) = ("aarch64-apple-darwin", "aarch64-macos");

/// The pinned ziglang wheel and the version `python3 -m ziglang version` prints.
pub const ZIGLANG_WHEEL: &str = "ziglang==0.13.0";
const ZIG_VERSION: &str = "0.13.0";

pub fn clippy_windows() -> anyhow::Result<()> {
    ensure_target(WINDOWS)?;
    if !succeeds(tool("x86_64-w64-mingw32-gcc", &["--version"])) {
        anyhow::bail!(
            "x86_64-w64-mingw32-gcc is not installed (Debian package `mingw-w64`; .ci/setup.sh \
             installs it)"
        );
    }
    timed("clippy-windows", clippy(WINDOWS)).map(|_| ())
}

pub fn clippy_macos() -> anyhow::Result<()> {
    let zig_version = Command::new("python3")
        .args(["-m", "ziglang", "version"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if zig_version.as_deref() != Some(ZIG_VERSION) {
        anyhow::bail!(
            "zig {ZIG_VERSION} is not installed (found {zig_version:?}): `python3 -m pip install \
             {ZIGLANG_WHEEL}` (.ci/setup.sh installs it)"
        );
    }
    let wrapper = root().join("packaging/macos/zig-cc");
    let (target, zig_target) = MACOS;
    ensure_target(target)?;
    let mut c = clippy(target);
    macos_c_compiler(&mut c, target, zig_target, &wrapper);
    timed(&format!("clippy-macos {target}"), c).map(|_| ())
}

/// `cargo clippy` for `target` over the desktop crates' libraries and binaries, warnings denied.
/// Not their tests: the client's tests run a real server, which would compile the whole server
/// for the target again, and the tests' own `cfg` branches are the host's.
fn clippy(target: &str) -> Command {
    let mut args = vec!["clippy", "--target", target];
    for p in DESKTOP {
        args.extend(["-p", p]);
    }
    args.extend(["--", "-D", "warnings"]);
    cargo(args)
}

/// The C compiler and archiver for a macOS target, and the switches for crates that need the SDK.
fn macos_c_compiler(c: &mut Command, target: &str, zig_target: &str, wrapper: &Path) {
    let var = target.replace('-', "_");
    c.env(format!("CC_{var}"), wrapper)
        .env(format!("CXX_{var}"), wrapper)
        .env("ZIG_CC_TARGET", zig_target)
        // mac-notification-sys compiles Objective-C against Cocoa.h (Apple's SDK); its build
        // script skips that for docs.rs, which is all a type-check needs.
        .env("DOCS_RS", "1")
        // Zig keeps its cache outside the source tree.
        .env(
            "ZIG_GLOBAL_CACHE_DIR",
            crate::cmd::target_dir().join("tools/zig-cache"),
        )
        .env(
            "ZIG_LOCAL_CACHE_DIR",
            crate::cmd::target_dir().join("tools/zig-cache"),
        );
}

/// Fails with the command to run when rustup lacks the standard library for `target`.
fn ensure_target(target: &str) -> anyhow::Result<()> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if !Path::new(&sysroot)
        .join("lib/rustlib")
        .join(target)
        .is_dir()
    {
        anyhow::bail!(
            "the Rust standard library for {target} is not installed: `rustup target add \
             {target}` (.ci/setup.sh adds it)"
        );
    }
    Ok(())
}

fn tool(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args);
    c
}
