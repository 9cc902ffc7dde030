//! DSK-1: updates from the server the user signed in to, through tauri-plugin-updater. Checked
//! at sign-in (and when the saved session opens at start) and daily; offered on a card; installed
//! only when the person says so, and only if the file's signature verifies against the public key
//! built into the app (`plugins.updater.pubkey` in tauri.conf.json, with `requireSignedVersion`).
//!
//! The update address is never configured: it is the signed-in server's
//! `/api/v1/updates/{{target}}/{{arch}}/{{current_version}}`, asked with the session's bearer
//! token, and a manifest pointing the download anywhere else is ignored, so the token goes to
//! that server only. The updater's HTTPS client trusts what the engine's does.

use std::sync::Mutex;
use std::time::Duration;

use inbox_client::Transport;
use inbox_core::desktop::{event, AppUpdate, CommandError, UpdateRefusal};
use inbox_core::updates::is_newer;
use tauri::{AppHandle, Emitter, Manager, Url};
use tauri_plugin_updater::{Error as UpdaterError, Update, UpdaterExt};

/// How often a running app asks again.
pub const CHECK_EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// The update check itself is small; the download has no limit (a slow line still finishes).
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);
/// The check route, with the updater's placeholders.
const CHECK_PATH: &str =
    "/api/v1/updates/{{target}}/{{arch}}/{{current_version}}?bundle_type={{bundle_type}}";

/// The card's state and the update it is about.
#[derive(Default)]
pub struct Updates {
    inner: Mutex<Offer>,
}

#[derive(Default)]
struct Offer {
    card: AppUpdate,
    update: Option<Update>,
}

impl Updates {
    /// What the card shows now.
    pub fn card(&self) -> AppUpdate {
        self.inner
            .lock()
            .map(|o| o.card.clone())
            .unwrap_or_default()
    }

    fn set(&self, app: &AppHandle, card: AppUpdate, update: Option<Option<Update>>) {
        if let Ok(mut o) = self.inner.lock() {
            o.card = card.clone();
            if let Some(u) = update {
                o.update = u;
            }
        }
        if let Err(e) = app.emit(event::APP_UPDATE, &card) {
            tracing::warn!(error = %e, "could not pass the update card to the UI");
        }
    }

    /// "Later": the card goes until the next check.
    pub fn dismiss(&self, app: &AppHandle) {
        if !matches!(self.card(), AppUpdate::Installing { .. }) {
            self.set(app, AppUpdate::None, None);
        }
    }

    /// Signed out: no card, nothing kept.
    pub fn forget(&self, app: &AppHandle) {
        self.set(app, AppUpdate::None, Some(None));
    }
}

