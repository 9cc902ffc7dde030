//! The engine the desktop shell drives: start it with a session, read from the cache, write
//! through the outbox, and subscribe to what changes. Everything here works offline except what
//! needs the server by nature (all-time search of what the cache lacks, older thread pages).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use inbox_core::api::{ConversationPage, ConversationQuery, PAGE_SIZE};
use inbox_core::desktop::ConversationHeader;
use inbox_core::range::{resolve, RangePreset};
use inbox_core::whatsapp::{window_state, WindowState};
use inbox_core::{
    Channel, ConversationDetail, ConversationSummary, Id, TemplateUse, ThreadItem, User,
};
use tokio::sync::{broadcast, watch, Notify};

use crate::api::{Api, ApiError};
use crate::cache::{
    parse_list_cursor, thread_key, Cache, CacheError, LocalQuery, LocalScope, OutboxEntry,
    OutboxFile, OutboxState,
};
use crate::connection::ConnectionState;
use crate::notify::Attention;
use crate::transport::{server_address, Transport, TransportError};

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The server's base URL, e.g. `https://inbox.example.com`.
    pub server: String,
    pub token: String,
    pub user: User,
    pub time_zone: chrono_tz::Tz,
    pub cache_path: PathBuf,
    /// RT-2: after this long without a connection the UI shows the amber banner.
    pub pause_after: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub heartbeat: Duration,
    pub heartbeat_timeout: Duration,
    /// Test hook: a pause between receiving events and applying them.
    pub apply_delay: Duration,
    /// How to reach the server (TLS trust for REST and the WebSocket). None: the system's
    /// certificate store plus `GARAGE_INBOX_EXTRA_CA` ([`Transport::from_env`]).
    pub transport: Option<Transport>,
    /// Issue 17: the most bytes of messages' files kept on this computer, unless the user chose
    /// another in Settings (kept in the cache).
    pub files_cap: u64,
}

impl EngineConfig {
    pub fn new(
        server: &str,
        token: &str,
        user: User,
        time_zone: chrono_tz::Tz,
        cache_path: PathBuf,
    ) -> EngineConfig {
        EngineConfig {
            server: server.to_string(),
            token: token.to_string(),
            user,
            time_zone,
            cache_path,
            pause_after: Duration::from_secs(60),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            heartbeat: Duration::from_secs(20),
            heartbeat_timeout: Duration::from_secs(60),
            apply_delay: Duration::ZERO,
            transport: None,
            files_cap: crate::files::DEFAULT_CAP,
        }
    }
}

pub use inbox_core::desktop::{Preferences, ThreadView, Update};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("{0}")]
    Invalid(String),
    /// A change that needs the server was asked for while it cannot be reached (DSK-5: refused
    /// with a clear message, never lost silently).
    #[error(
        "You are offline, so this change was not saved. Try again when the connection is back."
    )]
    Offline,
    /// The server failed after the change reached it: it may or may not have been made.
    #[error("The server did not confirm this change ({0}). It may have been saved: check before trying again.")]
    Unconfirmed(String),
    #[error("the engine stopped")]
    Stopped,
    /// Issue 17: a file never fetched on this computer, asked for while the server is away.
    #[error(
        "This file has not been opened on this computer yet, so it cannot be shown while offline."
    )]
    FileOffline,
}

pub type EngineResult<T> = Result<T, EngineError>;

const PREFERENCES_KEY: &str = "list.preferences";

pub(crate) struct Shared {
    cache: Arc<Mutex<Cache>>,
    pub(crate) api: Api,
    pub(crate) transport: Transport,
    pub(crate) config: EngineConfig,
    state: watch::Sender<ConnectionState>,
    updates: broadcast::Sender<Update>,
    pub(crate) refresh: Notify,
    pub(crate) outbox_wake: Notify,
    stop: watch::Sender<bool>,
    attention: Mutex<Attention>,
    /// The server's "load earlier" cursor per conversation thread.
    server_thread_cursor: Mutex<HashMap<Id, Option<String>>>,
    /// Issue 17: messages' files fetched once, kept for offline reading.
    pub(crate) files: Arc<crate::files::FileCache>,
}

