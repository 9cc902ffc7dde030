//! DSK-1 desktop updates: `inbox-server release add` (the signature check, atomic publication)
//! and the update routes as tauri-plugin-updater calls them, over HTTP.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use inbox_server::releases::Releases;
use reqwest::StatusCode;
use serde_json::Value;

use crate::cli::bin;
use crate::support::Server;

/// A minisign key pair made for the test, as `tauri signer generate` makes them.
struct TestKey {
    pk: minisign::PublicKey,
    sk: minisign::SecretKey,
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

impl TestKey {
    fn new() -> TestKey {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        TestKey {
            pk: kp.pk,
            sk: kp.sk,
        }
    }

    /// The updater's `pubkey`: base64 of the public key file.
    fn public(&self) -> String {
        b64(&self.pk.to_box().unwrap().to_string())
    }

    /// The `.sig` file `tauri signer sign --app-version` writes: base64 of the minisign
    /// signature, the version in the trusted comment.
    fn sign(&self, bytes: &[u8], file: &str, version: &str) -> String {
        let comment = format!("timestamp:1781694000\tfile:{file}\tversion:{version}");
        let sig = minisign::sign(
            Some(&self.pk),
            &self.sk,
            bytes,
            Some(&comment),
            Some("signature from tauri secret key"),
        )
        .unwrap();
        b64(&sig.to_string())
    }
}

/// A releases folder and the files to publish into it.
struct Desk {
    key: TestKey,
    releases: tempfile::TempDir,
    files: tempfile::TempDir,
}

impl Desk {
    fn new() -> Desk {
        Desk {
            key: TestKey::new(),
            releases: tempfile::tempdir().unwrap(),
            files: tempfile::tempdir().unwrap(),
        }
    }

    async fn server(&self) -> Server {
        let dir = self.releases.path().to_path_buf();
        Server::start_with(move |s| s.releases = Some(Arc::new(Releases::new(dir)))).await
    }

    /// An update file with its `.sig`, signed for `version`.
    fn signed(&self, name: &str, version: &str) -> (PathBuf, PathBuf) {
        let bytes = format!("!<arch>\nGarage Inbox {version} for the test\n").repeat(500);
        let file = self.files.path().join(name);
        std::fs::write(&file, &bytes).unwrap();
        let sig = self.files.path().join(format!("{name}.sig"));
        std::fs::write(&sig, self.key.sign(bytes.as_bytes(), name, version)).unwrap();
        (file, sig)
    }

    /// Runs `inbox-server release add`; (success, stdout, stderr).
    fn add(
        &self,
        version: &str,
        target: &str,
        file: &Path,
        sig: &Path,
        pubkey: Option<&str>,
    ) -> (bool, String, String) {
        let mut cmd = bin();
        cmd.args(["release", "add", "--version", version, "--target", target])
            .args([
                "--arch",
                "x86_64",
                "--notes",
                "Faster lists and a new sign-in page",
            ])
            .arg("--file")
            .arg(file)
            .arg("--signature")
            .arg(sig)
            .env("INBOX_RELEASES_DIR", self.releases.path())
            .env("RUST_BACKTRACE", "0")
            .env_remove("INBOX_UPDATE_PUBKEY");
        if let Some(k) = pubkey {
            cmd.env("INBOX_UPDATE_PUBKEY", k);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Publishes `name` as `version` for linux x86_64; it must succeed.
    fn publish(&self, name: &str, version: &str) -> PathBuf {
        let (file, sig) = self.signed(name, version);
        let (ok, out, err) = self.add(version, "linux", &file, &sig, Some(&self.key.public()));
        assert!(ok, "release add {version}: {err}");
        let line: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(line["status"], "published");
        file
    }

    /// What is in the releases folder, as paths relative to it.
    fn contents(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                out.push(p.strip_prefix(root).unwrap().display().to_string());
                if p.is_dir() {
                    walk(&p, root, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.releases.path(), self.releases.path(), &mut out);
        out.sort();
        out
    }
}

#[tokio::test]
async fn dsk1_nothing_newer_answers_204() {
    let desk = Desk::new();
    desk.publish("Garage-Inbox_0.2.0_amd64.deb", "0.2.0");
    let server = desk.server().await;
    let c = server.login("frontdesk@fixture.test").await;
    for path in [
        "/api/v1/updates/linux/x86_64/0.2.0",
        "/api/v1/updates/linux/x86_64/0.10.0",
        "/api/v1/updates/linux/aarch64/0.1.0",
        "/api/v1/updates/windows/x86_64/0.1.0?bundle_type=nsis",
        // An RPM install cannot take the .deb.
        "/api/v1/updates/linux/x86_64/0.1.0?bundle_type=rpm",
    ] {
        let (status, body) = c.get(path).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{path}: {body}");
    }
    // A server with no releases folder offers nothing either.
    let bare = Server::start().await;
    let (status, _) = bare
        .login("frontdesk@fixture.test")
        .await
        .get("/api/v1/updates/linux/x86_64/0.1.0")
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn dsk1_a_newer_version_is_offered_with_a_signature_that_verifies() {
    let desk = Desk::new();
    desk.publish("Garage-Inbox_0.2.0_amd64.deb", "0.2.0");
    let newest = desk.publish("Garage-Inbox_0.10.0_amd64.deb", "0.10.0");
    let server = desk.server().await;
    let c = server.login("frontdesk@fixture.test").await;

    let (status, m) = c
        .get("/api/v1/updates/linux/x86_64/0.9.1?bundle_type=deb")
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    // The plugin's dynamic-server JSON, exactly these fields.
    let mut keys: Vec<&str> = m.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["notes", "pub_date", "signature", "url", "version"]);
    assert_eq!(
        m["version"], "0.10.0",
        "0.10.0 is newer than 0.9.1 and 0.2.0"
    );
    assert_eq!(m["notes"], "Faster lists and a new sign-in page");
    chrono::DateTime::parse_from_rfc3339(m["pub_date"].as_str().unwrap()).unwrap();
    let url = m["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!(
            "{}/api/v1/updates/files/0.10.0/linux/x86_64/Garage-Inbox_0.10.0_amd64.deb",
            server.base
        ),
        "the file is on the server the desktop asked"
    );

    // The file, as the updater downloads it: same token, the bytes that were signed.
    let res = c
        .http
        .get(url)
        .bearer_auth(c.token.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.debian.binary-package"
    );
    let original = std::fs::read(&newest).unwrap();
    assert_eq!(
        res.headers()["content-length"],
        original.len().to_string().as_str()
    );
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..], &original[..]);

