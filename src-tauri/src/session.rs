//! The remembered session (ACC-3): who is signed in, and where, in `session.json` in the app's
//! data directory (nothing secret), and the bearer token in the OS keychain — Windows Credential
//! Manager, the macOS Keychain, or the Secret Service on Linux — through the `keyring` crate.

use std::path::{Path, PathBuf};

use inbox_core::desktop::Session;
use serde::{Deserialize, Serialize};

/// The keychain service the token is filed under (the app's identifier).
const SERVICE: &str = "app.garageinbox.desktop";
const FILE: &str = "session.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    session: Session,
    /// The keychain account holding the token.
    account: String,
}

#[derive(Debug, Clone)]
pub struct SessionStore {
    file: PathBuf,
}

impl SessionStore {
    pub fn new(data_dir: &Path) -> SessionStore {
        SessionStore {
            file: data_dir.join(FILE),
        }
    }

    /// The saved session and its token, if both are there.
    pub fn load(&self) -> Option<(Session, String)> {
        let raw = std::fs::read_to_string(&self.file).ok()?;
        let saved: Saved = match serde_json::from_str(&raw) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "ignoring an unreadable session file");
                return None;
            }
        };
        match entry(&saved.account).and_then(|e| e.get_password()) {
            Ok(token) => Some((saved.session, token)),
            Err(keyring::Error::NoEntry) => None,
            Err(e) => {
                tracing::warn!(error = %e, "the keychain did not give the session token back");
                None
            }
        }
    }

    /// Files the token in the keychain, then the session beside it. A keychain that cannot be
    /// used is an error: the session then lasts until the app closes.
    pub fn save(&self, session: &Session, token: &str) -> Result<(), String> {
        let account = account(session);
        entry(&account)
            .and_then(|e| e.set_password(token))
            .map_err(|e| format!("the system keychain could not store the session: {e}"))?;
        let saved = Saved {
            session: session.clone(),
            account,
        };
        let raw = serde_json::to_string_pretty(&saved).map_err(|e| e.to_string())?;
        std::fs::write(&self.file, raw).map_err(|e| format!("saving the session: {e}"))
    }

    /// Forgets the session: the keychain entry and the file.
    pub fn clear(&self) {
        if let Ok(raw) = std::fs::read_to_string(&self.file) {
            if let Ok(saved) = serde_json::from_str::<Saved>(&raw) {
                match entry(&saved.account).and_then(|e| e.delete_credential()) {
                    Ok(()) | Err(keyring::Error::NoEntry) => {}
                    Err(e) => tracing::warn!(error = %e, "could not remove the keychain entry"),
                }
            }
        }
        if let Err(e) = std::fs::remove_file(&self.file) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %e, "could not remove the session file");
            }
        }
    }
}

fn account(session: &Session) -> String {
    format!("{} at {}", session.user.email, session.server)
}

fn entry(account: &str) -> keyring::Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, account)
}
