//! What this desktop keeps between launches, and when it lets go of it (ACC-3):
//! - `session.json` in the data directory: who is signed in, where, and how (nothing secret);
//! - the bearer token in the OS keychain, through a [`TimedKeystore`], for a remembered sign-in;
//! - one cache per user of an organisation (`cache-{org}-{user}.sqlite`).
//!
//! Signing out wipes the cache. A session the server ended (expired, revoked) keeps it for the
//! same user's next sign-in on the same server; a different user's sign-in wipes it. A
//! session-only sign-in (the keychain did not answer) stores no token and leaves a marker beside
//! its cache: the cache is deleted when the app exits, or at the next start if it did not get to.

use std::path::{Path, PathBuf};

use inbox_core::desktop::Session;
use serde::{Deserialize, Serialize};

use crate::keystore::{KeystoreError, TimedKeystore};

const FILE: &str = "session.json";
const SESSION_ONLY: &str = "session-only";

/// How the last session is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kept {
    /// Its token is in the keychain: the next launch opens it.
    #[default]
    Remembered,
    /// Its token lives in memory only; its cache goes when the app exits.
    SessionOnly,
    /// The server ended it: sign in again; the cache waits for the same user.
    Ended,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    session: Session,
    /// The keychain account holding the token.
    account: String,
    #[serde(default)]
    kept: Kept,
}

#[derive(Clone)]
pub struct SessionStore {
    dir: PathBuf,
    keystore: TimedKeystore,
}

impl SessionStore {
    pub fn new(data_dir: &Path, keystore: TimedKeystore) -> SessionStore {
        SessionStore {
            dir: data_dir.to_path_buf(),
            keystore,
        }
    }

    /// One cache per user of an organisation, so a colleague signing in on the same desk never
    /// opens someone else's copy.
    pub fn cache_path(&self, session: &Session) -> PathBuf {
        self.dir.join(format!(
            "cache-{}-{}.sqlite",
            session.organisation.id, session.user.id
        ))
    }

    /// The last session and how it is kept, if any.
    pub fn last(&self) -> Option<(Session, Kept)> {
        self.read().map(|s| (s.session, s.kept))
    }

    /// The remembered session and its token (None when there is none, or it ended).
    pub async fn load(&self) -> Result<Option<(Session, String)>, KeystoreError> {
        let Some(saved) = self.read().filter(|s| s.kept == Kept::Remembered) else {
            return Ok(None);
        };
        Ok(self
            .keystore
            .get(&saved.account)
            .await?
            .map(|token| (saved.session, token)))
    }

    /// Before signing in as `session`: the previous session's cache goes unless it is the same
    /// user on the same server.
    pub fn prepare(&self, session: &Session) {
        if let Some(last) = self.read() {
            if !same_user(&last.session, session) {
                remove_cache(&self.cache_path(&last.session));
            }
        }
    }

    /// Files the token in the keychain, then the session beside it. A cache that an earlier
    /// session-only sign-in of this user marked to go is theirs to keep now.
    pub async fn remember(&self, session: &Session, token: &str) -> Result<(), KeystoreError> {
        let account = account(session);
        self.keystore.set(&account, token).await?;
        self.write(session, Kept::Remembered)
            .map_err(KeystoreError::Failed)?;
        // Should this fail (it is logged), the cache goes at exit and is synced again.
        remove(&marker(&self.cache_path(session)));
        Ok(())
    }

    /// A sign-in that the keychain will not hold: nothing secret on disk, and the cache marked
    /// to go at exit (or at the next start). A remembered session it replaces loses its token
    /// from the keychain, as far as the keychain answers: in the background, because a keychain
    /// that did not take this token may not answer at all.
    pub async fn session_only(&self, session: &Session) -> Result<(), String> {
        let replaced = self.read().filter(|s| s.kept == Kept::Remembered);
        let marker = marker(&self.cache_path(session));
        std::fs::write(&marker, b"").map_err(|e| format!("marking the cache: {e}"))?;
        self.write(session, Kept::SessionOnly)?;
        if let Some(replaced) = replaced {
            let keystore = self.keystore.clone();
            tokio::spawn(async move {
                if let Err(e) = keystore.delete(&replaced.account).await {
                    tracing::warn!(error = %e, "could not remove the replaced sign-in from the keychain");
                }
            });
        }
        Ok(())
    }

