//! Provider secrets at rest (issue 5): Twilio auth tokens and WhatsApp access tokens are sealed
//! with ChaCha20-Poly1305 under a server key before they reach the database, so a copy of the
//! database alone does not hold them. The key comes from `INBOX_SECRET_KEY` (base64 of 32 bytes)
//! or, failing that, a key file created beside the database (mode 0600) on first start: back it
//! up with the database; without it the provider secrets must be entered again.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// Stored form: `v1:` + base64(nonce ‖ ciphertext ‖ tag).
const PREFIX: &str = "v1:";

#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key>)")
    }
}

impl SecretBox {
    pub fn new(key: [u8; 32]) -> SecretBox {
        SecretBox {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// The key from `INBOX_SECRET_KEY`, else from `key_file` (created if missing).
    pub fn load(key_file: &Path) -> anyhow::Result<SecretBox> {
        if let Ok(b64) = std::env::var("INBOX_SECRET_KEY") {
            return Ok(SecretBox::new(decode_key(b64.trim())?));
        }
        match std::fs::read_to_string(key_file) {
            Ok(text) => Ok(SecretBox::new(decode_key(text.trim())?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = ChaCha20Poly1305::generate_key(&mut OsRng).into();
                write_private(key_file, &STANDARD.encode(key))?;
                tracing::info!(path = %key_file.display(), "created the key that protects provider secrets; back it up with the database");
                Ok(SecretBox::new(key))
            }
            Err(e) => Err(anyhow::anyhow!(
                "reading the secret key {}: {e}",
                key_file.display()
            )),
        }
    }

    pub fn seal(&self, plaintext: &str) -> anyhow::Result<String> {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .map_err(|_| anyhow::anyhow!("sealing a secret failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Opens a stored secret. A value without the prefix is a plaintext one from before sealing
    /// existed, returned as it is.
    pub fn open(&self, stored: &str) -> anyhow::Result<String> {
        let Some(b64) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| anyhow::anyhow!("a stored secret is not valid base64"))?;
        if bytes.len() < 12 {
            anyhow::bail!("a stored secret is too short");
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| anyhow::anyhow!("a stored provider secret does not open with this server's key (INBOX_SECRET_KEY or the key file)"))?;
        Ok(String::from_utf8(plain)?)
    }
}

fn decode_key(b64: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD
        .decode(b64)
        .map_err(|_| anyhow::anyhow!("the secret key is not base64"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("the secret key must be 32 bytes"))
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_do_not_show_in_the_stored_form() {
        let b = SecretBox::new([7; 32]);
        let sealed = b.seal("my-twilio-auth-token").unwrap();
        assert!(sealed.starts_with("v1:") && !sealed.contains("twilio"));
        assert_ne!(
            sealed,
            b.seal("my-twilio-auth-token").unwrap(),
            "a fresh nonce each time"
        );
        assert_eq!(b.open(&sealed).unwrap(), "my-twilio-auth-token");
        assert_eq!(b.open("legacy-plaintext").unwrap(), "legacy-plaintext");
        assert!(
            SecretBox::new([8; 32]).open(&sealed).is_err(),
            "another key cannot open it"
        );
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db.key");
        let a = SecretBox::load(&path).unwrap();
        let sealed = a.seal("x").unwrap();
        let b = SecretBox::load(&path).unwrap();
        assert_eq!(b.open(&sealed).unwrap(), "x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
