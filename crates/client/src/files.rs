//! Messages' files on this desktop (issue 17): every thumbnail and file fetched once is kept on
//! disk beside the cache, under a size cap (default 500 MB), the least recently used going
//! first, so a cached thread's photos show with the network down. The webview reads them from
//! here (the shell's `media:` protocol), never from the server.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use inbox_core::Id;

/// The default cap on the files kept.
pub const DEFAULT_CAP: u64 = inbox_core::desktop::OfflineFilesCap::DEFAULT;

/// The cache setting holding the cap a user chose (bytes).
pub const CAP_KEY: &str = "files.cap";

/// The cap to open with: the one chosen on this computer if it is still offered, else `default`.
pub fn chosen_cap(stored: Option<&str>, default: u64) -> u64 {
    stored
        .and_then(|s| s.parse().ok())
        .filter(|c| inbox_core::desktop::OfflineFilesCap::CHOICES.contains(c))
        .unwrap_or(default)
}

/// The folder of a cache's files: beside it, removed with it (sign-out, another user).
pub fn beside(cache: &Path) -> PathBuf {
    cache.with_extension("files")
}

/// The file in the folder naming the server its files came from.
const SERVER_FILE: &str = "server";

/// Which of an attachment's two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    Thumbnail,
    Original,
    /// A call's recording, under the call's id (VOI-8).
    Recording,
}

impl Variant {
    fn tag(self) -> &'static str {
        match self {
            Variant::Thumbnail => "thumb",
            Variant::Original => "file",
            Variant::Recording => "rec",
        }
    }
}

/// A kept file: its bytes and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

struct Entry {
    name: String,
    size: u64,
    used: u64,
}

struct Index {
    entries: HashMap<(Id, Variant), Entry>,
    total: u64,
    clock: u64,
}

pub struct FileCache {
    dir: PathBuf,
    cap: AtomicU64,
    index: Mutex<Index>,
}

/// `image/jpeg` ↔ `image_jpeg` in a file name: only characters every file system takes.
fn encode_type(t: &str) -> String {
    t.chars()
        .map(|c| match c {
            '/' => '_',
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-') => c,
            _ => '-',
        })
        .collect()
}

fn decode_type(t: &str) -> String {
    t.replacen('_', "/", 1)
}

/// `{id}.{variant}.{type}` back into its parts.
fn parse_name(name: &str) -> Option<(Id, Variant, String)> {
    let mut parts = name.splitn(3, '.');
    let id = parts.next()?.parse().ok()?;
    let variant = match parts.next()? {
        "thumb" => Variant::Thumbnail,
        "file" => Variant::Original,
        "rec" => Variant::Recording,
        _ => return None,
    };
    Some((id, variant, decode_type(parts.next()?)))
}

impl FileCache {
    /// Opens (creating) the folder of `server`'s files and indexes what it holds, oldest use
    /// first by mtime. Files another server's ids named are dropped: ids are per server.
    pub fn open(dir: impl Into<PathBuf>, cap: u64, server: &str) -> std::io::Result<FileCache> {
        let dir = dir.into();
        let named = std::fs::read_to_string(dir.join(SERVER_FILE)).ok();
        if named.as_deref() != Some(server) {
            match std::fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(SERVER_FILE), server)?;
        let mut found = Vec::new();
        for e in std::fs::read_dir(&dir)?.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name == SERVER_FILE {
                continue;
            }
            let (Some((id, variant, _)), Ok(meta)) = (parse_name(&name), e.metadata()) else {
                // A half-written file from a crash, or one that cannot be read.
                let _ = std::fs::remove_file(e.path());
                continue;
            };
            found.push((meta.modified().ok(), id, variant, name, meta.len()));
        }
        found.sort_by_key(|f| f.0);
        let mut index = Index {
            entries: HashMap::new(),
            total: 0,
            clock: 0,
        };
        for (_, id, variant, name, size) in found {
            index.clock += 1;
            index.total += size;
            let used = index.clock;
            // Two files for one key (a type changed): the newer stays.
            if let Some(old) = index
                .entries
                .insert((id, variant), Entry { name, size, used })
            {
                index.total -= old.size;
                let _ = std::fs::remove_file(dir.join(old.name));
            }
        }
        let cache = FileCache {
            dir,
            cap: AtomicU64::new(cap),
            index: Mutex::new(index),
        };
        cache.evict();
        Ok(cache)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The most bytes kept.
    pub fn cap(&self) -> u64 {
        self.cap.load(Ordering::Relaxed)
    }

