//! The database a server benchmark runs on: a SQLite file by default; PostgreSQL when
//! `INBOX_BENCH_POSTGRES_URL` names a cluster's maintenance database (a scratch database is
//! created and dropped); `INBOX_BENCH_INSTANCES=2` runs two server instances over it.

#![allow(dead_code)]

use inbox_server::store::postgres::scratch;

pub struct BenchDb {
    pub url: String,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl BenchDb {
    pub async fn new(file: &str) -> BenchDb {
        let dir = tempfile::tempdir().unwrap();
        match std::env::var("INBOX_BENCH_POSTGRES_URL") {
            Ok(admin) => {
                let (url, name) = scratch::create(&admin, "inbox_bench").await.unwrap();
                BenchDb {
                    url,
                    _dir: dir,
                    pg: Some((admin, name)),
                }
            }
            Err(_) => BenchDb {
                url: format!("sqlite://{}", dir.path().join(file).display()),
                _dir: dir,
                pg: None,
            },
        }
    }

    /// How many server instances to run, and the label for the printed figures.
    pub fn instances(&self) -> (usize, String) {
        let n = std::env::var("INBOX_BENCH_INSTANCES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1usize)
            .max(1);
        assert!(
            n == 1 || self.pg.is_some(),
            "several instances need PostgreSQL (INBOX_BENCH_POSTGRES_URL)"
        );
        let engine = if self.pg.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        let label = match n {
            1 => engine.to_string(),
            n => format!("{engine}, {n} instances"),
        };
        (n, label)
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            let _ = scratch::drop_blocking(&admin, &name);
        }
    }
}
