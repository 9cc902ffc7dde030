//! `X-Twilio-Signature` (PROVIDERS.md §1.3): HMAC-SHA1 over the called URL and the sorted form
//! parameters, keyed with the Auth Token, base64-encoded; verified against every URL form the
//! official SDKs accept.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha1 = Hmac<Sha1>;

/// The exact text Twilio signs for a form request: `url`, then for each parameter name in byte
/// order (case-sensitive, so `CallSid` < `Caller`) `name` + `value` for each **distinct** value,
/// values sorted too. An empty value contributes just its name. Values are taken as given, i.e.
/// already URL-decoded (what [`parse_form`] returns); nothing is trimmed or dropped.
pub fn data_to_sign(url: &str, params: &[(String, String)]) -> String {
    let mut by_name: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, value) in params {
        by_name.entry(name).or_default().insert(value);
    }
    let mut data = String::with_capacity(
        url.len() + params.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>(),
    );
    data.push_str(url);
    for (name, values) in by_name {
        for value in values {
            data.push_str(name);
            data.push_str(value);
        }
    }
    data
}

/// X-Twilio-Signature for a form POST: base64(HMAC-SHA1(auth_token, url + sorted name/value
/// pairs)), exactly per PROVIDERS.md §1.3 (see [`data_to_sign`]). For a GET, pass no params: the
/// query is part of `url`.
pub fn sign(url: &str, params: &[(String, String)], auth_token: &str) -> String {
    match mac_over(auth_token, &data_to_sign(url, params)) {
        Some(mac) => STANDARD.encode(mac.finalize().into_bytes()),
        // HMAC takes keys of any length, so this is unreachable; an empty string never verifies.
        None => String::new(),
    }
}

/// True if `signature` matches any accepted candidate URL form (as the official SDKs do): the URL
/// as given, with the port stripped, with the default port added (`:443` for https, `:80` for
/// http) when absent; `user:pass@` is stripped from all of them because Twilio signs without it.
/// The HMAC comparison is constant-time.
///
/// `url` must be the public URL Twilio called, byte for byte (scheme, host, path including any
/// trailing `/`, the raw query) — rebuild it from configuration behind a proxy, never re-encode
/// it. Because we take the query as received, twilio-node's extra "legacy query re-serialised"
/// candidate (which undoes its own `new URL()` re-encoding) is not needed.
pub fn verify(url: &str, params: &[(String, String)], auth_token: &str, signature: &str) -> bool {
    let Ok(expected) = STANDARD.decode(signature) else {
        return false;
    };
    let mut ok = false;
    for candidate in candidate_urls(url) {
        if let Some(mac) = mac_over(auth_token, &data_to_sign(&candidate, params)) {
            // Not short-circuited: every candidate costs the same whichever one matches.
            ok |= mac.verify_slice(&expected).is_ok();
        }
    }
    ok
}

/// Verifies a request whose body is JSON (PROVIDERS.md §1.3 "JSON body"): Twilio appends
/// `bodySHA256=<lowercase hex SHA-256 of the raw body>` to the query and signs the URL alone.
/// Both the signature (over the URL, no params) and the body hash must match.
pub fn verify_with_body_hash(
    url: &str,
    raw_body: &[u8],
    auth_token: &str,
    signature: &str,
) -> bool {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    let Some(claimed) = form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "bodySHA256")
        .map(|(_, value)| value.to_ascii_lowercase())
    else {
        return false;
    };
    let actual = hex::encode(Sha256::digest(raw_body));
    let body_ok: bool = actual.as_bytes().ct_eq(claimed.as_bytes()).into();
    let signature_ok = verify(url, &[], auth_token, signature);
    body_ok & signature_ok
}

/// Parses a raw form body keeping empties and repeats, in order (`form_urlencoded::parse`:
/// `+` is a space, `%XX` is decoded; invalid UTF-8 is replaced, which then fails verification).
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn mac_over(auth_token: &str, data: &str) -> Option<HmacSha1> {
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).ok()?;
    mac.update(data.as_bytes());
    Some(mac)
}