    // The signature verifies against the key, as the app checks it before installing.
    let decode = |s: &str| {
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
    };
    let pk = minisign_verify::PublicKey::decode(&decode(&desk.key.public())).unwrap();
    let sig =
        minisign_verify::Signature::decode(&decode(m["signature"].as_str().unwrap())).unwrap();
    pk.verify(&bytes, &sig, false).unwrap();
    assert!(sig.trusted_comment().ends_with("version:0.10.0"));
    let mut changed = bytes.to_vec();
    changed[0] ^= 1;
    assert!(pk.verify(&changed, &sig, false).is_err());
}

#[tokio::test]
async fn dsk1_updates_are_for_signed_in_users_only() {
    let desk = Desk::new();
    desk.publish("Garage-Inbox_0.2.0_amd64.deb", "0.2.0");
    let server = desk.server().await;
    let anon = server.anonymous();
    for path in [
        "/api/v1/updates/linux/x86_64/0.1.0",
        "/api/v1/updates/files/0.2.0/linux/x86_64/Garage-Inbox_0.2.0_amd64.deb",
    ] {
        let (status, body) = anon.get(path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
    }
    // Any signed-in user, whatever their role: a mechanic's desktop updates too.
    let (status, _) = server
        .login("mechanic@fixture.test")
        .await
        .get("/api/v1/updates/linux/x86_64/0.1.0")
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn dsk1_bad_version_text_is_422_and_unknown_platforms_404() {
    let desk = Desk::new();
    let server = desk.server().await;
    let c = server.login("frontdesk@fixture.test").await;
    let (status, body) = c.get("/api/v1/updates/linux/x86_64/latest").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "invalid");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a version"),
        "{body}"
    );
    for path in [
        "/api/v1/updates/plan9/x86_64/0.1.0",
        "/api/v1/updates/linux/mips/0.1.0",
    ] {
        let (status, _) = c.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn dsk1_the_file_route_serves_published_files_only() {
    let desk = Desk::new();
    desk.publish("Garage-Inbox_0.2.0_amd64.deb", "0.2.0");
    std::fs::write(desk.releases.path().join("secret.txt"), "not for download").unwrap();
    let server = desk.server().await;
    let c = server.login("frontdesk@fixture.test").await;
    let files = "/api/v1/updates/files";
    for path in [
        // Encoded slashes: one segment that decodes to a path.
        format!("{files}/0.2.0/linux/x86_64/..%2F..%2F..%2Fsecret.txt"),
        format!("{files}/..%2F..%2F..%2Fsecret.txt/linux/x86_64/x"),
        format!("{files}/0.2.0/linux/..%2F..%2F..%2F/secret.txt"),
        // Files of the release folder that are not the published file.
        format!("{files}/0.2.0/linux/x86_64/release.json"),
        format!("{files}/0.2.0/linux/x86_64/Garage-Inbox_0.2.0_amd64.deb.sig"),
        // The right file under another platform or version.
        format!("{files}/0.2.0/windows/x86_64/Garage-Inbox_0.2.0_amd64.deb"),
        format!("{files}/0.3.0/linux/x86_64/Garage-Inbox_0.2.0_amd64.deb"),
    ] {
        let (status, body) = c.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(!body.to_string().contains("not for download"));
    }
    // Literal `..` segments, which an HTTP client would normalise away: sent by hand.
    let addr = server.base.trim_start_matches("http://").to_string();
    let token = c.token.clone().unwrap();
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET {files}/0.2.0/linux/x86_64/../../../secret.txt HTTP/1.1\r\nHost: x\r\n\
             Authorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(!answer.contains("not for download"));
}

#[tokio::test]
async fn dsk1_release_add_refuses_a_tampered_file_or_a_foreign_signature() {
    let desk = Desk::new();
    let key = desk.key.public();
    let (file, sig) = desk.signed("Garage-Inbox_0.2.0_amd64.deb", "0.2.0");

    // The file changed after signing.
    let tampered = desk
        .files
        .path()
        .join("Garage-Inbox_0.2.0_amd64-tampered.deb");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[10] ^= 0x20;
    std::fs::write(&tampered, &bytes).unwrap();
    let (ok, _, err) = desk.add("0.2.0", "linux", &tampered, &sig, Some(&key));
    assert!(!ok);
    assert!(err.contains("does not match the file"), "{err}");

    // The signature altered (one character of its base64 text).
    let mut text = std::fs::read_to_string(&sig).unwrap();
    let at = text.len() / 2;
    let flipped = if &text[at..=at] == "A" { "B" } else { "A" };
    text.replace_range(at..=at, flipped);
    let bad_sig = desk.files.path().join("altered.sig");
    std::fs::write(&bad_sig, text).unwrap();
    let (ok, _, err) = desk.add("0.2.0", "linux", &file, &bad_sig, Some(&key));
    assert!(!ok);
    assert!(err.contains("signature"), "{err}");

    // Signed with another key than the app trusts.
    let (ok, _, err) = desk.add(
        "0.2.0",
        "linux",
        &file,
        &sig,
        Some(&TestKey::new().public()),
    );
    assert!(!ok);
    assert!(err.contains("another key"), "{err}");

    // Signed for another version than the one it would be offered as.
    let (ok, _, err) = desk.add("0.3.0", "linux", &file, &sig, Some(&key));
    assert!(!ok);
    assert!(err.contains("signed as version 0.2.0, not 0.3.0"), "{err}");

    // No key configured: nothing can be checked, so nothing is published.
    let (ok, _, err) = desk.add("0.2.0", "linux", &file, &sig, None);
    assert!(!ok);
    assert!(err.contains("INBOX_UPDATE_PUBKEY"), "{err}");

    // Bad platform names are refused with the valid ones.
    let (ok, _, err) = desk.add("0.2.0", "macos", &file, &sig, Some(&key));
    assert!(!ok);
    assert!(err.contains("linux, windows or darwin"), "{err}");

    // Nothing of all that reached the folder (no half release, no staging leftovers).
    let contents = if desk.releases.path().exists() {
        desk.contents()
    } else {
        Vec::new()
    };
    assert!(contents.is_empty(), "{contents:?}");
    let server = desk.server().await;
    let (status, _) = server
        .login("frontdesk@fixture.test")
        .await
        .get("/api/v1/updates/linux/x86_64/0.1.0")
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn dsk1_a_published_version_is_not_replaced_by_another_file() {
    let desk = Desk::new();
    let key = desk.key.public();
    let (file, sig) = desk.signed("Garage-Inbox_0.2.0_amd64.deb", "0.2.0");
    assert!(desk.add("0.2.0", "linux", &file, &sig, Some(&key)).0);
    // The publish job run twice: fine, nothing changes.
    let (ok, out, err) = desk.add("0.2.0", "linux", &file, &sig, Some(&key));
    assert!(ok, "{err}");
    assert!(out.contains("already published"), "{out}");
    // Another build under the same version: refused.
    let file2 = desk
        .files
        .path()
        .join("Garage-Inbox_0.2.0_amd64-rebuilt.deb");
    let sig2 = desk.files.path().join("rebuilt.sig");
    std::fs::write(&file2, b"a different build").unwrap();
    let name = "Garage-Inbox_0.2.0_amd64-rebuilt.deb";
    std::fs::write(&sig2, desk.key.sign(b"a different build", name, "0.2.0")).unwrap();
    let (ok, _, err) = desk.add("0.2.0", "linux", &file2, &sig2, Some(&key));
    assert!(!ok);
    assert!(err.contains("already published"), "{err}");
    // The same version for another platform is its own release.
    assert!(desk.add("0.2.0", "windows", &file, &sig, Some(&key)).0);

    let list = bin()
        .args(["release", "list"])
        .env("INBOX_RELEASES_DIR", desk.releases.path())
        .output()
        .unwrap();
    let lines: Vec<Value> = String::from_utf8(list.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["target"], "linux");
    assert_eq!(lines[0]["file"], "Garage-Inbox_0.2.0_amd64.deb");
    assert_eq!(lines[1]["target"], "windows");
}
