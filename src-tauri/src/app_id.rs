//! The app's identity on Windows (issue 14): its AppUserModelID. A toast names and shows the
//! icon of the app whose ID it is sent under; an unpackaged desktop app gets a name only when
//! its ID is registered under `HKCU\Software\Classes\AppUserModelId\<ID>` (without one,
//! notify-rust sends as Windows PowerShell). The installer writes the key, and the app writes
//! it again at start, so a copied or moved `garage-inbox.exe` still has its name; the
//! uninstaller removes it. Everything is per user (HKCU), like the install: no administrator.

// Used by Windows only; elsewhere the tests read the constants.
#![cfg_attr(not(windows), allow(dead_code))]

/// The AppUserModelID: the bundle identifier, as Tauri's own installers use.
pub const AUMID: &str = crate::IDENTIFIER;
/// The name toasts show.
pub const DISPLAY_NAME: &str = "Garage Inbox";
/// The icon file the installer puts beside the executable, shown on toasts.
pub const ICON_FILE: &str = "app-icon.png";

/// The key, relative to `HKEY_CURRENT_USER`. `packaging/windows/installer.nsi` writes the same.
pub fn key_path() -> String {
    format!(r"Software\Classes\AppUserModelId\{AUMID}")
}

/// Registers the ID for this user (display name, and the icon when installed beside the
/// executable). A failure costs only the toasts' name, so it is logged and start-up goes on.
#[cfg(windows)]
pub fn register() {
    let result = (|| -> windows_registry::Result<()> {
        let key = windows_registry::CURRENT_USER.create(key_path())?;
        key.set_string("DisplayName", DISPLAY_NAME)?;
        let icon = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(ICON_FILE)))
            .filter(|icon| icon.is_file());
        if let Some(icon) = icon {
            key.set_string("IconUri", icon.to_string_lossy())?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        tracing::info!(error = %e, "the app's name for notifications could not be registered");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_the_bundle_identifier_and_the_key_is_per_user() {
        assert_eq!(AUMID, "app.garageinbox.desktop");
        assert_eq!(
            key_path(),
            r"Software\Classes\AppUserModelId\app.garageinbox.desktop"
        );
    }

    #[test]
    fn the_installer_writes_the_same_key_and_icon() {
        let script = include_str!("../../packaging/windows/installer.nsi");
        assert!(script.contains(r"Software\Classes\AppUserModelId\${IDENTIFIER}"));
        assert!(script.contains(r#"!define IDENTIFIER "app.garageinbox.desktop""#));
        assert!(script.contains(ICON_FILE));
    }
}
