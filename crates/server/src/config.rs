//! Where the server keeps its data and listens, from flags and `INBOX_*` environment variables.

use std::path::PathBuf;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// The platform data directory of the server, e.g. `~/.local/share/garage-inbox`.
pub fn data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "garage-inbox")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `sqlite://<platform data dir>/garage-inbox/inbox.db`, e.g. `~/.local/share/garage-inbox/inbox.db`.
pub fn default_database_url() -> String {
    format!("sqlite://{}", data_dir().join("inbox.db").display())
}
