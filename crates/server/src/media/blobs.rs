//! The files themselves, on the local filesystem beside the database (issue 17): stored by their
//! SHA-256, so an identical file is kept once; written to a temporary name and renamed, so a
//! reader never sees half a file. Thumbnails sit beside them under `thumbs/`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub struct Blobs {
    root: PathBuf,
}

/// A SHA-256 in lower-case hex, as stored; anything else never becomes a path.
fn checked(sha256: &str) -> std::io::Result<&str> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        Ok(sha256)
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a stored file's SHA-256",
        ))
    }
}

impl Blobs {
    pub fn new(root: impl Into<PathBuf>) -> Blobs {
        Blobs { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn file(&self, sha256: &str) -> std::io::Result<PathBuf> {
        let s = checked(sha256)?;
        Ok(self.root.join(&s[..2]).join(s))
    }

    fn thumb(&self, sha256: &str) -> std::io::Result<PathBuf> {
        let s = checked(sha256)?;
        Ok(self
            .root
            .join("thumbs")
            .join(&s[..2])
            .join(format!("{s}.jpg")))
    }

    /// Stores a file (once per content) and returns its SHA-256.
    pub async fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = hex::encode(Sha256::digest(bytes));
        write_once(&self.file(&sha)?, bytes).await?;
        Ok(sha)
    }

    pub async fn put_thumbnail(&self, sha256: &str, jpeg: &[u8]) -> std::io::Result<()> {
        write_once(&self.thumb(sha256)?, jpeg).await
    }

    pub async fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        tokio::fs::read(self.file(sha256)?).await
    }

    /// Removes a file and its thumbnail; one already gone is not an error.
    pub async fn delete(&self, sha256: &str) -> std::io::Result<()> {
        for path in [self.file(sha256)?, self.thumb(sha256)?] {
            match tokio::fs::remove_file(path).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    pub async fn get_thumbnail(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        tokio::fs::read(self.thumb(sha256)?).await
    }
}

/// Writes `bytes` at `path` unless a file is already there (the same content, by its name).
async fn write_once(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if tokio::fs::try_exists(path).await? {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("blob"),
        rand::random::<u64>()
    ));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, path).await
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
}
