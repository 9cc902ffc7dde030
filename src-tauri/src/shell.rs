//! The app's state: at most one signed-in session with its running engine. Restores the saved
//! session at start (DSK-2: the engine reads the cache at once and syncs behind it), signs in and
//! out (ACC-3), and forwards what the engine reports to the webview, the notification centre and
//! the window's unread badge. What is kept on disk, and when it goes, is `SessionStore`'s rule.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use inbox_client::api::{Api, ApiError};
use inbox_client::keystore::{TimedKeystore, KEYSTORE_TIMEOUT};
use inbox_client::notify::Attention;
use inbox_client::session::{same_user, SessionStore};
use inbox_client::{server_address, Engine, EngineConfig, EngineError, Transport};
use inbox_core::desktop::{event, CommandError, ConnectionState, Session, SignIn, Update};
use inbox_core::{Id, Organisation};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{RwLock, RwLockReadGuard};

use crate::session::Keyring;

/// Where the app keeps its files, and how it behaves; from the environment for operations and
/// tests, with the platform's defaults otherwise.
#[derive(Debug, Clone)]
pub struct ShellConfig {
    pub data_dir: PathBuf,
    /// RT-2: how long without a connection before the amber banner.
    pub pause_after: Duration,
    /// TLS trust for the server: the system's store plus `GARAGE_INBOX_EXTRA_CA`.
    pub transport: Transport,
}

impl ShellConfig {
    pub fn from_env() -> anyhow::Result<ShellConfig> {
        let data_dir = match std::env::var_os("GARAGE_INBOX_DATA_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => directories::ProjectDirs::from("app", "garageinbox", "Garage Inbox")
                .map(|p| p.data_dir().to_path_buf())
                .ok_or_else(|| anyhow::anyhow!("this system has no home directory for app data"))?,
        };
        std::fs::create_dir_all(&data_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create the data directory {}: {e}",
                data_dir.display()
            )
        })?;
        let pause_after = std::env::var("GARAGE_INBOX_PAUSE_AFTER_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(Duration::from_secs(60));
        let transport = Transport::from_env()?;
        Ok(ShellConfig {
            data_dir,
            pause_after,
            transport,
        })
    }
}

pub struct Running {
    pub engine: Engine,
    pub session: Session,
    /// The session's bearer token, for the update check (DSK-1) as for the engine.
    token: String,
    forward: JoinHandle<()>,
}

/// What the user is looking at: the notification policy stays quiet about a thread that is open
/// in a focused window.
#[derive(Debug, Clone, Copy, Default)]
struct Focus {
    window_focused: bool,
    conversation: Option<Id>,
}

impl Focus {
    fn attention(self) -> Attention {
        Attention {
            focused_conversation: self.conversation.filter(|_| self.window_focused),
        }
    }
}

pub struct Shell {
    config: ShellConfig,
    sessions: SessionStore,
    running: RwLock<Option<Running>>,
    /// The saved session was looked for (once per launch).
    restored: AtomicBool,
    focus: Mutex<Focus>,
    pending_open: Mutex<Option<String>>,
}

impl Shell {
    pub fn new(config: ShellConfig) -> Shell {
        let keystore = TimedKeystore::new(Arc::new(Keyring), KEYSTORE_TIMEOUT);
        let sessions = SessionStore::new(&config.data_dir, keystore);
        Shell {
            sessions,
            config,
            running: RwLock::new(None),
            restored: AtomicBool::new(false),
            focus: Mutex::new(Focus {
                window_focused: true,
                conversation: None,
            }),
            pending_open: Mutex::new(None),
        }
    }

    /// At start, in the one instance that runs (never in a second launch, which hands over to
    /// the running app whose session-only cache is in use): a session-only session whose app
    /// did not exit cleanly left its cache behind.
    pub fn wipe_leftovers(&self) {
        let wiped = self.sessions.wipe_session_only_caches();
        if wiped > 0 {
            tracing::info!(wiped, "deleted the cache a session-only sign-in left");
        }
    }

