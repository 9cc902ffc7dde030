//! The files themselves (issue 17), stored by their SHA-256 so an identical file is kept once:
//! in a local folder beside the database, or in an S3-compatible bucket that several server
//! instances share. Both sit behind the `object_store` crate, so the rules (the key check, one
//! write per content, a missing file is no error on delete) are written once, here. Files are at
//! `<ab>/<sha>` and thumbnails at `thumbs/<ab>/<sha>.jpg`, the same keys in a folder and in a
//! bucket, so a folder can be copied into a bucket as it is.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload, RetryConfig};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

pub struct Blobs {
    place: Place,
}

enum Place {
    /// `object_store`'s own local store rather than file code of ours: it writes to a staging
    /// name beside the file and renames it, creates folders as needed and reports a missing file
    /// as `NotFound`, as the bucket does, so the two cannot drift apart. It needs its folder to
    /// exist when made, so it is made on first use (`Blobs::new` stays infallible and creates
    /// nothing, as before).
    Local {
        root: PathBuf,
        store: OnceCell<LocalFileSystem>,
    },
    S3 {
        bucket: String,
        endpoint: Option<String>,
        store: AmazonS3,
    },
}

/// An S3-compatible bucket (AWS, MinIO, Garage, R2, a test server…) and how to sign for it.
#[derive(Clone, Debug)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// None: AWS itself. Anything else is addressed path-style (`<endpoint>/<bucket>/<key>`),
    /// as MinIO and most other S3-compatible servers want; `http://` is allowed for one on the
    /// same machine or network.
    pub endpoint: Option<String>,
    /// None: the standard AWS environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`, …, else the instance's role). Given: only these, and nothing else
    /// from the environment.
    pub credentials: Option<S3Credentials>,
}

#[derive(Clone)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .finish()
    }
}

/// The region of a bucket when none is named.
pub const DEFAULT_S3_REGION: &str = "us-east-1";

/// A failing bucket is retried briefly and then reported (the media worker retries the download
/// later): object_store's default of ten retries over three minutes would hold a request that
/// serves a file, and the start-up check, far longer than anyone waits.
fn retries() -> RetryConfig {
    RetryConfig {
        max_retries: 3,
        retry_timeout: Duration::from_secs(30),
        ..RetryConfig::default()
    }
}

/// A SHA-256 in lower-case hex, as stored; anything else never becomes a key.
fn checked(sha256: &str) -> io::Result<&str> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        Ok(sha256)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a stored file's SHA-256",
        ))
    }
}

fn file_key(sha256: &str) -> io::Result<Key> {
    let s = checked(sha256)?;
    Ok(Key::from_iter([&s[..2], s]))
}

fn thumb_key(sha256: &str) -> io::Result<Key> {
    let s = checked(sha256)?;
    Ok(Key::from_iter(["thumbs", &s[..2], &format!("{s}.jpg")]))
}

impl Blobs {
    /// Files in a local folder, created when the first file is stored.
    pub fn new(root: impl Into<PathBuf>) -> Blobs {
        Blobs {
            place: Place::Local {
                root: root.into(),
                store: OnceCell::new(),
            },
        }
    }

