//! `cargo xtask e2e`: the desktop app's end-to-end tests in the real window.
//!
//! Builds the UI, the app, the server and the simulator; then runs the `inbox-e2e` tests inside
//! a virtual display (Xvfb) and a private D-Bus session holding an unlocked Secret Service
//! (gnome-keyring, for the session token) and a notification server (dunst, whose Notify calls
//! the tests watch). Screenshots land in `target/screenshots/`.

use std::process::Command;

use crate::cmd::{cargo, display, root, succeeds, timed};

/// Programs the run needs, with the Debian package that has each.
const TOOLS: [(&str, &str); 6] = [
    ("xvfb-run", "xvfb"),
    ("dbus-run-session", "dbus"),
    ("dbus-monitor", "dbus"),
    ("WebKitWebDriver", "webkit2gtk-driver"),
    ("gnome-keyring-daemon", "gnome-keyring"),
    ("dunst", "dunst"),
];

/// tauri-driver, pinned (its newest release on crates.io is a 3.0 alpha).
const TAURI_DRIVER: &str = "2.1.0";

pub fn run(filter: &[String]) -> anyhow::Result<()> {
    prepare(false)?;
    let screenshots = root().join("target").join("screenshots");
    std::fs::create_dir_all(&screenshots)?;
    let mut test = workspace_tests(true);
    test.args(filter);
    eprintln!(
        "e2e: running `{}` under Xvfb and a private D-Bus session",
        display(&test)
    );
    timed("e2e", in_session(&test))?;
    eprintln!("e2e: screenshots in {}", screenshots.display());
    Ok(())
}

/// The end-to-end test of the installed app (issue 14, `installed::`, ignored in the ordinary
/// run) against `app`, the binary the package installed.
pub fn run_installed(app: &str) -> anyhow::Result<()> {
    prepare(false)?;
    let test = if succeeds(cargo(["nextest", "--version"])) {
        cargo([
            "nextest",
            "run",
            "--workspace",
            "-E",
            "package(inbox-e2e) and test(/^installed::/)",
            "--run-ignored",
            "only",
        ])
    } else {
        cargo([
            "test",
            "--workspace",
            "--test",
            "desktop",
            "--",
            "--ignored",
            "--exact",
            "installed::installed_package_signs_in_syncs_notifies_and_opens_links",
        ])
    };
    // On the session's command: `in_session` runs the test's words, not its environment.
    let mut session = in_session(&test);
    session.env("GARAGE_INBOX_APP", app);
    timed("installed e2e", session).map(|_| ())
}

/// The workspace's tests: all but the desktop end-to-end ones, or (`e2e`) only those, one at a
/// time (they share the display). Both select the whole workspace, so cargo resolves features
/// once and the second run compiles nothing new. nextest when installed, else cargo test.
pub fn workspace_tests(e2e: bool) -> Command {
    if succeeds(cargo(["nextest", "--version"])) {
        let filter = if e2e {
            "package(inbox-e2e)"
        } else {
            "not package(inbox-e2e)"
        };
        let mut c = cargo(["nextest", "run", "--workspace", "-E", filter]);
        if e2e {
            c.args(["--test-threads", "1", "--no-fail-fast"]);
        }
        c
    } else if e2e {
        cargo([
            "test",
            "--workspace",
            "--test",
            "desktop",
            "--",
            "--test-threads=1",
        ])
    } else {
        cargo(["test", "--workspace", "--exclude", "inbox-e2e"])
    }
}

/// Checks the system tools, installs tauri-driver if needed, builds the UI, then the binaries
/// the tests launch: debug through the workspace's test build (which builds `garage-inbox`,
/// `inbox-server` and `inbox-sim` for their own integration tests), or release for benchmarks.
pub fn prepare(release: bool) -> anyhow::Result<()> {
    check_tools()?;
    ensure_tauri_driver()?;
    crate::ui::build()?;
    if release {
        timed(
            "build app, server, simulator",
            cargo([
                "build",
                "--release",
                "-p",
                "garage-inbox",
                "-p",
                "inbox-server",
                "-p",
                "inbox-sim",
            ]),
        )?;
    } else {
        let build = if succeeds(cargo(["nextest", "--version"])) {
            cargo([
                "nextest",
                "run",
                "--workspace",
                "-E",
                "package(inbox-e2e)",
                "--no-run",
            ])
        } else {
            cargo(["test", "--workspace", "--no-run"])
        };
        timed("build tests and binaries", build)?;
    }
    Ok(())
}

/// `command` inside a virtual display and a private D-Bus session whose keyring is unlocked and
/// whose notification server runs.
pub fn in_session(command: &Command) -> Command {
    let script = format!(
        "set -e; printf 'e2e-keyring' | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
         dunst >/dev/null 2>&1 & \
         cd '{}' && {}",
        root().display(),
        shell_words(command)
    );
    let mut c = Command::new("xvfb-run");
    c.args([
        "-a",
        "-s",
        "-screen 0 1440x900x24",
        "dbus-run-session",
        "--",
        "sh",
        "-c",
    ])
    .arg(script);
    c
}

fn check_tools() -> anyhow::Result<()> {
    let missing: Vec<String> = TOOLS
        .iter()
        .filter(|(tool, _)| !on_path(tool))
        .map(|(tool, package)| format!("{tool} (apt-get install {package})"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "the desktop tests need: {} — `bash .ci/run` installs them",
            missing.join(", ")
        )
    }
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

/// tauri-driver has no `--version`: ask cargo what it installed.
fn ensure_tauri_driver() -> anyhow::Result<()> {
    let installed = cargo(["install", "--list"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if on_path("tauri-driver")
        && installed
            .lines()
            .any(|l| l.starts_with(&format!("tauri-driver v{TAURI_DRIVER}")))
    {
        return Ok(());
    }
    timed(
        "install tauri-driver",
        cargo([
            "install",
            "tauri-driver",
            "--locked",
            "--version",
            TAURI_DRIVER,
        ]),
    )
    .map(|_| ())
}

/// The command as one `sh` line, each word single-quoted.
fn shell_words(c: &Command) -> String {
    std::iter::once(c.get_program())
        .chain(c.get_args())
        .map(|w| format!("'{}'", w.to_string_lossy().replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}