    /// The running session, or the "signed out" error every command answers without one.
    pub async fn running(&self) -> Result<RwLockReadGuard<'_, Running>, CommandError> {
        RwLockReadGuard::try_map(self.running.read().await, Option::as_ref)
            .map_err(|_| CommandError::signed_out())
    }

    /// The session, restoring the saved one first if this launch has not looked yet.
    pub async fn session(&self, app: &AppHandle) -> Option<Session> {
        self.restore(app).await;
        self.running
            .read()
            .await
            .as_ref()
            .map(|r| r.session.clone())
    }

    /// Starts the engine on the saved session, once per launch (at start-up, and whichever of
    /// that and the UI's first question comes first).
    pub async fn restore(&self, app: &AppHandle) {
        let mut running = self.running.write().await;
        if self.restored.swap(true, Ordering::SeqCst) || running.is_some() {
            return;
        }
        let (session, token) = match self.sessions.load().await {
            Ok(Some(found)) => found,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "the saved sign-in could not be read: sign in again");
                return;
            }
        };
        match self.start(app, session, &token).await {
            Ok(r) => {
                check_for_updates(app, &r, &self.config.transport);
                *running = Some(r);
            }
            Err(e) => tracing::warn!(error = %e, "could not open the saved session"),
        }
    }

    /// The TLS trust of every connection the app makes.
    pub fn transport(&self) -> &Transport {
        &self.config.transport
    }

    /// The signed-in server and token, for the daily update check (DSK-1).
    pub async fn update_address(&self) -> Option<(String, String)> {
        self.running
            .read()
            .await
            .as_ref()
            .map(|r| (r.session.server.clone(), r.token.clone()))
    }

    /// ACC-3: signs in, files the token in the keychain and starts syncing. A keychain that
    /// does not answer in time fails the sign-in with `keychain_unavailable`; the form then
    /// offers `session_only`, which keeps the token in memory and the cache until exit.
    pub async fn sign_in(&self, app: &AppHandle, form: SignIn) -> Result<Session, CommandError> {
        let server = server_address(&form.server).map_err(|e| CommandError::new(e.to_string()))?;
        let transport = &self.config.transport;
        let login = Api::login(transport, &server, form.email.trim(), &form.password)
            .await
            .map_err(|e| sign_in_error(&server, e))?;
        let session = Session {
            server,
            user: login.user,
            organisation: login.organisation,
        };
        let mut running = self.running.write().await;
        self.restored.store(true, Ordering::SeqCst);
        if let Some(previous) = running.take() {
            // Still running after a REST call found the session gone: the same user keeps the
            // cache (as when the server ended it); anyone else's session is signed out.
            let previous_session = previous.session.clone();
            if same_user(&previous_session, &session) {
                stop(previous, false).await;
            } else {
                stop(previous, true).await;
                self.sessions.signed_out(&previous_session).await;
            }
        }
        self.sessions.prepare(&session);
        if form.session_only {
            self.sessions
                .session_only(&session)
                .await
                .map_err(CommandError::new)?;
        } else if let Err(e) = self.sessions.remember(&session, &login.token).await {
            tracing::warn!(error = %e, "the keychain did not take the session");
            // This token will not be used: end it rather than leave it valid on the server.
            let api = Api::new(&session.server, &login.token, transport);
            tauri::async_runtime::spawn(async move {
                let _ = api.logout().await;
            });
            return Err(CommandError::keychain_unavailable(format!(
                "You are signed in, but {e}, so this computer cannot remember the sign-in. \
                 You can continue for this session only: nothing is kept on this computer \
                 after you close the app, and you sign in again next time."
            )));
        }
        let started = self
            .start(app, session.clone(), &login.token)
            .await
            .map_err(|e| CommandError::new(format!("The local cache could not be opened: {e}")))?;
        check_for_updates(app, &started, &self.config.transport);
        *running = Some(started);
        Ok(session)
    }

    /// ACC-3: ends the session (on the server when reachable), forgets the token and wipes the
    /// cache.
    pub async fn sign_out(&self, app: &AppHandle) {
        let previous = self.running.write().await.take();
        if let Some(previous) = previous {
            let session = previous.session.clone();
            stop(previous, true).await;
            self.sessions.signed_out(&session).await;
        }
        crate::window::show_unread(app, 0);
        app.state::<crate::updates::Updates>().forget(app);
        let _ = app.emit(event::UPDATE, Update::SignedOut);
    }

    /// The server ended the session (expired or revoked): the engine stops, the token is
    /// forgotten, and the cache stays for the same user's next sign-in.
    pub async fn session_ended(&self, app: &AppHandle) {
        let previous = self.running.write().await.take();
        if let Some(previous) = previous {
            let session = previous.session.clone();
            stop(previous, false).await;
            self.sessions.ended_by_server(&session).await;
        }
        crate::window::show_unread(app, 0);
        app.state::<crate::updates::Updates>().forget(app);
    }

    /// The organisation's settings changed: the running session and the saved one follow, so
    /// the UI's next read of the session (which the update prompts) has them.
    pub async fn follow_organisation(&self, organisation: &Organisation) {
        // Held while the file is written, so a sign-out (which takes the running session
        // first) never finds its file rewritten behind it.
        let mut running = self.running.write().await;
        let Some(r) = running.as_mut() else { return };
        if r.session.organisation.id != organisation.id {
            return;
        }
        r.session.organisation = organisation.clone();
        if let Err(e) = self.sessions.follow_organisation(&r.session) {
            tracing::warn!(error = %e, "the saved session could not follow the organisation");
        }
    }

    /// What the signed-in user may do changed (ACC-2): the running session and the saved one
    /// follow, like `follow_organisation`.
    pub async fn follow_user(&self, user: &inbox_core::User) {
        let mut running = self.running.write().await;
        let Some(r) = running.as_mut() else { return };
        if r.session.user.id != user.id {
            return;
        }
        r.session.user = user.clone();
        if let Err(e) = self.sessions.follow_organisation(&r.session) {
            tracing::warn!(error = %e, "the saved session could not follow the user's role");
        }
    }

    /// At exit: the engine stops, and a session-only session's cache is deleted.
    pub async fn exit(&self) {
        let previous = self.running.write().await.take();
        if let Some(previous) = previous {
            stop(previous, false).await;
        }
        self.sessions.wipe_session_only_caches();
    }

    async fn start(
        &self,
        app: &AppHandle,
        session: Session,
        token: &str,
    ) -> Result<Running, EngineError> {
        let time_zone = session.organisation.time_zone.parse().unwrap_or_else(|_| {
            tracing::warn!(zone = %session.organisation.time_zone, "unknown time zone: using UTC");
            chrono_tz::UTC
        });
        let mut config = EngineConfig::new(
            &session.server,
            token,
            session.user.clone(),
            time_zone,
            self.sessions.cache_path(&session),
        );
        config.pause_after = self.config.pause_after;
        config.transport = Some(self.config.transport.clone());
        // Subscribed before the first connection: its updates reach the window too.
        let (engine, updates) = Engine::start_subscribed(config).await?;
        engine.set_attention(self.focus().attention());
        let forward = tauri::async_runtime::spawn(forward(app.clone(), updates));
        let unread = engine.unread_conversations().await.unwrap_or(0);
        crate::window::show_unread(app, unread);
        Ok(Running {
            engine,
            session,
            token: token.to_string(),
            forward,
        })
    }

    fn focus(&self) -> Focus {
        self.focus.lock().map(|f| *f).unwrap_or_default()
    }

    fn update_focus(&self, change: impl FnOnce(&mut Focus)) {
        let focus = match self.focus.lock() {
            Ok(mut f) => {
                change(&mut f);
                *f
            }
            Err(_) => return,
        };
        if let Ok(running) = self.running.try_read() {
            if let Some(r) = running.as_ref() {
                r.engine.set_attention(focus.attention());
            }
        }
    }

    pub fn set_open_conversation(&self, conversation: Option<Id>) {
        self.update_focus(|f| f.conversation = conversation);
    }

    pub fn set_window_focused(&self, focused: bool) {
        self.update_focus(|f| f.window_focused = focused);
    }

    pub fn set_pending_open(&self, query: String) {
        if let Ok(mut p) = self.pending_open.lock() {
            *p = Some(query);
        }
    }

    pub fn take_pending_open(&self) -> Option<String> {
        self.pending_open.lock().ok().and_then(|mut p| p.take())
    }
}

