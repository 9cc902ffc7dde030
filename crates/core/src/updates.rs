//! Desktop updates (DSK-1): the platforms a release is published for, the version rule that
//! decides whether one is newer, and the manifest the server answers the desktop's updater with
//! (tauri-plugin-updater's "dynamic server" JSON). The server and the desktop read the same rules.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use semver::Version;

/// The operating system of an update file, as the updater names it in `{{target}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Linux,
    Windows,
    Darwin,
}

impl Target {
    pub const ALL: [Target; 3] = [Target::Linux, Target::Windows, Target::Darwin];

    pub fn as_str(self) -> &'static str {
        match self {
            Target::Linux => "linux",
            Target::Windows => "windows",
            Target::Darwin => "darwin",
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The processor of an update file, as the updater names it in `{{arch}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    pub fn as_str(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    pub fn parse(s: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a version text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a version like 1.2.3 ({reason})")]
pub struct BadVersion {
    pub text: String,
    pub reason: String,
}

/// A version as the app and `release add` spell it: semantic versioning, `1.2.3` or
/// `1.2.3-beta.1`. A leading `v` (as in a git tag) is not accepted: one spelling per version
/// keeps the releases folder's names unique.
pub fn parse_version(text: &str) -> Result<Version, BadVersion> {
    Version::parse(text).map_err(|e| BadVersion {
        text: text.chars().take(64).collect(),
        reason: e.to_string(),
    })
}

/// Whether `offered` is newer than `current` by semantic-versioning precedence: `0.10.0` is
/// newer than `0.9.0`, a release newer than its pre-releases (`1.0.0` > `1.0.0-rc.1`), and
/// build metadata (`+…`) does not count.
pub fn is_newer(offered: &Version, current: &Version) -> bool {
    offered.cmp_precedence(current) == Ordering::Greater
}

/// The newest of `published` that is newer than `current`, if any.
pub fn newest_after<'a>(
    current: &Version,
    published: impl IntoIterator<Item = &'a Version>,
) -> Option<&'a Version> {
    published
        .into_iter()
        .filter(|v| is_newer(v, current))
        .max_by(|a, b| a.cmp_precedence(b))
}

/// Whether an install of this kind can take our update file for `target`. On Linux we publish
/// the `.deb` only, and the updater installs a `.deb` only over a `.deb` install: an RPM or an
/// AppImage install is not offered it (its people update with their package manager or a new
/// AppImage). On Windows we publish the per-user NSIS `setup.exe`; a per-machine MSI install
/// (IT's deployment tools put it there, and update it the same way) is not offered it, since
/// installing it would leave a second copy beside the first. `bundle_type` is the updater's `{{bundle_type}}`; `unknown` (a build run straight
/// from cargo) and an absent value are offered, so development builds see updates.
pub fn offered_to(target: Target, bundle_type: Option<&str>) -> bool {
    !matches!(
        (target, bundle_type),
        (Target::Linux, Some("rpm" | "appimage")) | (Target::Windows, Some("msi"))
    )
}

/// A file name the releases folder accepts and serves: one path segment of letters, digits and
/// `._-+~` (what Tauri's bundler names its files), not starting with a dot, at most 200 bytes.
pub fn file_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '~'))
}

/// The answer of `GET /api/v1/updates/{target}/{arch}/{current_version}` when a newer version is
/// published: the updater's "dynamic server" format. `signature` is the `.sig` file's content
/// (base64 of a minisign signature), `pub_date` RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateManifest {
    pub version: String,
    pub notes: String,
    pub pub_date: String,
    pub url: String,
    pub signature: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        parse_version(s).unwrap()
    }

    #[test]
    fn dsk1_versions_compare_as_numbers_not_text() {
        assert!(is_newer(&v("0.10.0"), &v("0.9.0")));
        assert!(is_newer(&v("0.2.0"), &v("0.1.0")));
        assert!(is_newer(&v("1.0.0"), &v("0.99.99")));
        assert!(!is_newer(&v("0.1.0"), &v("0.1.0")));
        assert!(!is_newer(&v("0.1.0"), &v("0.2.0")));
    }

    #[test]
    fn dsk1_a_release_is_newer_than_its_pre_releases_and_build_metadata_does_not_count() {
        assert!(is_newer(&v("1.0.0"), &v("1.0.0-rc.1")));
        assert!(!is_newer(&v("1.0.0-rc.1"), &v("1.0.0")));
        assert!(is_newer(&v("1.0.0-rc.2"), &v("1.0.0-rc.1")));
        assert!(!is_newer(&v("1.0.0+build.2"), &v("1.0.0+build.1")));
    }

    #[test]
    fn dsk1_the_newest_newer_version_wins() {
        let published = [v("0.1.0"), v("0.3.0"), v("0.2.5"), v("0.3.0-beta.1")];
        assert_eq!(newest_after(&v("0.1.0"), &published), Some(&v("0.3.0")));
        assert_eq!(newest_after(&v("0.3.0"), &published), None);
        assert_eq!(newest_after(&v("0.9.0"), &published), None);
    }

    #[test]
    fn dsk1_version_text_must_be_semver() {
        for bad in [
            "", "1", "1.2", "v1.2.3", "1.2.3.4", "../1.2.3", "1.2.3/..", "latest",
        ] {
            assert!(parse_version(bad).is_err(), "{bad:?}");
        }
        assert_eq!(v("1.2.3-beta.1").to_string(), "1.2.3-beta.1");
    }

    #[test]
    fn dsk1_targets_and_arches_are_the_updaters_names() {
        assert_eq!(Target::parse("darwin"), Some(Target::Darwin));
        assert_eq!(Target::parse("macos"), None);
        assert_eq!(Arch::parse("aarch64"), Some(Arch::Aarch64));
        assert_eq!(Arch::parse("arm64"), None);
        for t in Target::ALL {
            assert_eq!(Target::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn dsk1_linux_offers_the_deb_only_to_deb_installs() {
        assert!(offered_to(Target::Linux, Some("deb")));
        assert!(offered_to(Target::Linux, Some("unknown")));
        assert!(offered_to(Target::Linux, None));
        assert!(!offered_to(Target::Linux, Some("rpm")));
        assert!(!offered_to(Target::Linux, Some("appimage")));
        assert!(offered_to(Target::Windows, Some("nsis")));
    }

    #[test]
    fn dsk1_windows_offers_the_setup_exe_to_nsis_installs_only() {
        assert!(offered_to(Target::Windows, Some("nsis")));
        assert!(offered_to(Target::Windows, None));
        assert!(!offered_to(Target::Windows, Some("msi")));
    }

    #[test]
    fn dsk1_file_names_are_one_plain_segment() {
        assert!(file_name_ok("Garage-Inbox_0.2.0_amd64.deb"));
        assert!(file_name_ok("Garage-Inbox_0.2.0_aarch64.app.tar.gz"));
        for bad in [
            "",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "../etc/passwd",
            "a b",
            "a%2Fb",
        ] {
            assert!(!file_name_ok(bad), "{bad:?}");
        }
    }

    #[test]
    fn dsk1_the_manifest_has_the_updaters_field_names() {
        let m = UpdateManifest {
            version: "0.2.0".into(),
            notes: "Faster lists".into(),
            pub_date: "2026-06-17T11:00:00Z".into(),
            url: "https://inbox.example/api/v1/updates/files/0.2.0/linux/x86_64/a.deb".into(),
            signature: "c2ln".into(),
        };
        let json = serde_json::to_value(&m).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["notes", "pub_date", "signature", "url", "version"]);
    }
}