    /// The server ended the session: the token is forgotten, the cache kept for the same user.
    pub async fn ended_by_server(&self, session: &Session) {
        if self.read().map(|s| s.kept) == Some(Kept::Remembered) {
            self.forget_token(session).await;
        }
        if let Err(e) = self.write(session, Kept::Ended) {
            tracing::warn!(error = %e, "could not note the ended session");
        }
    }

    /// Signing out: the token, the file and the cache all go.
    pub async fn signed_out(&self, session: &Session) {
        if self.read().map(|s| s.kept) == Some(Kept::Remembered) {
            self.forget_token(session).await;
        }
        remove_cache(&self.cache_path(session));
        remove(&self.dir.join(FILE));
    }

    /// Deletes every cache a session-only session left (at exit, after the engine stopped, and
    /// at start for an app that did not exit cleanly). Returns how many went; one that could
    /// not be deleted keeps its marker for the next try.
    pub fn wipe_session_only_caches(&self) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let suffix = format!(".{SESSION_ONLY}");
        let mut wiped = 0;
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(cache) = name.strip_suffix(&suffix) {
                if remove_cache(&self.dir.join(cache)) {
                    wiped += 1;
                }
            }
        }
        wiped
    }

    async fn forget_token(&self, session: &Session) {
        match self.keystore.delete(&account(session)).await {
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "could not remove the keychain entry"),
        }
    }

    fn read(&self) -> Option<Saved> {
        let raw = std::fs::read_to_string(self.dir.join(FILE)).ok()?;
        match serde_json::from_str(&raw) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "ignoring an unreadable session file");
                None
            }
        }
    }

    /// The organisation's settings (its AI switch, say) or the user's role changed: the saved
    /// session follows, so the next launch opens with them. `session` is the running one, already changed; nothing
    /// saved, or another user's: nothing to do.
    pub fn follow_organisation(&self, session: &Session) -> Result<(), String> {
        let raw = match std::fs::read_to_string(self.dir.join(FILE)) {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("reading the session: {e}")),
        };
        let saved: Saved = serde_json::from_str(&raw).map_err(|e| e.to_string())?;
        if !same_user(&saved.session, session) {
            return Ok(());
        }
        let session = Session {
            organisation: session.organisation.clone(),
            user: session.user.clone(),
            ..saved.session
        };
        self.write(&session, saved.kept)
    }

    fn write(&self, session: &Session, kept: Kept) -> Result<(), String> {
        let saved = Saved {
            session: session.clone(),
            account: account(session),
            kept,
        };
        let raw = serde_json::to_string_pretty(&saved).map_err(|e| e.to_string())?;
        std::fs::write(self.dir.join(FILE), raw).map_err(|e| format!("saving the session: {e}"))
    }
}

/// The same user of the same organisation on the same server: their cache is theirs to keep.
pub fn same_user(a: &Session, b: &Session) -> bool {
    a.server == b.server && a.organisation.id == b.organisation.id && a.user.id == b.user.id
}

fn account(session: &Session) -> String {
    format!("{} at {}", session.user.email, session.server)
}

fn marker(cache: &Path) -> PathBuf {
    let mut name = cache.as_os_str().to_owned();
    name.push(format!(".{SESSION_ONLY}"));
    PathBuf::from(name)
}

/// The cache with SQLite's companions, then any session-only marker: the marker goes only once
/// every cache file is gone, so a file that could not be deleted yet (Windows refuses while
/// another process has it open) is tried again at the next exit or start. Returns whether the
/// cache is gone.
fn remove_cache(cache: &Path) -> bool {
    let mut gone = true;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = cache.as_os_str().to_owned();
        name.push(suffix);
        gone &= remove(Path::new(&name));
    }
    // Issue 17: the messages' files kept beside it go with it.
    match std::fs::remove_dir_all(crate::files::beside(cache)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) => gone = false,
    }
    if gone {
        remove(&marker(cache));
    }
    gone
}

/// Deletes a file; true when it is gone (or never was).
fn remove(path: &Path) -> bool {
    match std::fs::remove_file(path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => {
            tracing::warn!(error = %e, path = %path.display(), "could not remove a file");
            false
        }
    }
}
