//! Provider secrets at rest (issue 5): Twilio auth tokens, WhatsApp access tokens and language
//! model keys (issue 16) are sealed with ChaCha20-Poly1305 under a server key before they reach
//! the database, so a copy of the database alone does not hold them. The key comes from
//! `INBOX_SECRET_KEY` (base64 of 32 bytes) or, failing that, a key file created beside the
//! database (mode 0600) on first start: back it up with the database; without it the provider
//! secrets must be entered again.
//!
//! Each sealed value is bound to its organisation and field (issue 13): both are the AEAD's
//! associated data, so a value copied into another organisation's row, or into another column,
//! does not open. Plain-text values are refused with the command that stores them sealed.
//! Values sealed before the binding (`v1:`) are re-sealed when the store opens ([`SecretBox::upgrade`]).

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use inbox_core::Id;

/// Stored form before issue 13: `v1:` + base64(nonce ‖ ciphertext ‖ tag), no associated data.
const UNBOUND: &str = "v1:";
/// Stored form: `v2:` + base64(nonce ‖ ciphertext ‖ tag), bound to (organisation, field).
const BOUND: &str = "v2:";

/// Which provider secret a stored value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    TwilioAuthToken,
    WhatsappAccessToken,
    /// The key of the organisation's language model endpoint (AIA-1).
    AiModelKey,
}

impl Field {
    pub const ALL: [Field; 3] = [
        Field::TwilioAuthToken,
        Field::WhatsappAccessToken,
        Field::AiModelKey,
    ];

    /// The `provider_settings` column that holds it.
    pub fn column(self) -> &'static str {
        match self {
            Field::TwilioAuthToken => "twilio_auth_token",
            Field::WhatsappAccessToken => "whatsapp_access_token",
            Field::AiModelKey => "ai_model_key",
        }
    }

    /// The `inbox-server provider set` flag that stores it.
    pub fn flag(self) -> &'static str {
        match self {
            Field::TwilioAuthToken => "--twilio-auth-token",
            Field::WhatsappAccessToken => "--whatsapp-access-token",
            Field::AiModelKey => "--ai-model-key",
        }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Field::TwilioAuthToken => "Twilio auth token",
            Field::WhatsappAccessToken => "WhatsApp access token",
            Field::AiModelKey => "language model key",
        })
    }
}

/// Why a stored secret cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the {field} of organisation {org} is stored in plain text, which this server refuses; store it sealed with `inbox-server provider set --org {org} {flag} …`", flag = field.flag())]
    Plaintext { org: Id, field: Field },
    #[error("the {field} of organisation {org} is sealed in the old format that is not bound to its organisation; run `inbox-server migrate` to re-seal it")]
    Unbound { org: Id, field: Field },
    #[error("the {field} of organisation {org} does not open: it was sealed for another organisation or field, or under another key (INBOX_SECRET_KEY or the key file); set it again with `inbox-server provider set --org {org} {flag} …`", flag = field.flag())]
    DoesNotOpen { org: Id, field: Field },
}

/// What [`SecretBox::upgrade`] made of a stored value.
#[derive(Debug, PartialEq, Eq)]
pub enum Upgrade {
    /// Empty or already bound: nothing to do.
    Current,
    /// An unbound value, sealed again bound to its organisation: store this instead.
    Resealed(String),
    /// Plain text: refused; an operator must set it again.
    Plaintext,
    /// An unbound value that does not open with this key: left as it is.
    Unreadable,
}

#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
    /// Signs links to messages' files (issue 17): derived from the key, so every instance
    /// sharing the key checks every other's links.
    link_key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key>)")
    }
}

/// The associated data that binds a value to its organisation and field.
fn binding(org: Id, field: Field) -> Vec<u8> {
    format!("garage-inbox provider secret\0{org}\0{}", field.column()).into_bytes()
}

impl SecretBox {
    pub fn new(key: [u8; 32]) -> SecretBox {
        use hmac::Mac;
        let mut mac = crate::media::links::hmac(&key);
        mac.update(b"garage-inbox media links");
        SecretBox {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
            link_key: mac.finalize().into_bytes().into(),
        }
    }

