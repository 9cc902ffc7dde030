//! `cargo xtask ci`: exactly what CI runs, in order, stopping at the first failure.

use std::time::Instant;

use crate::cmd::{cargo, secs, succeeds, timed};

pub fn run() -> anyhow::Result<()> {
    let start = Instant::now();
    let mut steps = vec![
        ("fmt", cargo(["fmt", "--all", "--", "--check"])),
        (
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
    // the fallback on machines without it. Neither runs doc tests: the workspace has none.
    if succeeds(cargo(["nextest", "--version"])) {
        steps.push(("test", cargo(["nextest", "run", "--workspace"])));
    } else {
        eprintln!("(cargo-nextest is not installed: running the tests with cargo test)");
        steps.push(("test", cargo(["test", "--workspace"])));
    }
    // Issue 8: the server suite again against PostgreSQL when a cluster is given (`.ci/run`
    // starts a throwaway one and sets the URL): one suite, each test in a database of its own.
    if std::env::var_os("INBOX_TEST_POSTGRES_URL").is_some() {
        let mut c = cargo(["test", "-p", "inbox-server"]);
        c.env("INBOX_TEST_BACKEND", "postgres");
        steps.push(("test-postgres", c));
    } else {
        eprintln!("(INBOX_TEST_POSTGRES_URL is not set: the server suite runs on SQLite only)");
    }
    let mut timings = Vec::new();
    for (step, command) in steps {
        timings.push((step, timed(step, command)?));
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
