//! `X-Hub-Signature-256` (PROVIDERS.md §3.2): lowercase-hex HMAC-SHA256 of the raw request body,
//! keyed with the Meta App Secret. Always hash the bytes as received — Meta signs its payload
//! text with non-ASCII escaped as `\uXXXX`, so re-serialised or decoded JSON never matches.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "sha256=";

/// `"sha256=<lowercase hex HMAC-SHA256(app_secret, raw body)>"`.
pub fn sign(raw_body: &[u8], app_secret: &str) -> String {
    match mac_over(raw_body, app_secret) {
        Some(mac) => format!("{PREFIX}{}", hex::encode(mac.finalize().into_bytes())),
        // HMAC takes keys of any length, so this is unreachable; an empty string never verifies.
        None => String::new(),
    }
}

/// Verifies the `X-Hub-Signature-256` header value against the raw bytes: strips the `sha256=`
/// prefix, hex-decodes (either case), compares in constant time. False for a malformed header
/// (no or another prefix, bad hex, wrong length) — including the legacy `sha1=` form.
pub fn verify(raw_body: &[u8], app_secret: &str, header: &str) -> bool {
    let Some(hex_digest) = header.strip_prefix(PREFIX) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return false;
    };
    mac_over(raw_body, app_secret).is_some_and(|mac| mac.verify_slice(&expected).is_ok())
}

fn mac_over(raw_body: &[u8], app_secret: &str) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(app_secret.as_bytes()).ok()?;
    mac.update(raw_body);
    Some(mac)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "8f14e45fceea167a5a36dedd4bea2543";

    /// HMAC-SHA256 + hex computed here, independently of `sign`.
    fn reference(body: &[u8], secret: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn sign_matches_an_independently_computed_hmac() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let want = reference(body, SECRET);
        assert_eq!(sign(body, SECRET), want);
        assert_eq!(want.len(), "sha256=".len() + 64);
        assert!(want[7..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert!(verify(body, SECRET, &want));
    }

    #[test]
    fn sign_matches_the_rfc_4231_hmac_sha256_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign(b"what do ya want for nothing?", "Jefe"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_raw_bytes_are_hashed_not_a_decoded_or_reencoded_form() {
        // Meta sends "Café 👍" escaped; the same JSON value written with raw UTF-8 is different
        // bytes and must not verify.
        let escaped = br#"{"text":{"body":"Caf\u00e9 \ud83d\udc4d"}}"#;
        let raw_utf8 = "{\"text\":{\"body\":\"Café 👍\"}}".as_bytes();
        let sig = sign(escaped, SECRET);
        assert!(verify(escaped, SECRET, &sig));
        assert!(!verify(raw_utf8, SECRET, &sig));
        // Non-UTF-8 bytes are hashed as they are.
        let latin1 = b"{\"body\":\"Caf\xe9\"}";
        assert_eq!(sign(latin1, SECRET), reference(latin1, SECRET));
        assert!(verify(latin1, SECRET, &sign(latin1, SECRET)));
    }

    #[test]
    fn uppercase_hex_is_accepted() {
        let body = b"{}";
        let sig = sign(body, SECRET);
        let upper = format!("sha256={}", sig[7..].to_ascii_uppercase());
        assert!(verify(body, SECRET, &upper));
    }

    #[test]
    fn malformed_headers_are_rejected() {
        let body = b"{\"object\":\"whatsapp_business_account\"}";
        let sig = sign(body, SECRET);
        let digest = &sig[7..];
        for bad in [
            String::new(),
            "sha256=".to_string(),
            digest.to_string(),          // no prefix
            format!("SHA256={digest}"),  // prefix is case-sensitive
            format!("sha1={digest}"),    // legacy header form
            format!("sha256= {digest}"), // whitespace
            format!("sha256={digest} "),
            format!("sha256={}", &digest[..63]),   // odd length
            format!("sha256={}", &digest[..62]),   // one byte short
            format!("sha256={digest}00"),          // one byte long
            format!("sha256={}zz", &digest[..62]), // not hex
            format!("sha256={}", "0".repeat(64)),  // right shape, wrong value
            format!("sha256=sha256={digest}"),
        ] {
            assert!(!verify(body, SECRET, &bad), "{bad:?}");
        }
    }

    #[test]
    fn wrong_secret_or_changed_body_is_rejected() {
        let body = b"{\"a\":1}";
        let sig = sign(body, SECRET);
        assert!(!verify(body, "another secret", &sig));
        assert!(!verify(b"{\"a\":2}", SECRET, &sig));
        assert!(!verify(b"{\"a\":1} ", SECRET, &sig));
        assert!(!verify(b"", SECRET, &sig));
    }

    proptest! {
        #[test]
        fn prop_sign_then_verify_round_trips(
            body in prop::collection::vec(any::<u8>(), 0..512),
            secret in any::<String>(),
        ) {
            let sig = sign(&body, &secret);
            prop_assert_eq!(&sig, &reference(&body, &secret));
            prop_assert!(verify(&body, &secret, &sig));
        }

        #[test]
        fn prop_any_changed_byte_is_rejected(
            body in prop::collection::vec(any::<u8>(), 1..256),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let sig = sign(&body, SECRET);
            let mut changed = body.clone();
            let i = at.index(changed.len());
            changed[i] ^= flip;
            prop_assert!(!verify(&changed, SECRET, &sig));
        }

        #[test]
        fn prop_verify_never_panics(body in prop::collection::vec(any::<u8>(), 0..64), header in any::<String>()) {
            let _ = verify(&body, SECRET, &header);
        }
    }
}