    /// The key that signs links to messages' files; never the key that seals secrets.
    pub fn link_key(&self) -> [u8; 32] {
        self.link_key
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

    /// Seals a secret for one organisation's field. Empty stays empty (not configured).
    pub fn seal(&self, plaintext: &str, org: Id, field: Field) -> anyhow::Result<String> {
        if plaintext.is_empty() {
            return Ok(String::new());
        }
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = binding(org, field);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| anyhow::anyhow!("sealing a secret failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!("{BOUND}{}", STANDARD.encode(out)))
    }

    /// Opens a stored secret of an organisation's field. Empty is "not configured" and opens to
    /// empty; plain text and the old unbound form are refused.
    pub fn open(&self, stored: &str, org: Id, field: Field) -> Result<String, SecretError> {
        if stored.is_empty() {
            return Ok(String::new());
        }
        if stored.starts_with(UNBOUND) {
            return Err(SecretError::Unbound { org, field });
        }
        let Some(b64) = stored.strip_prefix(BOUND) else {
            return Err(SecretError::Plaintext { org, field });
        };
        self.decrypt(b64, &binding(org, field))
            .ok_or(SecretError::DoesNotOpen { org, field })
    }

    /// Brings a stored value to the bound form: the migration step for values sealed before the
    /// binding existed (authenticated by the key, so safe to re-seal). Plain text is reported,
    /// never sealed: a value nobody sealed is not trusted.
    pub fn upgrade(&self, stored: &str, org: Id, field: Field) -> anyhow::Result<Upgrade> {
        if stored.is_empty() || stored.starts_with(BOUND) {
            return Ok(Upgrade::Current);
        }
        let Some(b64) = stored.strip_prefix(UNBOUND) else {
            return Ok(Upgrade::Plaintext);
        };
        match self.decrypt(b64, &[]) {
            Some(plain) => Ok(Upgrade::Resealed(self.seal(&plain, org, field)?)),
            None => Ok(Upgrade::Unreadable),
        }
    }

    fn decrypt(&self, b64: &str, aad: &[u8]) -> Option<String> {
        let bytes = STANDARD.decode(b64).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad })
            .ok()?;
        String::from_utf8(plain).ok()
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

    /// A value in the pre-issue-13 form, as the server sealed it then.
    fn seal_unbound(b: &SecretBox, plain: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        out.extend(b.cipher.encrypt(&nonce, plain.as_bytes()).unwrap());
        format!("{UNBOUND}{}", STANDARD.encode(out))
    }

    #[test]
    fn secrets_round_trip_and_do_not_show_in_the_stored_form() {
        let b = SecretBox::new([7; 32]);
        let sealed = b
            .seal("my-twilio-auth-token", 1, Field::TwilioAuthToken)
            .unwrap();
        assert!(sealed.starts_with("v2:") && !sealed.contains("twilio"));
        assert_ne!(
            sealed,
            b.seal("my-twilio-auth-token", 1, Field::TwilioAuthToken)
                .unwrap(),
            "a fresh nonce each time"
        );
        assert_eq!(
            b.open(&sealed, 1, Field::TwilioAuthToken).unwrap(),
            "my-twilio-auth-token"
        );
        assert!(
            SecretBox::new([8; 32])
                .open(&sealed, 1, Field::TwilioAuthToken)
                .is_err(),
            "another key cannot open it"
        );
        assert_eq!(b.seal("", 1, Field::TwilioAuthToken).unwrap(), "");
        assert_eq!(b.open("", 1, Field::TwilioAuthToken).unwrap(), "");
    }

    #[test]
    fn a_sealed_value_opens_only_for_its_organisation_and_field() {
        let b = SecretBox::new([7; 32]);
        let sealed = b.seal("token", 1, Field::TwilioAuthToken).unwrap();
        let err = b.open(&sealed, 2, Field::TwilioAuthToken).unwrap_err();
        assert!(
            err.to_string()
                .contains("Twilio auth token of organisation 2 does not open"),
            "{err}"
        );
        assert!(b.open(&sealed, 1, Field::WhatsappAccessToken).is_err());
    }

    #[test]
    fn plain_text_is_refused_naming_the_organisation_field_and_fix() {
        let b = SecretBox::new([7; 32]);
        let err = b
            .open("legacy-plaintext", 3, Field::WhatsappAccessToken)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("WhatsApp access token of organisation 3 is stored in plain text"),
            "{err}"
        );
        assert!(
            err.contains("inbox-server provider set --org 3 --whatsapp-access-token"),
            "{err}"
        );
        assert_eq!(
            b.upgrade("legacy-plaintext", 3, Field::WhatsappAccessToken)
                .unwrap(),
            Upgrade::Plaintext
        );
    }

    #[test]
    fn unbound_values_are_resealed_bound_to_their_organisation() {
        let b = SecretBox::new([7; 32]);
        let old = seal_unbound(&b, "old-token");
        assert!(b.open(&old, 4, Field::TwilioAuthToken).is_err());
        let Upgrade::Resealed(new) = b.upgrade(&old, 4, Field::TwilioAuthToken).unwrap() else {
            panic!("an unbound value is re-sealed");
        };
        assert_eq!(
            b.open(&new, 4, Field::TwilioAuthToken).unwrap(),
            "old-token"
        );
        assert!(b.open(&new, 5, Field::TwilioAuthToken).is_err());
        assert_eq!(
            b.upgrade(&new, 4, Field::TwilioAuthToken).unwrap(),
            Upgrade::Current
        );
        assert_eq!(
            SecretBox::new([9; 32])
                .upgrade(&old, 4, Field::TwilioAuthToken)
                .unwrap(),
            Upgrade::Unreadable
        );
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db.key");
        let a = SecretBox::load(&path).unwrap();
        let sealed = a.seal("x", 1, Field::TwilioAuthToken).unwrap();
        let b = SecretBox::load(&path).unwrap();
        assert_eq!(b.open(&sealed, 1, Field::TwilioAuthToken).unwrap(), "x");
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
