//! Offline: reads from the cache (DSK-2), the amber banner (RT-2), the outbox (DSK-5), sign-out.

use std::time::Duration;

use inbox_client::cache::{Cache, OutboxState};
use inbox_client::connection::ConnectionState;
use inbox_client::Engine;
use inbox_core::api::ConversationQuery;
use inbox_core::range::RangePreset;
use inbox_core::ThreadItem;
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsk2_rt2_reads_work_offline_and_the_banner_shows_after_a_while() {
    let (_dir, mut server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    let online = engine_conversations(&engine).await;
    let id = online[0].id;
    let thread_online = engine.thread(id, None).await.unwrap();
    assert!(!thread_online.items.is_empty());
    let named = online
        .iter()
        .find(|c| c.customer_id.is_some())
        .unwrap()
        .clone();
    let detail = get(
        &server.base,
        &desk.token,
        &format!("/api/v1/conversations/{}", named.id),
    )
    .await;
    let phone = detail["customer"]["phones"][0]
        .as_str()
        .unwrap()
        .to_string();
    engine.shutdown().await;
    server.kill();

    // A fresh start with the server down: everything cached is there at once.
    let engine = Engine::start(engine_config(&server.base, &desk, cache_path))
        .await
        .unwrap();
    assert_eq!(engine_conversations(&engine).await, online);
    let thread_offline = engine.thread(id, None).await.unwrap();
    assert_eq!(thread_offline.items, thread_online.items);
    let page = engine
        .list(ConversationQuery {
            range: RangePreset::AllTime,
            q: Some(named.title.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        page.items.iter().any(|c| c.id == named.id),
        "offline search finds cached conversations"
    );
    // LST-2 offline: the customer's number in national format, straight after the first sync.
    let national = format!("0{} {}", &phone[3..7], &phone[7..]);
    let by_phone = engine
        .list(ConversationQuery {
            range: RangePreset::AllTime,
            q: Some(national.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        by_phone.items.iter().any(|c| c.id == named.id),
        "search by {national} finds {}",
        named.title
    );
    let s = engine
        .wait_for_state(
            Duration::from_secs(10),
            ConnectionState::shows_paused_banner,
        )
        .await;
    assert!(
        s.is_some(),
        "RT-2: paused after pause_after without a connection, got {:?}",
        engine.connection()
    );

    server.restart();
    live(&engine).await;
    assert_in_step(&engine, &server.base, &desk.token).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsk5_an_offline_reply_survives_a_restart_and_is_sent_exactly_once() {
    let (_dir, mut server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    // A conversation that can take an SMS reply.
    let convs = engine_conversations(&engine).await;
    let target = convs.iter().find(|c| c.customer_id.is_some()).unwrap().id;
    server.kill();

    let entry = engine
        .reply(
            target,
            Some("Your car is ready".into()),
            None,
            Some(inbox_core::Channel::Sms),
        )
        .await
        .unwrap();
    let pending = engine.outbox(target).await.unwrap();
    assert_eq!(pending.len(), 1, "shown as pending at once");
    assert_eq!(pending[0].state, OutboxState::Queued);
    // The app is closed while offline, and opened again.
    engine.shutdown().await;
    let engine = Engine::start(engine_config(&server.base, &desk, cache_path.clone()))
        .await
        .unwrap();
    assert_eq!(
        engine.outbox(target).await.unwrap().len(),
        1,
        "not lost across a restart"
    );

    server.restart();
    live(&engine).await;
    eventually("the outbox drains", Duration::from_secs(15), || async {
        engine.outbox(target).await.unwrap().is_empty()
    })
    .await;
    let thread = get(
        &server.base,
        &desk.token,
        &format!("/api/v1/conversations/{target}/messages"),
    )
    .await;
    let copies = thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["client_id"] == entry.client_id.as_str())
        .count();
    assert_eq!(copies, 1, "sent exactly once");
    let view = engine.thread(target, None).await.unwrap();
    assert!(view.items.iter().any(|i| matches!(i, ThreadItem::Message(m) if m.client_id.as_deref() == Some(entry.client_id.as_str()))));
    assert!(view.outbox.is_empty(), "reconciled with the server's copy");
    engine.shutdown().await;
}

/// Issue 17: a reply with a photo written offline survives a restart, is sent once with its
/// photo on reconnect, and the photo stays readable here when the server goes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsk5_an_offline_reply_with_a_photo_is_sent_once_with_it() {
    let (_dir, mut server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    let convs = engine_conversations(&engine).await;
    let target = convs.iter().find(|c| c.customer_id.is_some()).unwrap().id;
    server.kill();

    // A JPEG's signature is what the server checks; the rest need not draw.
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0];
    photo.resize(40_000, 7);
    let file = |name: &str, t: &str, bytes: Vec<u8>| inbox_client::engine::NewFile {
        file_name: name.into(),
        content_type: t.into(),
        bytes,
    };
    // Refused here as the server would refuse it, before anything is queued.
    let refused = engine
        .reply_with_files(
            target,
            None,
            None,
            None,
            vec![file("clip.mp4", "video/mp4", vec![1; 10])],
        )
        .await;
    assert!(refused.unwrap_err().to_string().contains("Video"));
    let entry = engine
        .reply_with_files(
            target,
            None,
            None,
            Some(inbox_core::Channel::Sms),
            vec![file("pads.jpg", "image/jpeg", photo.clone())],
        )
        .await
        .unwrap();
    assert_eq!(entry.files[0].file_name, "pads.jpg");
    assert_eq!(entry.files[0].size, photo.len() as u64);
    engine.shutdown().await;
    let engine = Engine::start(engine_config(&server.base, &desk, cache_path.clone()))
        .await
        .unwrap();
    let pending = engine.outbox(target).await.unwrap();
    assert_eq!(pending[0].files.len(), 1, "the photo waits with its reply");

    server.restart();
    let sent =
        sent_once_on_reconnect(&engine, &server.base, &desk.token, target, &entry.client_id).await;
    let a = &sent["attachments"][0];
    assert_eq!(
        (a["status"].as_str(), a["size"].as_u64()),
        (Some("ready"), Some(photo.len() as u64))
    );
    let id = a["id"].as_i64().unwrap();

    // The server goes again: the photo just sent is on this computer already.
    server.kill();
    let kept = engine
        .attachment(id, inbox_client::files::Variant::Original)
        .await
        .unwrap();
    assert_eq!(kept.bytes, photo);
    engine.shutdown().await;
}

/// Issue 17, CMP-2: a WhatsApp template with an image header, written offline with its photo,
/// survives a restart and goes out once on reconnect as the template with that photo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmp2_an_offline_template_reply_carries_its_header_photo_through_the_outbox() {
    let (_dir, mut server, desk, cache_path) = desk().await;
    let manager = login(&server.base, "manager@engine.test").await;
    let (status, t) = post(
        &server.base,
        &manager.token,
        "/api/v1/templates",
        json!({ "name": "brake_pads_photo", "language": "en_GB",
                "body": "Hi {{1}}, here is the photo of your brake pads.", "header": "image" }),
    )
    .await;
    assert_eq!(status, 201, "{t}");
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    let target = engine_conversations(&engine)
        .await
        .iter()
        .find(|c| c.last_channel == inbox_core::Channel::Whatsapp)
        .expect("a WhatsApp conversation")
        .id;
    server.kill();

    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0];
    photo.resize(30_000, 7);
    let entry = engine
        .reply_with_files(
            target,
            None,
            Some(inbox_core::TemplateUse {
                name: "brake_pads_photo".into(),
                params: vec!["Sam".into()],
            }),
            Some(inbox_core::Channel::Whatsapp),
            vec![inbox_client::engine::NewFile {
                file_name: "pads.jpg".into(),
                content_type: "image/jpeg".into(),
                bytes: photo.clone(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(entry.files.len(), 1);
    engine.shutdown().await;
    let engine = Engine::start(engine_config(&server.base, &desk, cache_path.clone()))
        .await
        .unwrap();
    let pending = engine.outbox(target).await.unwrap();
    assert_eq!(
        (pending[0].template.is_some(), pending[0].files.len()),
        (true, 1),
        "the template waits with its photo"
    );

    server.restart();
    let sent =
        sent_once_on_reconnect(&engine, &server.base, &desk.token, target, &entry.client_id).await;
    assert_eq!(sent["template"]["name"], "brake_pads_photo");
    assert_eq!(
        sent["body"],
        "Hi Sam, here is the photo of your brake pads."
    );
    let a = &sent["attachments"][0];
    assert_eq!(
        (a["content_type"].as_str(), a["size"].as_u64()),
        (Some("image/jpeg"), Some(photo.len() as u64))
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsk5_a_refused_reply_stays_with_the_reason() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    let target = engine_conversations(&engine)
        .await
        .iter()
        .find(|c| c.customer_id.is_some())
        .unwrap()
        .id;
    engine
        .reply(
            target,
            Some("x".repeat(1700)),
            None,
            Some(inbox_core::Channel::Sms),
        )
        .await
        .unwrap();
    eventually("the server refuses it", Duration::from_secs(10), || async {
        matches!(
            engine
                .outbox(target)
                .await
                .unwrap()
                .first()
                .map(|e| e.state.clone()),
            Some(OutboxState::Refused { .. })
        )
    })
    .await;
    match &engine.outbox(target).await.unwrap()[0].state {
        OutboxState::Refused { reason } => assert!(reason.contains("1600"), "{reason}"),
        other => panic!("{other:?}"),
    }
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acc3_sign_out_wipes_the_cache() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    assert!(!engine_conversations(&engine).await.is_empty());
    engine
        .set_preferences(&inbox_client::Preferences {
            banner_dismissed: true,
            ..Default::default()
        })
        .await
        .unwrap();
    engine.sign_out().await.unwrap();
    let cache = Cache::open(&cache_path).unwrap();
    assert_eq!(cache.cursor().unwrap(), None);
    assert_eq!(cache.unread_conversations().unwrap(), 0);
    assert_eq!(cache.setting("list.preferences").unwrap(), None);
    // The token no longer works.
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(&desk.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let _ = json!({});
}

/// Issue 17: the cap on the files kept here is picked from the sizes offered (Settings › This
/// computer), is kept over a restart, and is reported beside the space the files take.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_files_cap_is_chosen_and_kept_over_a_restart() {
    use inbox_core::desktop::{OfflineFiles, OfflineFilesCap};
    const MB: u64 = 1024 * 1024;
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    assert_eq!(
        engine.offline_files(),
        OfflineFiles {
            used_bytes: 0,
            cap_bytes: 500 * MB
        }
    );
    let odd = engine
        .set_offline_files(OfflineFilesCap { cap_bytes: 12_345 })
        .await
        .unwrap_err();
    assert!(odd.to_string().contains("not one of the sizes"), "{odd}");
    let chosen = engine
        .set_offline_files(OfflineFilesCap {
            cap_bytes: 100 * MB,
        })
        .await
        .unwrap();
    assert_eq!(chosen.cap_bytes, 100 * MB);

    // A file opened once counts against it.
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.resize(30_000, b' ');
    let uploaded: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/media?file_name=quote.pdf", server.base))
        .bearer_auth(&desk.token)
        .header("content-type", "application/pdf")
        .body(pdf.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = uploaded["id"].as_i64().expect("uploaded");
    engine
        .attachment(id, inbox_client::files::Variant::Original)
        .await
        .unwrap();
    assert_eq!(engine.offline_files().used_bytes, pdf.len() as u64);
    engine.shutdown().await;

    let engine = Engine::start(engine_config(&server.base, &desk, cache_path))
        .await
        .unwrap();
    assert_eq!(
        engine.offline_files(),
        OfflineFiles {
            used_bytes: pdf.len() as u64,
            cap_bytes: 100 * MB
        }
    );
    engine.shutdown().await;
}

/// Once the engine is live again and its outbox for `target` has drained: the one message the
/// server holds with `client_id` (a reply queued offline is sent exactly once).
async fn sent_once_on_reconnect(
    engine: &Engine,
    base: &str,
    token: &str,
    target: inbox_core::Id,
    client_id: &str,
) -> serde_json::Value {
    live(engine).await;
    eventually("the outbox drains", Duration::from_secs(20), || async {
        engine.outbox(target).await.unwrap().is_empty()
    })
    .await;
    let thread = get(
        base,
        token,
        &format!("/api/v1/conversations/{target}/messages"),
    )
    .await;
    let sent: Vec<&serde_json::Value> = thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["client_id"] == client_id)
        .collect();
    assert_eq!(sent.len(), 1, "sent exactly once");
    sent[0].clone()
}
