//! Messages' files in an S3-compatible bucket (issue 17), against moto's S3 server on a loopback
//! port: written once per content however many instances race, read back, deleted with their
//! thumbnail; an MMS photo fetched by one instance and served by another from the shared bucket;
//! `serve` refusing to start on a bucket it cannot use.
//!
//! moto (`pip install 'moto[server]==5.2.1'`, which `.ci/setup.sh` does) must be installed: the
//! tests fail, never skip, without it. `INBOX_TEST_MOTO_SERVER` names another `moto_server`.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use inbox_server::media::blobs::{Blobs, S3Credentials, S3Settings};
use object_store::ObjectStore;

use crate::cli::{bin, free_port, Child};
use crate::media::{fake_provider, get_raw, png, send_mms, settled};
use crate::support::{conv::*, *};
use crate::webhooks::sid;

/// moto's S3 on 127.0.0.1, killed (and its log deleted) when dropped.
struct Moto {
    _child: Child,
    _log: tempfile::NamedTempFile,
    endpoint: String,
}

impl Moto {
    async fn start() -> Moto {
        let program =
            std::env::var("INBOX_TEST_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        // A port taken between `free_port` and moto's bind ends moto at once: try another.
        for _ in 0..3 {
            let log = tempfile::NamedTempFile::new().unwrap();
            let port = free_port();
            let child = Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log.reopen().unwrap())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot start {program} ({e}): the S3 tests need moto's server; install it \
                         with `pip install 'moto[server]==5.2.1'` (.ci/setup.sh does) or name it \
                         in INBOX_TEST_MOTO_SERVER"
                    )
                });
            let mut child = Child(child);
            let endpoint = format!("http://127.0.0.1:{port}");
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            loop {
                if let Some(status) = child.0.try_wait().unwrap() {
                    let mut said = String::new();
                    let _ = log.reopen().unwrap().read_to_string(&mut said);
                    if said.contains("Address already in use") {
                        break;
                    }
                    panic!("{program} exited ({status}) before answering:\n{said}");
                }
                if reqwest::get(&endpoint).await.is_ok() {
                    return Moto {
                        _child: child,
                        _log: log,
                        endpoint,
                    };
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{program} did not answer on {endpoint} within 60 s"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        panic!("{program} found no free port in three tries");
    }

    /// A new, empty bucket (moto takes an unsigned PUT).
    async fn bucket(&self, name: &str) -> S3Settings {
        let res = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "creating {name}: {res:?}");
        self.settings(name)
    }

    fn settings(&self, bucket: &str) -> S3Settings {
        S3Settings {
            bucket: bucket.into(),
            region: "us-east-1".into(),
            endpoint: Some(self.endpoint.clone()),
            credentials: Some(S3Credentials {
                access_key_id: "testing".into(),
                secret_access_key: "testing".into(),
            }),
        }
    }

    /// Every key in the bucket, sorted, read straight from S3 (not through `Blobs`).
    async fn keys(&self, bucket: &str) -> Vec<String> {
        let s3 = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region("us-east-1")
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_access_key_id("testing")
            .with_secret_access_key("testing")
            .build()
            .unwrap();
        let mut keys: Vec<String> = s3
            .list(None)
            .map(|m| m.unwrap().location.to_string())
            .collect()
            .await;
        keys.sort();
        keys
    }
}

