//! The app binary before any window opens: a data directory it cannot use is a clear error and
//! exit status 1, not a crash. (Also makes `cargo test` build the `garage-inbox` binary with the
//! workspace's test features, which the end-to-end tests then launch without a rebuild.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn an_unusable_data_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the data directory should be: it cannot be created.
    let blocked = dir.path().join("not-a-directory");
    std::fs::write(&blocked, b"").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_garage-inbox"))
        .env("GARAGE_INBOX_DATA_DIR", blocked.join("inbox"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("garage-inbox: cannot create the data directory"),
        "{stderr}"
    );
}
