//! `cargo xtask`: the project's own task runner (see `usage()` for the commands).
//!
//! Plain `std::process::Command` and hand-rolled argument parsing, so the runner builds in
//! seconds and needs nothing beyond the workspace's own dependencies.

mod bench;
mod chaos;
mod ci;
mod cmd;
mod cross;
mod demo;
mod e2e;
#[cfg(test)]
mod features;
mod icons;
mod package;
mod packaging;
mod ui;

use std::process::ExitCode;

fn usage() -> &'static str {
    "\
Garage Inbox task runner

Usage: cargo xtask <command> [args]

Commands:
  ci             What CI runs, in order, stopping at the first failure:
                 cargo fmt --check, the UI build, the packaging checks, cargo clippy
                 -D warnings, the tests (cargo nextest when installed, else cargo test),
                 the server suite on PostgreSQL (when INBOX_TEST_POSTGRES_URL is set),
                 clippy-windows, clippy-macos, package windows --check, the short fault
                 campaign (unless INBOX_CI_CHAOS=0), e2e, then installed-e2e
  demo           Build the server, the simulator and the desktop app (release), seed a
                 fresh demo database under target/demo/, then run the server (on
                 $INBOX_LISTEN, default 127.0.0.1:8787), the simulator playing customers,
                 and the app, until Ctrl-C
  e2e [FILTER]   The desktop app's end-to-end tests in the real window (Xvfb, tauri-driver,
                 WebKitWebDriver), against a real server and the provider simulator;
                 screenshots in target/screenshots/
  icons [--check]  Make the app's icon set (assets/app-icons/: PNGs, icon.ico,
                 icon.icns) from assets/icon.png; --check fails when the committed set
                 is not what the drawing makes
  ui             Build the Yew UI (wasm32 + wasm-bindgen) into ui/dist, which the app bundles
  clippy-windows cargo clippy -D warnings over inbox-core, inbox-client and the app for
                 x86_64-pc-windows-gnu (needs mingw-w64), so cfg(windows) code is linted
  clippy-macos   The same for aarch64-apple-darwin, with zig cc
                 (PyPI ziglang 0.13.0) as the C compiler
  package windows [--check]
                 Cross-build garage-inbox.exe (profile dist) and the NSIS installer
                 (packaging/windows/installer.nsi) into target/package/windows/;
                 --check installs and uninstalls it under Wine and checks the result
  packaging      Check the release files no build compiles: the workflows (actionlint,
                 shellcheck), the macOS plists, the packaging scripts, tauri.conf.json's paths
  package linux  The .deb and .rpm (Tauri's bundler, pinned in packaging/package.json)
                 from one [profile.dist] build, in target/dist/bundle/
  installed-e2e  Build and install the .deb (apt-get; root or sudo), then drive the
                 installed app end to end: sign-in, live sync, a notification, a
                 garage-inbox:// link opened through the desktop
  bench [NAME [ARGS]]  every benchmark, or one of conversation_list, fanout, ingest,
                 login_flood, cache, initial_sync; ARGS go to that benchmark
  chaos [ROUNDS] The fault campaign (issue 13): the real server, the provider simulator and
                 headless engines on loopback, faults injected at random (server and engine
                 SIGKILL, connection drops, provider 5xx/timeouts/slow answers, the database
                 locked); fails when a message was lost or doubled. Default 10 rounds (~50
                 faults); options --seed N --engines N --faults N --release. Report in
                 target/chaos/report.json
  help           This text

On a fresh Debian machine, `bash .ci/run` installs what is missing and runs `cargo xtask ci`;
`bash .ci/demo` does the same for `cargo xtask demo`."
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let result = match command.as_deref() {
        None | Some("help" | "-h" | "--help") => {
            println!("{}", usage());
            Ok(())
        }
        Some("ci") => no_args("ci", &rest).and_then(|()| ci::run()),
        Some("demo") => no_args("demo", &rest).and_then(|()| demo::run()),
        Some("bench") => bench::run(&rest),
        Some("e2e") => e2e::run(&rest),
        Some("chaos") => chaos::run(&rest),
        Some("ui") => no_args("ui", &rest).and_then(|()| ui::build().map(|_| ())),
        Some("icons") => icons::run(&rest),
        Some("clippy-windows") => {
            no_args("clippy-windows", &rest).and_then(|()| cross::clippy_windows())
        }
        Some("clippy-macos") => no_args("clippy-macos", &rest).and_then(|()| cross::clippy_macos()),
        Some("package") => package::run(&rest),
        Some("installed-e2e") => {
            no_args("installed-e2e", &rest).and_then(|()| package::installed_e2e())
        }
        Some("packaging") => no_args("packaging", &rest).and_then(|()| packaging::check()),
        Some(other) => Err(anyhow::anyhow!("unknown command {other:?}\n\n{}", usage())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn no_args(command: &str, rest: &[String]) -> anyhow::Result<()> {
    if rest.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "`cargo xtask {command}` takes no arguments (got {})",
            rest.join(" ")
        )
    }
}