/// The URL forms a signature may have been computed over (PROVIDERS.md §1.3 "Ports",
/// "`user:pass@`"), without duplicates, the URL as given (less userinfo) first.
pub fn candidate_urls(url: &str) -> Vec<String> {
    let Some(parts) = UrlParts::split(url) else {
        return vec![url.to_string()];
    };
    let prefix = |authority: &str| format!("{}://{}{}", parts.scheme, authority, parts.rest);
    let mut out = Vec::with_capacity(3);
    let mut push = |candidate: String| {
        if !out.contains(&candidate) {
            out.push(candidate);
        }
    };
    push(prefix(parts.host_and_port));
    push(prefix(parts.host));
    if parts.port.is_none() {
        let default_port = match parts.scheme.to_ascii_lowercase().as_str() {
            "https" => Some("443"),
            "http" => Some("80"),
            _ => None,
        };
        if let Some(port) = default_port {
            push(prefix(&format!("{}:{port}", parts.host)));
        }
    }
    out
}

/// `scheme://[userinfo@]host[:port]rest`, borrowed from the original string.
struct UrlParts<'a> {
    scheme: &'a str,
    /// Host and port exactly as written (userinfo removed).
    host_and_port: &'a str,
    /// Host alone; IPv6 literals keep their brackets.
    host: &'a str,
    port: Option<&'a str>,
    /// Path, query and fragment, untouched.
    rest: &'a str,
}

