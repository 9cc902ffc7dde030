//! `cargo xtask bench`: the server's conversation-list benchmark (criterion).

use crate::cmd::{cargo, timed};

/// Extra arguments go to criterion, after `--` (e.g. a benchmark name filter, `--quick`).
pub fn run(criterion_args: &[String]) -> anyhow::Result<()> {
    let mut c = cargo([
        "bench",
        "-p",
        "inbox-server",
        "--bench",
        "conversation_list",
    ]);
    if !criterion_args.is_empty() {
        c.arg("--").args(criterion_args);
    }
    timed("bench", c).map(|_| ())
}