#[tokio::test]
async fn a_file_in_s3_is_written_once_read_back_and_deleted_with_its_thumbnail() {
    let moto = Moto::start().await;
    let settings = moto.bucket("inbox-media").await;
    let blobs = Blobs::s3(settings.clone()).unwrap();
    blobs.check().await.unwrap();
    assert_eq!(blobs.root(), None);

    let sha = blobs.put(b"dent photo").await.unwrap();
    assert_eq!(blobs.put(b"dent photo").await.unwrap(), sha);
    // Two instances storing the same new file at once: both succeed, one object.
    let (a, b) = (
        Blobs::s3(settings.clone()).unwrap(),
        Blobs::s3(settings.clone()).unwrap(),
    );
    let (ra, rb) = tokio::join!(a.put(b"brake quote"), b.put(b"brake quote"));
    let quote = ra.unwrap();
    assert_eq!(rb.unwrap(), quote);
    let file = |s: &str| format!("{}/{s}", &s[..2]);
    let mut expected = vec![file(&sha), file(&quote)];
    expected.sort();
    assert_eq!(moto.keys("inbox-media").await, expected);

    assert_eq!(blobs.get(&sha).await.unwrap(), b"dent photo");
    assert!(blobs.exists(&sha).await.unwrap());
    blobs.put_thumbnail(&sha, b"jpeg").await.unwrap();
    assert_eq!(blobs.get_thumbnail(&sha).await.unwrap(), b"jpeg");
    let thumb = format!("thumbs/{}/{sha}.jpg", &sha[..2]);
    assert!(moto.keys("inbox-media").await.contains(&thumb));
    let missing = "0".repeat(64);
    assert!(!blobs.exists(&missing).await.unwrap());
    assert_eq!(
        blobs.get(&missing).await.unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
    for bad in ["../../etc/passwd", &sha.to_uppercase()] {
        assert_eq!(
            blobs.get(bad).await.unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput
        );
    }

    blobs.delete(&sha).await.unwrap();
    assert_eq!(moto.keys("inbox-media").await, vec![file(&quote)]);
    assert!(!blobs.exists(&sha).await.unwrap());
    blobs.delete(&sha).await.unwrap();
    blobs.delete(&quote).await.unwrap(); // it has no thumbnail
    assert!(moto.keys("inbox-media").await.is_empty());
}

#[tokio::test]
async fn an_mms_photo_is_stored_once_in_the_shared_bucket_and_served_by_any_instance() {
    let moto = Moto::start().await;
    let settings = moto.bucket("garage-media").await;
    let (base, _fake) = fake_provider().await;
    let (b, s3) = (base.clone(), settings.clone());
    let s = Server::start_with(move |state| {
        state.providers.twilio_api_base = b;
        state.blobs = Some(Arc::new(Blobs::s3(s3).unwrap()));
    })
    .await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let photo = format!("{base}/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM9/Media/photo");
    let files = [(photo.clone(), "image/png"), (photo, "image/png")];
    send_mms(&s, &sid("MM", 1790), "The bumper", &files).await;

    let m = settled(&frontdesk, ALICE, "The bumper").await;
    let a = m["attachments"].as_array().unwrap();
    assert!(a.iter().all(|a| a["status"] == "ready"), "{m}");
    let id = a[0]["id"].as_i64().unwrap();
    let (status, _, bytes) = get_raw(&frontdesk, &format!("/api/v1/media/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, png());
    let (status, _, _) = get_raw(&frontdesk, &format!("/api/v1/media/{id}/thumbnail")).await;
    assert_eq!(status, 200);

    // Two identical photos, one object (and its thumbnail).
    let keys = moto.keys("garage-media").await;
    let files: Vec<&String> = keys.iter().filter(|k| !k.starts_with("thumbs/")).collect();
    assert_eq!(files.len(), 1, "{keys:?}");
    assert_eq!(keys.len(), 2, "{keys:?}");
    let sha = files[0].rsplit('/').next().unwrap().to_string();

    // Another instance over the same database serves it from the bucket.
    let s3 = settings.clone();
    let peer = s
        .peer_with(move |state| state.blobs = Some(Arc::new(Blobs::s3(s3).unwrap())))
        .await;
    let there = peer.login("frontdesk@fixture.test").await;
    let (status, _, bytes) = get_raw(&there, &format!("/api/v1/media/{id}")).await;
    assert_eq!((status, bytes == png()), (200, true));

    let blobs = Blobs::s3(settings).unwrap();
    blobs.delete(&sha).await.unwrap();
    assert!(
        moto.keys("garage-media").await.is_empty(),
        "file and thumbnail"
    );
    assert!(!blobs.exists(&sha).await.unwrap());
}

/// `inbox-server serve` with INBOX_MEDIA_S3_* pointing at moto, as an operator would run it.
fn serve_with_bucket(db: &str, moto: &Moto, bucket: &str, port: u16, stderr: Stdio) -> Child {
    bin()
        .args(["--database-url", db, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env("INBOX_MEDIA_S3_BUCKET", bucket)
        .env("INBOX_MEDIA_S3_ENDPOINT", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map(Child)
        .unwrap()
}

#[tokio::test]
async fn serve_checks_the_media_bucket_at_start_and_names_one_it_cannot_use() {
    let moto = Moto::start().await;
    moto.bucket("inbox-files").await;
    let db = TestDb::new().await;

    let mut missing = serve_with_bucket(
        &db.url,
        &moto,
        "no-such-bucket",
        free_port(),
        Stdio::piped(),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = missing.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "serve kept running on a missing bucket"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut said = String::new();
    missing
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut said)
        .unwrap();
    assert!(!status.success());
    assert!(
        said.contains("the S3 bucket no-such-bucket at http://127.0.0.1:")
            && said.contains("cannot be used"),
        "{said}"
    );

    let port = free_port();
    let mut serving = serve_with_bucket(&db.url, &moto, "inbox-files", port, Stdio::null());
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    // While it starts, the port is open and a request waits for the real app (or the exit).
    let status = loop {
        if let Ok(res) = http
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
        {
            break res.status();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "serve did not start on a usable bucket"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, 200);
    assert!(serving.0.try_wait().unwrap().is_none(), "still serving");
}

#[tokio::test]
async fn an_endpoint_nobody_answers_fails_the_check_by_name() {
    let blobs = Blobs::s3(S3Settings {
        bucket: "media".into(),
        region: "us-east-1".into(),
        endpoint: Some(format!("http://127.0.0.1:{}", free_port())),
        credentials: Some(S3Credentials {
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
        }),
    })
    .unwrap();
    let e = blobs.check().await.unwrap_err().to_string();
    assert!(
        e.contains("the S3 bucket media at http://127.0.0.1:"),
        "{e}"
    );
}