impl Shared {
    /// Runs a cache operation on the blocking pool.
    pub(crate) async fn cache<T, F>(&self, f: F) -> Result<T, CacheError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Cache) -> Result<T, CacheError> + Send + 'static,
    {
        let cache = Arc::clone(&self.cache);
        tokio::task::spawn_blocking(move || {
            let mut guard = cache.lock().map_err(|_| CacheError::Poisoned)?;
            f(&mut guard)
        })
        .await
        .map_err(|_| CacheError::Poisoned)?
    }

    pub(crate) fn set_state(&self, s: ConnectionState) {
        let changed = self.state.send_if_modified(|cur| {
            if *cur == s {
                false
            } else {
                *cur = s.clone();
                true
            }
        });
        if changed {
            self.publish(Update::Connection { state: s });
        }
    }

    pub(crate) fn publish(&self, u: Update) {
        let _ = self.updates.send(u);
    }

    pub(crate) fn attention(&self) -> Attention {
        self.attention.lock().map(|a| *a).unwrap_or_default()
    }

    pub(crate) fn is_stopped(&self) -> bool {
        *self.stop.borrow()
    }

    pub(crate) async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }
}

pub struct Engine {
    pub(crate) shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn new_client_id() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    format!("{:016x}{:016x}", rng.gen::<u64>(), rng.gen::<u64>())
}

impl Engine {
    /// Opens the cache and starts syncing; reads work at once, from the cache (DSK-2).
    pub async fn start(config: EngineConfig) -> EngineResult<Engine> {
        Ok(Engine::start_subscribed(config).await?.0)
    }

    /// [`Engine::start`], with a subscription taken before syncing starts: it sees every update,
    /// the first connection's (a resync, say) included.
    pub async fn start_subscribed(
        config: EngineConfig,
    ) -> EngineResult<(Engine, broadcast::Receiver<Update>)> {
        server_address(&config.server).map_err(|e| EngineError::Invalid(e.to_string()))?;
        let transport = match config.transport.clone() {
            Some(t) => t,
            None => Transport::from_env()?,
        };
        let path = config.cache_path.clone();
        let cache = tokio::task::spawn_blocking(move || Cache::open(&path))
            .await
            .map_err(|_| EngineError::Stopped)??;
        let stored = cache.setting(crate::files::CAP_KEY)?;
        let cap = crate::files::chosen_cap(stored.as_deref(), config.files_cap);
        let dir = crate::files::beside(&config.cache_path);
        let server = config.server.clone();
        let files =
            tokio::task::spawn_blocking(move || crate::files::FileCache::open(dir, cap, &server))
                .await
                .map_err(|_| EngineError::Stopped)?
                .map_err(|e| {
                    EngineError::Invalid(format!("the files folder cannot be opened: {e}"))
                })?;
        let (updates, first) = broadcast::channel(1024);
        let shared = Arc::new(Shared {
            files: Arc::new(files),
            cache: Arc::new(Mutex::new(cache)),
            api: Api::new(&config.server, &config.token, &transport),
            transport,
            config,
            state: watch::channel(ConnectionState::Connecting).0,
            updates,
            refresh: Notify::new(),
            outbox_wake: Notify::new(),
            stop: watch::channel(false).0,
            attention: Mutex::new(Attention::default()),
            server_thread_cursor: Mutex::new(HashMap::new()),
        });
        let tasks = vec![
            tokio::spawn(crate::sync::run(Arc::clone(&shared))),
            tokio::spawn(crate::outbox::run(Arc::clone(&shared))),
        ];
        Ok((Engine { shared, tasks }, first))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.shared.updates.subscribe()
    }

    pub fn connection(&self) -> ConnectionState {
        self.shared.state.borrow().clone()
    }

    /// Waits until the connection state satisfies `f` (or the timeout passes).
    pub async fn wait_for_state(
        &self,
        timeout: Duration,
        f: impl Fn(&ConnectionState) -> bool,
    ) -> Option<ConnectionState> {
        let mut rx = self.shared.state.subscribe();
        let state = tokio::time::timeout(timeout, rx.wait_for(|s| f(s)))
            .await
            .ok()?
            .ok()
            .map(|s| s.clone());
        state
    }

    /// The sync cursor the cache holds (None before the first snapshot).
    pub async fn cursor(&self) -> EngineResult<Option<i64>> {
        Ok(self.shared.cache(|c| c.cursor()).await?)
    }

