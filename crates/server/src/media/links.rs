//! Short-lived signed links to a message's file (issue 17), for those who cannot sign in: a UK
//! mobile gets an SMS with a link to the photo (Twilio sends MMS only to the US, Canada and
//! Australia), and Twilio fetches an MMS's `MediaUrl` from us. A link names one attachment until
//! a time, under an HMAC of the server's key; nothing is stored, and every instance on the same
//! key checks every other's links. A removed file is gone whatever its links say.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use inbox_core::Id;
use sha2::Sha256;

/// How long a link sent to a customer works.
pub const CUSTOMER_LINK: chrono::Duration = chrono::Duration::days(7);
/// How long a link given to a provider to fetch a file works.
pub const PROVIDER_LINK: chrono::Duration = chrono::Duration::hours(1);

/// Bytes of the HMAC a link carries (128 bits).
const MAC_BYTES: usize = 16;

/// HMAC-SHA256 under a 32-byte key: HMAC pads a key shorter than its 64-byte block with zeros,
/// so this is the same as keying with the 32 bytes, and cannot fail.
pub fn hmac(key: &[u8; 32]) -> Hmac<Sha256> {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block.into())
}

fn mac(key: &[u8; 32], id: Id, expires: i64) -> [u8; MAC_BYTES] {
    let mut m = hmac(key);
    m.update(&id.to_be_bytes());
    m.update(&expires.to_be_bytes());
    let full = m.finalize().into_bytes();
    let mut out = [0; MAC_BYTES];
    out.copy_from_slice(&full[..MAC_BYTES]);
    out
}

/// The token of a link to attachment `id` that works until `expires`.
pub fn sign(key: &[u8; 32], id: Id, expires: DateTime<Utc>) -> String {
    let at = expires.timestamp();
    let mut raw = Vec::with_capacity(16 + MAC_BYTES);
    raw.extend_from_slice(&id.to_be_bytes());
    raw.extend_from_slice(&at.to_be_bytes());
    raw.extend_from_slice(&mac(key, id, at));
    URL_SAFE_NO_PAD.encode(raw)
}

/// Why a link does not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Not one of ours (or tampered with).
    Invalid,
    /// Ours, but past its time.
    Expired,
}

/// The attachment a token names, if it is ours and still works at `now`.
pub fn verify(key: &[u8; 32], token: &str, now: DateTime<Utc>) -> Result<Id, LinkError> {
    let raw = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| LinkError::Invalid)?;
    if raw.len() != 16 + MAC_BYTES {
        return Err(LinkError::Invalid);
    }
    let id = Id::from_be_bytes(raw[..8].try_into().map_err(|_| LinkError::Invalid)?);
    let at = i64::from_be_bytes(raw[8..16].try_into().map_err(|_| LinkError::Invalid)?);
    let mut m = hmac(key);
    m.update(&id.to_be_bytes());
    m.update(&at.to_be_bytes());
    m.verify_truncated_left(&raw[16..])
        .map_err(|_| LinkError::Invalid)?;
    if now.timestamp() >= at {
        return Err(LinkError::Expired);
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_until_it_expires_and_only_with_its_key() {
        let key = [7; 32];
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let t = sign(&key, 42, now + CUSTOMER_LINK);
        assert!(t.len() <= 43, "{t}");
        assert_eq!(verify(&key, &t, now), Ok(42));
        assert_eq!(
            verify(&key, &t, now + CUSTOMER_LINK),
            Err(LinkError::Expired)
        );
        assert_eq!(verify(&[8; 32], &t, now), Err(LinkError::Invalid));
        // Another id under the same signature does not open.
        let mut raw = URL_SAFE_NO_PAD.decode(&t).unwrap();
        raw[7] ^= 1;
        assert_eq!(
            verify(&key, &URL_SAFE_NO_PAD.encode(raw), now),
            Err(LinkError::Invalid)
        );
        assert_eq!(verify(&key, "not-a-link", now), Err(LinkError::Invalid));
    }
}