impl<'a> UrlParts<'a> {
    fn split(url: &'a str) -> Option<Self> {
        let (scheme, after) = url.split_once("://")?;
        if scheme.is_empty() {
            return None;
        }
        let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(authority_end);
        let host_and_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = if host_and_port.starts_with('[') {
            match host_and_port.find(']') {
                Some(close) => {
                    let (host, tail) = host_and_port.split_at(close + 1);
                    (host, tail.strip_prefix(':'))
                }
                None => (host_and_port, None),
            }
        } else {
            match host_and_port.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_and_port, None),
            }
        };
        // "host:" (empty port) counts as no port for adding the default one.
        let port = port.filter(|p| !p.is_empty());
        Some(UrlParts {
            scheme,
            host_and_port,
            host,
            port,
            rest,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    /// HMAC-SHA1 + base64 computed here, independently of `sign`.
    fn reference_signature(token: &str, data: &str) -> String {
        let mut mac = HmacSha1::new_from_slice(token.as_bytes()).unwrap();
        mac.update(data.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";
    const URL: &str = "https://inbox.garage.example/webhooks/twilio/sms?org=7";

    #[test]
    fn sign_matches_a_hand_built_string_hashed_independently() {
        let params = p(&[
            ("To", "+441632960000"),
            ("From", "+447700900123"),
            ("Body", "MOT booked? 10am ok"),
        ]);
        let by_hand = "https://inbox.garage.example/webhooks/twilio/sms?org=7\
                       BodyMOT booked? 10am ok\
                       From+447700900123\
                       To+441632960000";
        assert_eq!(data_to_sign(URL, &params), by_hand);
        let want = reference_signature(TOKEN, by_hand);
        assert_eq!(sign(URL, &params, TOKEN), want);
        assert_eq!(want.len(), 28, "base64 of 20 bytes, padded");
        assert!(verify(URL, &params, TOKEN, &want));
    }

    #[test]
    fn sign_matches_the_published_twilio_vectors() {
        // Twilio's request-validation example (docs: Caller/From +14158675310) and the fixture
        // twilio-node's test suite signs (+14158675309), both with auth token "12345".
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        for (caller, want) in [
            ("+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="),
            ("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ] {
            let params = p(&[
                ("CallSid", "CA1234567890ABCDE"),
                ("Caller", caller),
                ("Digits", "1234"),
                ("From", caller),
                ("To", "+18005551212"),
            ]);
            assert_eq!(sign(url, &params, "12345"), want);
            assert!(verify(url, &params, "12345", want));
        }
    }

    #[test]
    fn names_sort_in_byte_order_case_sensitively() {
        // 'S' (0x53) < 'e' (0x65): CallSid before Caller; uppercase before lowercase.
        let params = p(&[
            ("Caller", "2"),
            ("body", "3"),
            ("CallSid", "1"),
            ("Body", "4"),
        ]);
        assert_eq!(data_to_sign("u", &params), "uBody4CallSid1Caller2body3");
    }

    #[test]
    fn repeated_names_sign_each_distinct_value_sorted() {
        let params = p(&[
            ("MediaUrl", "https://b.example/2"),
            ("To", "+441632960000"),
            ("MediaUrl", "https://a.example/1"),
            ("MediaUrl", "https://b.example/2"),
        ]);
        assert_eq!(
            data_to_sign("u", &params),
            "uMediaUrlhttps://a.example/1MediaUrlhttps://b.example/2To+441632960000"
        );
        let sig = sign(URL, &params, TOKEN);
        // Order of repeats and duplicate copies do not matter…
        let reordered = p(&[
            ("MediaUrl", "https://a.example/1"),
            ("MediaUrl", "https://b.example/2"),
            ("To", "+441632960000"),
        ]);
        assert!(verify(URL, &reordered, TOKEN, &sig));
        // …but a last-value-wins map that lost a value does.
        let collapsed = p(&[("MediaUrl", "https://b.example/2"), ("To", "+441632960000")]);
        assert!(!verify(URL, &collapsed, TOKEN, &sig));
    }

    #[test]
    fn empty_values_add_just_the_name_and_are_not_dropped() {
        let params = p(&[("ToCity", ""), ("Body", "hi"), ("FromZip", "")]);
        assert_eq!(data_to_sign("u", &params), "uBodyhiFromZipToCity");
        let sig = sign(URL, &params, TOKEN);
        assert!(!verify(URL, &p(&[("Body", "hi")]), TOKEN, &sig));
        // A repeated name with an empty and a non-empty value signs both.
        assert_eq!(data_to_sign("u", &p(&[("a", "x"), ("a", "")])), "uaax");
    }

    #[test]
    fn parse_form_decodes_plus_and_percent_and_keeps_empties_and_repeats_in_order() {
        let body = b"Body=Hello+world%21+%F0%9F%91%8D&ToCity=&From=%2B447700900123&a=2&a=1&Flag";
        assert_eq!(
            parse_form(body),
            p(&[
                ("Body", "Hello world! 👍"),
                ("ToCity", ""),
                ("From", "+447700900123"),
                ("a", "2"),
                ("a", "1"),
                ("Flag", ""),
            ])
        );
        assert!(parse_form(b"").is_empty());
    }

    #[test]
    fn signatures_cover_decoded_values_not_the_raw_encoding() {
        let body = b"From=%2B447700900123&Body=Hello+world";
        let params = parse_form(body);
        let want = reference_signature(TOKEN, &format!("{URL}BodyHello worldFrom+447700900123"));
        assert!(verify(URL, &params, TOKEN, &want));
        let raw = reference_signature(TOKEN, &format!("{URL}BodyHello+worldFrom%2B447700900123"));
        assert!(!verify(URL, &params, TOKEN, &raw));
    }

    #[test]
    fn verify_accepts_the_https_url_with_and_without_the_default_port() {
        let params = p(&[("CallSid", "CA1")]);
        let plain = sign("https://h.example/voice", &params, TOKEN);
        let with_443 = sign("https://h.example:443/voice", &params, TOKEN);
        for url in ["https://h.example/voice", "https://h.example:443/voice"] {
            assert!(verify(url, &params, TOKEN, &plain), "{url}");
            assert!(verify(url, &params, TOKEN, &with_443), "{url}");
        }
        // http pairs with :80, not :443.
        let http_80 = sign("http://h.example:80/voice", &params, TOKEN);
        assert!(verify("http://h.example/voice", &params, TOKEN, &http_80));
        assert!(!verify("http://h.example/voice", &params, TOKEN, &with_443));
    }

    #[test]
    fn verify_keeps_or_strips_an_explicit_port_but_never_invents_one() {
        let params = p(&[("MessageSid", "SM1")]);
        let kept = sign("https://h.example:8443/sms", &params, TOKEN);
        let stripped = sign("https://h.example/sms", &params, TOKEN);
        // SMS signs with the explicit port, HTTPS voice without it: both are accepted.
        assert!(verify("https://h.example:8443/sms", &params, TOKEN, &kept));
        assert!(verify(
            "https://h.example:8443/sms",
            &params,
            TOKEN,
            &stripped
        ));
        // A different port, or a port we were not told about, is not guessed.
        let other = sign("https://h.example:9443/sms", &params, TOKEN);
        assert!(!verify(
            "https://h.example:8443/sms",
            &params,
            TOKEN,
            &other
        ));
        assert!(!verify("https://h.example/sms", &params, TOKEN, &kept));
        let default_in_place = sign("https://h.example:443/sms", &params, TOKEN);
        assert!(!verify(
            "https://h.example:8443/sms",
            &params,
            TOKEN,
            &default_in_place
        ));
    }

    #[test]
    fn verify_strips_userinfo_before_comparing() {
        let params = p(&[("Body", "hi")]);
        let sig = sign("https://h.example/sms?x=1", &params, TOKEN);
        assert!(verify(
            "https://user:pa%40ss@h.example/sms?x=1",
            &params,
            TOKEN,
            &sig
        ));
        assert!(verify(
            "https://user:pass@h.example:443/sms?x=1",
            &params,
            TOKEN,
            &sig
        ));
        let with_userinfo = sign("https://user:pass@h.example/sms?x=1", &params, TOKEN);
        assert!(!verify(
            "https://user:pass@h.example/sms?x=1",
            &params,
            TOKEN,
            &with_userinfo
        ));
    }

    #[test]
    fn candidate_urls_cover_the_documented_forms() {
        assert_eq!(
            candidate_urls("https://h.example/a/?q=1#f"),
            [
                "https://h.example/a/?q=1#f",
                "https://h.example:443/a/?q=1#f"
            ]
        );
        assert_eq!(
            candidate_urls("HTTP://u@h.example:8080"),
            ["HTTP://h.example:8080", "HTTP://h.example"]
        );
        assert_eq!(
            candidate_urls("https://[2001:db8::1]:8443/v"),
            ["https://[2001:db8::1]:8443/v", "https://[2001:db8::1]/v"]
        );
        assert_eq!(
            candidate_urls("https://[2001:db8::1]/v"),
            ["https://[2001:db8::1]/v", "https://[2001:db8::1]:443/v"]
        );
        assert_eq!(candidate_urls("not a url"), ["not a url"]);
        // '@' in the query is not userinfo.
        assert_eq!(
            candidate_urls("https://h.example/p?who=a@b")[0],
            "https://h.example/p?who=a@b"
        );
    }

    #[test]
    fn verify_rejects_tampering() {
        let params = p(&[
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("From", "+447700900123"),
            ("Body", "Car ready?"),
        ]);
        let sig = sign(URL, &params, TOKEN);
        assert!(verify(URL, &params, TOKEN, &sig));

        let tampered = p(&[
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("From", "+447700900124"),
            ("Body", "Car ready?"),
        ]);
        assert!(!verify(URL, &tampered, TOKEN, &sig), "tampered value");
        let mut extra = params.clone();
        extra.push(("NumMedia".into(), "0".into()));
        assert!(!verify(URL, &extra, TOKEN, &sig), "extra param");
        assert!(!verify(URL, &params[..2], TOKEN, &sig), "missing param");
        let renamed = p(&[
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("from", "+447700900123"),
            ("Body", "Car ready?"),
        ]);
        assert!(!verify(URL, &renamed, TOKEN, &sig), "name case matters");
        let trimmed = p(&[
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("From", "+447700900123"),
            ("Body", "Car ready? "),
        ]);
        assert!(!verify(URL, &trimmed, TOKEN, &sig), "whitespace matters");
        assert!(
            !verify(URL, &params, "0123456789abcdef0123456789abcdee", &sig),
            "wrong token"
        );
        assert!(!verify(URL, &params, "", &sig), "empty token");
        for url in [
            "https://inbox.garage.example/webhooks/twilio/sms?org=8",
            "https://inbox.garage.example/webhooks/twilio/sms/?org=7",
            "https://inbox.garage.example/webhooks/twilio/sms",
            "http://inbox.garage.example/webhooks/twilio/sms?org=7",
            "https://evil.example/webhooks/twilio/sms?org=7",
        ] {
            assert!(!verify(url, &params, TOKEN, &sig), "wrong url {url}");
        }
    }

    #[test]
    fn verify_rejects_malformed_signatures() {
        let params = p(&[("Body", "hi")]);
        let sig = sign(URL, &params, TOKEN);
        for bad in [
            String::new(),
            "not base64!".to_string(),
            format!(" {sig}"),
            format!("{sig}\n"),
            sig.trim_end_matches('=').to_string(),
            sig[..20].to_string(),
            STANDARD.encode([0u8; 20]),
            hex::encode(STANDARD.decode(&sig).unwrap()),
        ] {
            assert!(!verify(URL, &params, TOKEN, &bad), "{bad:?}");
        }
    }

    #[test]
    fn get_requests_sign_the_url_alone() {
        let url = "https://h.example/voice?CallSid=CA1&From=%2B447700900123";
        let sig = reference_signature(TOKEN, url);
        assert_eq!(sign(url, &[], TOKEN), sig);
        assert!(verify(url, &[], TOKEN, &sig));
    }

    #[test]
    fn json_bodies_are_checked_by_hash_and_url_signature() {
        let body = br#"{"Body":"Hello","To":"+441632960000"}"#;
        let hash = hex::encode(Sha256::digest(body));
        let url = format!("https://h.example/hook?org=1&bodySHA256={hash}");
        let sig = reference_signature(TOKEN, &url);
        assert!(verify_with_body_hash(&url, body, TOKEN, &sig));
        assert!(
            !verify_with_body_hash(&url, b"{}", TOKEN, &sig),
            "body swapped"
        );
        assert!(
            !verify_with_body_hash(&url, body, "other", &sig),
            "wrong token"
        );
        let no_hash = "https://h.example/hook?org=1";
        assert!(!verify_with_body_hash(
            no_hash,
            body,
            TOKEN,
            &sign(no_hash, &[], TOKEN)
        ));
    }

    /// Parameter names that are distinct, so that any change to a value changes the signed text
    /// (with repeated names, turning one copy into another present value legitimately does not).
    fn distinct_params() -> impl Strategy<Value = Vec<(String, String)>> {
        prop::collection::btree_map("[A-Za-z][A-Za-z0-9]{0,12}", any::<String>(), 1..8)
            .prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        #[test]
        fn prop_verify_accepts_what_sign_produced(
            params in prop::collection::vec(("[A-Za-z0-9]{0,6}", any::<String>()), 0..10),
            path in "[a-z/]{0,10}",
            token in any::<String>(),
        ) {
            let url = format!("https://h.example/{path}");
            let sig = sign(&url, &params, &token);
            prop_assert!(verify(&url, &params, &token, &sig));
            let mut shuffled = params.clone();
            shuffled.reverse();
            prop_assert!(verify(&url, &shuffled, &token, &sig));
            let with_port = format!("https://h.example:443/{path}");
            prop_assert!(verify(&with_port, &params, &token, &sig));
        }

        #[test]
        fn prop_any_single_character_change_of_a_value_is_rejected(
            params in distinct_params(),
            which in any::<prop::sample::Index>(),
            at in any::<prop::sample::Index>(),
            replacement in any::<char>(),
            edit in 0..3u8,
        ) {
            let sig = sign(URL, &params, TOKEN);
            let mut changed = params.clone();
            let i = which.index(changed.len());
            let mut chars: Vec<char> = changed[i].1.chars().collect();
            match edit {
                0 if !chars.is_empty() => {
                    let j = at.index(chars.len());
                    prop_assume!(chars[j] != replacement);
                    chars[j] = replacement;
                }
                1 if !chars.is_empty() => {
                    chars.remove(at.index(chars.len()));
                }
                _ => chars.insert(at.index(chars.len() + 1), replacement),
            }
            changed[i].1 = chars.into_iter().collect();
            prop_assert!(!verify(URL, &changed, TOKEN, &sig));
        }

        #[test]
        fn prop_verify_and_parse_form_never_panic(
            body in prop::collection::vec(any::<u8>(), 0..200),
            url in any::<String>(),
            signature in any::<String>(),
        ) {
            let params = parse_form(&body);
            let _ = verify(&url, &params, TOKEN, &signature);
            let _ = verify_with_body_hash(&url, &body, TOKEN, &signature);
            let _ = candidate_urls(&url);
        }
    }
}
