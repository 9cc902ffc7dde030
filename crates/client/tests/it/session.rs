//! What the desktop keeps between launches (ACC-3, issue 13): a session-only sign-in leaves no
//! cache behind, at exit or at the next start; a session the server ended keeps the cache for the
//! same user's next sign-in and loses it to a different user's.

use std::sync::Arc;
use std::time::Duration;

use inbox_client::cache::Cache;
use inbox_client::connection::ConnectionState;
use inbox_client::keystore::{Keystore, MemoryKeystore, TimedKeystore, KEYSTORE_TIMEOUT};
use inbox_client::session::{Kept, SessionStore};
use inbox_client::Engine;
use inbox_core::api::LoginResponse;
use inbox_core::desktop::Session;
use serde_json::json;

use crate::support::*;

fn session(base: &str, login: &LoginResponse) -> Session {
    Session {
        server: base.to_string(),
        user: login.user.clone(),
        organisation: login.organisation.clone(),
    }
}

fn store(dir: &std::path::Path) -> (SessionStore, Arc<MemoryKeystore>) {
    let keys = Arc::new(MemoryKeystore::default());
    let timed = TimedKeystore::new(keys.clone(), KEYSTORE_TIMEOUT);
    (SessionStore::new(dir, timed), keys)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acc3_a_session_only_cache_is_deleted_at_exit_and_at_the_next_start() {
    let (dir, server, desk, _) = desk().await;
    let (sessions, keys) = store(dir.path());
    let me = session(&server.base, &desk);
    let cache = sessions.cache_path(&me);

    // Exit: the engine stops, then the cache goes.
    sessions.prepare(&me);
    sessions.session_only(&me).await.unwrap();
    let engine = start_live(&server.base, &desk, cache.clone()).await;
    assert_in_step(&engine, &server.base, &desk.token).await;
    engine.shutdown().await;
    assert!(cache.exists());
    assert_eq!(sessions.wipe_session_only_caches(), 1);
    assert!(!cache.exists(), "the session-only cache outlived the app");

    // A crash: the app never reached its exit; the next start wipes before anything opens.
    sessions.session_only(&me).await.unwrap();
    let engine = start_live(&server.base, &desk, cache.clone()).await;
    engine.shutdown().await;
    let (next_launch, _) = store(dir.path());
    assert_eq!(next_launch.wipe_session_only_caches(), 1);
    assert!(!cache.exists(), "the next start left the cache on disk");
    assert!(
        next_launch.load().await.unwrap().is_none(),
        "nothing to restore"
    );
    assert_eq!(
        keys.get(&format!("{} at {}", me.user.email, me.server)),
        Ok(None),
        "no token in the keychain"
    );
}

/// Windows refuses to delete a file another process has open (a second launch, say, while the
/// first still runs). The marker must outlive such a failure, or the cache stays on disk,
/// unencrypted, with nothing left to say it should go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acc3_a_session_only_cache_that_cannot_be_deleted_yet_keeps_its_marker() {
    let (dir, server, desk, _) = desk().await;
    let (sessions, _keys) = store(dir.path());
    let me = session(&server.base, &desk);
    let cache = sessions.cache_path(&me);
    let marker = dir.path().join(format!(
        "{}.session-only",
        cache.file_name().unwrap().to_string_lossy()
    ));
    sessions.prepare(&me);
    sessions.session_only(&me).await.unwrap();
    let engine = start_live(&server.base, &desk, cache.clone()).await;
    engine.shutdown().await;
    assert!(cache.exists() && marker.exists());

    // On Linux an open file can be deleted; a directory in the WAL's place cannot, which stands
    // in for Windows' "in use by another process".
    let wal = dir.path().join(format!(
        "{}-wal",
        cache.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&wal);
    std::fs::create_dir(&wal).unwrap();
    std::fs::write(wal.join("held"), b"").unwrap();
    assert_eq!(sessions.wipe_session_only_caches(), 0, "not all gone");
    assert!(marker.exists(), "the marker stays until every file is gone");

    // The file is free again: the next start finishes the job.
    std::fs::remove_dir_all(&wal).unwrap();
    let (next_launch, _) = store(dir.path());
    assert_eq!(next_launch.wipe_session_only_caches(), 1);
    assert!(!cache.exists() && !marker.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acc3_an_ended_session_keeps_the_cache_for_the_same_user_only() {
    let (dir, server, desk, _) = desk().await;
    let (sessions, _keys) = store(dir.path());
    let me = session(&server.base, &desk);
    let cache = sessions.cache_path(&me);
    sessions.prepare(&me);
    sessions.remember(&me, &desk.token).await.unwrap();
    assert!(sessions.load().await.unwrap().is_some());

    let engine = start_live(&server.base, &desk, cache.clone()).await;
    assert_in_step(&engine, &server.base, &desk.token).await;
    let held = engine_conversations(&engine).await;
    // The session is revoked on the server (as expiry or an admin would).
    let (status, _) = post(&server.base, &desk.token, "/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, 204);
    let out = engine
        .wait_for_state(Duration::from_secs(10), |s| {
            matches!(s, ConnectionState::SignedOut { .. })
        })
        .await;
    assert!(out.is_some(), "{:?}", engine.connection());
    engine.shutdown().await;
    sessions.ended_by_server(&me).await;
    assert!(
        sessions.load().await.unwrap().is_none(),
        "the password is asked again"
    );
    assert_eq!(sessions.last().map(|(_, k)| k), Some(Kept::Ended));
    assert!(cache.exists(), "the cache survived the ended session");

    // The same user signs in again: the cache is there at once, before any sync.
    let again = login(&server.base, "desk@engine.test").await;
    sessions.prepare(&session(&server.base, &again));
    let kept = Cache::open(&cache).unwrap();
    assert!(
        kept.cursor().unwrap().is_some(),
        "the cache kept its cursor"
    );
    drop(kept);
    let engine = Engine::start(engine_config(&server.base, &again, cache.clone()))
        .await
        .unwrap();
    assert_eq!(engine_conversations(&engine).await, held);
    engine.shutdown().await;
    sessions
        .remember(&session(&server.base, &again), &again.token)
        .await
        .unwrap();

    // A different user signs in on this desk: the previous user's cache goes.
    let other = login(&server.base, "second@engine.test").await;
    sessions.prepare(&session(&server.base, &other));
    assert!(
        !cache.exists(),
        "another user's sign-in wiped the previous cache"
    );
}

/// The bookkeeping between the two ways of keeping a session: a remembered sign-in takes back a
/// cache an earlier session-only sign-in marked to go, and a session-only sign-in that replaces a
/// remembered one does not leave that one's token in the keychain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acc3_switching_between_remembered_and_session_only_keeps_the_books_straight() {
    let (dir, server, desk, _) = desk().await;
    let (sessions, keys) = store(dir.path());
    let me = session(&server.base, &desk);
    let account = format!("{} at {}", me.user.email, me.server);
    let cache = sessions.cache_path(&me);

    // Session-only first, then the keychain works again and the same user is remembered.
    sessions.prepare(&me);
    sessions.session_only(&me).await.unwrap();
    let engine = start_live(&server.base, &desk, cache.clone()).await;
    engine.shutdown().await;
    sessions.prepare(&me);
    sessions.remember(&me, &desk.token).await.unwrap();
    assert_eq!(
        sessions.wipe_session_only_caches(),
        0,
        "the remembered session's cache is not wiped at exit"
    );
    assert!(cache.exists());
    assert!(sessions.load().await.unwrap().is_some());

    // Remembered, then a session-only sign-in takes its place: the old token leaves the keychain.
    assert_eq!(keys.get(&account), Ok(Some(desk.token.clone())));
    let again = login(&server.base, "desk@engine.test").await;
    let me_again = session(&server.base, &again);
    sessions.prepare(&me_again);
    sessions.session_only(&me_again).await.unwrap();
    eventually(
        "the replaced token to leave the keychain",
        Duration::from_secs(5),
        || async { keys.get(&account) == Ok(None) },
    )
    .await;
    assert!(sessions.load().await.unwrap().is_none());
}
