//! The releases folder (DSK-1): desktop update files that were signed elsewhere, published with
//! `inbox-server release add` and served to signed-in desktops by `http::updates`.
//!
//! Layout, one folder per version, target and architecture:
//! `<INBOX_RELEASES_DIR>/<version>/<target>/<arch>/` holding the update file under its own name,
//! its `<file>.sig` (the base64 minisign signature that `tauri signer sign` writes) and
//! `release.json` (file name, size, SHA-256, notes, publication time). A release appears all at
//! once: it is assembled in a `.staging-*` folder beside the others and renamed into place, so a
//! desktop never sees half a release. Publishing verifies the signature against the updater's
//! public key first; the private key never comes near the server.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use inbox_core::updates::{self, Arch, Target, Version};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Release notes longer than this are refused (the prompt shows them on a card).
pub const NOTES_MAX: usize = 10_000;
const META: &str = "release.json";

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// Bad input: version, target, architecture, file name, key or notes.
    #[error("{0}")]
    Invalid(String),
    /// The signature does not verify against the configured public key.
    #[error("{0}")]
    BadSignature(String),
    /// This version is already published for the platform, with another file.
    #[error("{0}")]
    Conflict(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ReleaseError {
    let what = what.into();
    move |source| ReleaseError::Io { what, source }
}

/// What `release add` is asked to publish.
#[derive(Debug, Clone)]
pub struct NewRelease {
    pub version: String,
    pub target: String,
    pub arch: String,
    pub file: PathBuf,
    pub signature: PathBuf,
    pub notes: Option<String>,
}

/// A published release as `release.json` records it (plus its signature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub version: String,
    pub target: String,
    pub arch: String,
    pub file: String,
    pub size: u64,
    pub sha256: String,
    pub notes: String,
    pub pub_date: String,
    /// The `.sig` file's content; kept in its own file, not in `release.json`.
    #[serde(skip)]
    pub signature: String,
}

/// What `release add` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Published(Published),
    /// The same file and signature were already there (a publish job run twice).
    AlreadyPublished(Published),
}

/// The updater's public key as tauri.conf.json holds it (`plugins.updater.pubkey`): base64 of
/// a minisign public key file.
pub struct PublicKey(minisign_verify::PublicKey);

impl PublicKey {
    pub fn parse(base64_text: &str) -> Result<PublicKey, ReleaseError> {
        let bad = |why: &str| {
            ReleaseError::Invalid(format!(
                "INBOX_UPDATE_PUBKEY is not an updater public key ({why}); copy the value of \
                 plugins.updater.pubkey from tauri.conf.json (the .pub file `tauri signer \
                 generate` wrote)"
            ))
        };
        let text = decode_base64_text(base64_text).ok_or_else(|| bad("not base64 text"))?;
        minisign_verify::PublicKey::decode(&text)
            .map(PublicKey)
            .map_err(|_| bad("not a minisign public key"))
    }
}