/// DSK-1: asks the session's server for a newer version, behind the sign-in.
fn check_for_updates(app: &AppHandle, running: &Running, transport: &Transport) {
    let (app, server, token, transport) = (
        app.clone(),
        running.session.server.clone(),
        running.token.clone(),
        transport.clone(),
    );
    tauri::async_runtime::spawn(async move {
        crate::updates::check(&app, &server, &token, &transport).await;
    });
}

/// Stops an engine; `wipe` signs out (server session ended, cache emptied).
async fn stop(running: Running, wipe: bool) {
    running.forward.abort();
    let result = if wipe {
        running.engine.sign_out().await
    } else {
        running.engine.shutdown().await;
        Ok(())
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "the cache could not be wiped");
    }
}

/// Passes the engine's updates on: to the webview, the notification centre and the badge. A
/// session the server ended signs this desktop out.
async fn forward(app: AppHandle, mut updates: tokio::sync::broadcast::Receiver<Update>) {
    loop {
        let update = match updates.recv().await {
            Ok(u) => u,
            // Missed some: the UI re-reads everything.
            Err(RecvError::Lagged(_)) => Update::Resynced,
            Err(RecvError::Closed) => return,
        };
        match &update {
            Update::Notify { notification } => crate::notifications::raise(&app, notification),
            Update::Changed { .. } | Update::Resynced => {
                let shell = app.state::<Shell>();
                let unread = match shell.running().await {
                    Ok(r) => r.engine.unread_conversations().await.ok(),
                    Err(_) => None,
                };
                if let Some(n) = unread {
                    crate::window::show_unread(&app, n);
                }
            }
            Update::Organisation { organisation } => {
                app.state::<Shell>().follow_organisation(organisation).await;
            }
            Update::Access { user } => {
                app.state::<Shell>().follow_user(user).await;
            }
            Update::Connection {
                state: ConnectionState::SignedOut { reason },
            } => {
                tracing::info!(%reason, "the server ended the session");
                let app = app.clone();
                // Stopping the engine stops this task, so it runs on its own.
                tauri::async_runtime::spawn(async move {
                    app.state::<Shell>().session_ended(&app).await;
                });
            }
            _ => {}
        }
        if let Err(e) = app.emit(event::UPDATE, &update) {
            tracing::warn!(error = %e, "could not pass an update to the UI");
        }
    }
}