    /// The conversation list (LST-2 … LST-11), from the cache. A search while live also asks the
    /// server for all-time matches the cache lacks (thread text it never held) and merges them.
    pub async fn list(&self, q: ConversationQuery) -> EngineResult<ConversationPage> {
        let me = self.shared.config.user.id;
        let after = match q.cursor.as_deref() {
            Some(c) => Some(
                parse_list_cursor(c)
                    .ok_or_else(|| EngineError::Invalid("bad list cursor".into()))?,
            ),
            None => None,
        };
        let search =
            q.q.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
        let scope = match &search {
            Some(text) => LocalScope::Search(text.clone()),
            None => {
                let custom = match (q.from, q.to) {
                    (Some(f), Some(t)) if q.range == RangePreset::Custom => Some((f, t)),
                    _ => None,
                };
                let iv = resolve(q.range, custom, Utc::now(), self.shared.config.time_zone)
                    .map_err(|e| EngineError::Invalid(e.to_string()))?;
                LocalScope::Range(iv)
            }
        };
        let local_query = LocalQuery {
            scope,
            filter: q.filter,
            after,
            me,
        };
        let mut page = self.shared.cache(move |c| c.list(&local_query)).await?;
        if let (Some(text), true, None) = (search, self.connection().is_live(), after) {
            if let Ok(remote) = self.shared.api.search(&text).await {
                merge_search(&mut page, remote);
            }
        }
        Ok(page)
    }

    pub async fn conversation(&self, id: Id) -> EngineResult<Option<ConversationSummary>> {
        Ok(self.shared.cache(move |c| c.conversation(id)).await?)
    }

    /// The thread header (THR-2): the row, and for a conversation with WhatsApp messages the
    /// 24-hour window as of now, from the customer's latest cached inbound WhatsApp message.
    /// A conversation the cache does not hold yet (a link opened while the first sync is still
    /// loading, or one that arrived a moment ago) takes its header from the conversation's own
    /// detail on the server; None only when neither has it.
    pub async fn header(&self, id: Id) -> EngineResult<Option<ConversationHeader>> {
        let Some(summary) = self.conversation(id).await? else {
            return match self.detail(id).await {
                Ok(detail) => Ok(Some(header_from_detail(detail))),
                Err(EngineError::Invalid(_)) => Ok(None),
                Err(e) => Err(e),
            };
        };
        let whatsapp = self
            .shared
            .cache(move |c| c.channel_activity(id, Channel::Whatsapp))
            .await?;
        let whatsapp_window = match whatsapp {
            Some(last_inbound) => Some(window_state(last_inbound, Utc::now())),
            None if summary.last_channel == Channel::Whatsapp => {
                Some(window_state(None, Utc::now()))
            }
            None => None,
        };
        Ok(Some(ConversationHeader {
            summary,
            whatsapp_window,
        }))
    }

    /// A thread page, newest first (THR-4, THR-6). `before` = the oldest item already shown.
    /// Online, the first page is refreshed from the server and older pages are fetched when the
    /// cache runs out; offline, whatever the cache holds (DSK-2).
    pub async fn thread(
        &self,
        conversation_id: Id,
        before: Option<&ThreadItem>,
    ) -> EngineResult<ThreadView> {
        let key = before.map(thread_key);
        let limit = PAGE_SIZE;
        if self.connection().is_live() || before.is_none() {
            let server_cursor = self.server_cursor(conversation_id);
            let fetch = match (key, server_cursor) {
                (None, _) => Some(None),
                (Some(_), Some(Some(c))) => Some(Some(c)),
                _ => None,
            };
            if let Some(cursor) = fetch {
                let local_enough = match key {
                    Some(k) => {
                        self.shared
                            .cache(move |c| c.thread(conversation_id, Some(k), limit))
                            .await?
                            .len()
                            >= limit
                    }
                    None => false,
                };
                if !local_enough {
                    match self
                        .shared
                        .api
                        .thread(conversation_id, cursor.as_deref())
                        .await
                    {
                        Ok(page) => {
                            if let Ok(mut m) = self.shared.server_thread_cursor.lock() {
                                m.insert(conversation_id, page.next_cursor.clone());
                            }
                            let items = page.items;
                            self.shared
                                .cache(move |c| c.store_thread_items(&items))
                                .await?;
                        }
                        Err(ApiError::Refused { status: 404, .. }) => {
                            return Err(EngineError::Invalid(
                                "this conversation no longer exists".into(),
                            ))
                        }
                        Err(_) => {} // Offline or failing: the cache answers.
                    }
                }
            }
        }
        let items = self
            .shared
            .cache(move |c| c.thread(conversation_id, key, limit + 1))
            .await?;
        let outbox = self
            .shared
            .cache(move |c| c.outbox_all(conversation_id))
            .await?;
        let more_local = items.len() > limit;
        let mut items = items;
        items.truncate(limit);
        let more_remote = matches!(self.server_cursor(conversation_id), Some(Some(_)));
        Ok(ThreadView {
            items,
            outbox,
            has_more: more_local || more_remote,
        })
    }