fn decode_base64_text(s: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Checks `signature` (the `.sig` file's content) over `bytes` and that it was made for
/// `version`, as the app will before installing (`requireSignedVersion`).
pub fn verify(
    key: &PublicKey,
    bytes: &[u8],
    signature: &str,
    version: &Version,
) -> Result<(), ReleaseError> {
    let text = decode_base64_text(signature).ok_or_else(|| {
        ReleaseError::BadSignature(
            "the signature file is not base64 text; give the .sig file that `tauri signer sign` \
             (or `tauri build`) wrote beside the update file"
                .into(),
        )
    })?;
    let sig = minisign_verify::Signature::decode(&text).map_err(|_| {
        ReleaseError::BadSignature(
            "the signature file does not hold a minisign signature; give the .sig file that \
             `tauri signer sign` (or `tauri build`) wrote beside the update file"
                .into(),
        )
    })?;
    key.0.verify(bytes, &sig, true).map_err(|e| {
        ReleaseError::BadSignature(match e {
            minisign_verify::Error::UnexpectedKeyId => {
                "the signature was made with another key than INBOX_UPDATE_PUBKEY: the desktops \
                 would refuse this update"
                    .into()
            }
            _ => "the signature does not match the file: it was changed after signing, or the \
                  .sig belongs to another file. The desktops would refuse this update"
                .into(),
        })
    })?;
    // The trusted comment is covered by the signature, so only now can it be believed.
    let signed = sig
        .trusted_comment()
        .split('\t')
        .find_map(|f| f.strip_prefix("version:"));
    match signed.map(updates::parse_version) {
        Some(Ok(v)) if v == *version => Ok(()),
        Some(_) => Err(ReleaseError::BadSignature(format!(
            "the file was signed as version {}, not {version}",
            signed.unwrap_or_default()
        ))),
        None => Err(ReleaseError::BadSignature(format!(
            "the signature does not record the app version, which the desktops require; sign \
             with `tauri signer sign --app-version {version}`"
        ))),
    }
}

/// The releases folder.
#[derive(Debug, Clone)]
pub struct Releases {
    dir: PathBuf,
}

impl Releases {
    pub fn new(dir: impl Into<PathBuf>) -> Releases {
        Releases { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn folder(&self, version: &Version, target: Target, arch: Arch) -> PathBuf {
        self.dir
            .join(version.to_string())
            .join(target.as_str())
            .join(arch.as_str())
    }

    /// Verifies and publishes one update file. Refuses a signature that does not verify against
    /// `key`, and a version already published for the platform with another file.
    pub fn publish(
        &self,
        new: &NewRelease,
        key: &PublicKey,
        now: DateTime<Utc>,
    ) -> Result<Outcome, ReleaseError> {
        let version = updates::parse_version(&new.version)
            .map_err(|e| ReleaseError::Invalid(e.to_string()))?;
        let target = parse_target(&new.target)?;
        let arch = parse_arch(&new.arch)?;
        let file_name = new
            .file
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| updates::file_name_ok(n))
            .ok_or_else(|| {
                ReleaseError::Invalid(format!(
                    "{} is not a file name the releases folder takes (letters, digits and ._-+~ only)",
                    new.file.display()
                ))
            })?
            .to_string();
        let notes = new.notes.clone().unwrap_or_default();
        if notes.chars().count() > NOTES_MAX {
            return Err(ReleaseError::Invalid(format!(
                "the notes are longer than {NOTES_MAX} characters"
            )));
        }
        // Read once: what is verified is exactly what is stored.
        let bytes =
            std::fs::read(&new.file).map_err(io(format!("reading {}", new.file.display())))?;
        let signature = std::fs::read_to_string(&new.signature)
            .map_err(io(format!("reading {}", new.signature.display())))?
            .trim()
            .to_string();
        verify(key, &bytes, &signature, &version)?;
        let published = Published {
            version: version.to_string(),
            target: target.to_string(),
            arch: arch.to_string(),
            file: file_name.clone(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
            notes,
            pub_date: now.to_rfc3339_opts(SecondsFormat::Secs, true),
            signature: signature.clone(),
        };
        let folder = self.folder(&version, target, arch);
        if let Some(existing) = read_release(&folder)? {
            return if existing.sha256 == published.sha256
                && existing.file == published.file
                && existing.signature == published.signature
            {
                Ok(Outcome::AlreadyPublished(existing))
            } else {
                Err(ReleaseError::Conflict(format!(
                    "version {version} is already published for {target} {arch} with another \
                     file ({}); publish the change as a new version",
                    existing.file
                )))
            };
        }
        std::fs::create_dir_all(&self.dir)
            .map_err(io(format!("creating {}", self.dir.display())))?;
        let staging = tempfile::Builder::new()
            .prefix(".staging-")
            .tempdir_in(&self.dir)
            .map_err(io(format!(
                "creating a staging folder in {}",
                self.dir.display()
            )))?;
        write_synced(&staging.path().join(&file_name), &bytes)?;
        write_synced(
            &staging.path().join(format!("{file_name}.sig")),
            signature.as_bytes(),
        )?;
        let meta = serde_json::to_vec_pretty(&published)
            .map_err(|e| ReleaseError::Invalid(format!("release.json: {e}")))?;
        write_synced(&staging.path().join(META), &meta)?;
        let parent = folder.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
        // The rename is the publication: before it nothing shows, after it all of it does.
        let staged = staging.keep();
        if let Err(e) = std::fs::rename(&staged, &folder) {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(ReleaseError::Io {
                what: format!("moving the release into {}", folder.display()),
                source: e,
            });
        }
        sync_dir(parent);
        Ok(Outcome::Published(published))
    }

    /// Every published release, newest version first.
    pub fn list(&self) -> Result<Vec<Published>, ReleaseError> {
        let mut all = Vec::new();
        for version in self.versions()? {
            for target in Target::ALL {
                for arch in Arch::ALL {
                    if let Some(r) = read_release(&self.folder(&version, target, arch))? {
                        all.push(r);
                    }
                }
            }
        }
        Ok(all)
    }

    /// The newest release for the platform that is newer than `current`.
    pub fn newest_after(
        &self,
        target: Target,
        arch: Arch,
        current: &Version,
    ) -> Result<Option<Published>, ReleaseError> {
        let versions = self.versions()?;
        let mut candidates: Vec<&Version> = versions
            .iter()
            .filter(|v| updates::is_newer(v, current))
            .collect();
        candidates.sort_by(|a, b| b.cmp_precedence(a));
        for v in candidates {
            if let Some(r) = read_release(&self.folder(v, target, arch))? {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// The path and size of a published file, if `file` is exactly the file of that release.
    pub fn file(
        &self,
        version: &Version,
        target: Target,
        arch: Arch,
        file: &str,
    ) -> Result<Option<(PathBuf, u64)>, ReleaseError> {
        let folder = self.folder(version, target, arch);
        Ok(read_release(&folder)?
            .filter(|r| r.file == file && updates::file_name_ok(file))
            .map(|r| (folder.join(&r.file), r.size)))
    }

    /// The published versions (folders whose name is a version; staging folders are not).
    fn versions(&self) -> Result<Vec<Version>, ReleaseError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(format!("reading {}", self.dir.display()))(e)),
        };
        let mut versions = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io(format!("reading {}", self.dir.display())))?;
            if let Some(v) = entry
                .file_name()
                .to_str()
                .and_then(|n| updates::parse_version(n).ok())
                .filter(|v| v.to_string() == entry.file_name().to_string_lossy())
            {
                versions.push(v);
            }
        }
        versions.sort_by(|a, b| b.cmp_precedence(a));
        Ok(versions)
    }
}

fn parse_target(s: &str) -> Result<Target, ReleaseError> {
    Target::parse(s).ok_or_else(|| {
        ReleaseError::Invalid(format!(
            "{s:?} is not a target; use linux, windows or darwin"
        ))
    })
}

fn parse_arch(s: &str) -> Result<Arch, ReleaseError> {
    Arch::parse(s).ok_or_else(|| {
        ReleaseError::Invalid(format!(
            "{s:?} is not an architecture; use x86_64 or aarch64"
        ))
    })
}

/// A release folder's `release.json` and signature; `None` when nothing is published there.
fn read_release(folder: &Path) -> Result<Option<Published>, ReleaseError> {
    let meta = folder.join(META);
    let text = match std::fs::read(&meta) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(format!("reading {}", meta.display()))(e)),
    };
    let mut release: Published = serde_json::from_slice(&text).map_err(|e| ReleaseError::Io {
        what: format!("reading {}", meta.display()),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })?;
    let sig = folder.join(format!("{}.sig", release.file));
    release.signature = std::fs::read_to_string(&sig)
        .map_err(io(format!("reading {}", sig.display())))?
        .trim()
        .to_string();
    Ok(Some(release))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), ReleaseError> {
    let mut f = std::fs::File::create(path).map_err(io(format!("creating {}", path.display())))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(io(format!("writing {}", path.display())))
}