fn sign_in_error(server: &str, e: ApiError) -> CommandError {
    match e {
        ApiError::Unauthorized(_) | ApiError::Refused { status: 401, .. } => {
            CommandError::new("That email and password do not match an account.")
        }
        ApiError::Refused { message, .. } => CommandError::new(message),
        ApiError::Unreachable(why) => {
            CommandError::new(format!("The server at {server} cannot be reached ({why})."))
        }
        ApiError::Failed(why) => CommandError::new(format!(
            "The server at {server} could not sign you in ({why}). Try again in a moment."
        )),
        ApiError::Address(why) => CommandError::new(why.to_string()),
    }
}

/// An engine failure as the UI shows it.
pub fn command_error(e: EngineError) -> CommandError {
    match e {
        EngineError::Api(ApiError::Unauthorized(_)) => CommandError::signed_out(),
        other => CommandError::new(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsk4_an_open_thread_is_quiet_only_while_the_window_has_focus() {
        let open = Focus {
            window_focused: true,
            conversation: Some(4),
        };
        assert_eq!(open.attention().focused_conversation, Some(4));
        let away = Focus {
            window_focused: false,
            ..open
        };
        assert_eq!(away.attention().focused_conversation, None);
    }

    #[test]
    fn acc3_a_refused_login_reads_as_a_sentence() {
        let e = sign_in_error("https://x", ApiError::Unauthorized("bad".into()));
        assert_eq!(
            e.message,
            "That email and password do not match an account."
        );
        let e = sign_in_error("https://x", ApiError::Unreachable("refused".into()));
        assert!(e.message.contains("https://x cannot be reached"));
    }
}
