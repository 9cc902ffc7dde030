//! Where the server keeps its data and listens, from flags and `INBOX_*` environment variables.

use std::path::PathBuf;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// `sqlite://<platform data dir>/garage-inbox/inbox.db`, e.g. `~/.local/share/garage-inbox/inbox.db`.
pub fn default_database_url() -> String {
    let dir = directories::ProjectDirs::from("", "", "garage-inbox")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("."));
    format!("sqlite://{}", dir.join("inbox.db").display())
}
