//! The database a server benchmark runs on: a SQLite file by default; PostgreSQL when
//! `INBOX_BENCH_POSTGRES_URL` names a cluster's maintenance database (a scratch database is
//! created and dropped); `INBOX_BENCH_INSTANCES=2` runs two server instances over it.
//! `INBOX_BENCH_SQLITE_SYNCHRONOUS=full` runs SQLite with every commit synced to disk
//! (`?synchronous=full`); the printed label says which durability each run had.

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
                url: format!(
                    "sqlite://{}?synchronous={}",
                    dir.path().join(file).display(),
                    sqlite_synchronous()
                ),
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
        let engine = match &self.pg {
            Some(_) => format!("PostgreSQL, {}", pg_durability(&self.url)),
            None => format!(
                "SQLite, synchronous={}",
                sqlite_synchronous().to_uppercase()
            ),
        };
        let label = match n {
            1 => engine.to_string(),
            n => format!("{engine}, {n} instances"),
        };
        (n, label)
    }
}

fn sqlite_synchronous() -> String {
    std::env::var("INBOX_BENCH_SQLITE_SYNCHRONOUS")
        .unwrap_or_else(|_| "normal".into())
        .to_lowercase()
}

/// The cluster's durability settings, as the figures must state them.
fn pg_durability(url: &str) -> String {
    let url = url.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            let mut settings = Vec::new();
            for name in ["fsync", "synchronous_commit", "commit_delay"] {
                let v: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SHOW {name}")))
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
                settings.push(format!("{name}={v}"));
            }
            settings.join(" ")
        })
    })
    .join()
    .unwrap()
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            let _ = scratch::drop_blocking(&admin, &name);
        }
    }
}
