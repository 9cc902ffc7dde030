//! The OS keychain as the desktop uses it: a [`Keystore`] (the shell implements it with the
//! `keyring` crate) whose every call runs on a thread of its own under a time limit. A locked or
//! unresponsive Secret Service can leave a call waiting forever; sign-in must not wait with it.

use std::sync::Arc;
use std::time::Duration;

/// How long a keychain call may take before the desktop stops waiting for it.
pub const KEYSTORE_TIMEOUT: Duration = Duration::from_secs(5);

/// A place for secrets, one per account name. Calls may block (D-Bus, a prompt).
pub trait Keystore: Send + Sync + 'static {
    fn get(&self, account: &str) -> Result<Option<String>, String>;
    fn set(&self, account: &str, secret: &str) -> Result<(), String>;
    fn delete(&self, account: &str) -> Result<(), String>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeystoreError {
    #[error("the system keychain did not answer within {0} seconds (it may be locked)")]
    NoAnswer(u64),
    #[error("the system keychain refused: {0}")]
    Failed(String),
}

/// A [`Keystore`] whose calls give up after a time limit.
#[derive(Clone)]
pub struct TimedKeystore {
    inner: Arc<dyn Keystore>,
    limit: Duration,
}

impl TimedKeystore {
    pub fn new(inner: Arc<dyn Keystore>, limit: Duration) -> TimedKeystore {
        TimedKeystore { inner, limit }
    }

    pub async fn get(&self, account: &str) -> Result<Option<String>, KeystoreError> {
        let account = account.to_string();
        self.run(move |k| k.get(&account)).await
    }

    pub async fn set(&self, account: &str, secret: &str) -> Result<(), KeystoreError> {
        let (account, secret) = (account.to_string(), secret.to_string());
        self.run(move |k| k.set(&account, &secret)).await
    }

    pub async fn delete(&self, account: &str) -> Result<(), KeystoreError> {
        let account = account.to_string();
        self.run(move |k| k.delete(&account)).await
    }

    /// Runs `call` on a detached thread: a call that never returns costs one idle thread, never
    /// the caller, nor the runtime's shutdown (which waits for its own blocking pool).
    async fn run<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn Keystore) -> Result<T, String> + Send + 'static,
    ) -> Result<T, KeystoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let inner = Arc::clone(&self.inner);
        std::thread::Builder::new()
            .name("keystore".into())
            .spawn(move || {
                let _ = tx.send(call(inner.as_ref()));
            })
            .map_err(|e| KeystoreError::Failed(e.to_string()))?;
        match tokio::time::timeout(self.limit, rx).await {
            Err(_) => Err(KeystoreError::NoAnswer(self.limit.as_secs().max(1))),
            Ok(Err(_)) => Err(KeystoreError::Failed("the keychain call stopped".into())),
            Ok(Ok(answer)) => answer.map_err(KeystoreError::Failed),
        }
    }
}

/// Keeps secrets in memory: for tests, and a stand-in where no keychain exists.
#[derive(Default)]
pub struct MemoryKeystore {
    secrets: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl Keystore for MemoryKeystore {
    fn get(&self, account: &str) -> Result<Option<String>, String> {
        let secrets = self.secrets.lock().map_err(|e| e.to_string())?;
        Ok(secrets.get(account).cloned())
    }

    fn set(&self, account: &str, secret: &str) -> Result<(), String> {
        let mut secrets = self.secrets.lock().map_err(|e| e.to_string())?;
        secrets.insert(account.to_string(), secret.to_string());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), String> {
        let mut secrets = self.secrets.lock().map_err(|e| e.to_string())?;
        secrets.remove(account);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Secret Service that never answers (locked keyring, no prompt shown).
    struct Silent;

    impl Keystore for Silent {
        fn get(&self, _: &str) -> Result<Option<String>, String> {
            std::thread::sleep(Duration::from_secs(3600));
            Ok(None)
        }
        fn set(&self, _: &str, _: &str) -> Result<(), String> {
            std::thread::sleep(Duration::from_secs(3600));
            Ok(())
        }
        fn delete(&self, _: &str) -> Result<(), String> {
            std::thread::sleep(Duration::from_secs(3600));
            Ok(())
        }
    }

    #[tokio::test]
    async fn acc3_a_keychain_that_never_answers_times_out() {
        let store = TimedKeystore::new(Arc::new(Silent), Duration::from_millis(200));
        let started = std::time::Instant::now();
        assert_eq!(
            store.set("a", "token").await,
            Err(KeystoreError::NoAnswer(1))
        );
        assert!(matches!(
            store.get("a").await,
            Err(KeystoreError::NoAnswer(_))
        ));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_keychain_that_answers_is_used() {
        let store = TimedKeystore::new(Arc::new(MemoryKeystore::default()), KEYSTORE_TIMEOUT);
        store.set("a", "token").await.unwrap();
        assert_eq!(store.get("a").await.unwrap().as_deref(), Some("token"));
        store.delete("a").await.unwrap();
        assert_eq!(store.get("a").await.unwrap(), None);
    }
}