    /// Files in an S3-compatible bucket. Nothing is asked of the bucket yet: `check` does.
    pub fn s3(settings: S3Settings) -> io::Result<Blobs> {
        let builder = match &settings.credentials {
            Some(c) => AmazonS3Builder::new()
                .with_access_key_id(&c.access_key_id)
                .with_secret_access_key(&c.secret_access_key),
            None => AmazonS3Builder::from_env(),
        };
        let mut builder = builder
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_retry(retries());
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let store = builder.build().map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("S3 bucket {}: {e}", settings.bucket),
            )
        })?;
        Ok(Blobs {
            place: Place::S3 {
                bucket: settings.bucket,
                endpoint: settings.endpoint,
                store,
            },
        })
    }

    /// The local folder, when the files are kept in one.
    pub fn root(&self) -> Option<&Path> {
        match &self.place {
            Place::Local { root, .. } => Some(root),
            Place::S3 { .. } => None,
        }
    }

    async fn store(&self) -> io::Result<&dyn ObjectStore> {
        match &self.place {
            Place::Local { root, store } => {
                let store = store
                    .get_or_try_init(|| async {
                        tokio::fs::create_dir_all(root).await?;
                        LocalFileSystem::new_with_prefix(root).map_err(io::Error::from)
                    })
                    .await?;
                Ok(store)
            }
            Place::S3 { store, .. } => Ok(store),
        }
    }

    /// At start: the folder can be made, or the bucket exists and these credentials may list
    /// it. The error says which bucket, at which endpoint.
    pub async fn check(&self) -> io::Result<()> {
        let checked = async {
            let store = self.store().await?;
            if let Place::S3 { .. } = self.place {
                // The first page of a listing is one request, whatever the bucket holds.
                if let Some(Err(e)) = store.list(None).next().await {
                    return Err(io::Error::from(e));
                }
            }
            Ok(())
        };
        checked
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("{self} cannot be used: {e}")))
    }

    /// Stores a file (once per content) and returns its SHA-256.
    pub async fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let sha = hex::encode(Sha256::digest(bytes));
        self.write_once(&file_key(&sha)?, bytes).await?;
        Ok(sha)
    }

    pub async fn put_thumbnail(&self, sha256: &str, jpeg: &[u8]) -> io::Result<()> {
        self.write_once(&thumb_key(sha256)?, jpeg).await
    }

    pub async fn get(&self, sha256: &str) -> io::Result<Vec<u8>> {
        self.read(&file_key(sha256)?).await
    }

    pub async fn get_thumbnail(&self, sha256: &str) -> io::Result<Vec<u8>> {
        self.read(&thumb_key(sha256)?).await
    }

    /// Whether the file itself (not its thumbnail) is stored.
    pub async fn exists(&self, sha256: &str) -> io::Result<bool> {
        let key = file_key(sha256)?;
        found(self.store().await?, &key).await
    }

    /// Removes a file and its thumbnail; either already gone is no error. The caller makes sure
    /// no attachment still names the file.
    pub async fn delete(&self, sha256: &str) -> io::Result<()> {
        let (file, thumb) = (file_key(sha256)?, thumb_key(sha256)?);
        let store = self.store().await?;
        // The thumbnail first: a failure in between leaves a file that a retry still finds.
        for key in [thumb, file] {
            match store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn read(&self, key: &Key) -> io::Result<Vec<u8>> {
        let got = self.store().await?.get(key).await?;
        Ok(got.bytes().await?.to_vec())
    }

    /// Writes `bytes` at `key` unless something is there already (the same content, by its
    /// name). Both stores make an object visible whole or not at all.
    async fn write_once(&self, key: &Key, bytes: &[u8]) -> io::Result<()> {
        let store = self.store().await?;
        if found(store, key).await? {
            return Ok(());
        }
        // A bucket refuses a second writer (`If-None-Match: *`), so instances racing on the same
        // content write it once. A folder renames over instead: the bytes are the same, and
        // `Create` would need hard links, which FAT-formatted disks and some network shares lack.
        let mode = match self.place {
            Place::Local { .. } => PutMode::Overwrite,
            Place::S3 { .. } => PutMode::Create,
        };
        let payload = PutPayload::from(bytes.to_vec());
        match store.put_opts(key, payload, mode.into()).await {
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

async fn found(store: &dyn ObjectStore, key: &Key) -> io::Result<bool> {
    match store.head(key).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl std::fmt::Display for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.place {
            Place::Local { root, .. } => write!(f, "the folder {}", root.display()),
            Place::S3 {
                bucket, endpoint, ..
            } => {
                let at = endpoint.as_deref().unwrap_or("AWS");
                write!(f, "the S3 bucket {bucket} at {at}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_identical_file_is_stored_once_under_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let b = Blobs::new(dir.path());
        let a = b.put(b"dent photo").await.unwrap();
        assert_eq!(b.put(b"dent photo").await.unwrap(), a);
        assert_eq!(b.get(&a).await.unwrap(), b"dent photo");
        let files = std::fs::read_dir(dir.path().join(&a[..2])).unwrap().count();
        assert_eq!(files, 1, "one copy, no temporary left");
        assert!(b.get("../../etc/passwd").await.is_err());
        assert!(b.get(&a.to_uppercase()).await.is_err());
    }

    #[tokio::test]
    async fn a_file_is_deleted_with_its_thumbnail_and_a_missing_one_is_no_error() {
        let dir = tempfile::tempdir().unwrap();
        let b = Blobs::new(dir.path().join("not-yet-made"));
        b.check().await.unwrap();
        let a = b.put(b"brake quote").await.unwrap();
        b.put_thumbnail(&a, b"jpeg").await.unwrap();
        assert!(b.exists(&a).await.unwrap());
        assert_eq!(b.get_thumbnail(&a).await.unwrap(), b"jpeg");
        assert!(dir
            .path()
            .join(format!("not-yet-made/thumbs/{}/{a}.jpg", &a[..2]))
            .is_file());

        b.delete(&a).await.unwrap();
        assert!(!b.exists(&a).await.unwrap());
        let gone = b.get(&a).await.unwrap_err();
        assert_eq!(gone.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            b.get_thumbnail(&a).await.unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        b.delete(&a).await.unwrap();
        assert!(b.delete("../etc").await.is_err(), "never a path");
    }

    #[test]
    fn a_secret_key_stays_out_of_logs() {
        let c = S3Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI".into(),
        };
        assert!(!format!("{c:?}").contains("wJalr"));
    }
}