    fn server_cursor(&self, conversation_id: Id) -> Option<Option<String>> {
        self.shared
            .server_thread_cursor
            .lock()
            .ok()?
            .get(&conversation_id)
            .cloned()
    }

    /// Queues a reply (DSK-5): stored at once, sent when the server is reachable.
    pub async fn reply(
        &self,
        conversation_id: Id,
        body: Option<String>,
        template: Option<TemplateUse>,
        channel: Option<Channel>,
    ) -> EngineResult<OutboxEntry> {
        self.reply_with_files(conversation_id, body, template, channel, Vec::new())
            .await
    }

    /// Queues a reply with photos or documents (issue 17): checked here as the server will
    /// check them, stored with their bytes at once, uploaded and sent when the server is
    /// reachable, so a photo written offline goes out with its reply on reconnect.
    pub async fn reply_with_files(
        &self,
        conversation_id: Id,
        body: Option<String>,
        template: Option<TemplateUse>,
        channel: Option<Channel>,
        files: Vec<NewFile>,
    ) -> EngineResult<OutboxEntry> {
        let empty = body.as_deref().map(str::trim).is_none_or(str::is_empty);
        if empty && template.is_none() && files.is_empty() {
            return Err(EngineError::Invalid("the message is empty".into()));
        }
        check_files(&files)?;
        let (described, bytes): (Vec<OutboxFile>, Vec<Vec<u8>>) = files
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                let content_type = inbox_core::media::essence(&f.content_type);
                let file = OutboxFile {
                    file_name: inbox_core::media::file_name(Some(&f.file_name), &content_type, i),
                    size: f.bytes.len() as u64,
                    content_type,
                    uploaded: None,
                };
                (file, f.bytes)
            })
            .unzip();
        let entry = OutboxEntry {
            client_id: new_client_id(),
            conversation_id,
            body: if empty && template.is_none() {
                None
            } else {
                body
            },
            template,
            channel,
            created_at: Utc::now(),
            state: OutboxState::Queued,
            files: described,
        };
        let stored = entry.clone();
        self.shared
            .cache(move |c| c.outbox_add_with_files(&stored, &bytes))
            .await?;
        self.shared.publish(Update::Outbox { conversation_id });
        self.shared.outbox_wake.notify_one();
        Ok(entry)
    }

    pub async fn outbox(&self, conversation_id: Id) -> EngineResult<Vec<OutboxEntry>> {
        Ok(self
            .shared
            .cache(move |c| c.outbox_all(conversation_id))
            .await?)
    }

    /// Drops a refused reply from the outbox (the user chose to discard it).
    pub async fn discard_reply(&self, client_id: &str) -> EngineResult<()> {
        let id = client_id.to_string();
        Ok(self.shared.cache(move |c| c.outbox_remove(&id)).await?)
    }

    /// THR-7: opening a thread marks it read on the server (its event updates every desktop).
    pub async fn mark_read(&self, conversation_id: Id) -> EngineResult<()> {
        self.shared.api.mark_read(conversation_id).await?;
        Ok(())
    }

    /// What the user is looking at, for the notification policy.
    pub fn set_attention(&self, attention: Attention) {
        if let Ok(mut a) = self.shared.attention.lock() {
            *a = attention;
        }
    }

    /// RT-2's Refresh: reconnect now and rebuild from a snapshot.
    pub fn refresh(&self) {
        self.shared.refresh.notify_one();
    }

    pub async fn unread_conversations(&self) -> EngineResult<u64> {
        Ok(self.shared.cache(|c| c.unread_conversations()).await?)
    }

    pub async fn preferences(&self) -> EngineResult<Preferences> {
        let raw = self.shared.cache(|c| c.setting(PREFERENCES_KEY)).await?;
        Ok(raw
            .and_then(|r| serde_json::from_str(&r).ok())
            .unwrap_or_default())
    }

    pub async fn set_preferences(&self, p: &Preferences) -> EngineResult<()> {
        let raw = serde_json::to_string(p).map_err(|e| EngineError::Invalid(e.to_string()))?;
        Ok(self
            .shared
            .cache(move |c| c.set_setting(PREFERENCES_KEY, &raw))
            .await?)
    }

    /// ACC-3: ends the session on the server (if reachable) and wipes the cache.
    pub async fn sign_out(self) -> EngineResult<()> {
        let _ = self.shared.api.logout().await;
        let shared = Arc::clone(&self.shared);
        self.shutdown().await;
        Ok(shared.cache(|c| c.wipe()).await?)
    }

    /// Stops syncing and sending; the cache stays for the next start.
    pub async fn shutdown(self) {
        self.shared.stop.send_replace(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// THR-2's header from a conversation's detail: the window shows for a conversation on WhatsApp
/// or one whose customer has written on it.
fn header_from_detail(detail: ConversationDetail) -> ConversationHeader {
    let on_whatsapp = detail.summary.last_channel == Channel::Whatsapp
        || detail.whatsapp_window != WindowState::NeverOpened;
    ConversationHeader {
        whatsapp_window: on_whatsapp.then_some(detail.whatsapp_window),
        summary: detail.summary,
    }
}

/// Adds the server's all-time matches to a local search page (newest first, no duplicates); the
/// server's counts are authoritative for a search.
fn merge_search(page: &mut ConversationPage, remote: ConversationPage) {
    for item in remote.items {
        if !page.items.iter().any(|i| i.id == item.id) {
            page.items.push(item);
        }
    }
    page.items.sort_by(|a, b| {
        b.last_activity_at
            .cmp(&a.last_activity_at)
            .then(b.id.cmp(&a.id))
    });
    page.items.truncate(PAGE_SIZE);
    if remote.counts.all > page.counts.all {
        page.counts = remote.counts;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inbox_core::api::Counts;
    use inbox_core::{Channel, ContextBadge};

    fn row(id: Id, minutes: i64) -> ConversationSummary {
        ConversationSummary {
            id,
            title: format!("C{id}"),
            customer_id: None,
            caller_number: None,
            withheld: false,
            preview: String::new(),
            last_channel: Channel::Sms,
            last_activity_at: chrono::DateTime::from_timestamp(1_780_000_000 + minutes * 60, 0)
                .unwrap_or_default(),
            unread_count: 0,
            unresolved_calls: 0,
            assignee: None,
            context_badge: ContextBadge::General,
            work_order: None,
            needs_work_order_pick: false,
            intent: None,
        }
    }

    #[test]
    fn lst2_online_search_adds_the_servers_matches_without_duplicates() {
        let mut local = ConversationPage {
            items: vec![row(1, 10), row(2, 5)],
            next_cursor: None,
            counts: Counts {
                all: 2,
                ..Counts::default()
            },
        };
        let remote = ConversationPage {
            items: vec![row(2, 5), row(3, 7)],
            next_cursor: None,
            counts: Counts {
                all: 3,
                unread: 1,
                ..Counts::default()
            },
        };
        merge_search(&mut local, remote);
        let ids: Vec<Id> = local.items.iter().map(|c| c.id).collect();
        assert_eq!(ids, vec![1, 3, 2], "newest first, each once");
        assert_eq!(local.counts.all, 3, "the server's all-time counts win");
    }
}

/// A file the user attached to a reply: picked, dropped or pasted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The server's limits, checked before anything is queued: 4 files, 10 MB each, 25 MB in all,
/// photos, PDFs and voice notes only.
fn check_files(files: &[NewFile]) -> EngineResult<()> {
    use inbox_core::media::{kind, Refused, FILES_MAX, FILE_MAX, MESSAGE_MAX};
    let refuse = |r: Refused| EngineError::Invalid(r.to_string());
    if files.len() > FILES_MAX {
        return Err(refuse(Refused::TooMany));
    }
    let mut total = 0;
    for f in files {
        kind(&f.content_type).map_err(refuse)?;
        if f.bytes.is_empty() {
            return Err(EngineError::Invalid(format!("{} is empty", f.file_name)));
        }
        if f.bytes.len() as u64 > FILE_MAX {
            return Err(refuse(Refused::TooLarge));
        }
        total += f.bytes.len() as u64;
    }
    if total > MESSAGE_MAX {
        return Err(refuse(Refused::MessageTooLarge));
    }
    Ok(())
}