/// Makes a rename durable (best effort: not every platform can open a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Where releases live by default: a `releases` folder beside a SQLite database, else in the
/// platform data directory.
pub fn default_dir(database_url: &str) -> PathBuf {
    beside_database(database_url, "releases")
}

/// A folder named `name` beside a SQLite database, else in the platform data directory.
pub fn beside_database(database_url: &str, name: &str) -> PathBuf {
    database_url
        .strip_prefix("sqlite://")
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .map(Path::new)
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.join(name))
        .unwrap_or_else(|| crate::config::data_dir().join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsk1_releases_live_beside_a_sqlite_database() {
        assert_eq!(
            default_dir("sqlite:///var/lib/inbox-server/inbox.db"),
            PathBuf::from("/var/lib/inbox-server/releases")
        );
        assert_eq!(
            default_dir("sqlite:///srv/inbox.db?mode=rwc"),
            PathBuf::from("/srv/releases")
        );
        assert_eq!(
            default_dir("postgres://db/inbox"),
            crate::config::data_dir().join("releases")
        );
    }

    #[test]
    fn dsk1_a_public_key_that_is_not_one_is_refused_with_a_hint() {
        let e = PublicKey::parse("not base64!").err().unwrap();
        assert!(e.to_string().contains("plugins.updater.pubkey"), "{e}");
    }
}
