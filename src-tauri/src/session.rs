//! The OS keychain behind the engine's `Keystore` (ACC-3): Windows Credential Manager, the macOS
//! Keychain, or the Secret Service on Linux, through the `keyring` crate. What is kept, and when
//! it is let go, is `inbox_client::session`'s business; this file only speaks to the keychain.

use inbox_client::keystore::Keystore;

/// The keychain service the token is filed under (the app's identifier).
const SERVICE: &str = "app.garageinbox.desktop";

pub struct Keyring;

fn entry(account: &str) -> Result<keyring::Entry, String> {
    keyring::Entry::new(SERVICE, account).map_err(|e| e.to_string())
}

impl Keystore for Keyring {
    fn get(&self, account: &str) -> Result<Option<String>, String> {
        match entry(account)?.get_password() {
            Ok(token) => Ok(Some(token)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn set(&self, account: &str, secret: &str) -> Result<(), String> {
        entry(account)?
            .set_password(secret)
            .map_err(|e| e.to_string())
    }

    fn delete(&self, account: &str) -> Result<(), String> {
        match entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}
