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

/// A database URL fit for logs and error messages: the password of its user part and any
/// `password=` query parameter replaced by `***`. Everything else is kept, so an operator still
/// sees which host and database the server uses.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let (query, fragment) = match query.split_once('#') {
                Some((q, f)) => (q, Some(f)),
                None => (query, None),
            };
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            let mut t = format!("{path}?{}", query.join("&"));
            if let Some(f) = fragment {
                t.push('#');
                t.push_str(f);
            }
            t
        }
        None => tail.to_string(),
    };
    match scheme {
        Some(s) => format!("{s}://{authority}{tail}"),
        None => format!("{authority}{tail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redact_url_hides_the_password_and_keeps_the_rest() {
        assert_eq!(
            redact_url("postgres://inbox:s3cr%40t@db.example:5432/inbox?sslmode=require"),
            "postgres://inbox:***@db.example:5432/inbox?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://inbox:p@ss:w@rd@db/inbox"),
            "postgresql://inbox:***@db/inbox"
        );
        assert_eq!(
            redact_url("postgres://db/inbox?user=inbox&password=hunter2&sslmode=require"),
            "postgres://db/inbox?user=inbox&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1:54400/postgres"),
            "postgres://postgres@127.0.0.1:54400/postgres"
        );
        assert_eq!(
            redact_url("sqlite:///var/lib/inbox/inbox.db"),
            "sqlite:///var/lib/inbox/inbox.db"
        );
    }
}