    /// A new cap; the least recently used files beyond it are deleted now.
    pub fn set_cap(&self, cap: u64) {
        self.cap.store(cap, Ordering::Relaxed);
        self.evict();
    }

    /// Bytes kept.
    pub fn total(&self) -> u64 {
        self.index.lock().map(|i| i.total).unwrap_or_default()
    }

    /// Whether a file is kept (without reading it or marking it used).
    pub fn contains(&self, id: Id, variant: Variant) -> bool {
        self.index
            .lock()
            .map(|i| i.entries.contains_key(&(id, variant)))
            .unwrap_or(false)
    }

    /// A kept file, marked as just used.
    pub fn get(&self, id: Id, variant: Variant) -> Option<File> {
        let name = {
            let mut index = self.index.lock().ok()?;
            index.clock += 1;
            let clock = index.clock;
            let e = index.entries.get_mut(&(id, variant))?;
            e.used = clock;
            e.name.clone()
        };
        let bytes = std::fs::read(self.dir.join(&name)).ok()?;
        // The order survives a restart through the file's mtime.
        if let Ok(f) = std::fs::File::options()
            .append(true)
            .open(self.dir.join(&name))
        {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        let (_, _, content_type) = parse_name(&name)?;
        Some(File {
            bytes,
            content_type,
        })
    }

    /// Keeps a file, then lets the least recently used go until the total is under the cap.
    pub fn put(&self, id: Id, variant: Variant, file: &File) -> std::io::Result<()> {
        let name = format!("{id}.{}.{}", variant.tag(), encode_type(&file.content_type));
        let tmp = self
            .dir
            .join(format!(".{name}.{}.tmp", rand::random::<u64>()));
        std::fs::write(&tmp, &file.bytes)?;
        std::fs::rename(&tmp, self.dir.join(&name))?;
        if let Ok(mut index) = self.index.lock() {
            index.clock += 1;
            let used = index.clock;
            let size = file.bytes.len() as u64;
            if let Some(old) = index.entries.insert(
                (id, variant),
                Entry {
                    name: name.clone(),
                    size,
                    used,
                },
            ) {
                index.total -= old.size;
                if old.name != name {
                    let _ = std::fs::remove_file(self.dir.join(old.name));
                }
            }
            index.total += size;
        }
        self.evict();
        Ok(())
    }

    /// Forgets a file (one a staff member deleted on the server, say).
    pub fn remove(&self, id: Id) {
        if let Ok(mut index) = self.index.lock() {
            for variant in [Variant::Thumbnail, Variant::Original] {
                if let Some(e) = index.entries.remove(&(id, variant)) {
                    index.total -= e.size;
                    let _ = std::fs::remove_file(self.dir.join(e.name));
                }
            }
        }
    }

    fn evict(&self) {
        let Ok(mut index) = self.index.lock() else {
            return;
        };
        while index.total > self.cap() {
            let Some((&key, _)) = index.entries.iter().min_by_key(|(_, e)| e.used) else {
                break;
            };
            if let Some(e) = index.entries.remove(&key) {
                index.total -= e.size;
                let _ = std::fs::remove_file(self.dir.join(e.name));
            }
        }
    }
}

/// Whether the server has a thumbnail of the attachment (a ready JPEG, PNG or WebP photo).
pub fn has_thumbnail(a: &inbox_core::media::Attachment) -> bool {
    a.status == inbox_core::media::AttachmentStatus::Ready
        && matches!(
            inbox_core::media::essence(&a.content_type).as_str(),
            "image/jpeg" | "image/jpg" | "image/png" | "image/webp"
        )
}

/// Thumbnails fetched at most at once after a batch of events.
const PREFETCH_MAX: usize = 50;

/// Fetches thumbnails not kept yet, so a thread seen live shows its photos offline later.
pub(crate) async fn prefetch(shared: std::sync::Arc<crate::engine::Shared>, ids: Vec<Id>) {
    for id in ids.into_iter().take(PREFETCH_MAX) {
        if shared.files.contains(id, Variant::Thumbnail) {
            continue;
        }
        match shared.api.media(id, Variant::Thumbnail).await {
            Ok(file) => {
                let files = std::sync::Arc::clone(&shared.files);
                let _ =
                    tokio::task::spawn_blocking(move || files.put(id, Variant::Thumbnail, &file))
                        .await;
            }
            Err(e) => tracing::debug!(attachment = id, error = %e, "thumbnail not fetched ahead"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(n: usize, t: &str) -> File {
        File {
            bytes: vec![7; n],
            content_type: t.into(),
        }
    }

    #[test]
    fn files_are_kept_under_the_cap_least_recently_used_first_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::open(dir.path(), 250, "https://a.test").unwrap();
        cache
            .put(1, Variant::Thumbnail, &file(100, "image/jpeg"))
            .unwrap();
        cache
            .put(2, Variant::Thumbnail, &file(100, "image/jpeg"))
            .unwrap();
        // 1 is used again, so 2 is the one to go when 3 comes.
        assert_eq!(
            cache.get(1, Variant::Thumbnail).unwrap().content_type,
            "image/jpeg"
        );
        cache
            .put(3, Variant::Original, &file(100, "application/pdf"))
            .unwrap();
        assert!(cache.get(2, Variant::Thumbnail).is_none());
        assert!(cache.get(1, Variant::Thumbnail).is_some());
        assert_eq!(cache.total(), 200);
        drop(cache);

        let again = FileCache::open(dir.path(), 250, "https://a.test").unwrap();
        assert_eq!(again.total(), 200);
        let pdf = again.get(3, Variant::Original).unwrap();
        assert_eq!(
            (pdf.bytes.len(), pdf.content_type.as_str()),
            (100, "application/pdf")
        );
        again.remove(3);
        assert!(again.get(3, Variant::Original).is_none());
        assert_eq!(again.total(), 100);
        // A smaller cap lets the oldest go at once.
        drop(again);
        assert_eq!(
            FileCache::open(dir.path(), 50, "https://a.test")
                .unwrap()
                .total(),
            0
        );
    }

    #[test]
    fn a_smaller_cap_deletes_the_least_recently_used_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::open(dir.path().join("f"), 1000, "https://a").unwrap();
        for id in 1..=3 {
            cache
                .put(id, Variant::Original, &file(300, "image/jpeg"))
                .unwrap();
        }
        assert!(cache.get(1, Variant::Original).is_some(), "1 used last");
        cache.set_cap(650);
        assert_eq!((cache.cap(), cache.total()), (650, 600));
        assert!(
            !cache.contains(2, Variant::Original),
            "the least recently used went"
        );
        assert!(cache.contains(1, Variant::Original) && cache.contains(3, Variant::Original));
        assert_eq!(chosen_cap(Some("104857600"), 7), 104_857_600);
        assert_eq!(chosen_cap(Some("12345"), 7), 7, "not a size offered");
        assert_eq!(chosen_cap(Some("lots"), 7), 7);
        assert_eq!(chosen_cap(None, 7), 7);
    }

    #[test]
    fn another_server_s_files_are_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let a = FileCache::open(dir.path(), 1000, "https://a.test").unwrap();
        a.put(5, Variant::Thumbnail, &file(10, "image/jpeg"))
            .unwrap();
        assert!(a.contains(5, Variant::Thumbnail));
        drop(a);
        let b = FileCache::open(dir.path(), 1000, "https://b.test").unwrap();
        assert!(
            b.get(5, Variant::Thumbnail).is_none(),
            "id 5 there is another file"
        );
        assert_eq!(b.total(), 0);
    }

    #[test]
    fn a_type_survives_the_file_name() {
        assert_eq!(decode_type(&encode_type("audio/ogg")), "audio/ogg");
        assert_eq!(
            parse_name("12.file.application_pdf"),
            Some((12, Variant::Original, "application/pdf".into()))
        );
        assert_eq!(parse_name("junk"), None);
    }
}