/// The public key updates must be signed with. Release builds know only the one in
/// tauri.conf.json. Debug builds (the end-to-end tests run one) also take
/// `GARAGE_INBOX_UPDATE_PUBKEY`, so a test can sign with a key pair it made; that code is not in
/// a release build at all.
fn test_pubkey() -> Option<String> {
    #[cfg(debug_assertions)]
    {
        std::env::var("GARAGE_INBOX_UPDATE_PUBKEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
    }
    #[cfg(not(debug_assertions))]
    {
        None
    }
}

/// Asks `server` whether a newer version is published and offers it on the card. Failures are
/// logged only: a server without updates, or one out of reach, is no news for the desk.
pub async fn check(app: &AppHandle, server: &str, token: &str, transport: &Transport) {
    match find(app, server, token, transport).await {
        Ok(Some(update)) => {
            let card = AppUpdate::Available {
                version: update.version.clone(),
                notes: update.body.clone().unwrap_or_default(),
            };
            let updates = app.state::<Updates>();
            // An install under way keeps its card.
            if !matches!(updates.card(), AppUpdate::Installing { .. }) {
                tracing::info!(version = %update.version, "an update is available");
                updates.set(app, card, Some(Some(update)));
            }
        }
        Ok(None) => {
            let updates = app.state::<Updates>();
            if !matches!(updates.card(), AppUpdate::Installing { .. }) {
                updates.set(app, AppUpdate::None, Some(None));
            }
        }
        Err(e) => tracing::warn!(error = %e, %server, "could not check for updates"),
    }
}

async fn find(
    app: &AppHandle,
    server: &str,
    token: &str,
    transport: &Transport,
) -> anyhow::Result<Option<Update>> {
    let server_url = Url::parse(server)?;
    let endpoint = Url::parse(&format!("{}{CHECK_PATH}", server.trim_end_matches('/')))?;
    let mut builder = app
        .updater_builder()
        .endpoints(vec![endpoint])?
        .header("Authorization", format!("Bearer {token}"))?
        .timeout(CHECK_TIMEOUT)
        // The engine's TLS trust (the system's store and GARAGE_INBOX_EXTRA_CA), for the check
        // and the download alike.
        .configure_client({
            let transport = transport.clone();
            move |client| client.use_preconfigured_tls((*transport.tls_config()).clone())
        })
        // One rule for "newer", the one the server applies too.
        .version_comparator(|current, release| is_newer(&release.version, &current));
    if let Some(key) = test_pubkey() {
        tracing::warn!("updates are checked against GARAGE_INBOX_UPDATE_PUBKEY (debug build)");
        builder = builder.pubkey(key);
    }
    let Some(update) = builder.build()?.check().await? else {
        return Ok(None);
    };
    // The download carries the session's token: only to the server it belongs to.
    if update.download_url.origin() != server_url.origin() {
        anyhow::bail!(
            "the server offered {} from another address ({}); ignored",
            update.version,
            update.download_url
        );
    }
    Ok(Some(update))
}

/// "Install and restart": download, verify, install, restart. A refused or failed update leaves
/// the app as it is, with the reason on the card.
pub async fn install(app: &AppHandle) -> Result<(), CommandError> {
    let updates = app.state::<Updates>();
    let (update, notes) = match updates.inner.lock() {
        Ok(o) => match (&o.update, &o.card) {
            (Some(u), AppUpdate::Available { notes, .. } | AppUpdate::Failed { notes, .. }) => {
                (u.clone(), notes.clone())
            }
            _ => return Err(CommandError::new("There is no update to install.")),
        },
        Err(_) => return Err(CommandError::new("There is no update to install.")),
    };
    let version = update.version.clone();
    updates.set(
        app,
        AppUpdate::Installing {
            version: version.clone(),
            notes: notes.clone(),
        },
        None,
    );
    tracing::info!(%version, "downloading the update");
    match update.download_and_install(|_, _| {}, || {}).await {
        Ok(()) => {
            tracing::info!(%version, "update installed: restarting");
            // Windows never gets here: its installer has already closed the app.
            app.restart();
        }
        Err(e) => {
            tracing::warn!(error = %e, %version, "the update was not installed");
            let refusal = refusal(&e);
            let message = refusal.message(&version);
            updates.set(
                app,
                AppUpdate::Failed {
                    version,
                    notes,
                    message: message.clone(),
                    retry: refusal.retry(),
                },
                None,
            );
            Err(CommandError::new(message))
        }
    }
}

/// Sorts the updater's errors into what the card says.
fn refusal(e: &UpdaterError) -> UpdateRefusal {
    match e {
        UpdaterError::Minisign(_)
        | UpdaterError::Base64(_)
        | UpdaterError::SignatureUtf8(_)
        | UpdaterError::SignedVersionMismatch { .. }
        | UpdaterError::MissingSignedVersion => UpdateRefusal::BadSignature,
        UpdaterError::Network(why) => UpdateRefusal::Download(why.clone()),
        UpdaterError::Reqwest(e) => UpdateRefusal::Download(e.to_string()),
        other => UpdateRefusal::Install(other.to_string()),
    }
}

/// The daily check, for as long as the app runs.
pub fn check_daily(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            let shell = app.state::<crate::shell::Shell>();
            if let Some((server, token)) = shell.update_address().await {
                check(&app, &server, &token, shell.transport()).await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsk1_signature_errors_are_refusals_and_network_errors_may_be_retried() {
        assert_eq!(
            refusal(&UpdaterError::MissingSignedVersion),
            UpdateRefusal::BadSignature
        );
        assert_eq!(
            refusal(&UpdaterError::Minisign(
                minisign_verify::Error::InvalidSignature
            )),
            UpdateRefusal::BadSignature
        );
        assert!(matches!(
            refusal(&UpdaterError::Network("503".into())),
            UpdateRefusal::Download(_)
        ));
        assert!(matches!(
            refusal(&UpdaterError::DebInstallFailed),
            UpdateRefusal::Install(_)
        ));
    }

    #[test]
    fn dsk1_the_check_url_has_the_updaters_placeholders() {
        let url = Url::parse(&format!("https://inbox.example{CHECK_PATH}")).unwrap();
        assert_eq!(
            url.origin(),
            Url::parse("https://inbox.example/").unwrap().origin()
        );
        let text = url.to_string();
        assert!(text.contains("%7B%7Btarget%7D%7D/%7B%7Barch%7D%7D/%7B%7Bcurrent_version%7D%7D"));
        assert!(text.ends_with("?bundle_type={{bundle_type}}"), "{text}");
    }
}
