//! `cargo xtask ci`: exactly what CI runs, in order, stopping at the first failure.

use std::process::Command;
use std::time::Instant;

use crate::cmd::{cargo, secs, succeeds, timed};

/// A named step: a command, or one of xtask's own tasks.
type Step = (&'static str, Box<dyn FnOnce() -> anyhow::Result<()>>);

fn command(step: &'static str, c: Command) -> Step {
    (step, Box::new(move || timed(step, c).map(|_| ())))
}

pub fn run() -> anyhow::Result<()> {
    let start = Instant::now();
    let mut steps: Vec<Step> = vec![
        command("fmt", cargo(["fmt", "--all", "--", "--check"])),
        // The app bundles ui/dist at compile time, so the UI is built before anything compiles
        // the app (clippy included).
        ("ui", Box::new(|| crate::ui::build().map(|_| ()))),
        // Issue 14: the release workflow, plists and packaging scripts (needs ui/dist).
        ("packaging", Box::new(crate::packaging::check)),
        command(
            "clippy",
            cargo([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
        ),
    ];
    // nextest runs each test in its own process, in parallel across binaries; cargo test is
    // the fallback on machines without it. Neither runs doc tests: the workspace has none. The
    // desktop end-to-end tests need a display and run last, through `e2e`; they are built here
    // with the rest (one feature resolution for the workspace, so nothing is compiled twice).
    steps.push(command("test", crate::e2e::workspace_tests(false)));
    // Issue 8: the server suite again against PostgreSQL when a cluster is given (`.ci/run`
    // starts a throwaway one and sets the URL): one suite, each test in a database of its own.
    if std::env::var_os("INBOX_TEST_POSTGRES_URL").is_some() {
        // Through the workspace's own test build: `cargo test -p inbox-server` resolves
        // features for that package alone and so recompiles most dependencies.
        let mut c = if succeeds(cargo(["nextest", "--version"])) {
            cargo([
                "nextest",
                "run",
                "--workspace",
                "-E",
                "package(inbox-server)",
            ])
        } else {
            cargo(["test", "-p", "inbox-server"])
        };
        c.env("INBOX_TEST_BACKEND", "postgres");
        steps.push(command("test-postgres", c));
    } else {
        eprintln!("(INBOX_TEST_POSTGRES_URL is not set: the server suite runs on SQLite only)");
    }
    // Issue 14: the Windows and macOS code paths, linted for their targets, and the Windows
    // installer built and tried under Wine. One target directory serves all; after the tests,
    // so that the tests run first whatever happens to the cross builds.
    steps.push(("clippy-windows", Box::new(crate::cross::clippy_windows)));
    steps.push(("clippy-macos", Box::new(crate::cross::clippy_macos)));
    steps.push((
        "package-windows",
        Box::new(|| crate::package::run(&["windows".to_string(), "--check".to_string()])),
    ));
    // Issue 13: the short fault campaign (about 50 faults, a few minutes), after the tests;
    // `INBOX_CI_CHAOS=0` leaves it out of a local run.
    if std::env::var("INBOX_CI_CHAOS").is_ok_and(|v| v == "0") {
        eprintln!("(INBOX_CI_CHAOS=0: the fault campaign `cargo xtask chaos` is skipped)");
    } else {
        steps.push(("chaos", Box::new(|| crate::chaos::run(&[]))));
    }
    steps.push(("e2e", Box::new(|| crate::e2e::run(&[]))));
    // Issue 14: the .deb from one [profile.dist] build, installed with apt-get and driven end to
    // end (start, sign-in, live sync, a notification, a garage-inbox:// link).
    steps.push(("installed-e2e", Box::new(crate::package::installed_e2e)));
    let mut timings = Vec::new();
    for (step, task) in steps {
        let began = Instant::now();
        task()?;
        timings.push((step, began.elapsed()));
    }
    let summary: Vec<String> = timings
        .iter()
        .map(|(step, took)| format!("{step} {}", secs(*took)))
        .collect();
    eprintln!(
        "ci: all steps passed in {} ({})",
        secs(start.elapsed()),
        summary.join(", ")
    );
    Ok(())
}
