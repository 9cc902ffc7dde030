//! The thread's actions besides replying (issue 7), against the real server: notes, assignment,
//! work-order links, approvals, retries, calls, settings, drafts, and writes refused offline.
//!
//! Most engines here apply sync events only after `EVENT_DELAY`, so whatever the cache shows
//! right after a write came from the write's own answer (`Cache::apply_answer`), not the stream.

use std::path::{Path, PathBuf};
use std::time::Duration;

use inbox_client::api::ApiError;
use inbox_client::cache::Cache;
use inbox_client::{Engine, EngineError};
use inbox_core::api::{
    CallDestination, ConversationQuery, ListFilter, LoginResponse, TemplateInput,
};
use inbox_core::desktop::Draft;
use inbox_core::range::RangePreset;
use inbox_core::{
    Channel, ConversationSummary, DeliveryStatus, Id, Message, NoteKind, TemplateHeader, ThreadItem,
};

use crate::support::*;

/// Long enough that nothing a test checks right after a write can have come from an event.
const EVENT_DELAY: Duration = Duration::from_secs(2);

/// A live engine whose sync stream lags by `EVENT_DELAY`.
async fn start_lagging(base: &str, login: &LoginResponse, cache: PathBuf) -> Engine {
    let mut config = engine_config(base, login, cache);
    config.apply_delay = EVENT_DELAY;
    let engine = Engine::start(config).await.unwrap();
    live(&engine).await;
    engine
}

/// The status and sentence of a server refusal.
fn refusal<T: std::fmt::Debug>(r: Result<T, EngineError>) -> (u16, String) {
    match r {
        Err(EngineError::Api(ApiError::Refused {
            status, message, ..
        })) => (status, message),
        other => panic!("expected the server to refuse, got {other:?}"),
    }
}

/// The thread as the cache file holds it, read beside the running engine (no server fetch).
fn cached_thread(cache: &Path, conversation: Id) -> Vec<ThreadItem> {
    Cache::open(cache)
        .unwrap()
        .thread(conversation, None, 10_000)
        .unwrap()
}

fn cached_message(cache: &Path, conversation: Id, id: Id) -> Option<Message> {
    cached_thread(cache, conversation)
        .into_iter()
        .find_map(|i| match i {
            ThreadItem::Message(m) if m.id == id => Some(m),
            _ => None,
        })
}

/// The cached notes of a conversation, newest first, as (kind, body).
fn cached_notes(cache: &Path, conversation: Id) -> Vec<(NoteKind, String)> {
    cached_thread(cache, conversation)
        .into_iter()
        .filter_map(|i| match i {
            ThreadItem::Note(n) => Some((n.kind, n.body)),
            _ => None,
        })
        .collect()
}

async fn all_time(engine: &Engine, filter: ListFilter) -> inbox_core::api::ConversationPage {
    engine
        .list(ConversationQuery {
            range: RangePreset::AllTime,
            filter,
            ..Default::default()
        })
        .await
        .unwrap()
}

/// A customer's conversation the engine can answer by SMS.
async fn sms_conversation(engine: &Engine) -> ConversationSummary {
    for c in engine_conversations(engine).await {
        if c.customer_id.is_none() {
            continue;
        }
        if engine
            .detail(c.id)
            .await
            .unwrap()
            .reply_channels
            .contains(&Channel::Sms)
        {
            return c;
        }
    }
    panic!("the seed has no customer conversation that takes SMS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thr8_a_note_shows_in_the_thread_at_once() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_lagging(&server.base, &desk, cache_path.clone()).await;
    let id = engine_conversations(&engine).await[0].id;

    let note = engine
        .add_note(id, "  Customer will collect at 5pm  ")
        .await
        .unwrap();
    assert_eq!(note.body, "Customer will collect at 5pm", "stored trimmed");
    assert_eq!(note.kind, NoteKind::Note);
    assert_eq!(note.author.as_ref().map(|a| a.id), Some(desk.user.id));
    assert!(
        cached_notes(&cache_path, id).contains(&(NoteKind::Note, note.body.clone())),
        "the cache has the note before its event"
    );
    let row = engine.conversation(id).await.unwrap().unwrap();
    assert!(
        row.last_activity_at >= note.created_at,
        "a note is activity"
    );
    let view = engine.thread(id, None).await.unwrap();
    assert!(matches!(&view.items[0], ThreadItem::Note(n) if n.id == note.id));

    let (status, sentence) = refusal(engine.add_note(id, "   ").await);
    assert_eq!((status, sentence.as_str()), (422, "the note is empty"));
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdb4_assigning_counts_in_mine_at_once_and_unassigning_gives_it_back() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_lagging(&server.base, &desk, cache_path).await;
    let mut names: Vec<String> = engine
        .staff()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    names.sort();
    assert_eq!(names, ["desk", "manager", "owner", "second", "trainee"]);

    let me = desk.user.id;
    let before = all_time(&engine, ListFilter::Unassigned).await;
    let id = before.items[0].id;
    let row = engine.assign(id, Some(me)).await.unwrap();
    assert_eq!(row.assignee.as_ref().map(|a| a.id), Some(me));
    let mine = all_time(&engine, ListFilter::Mine).await;
    assert_eq!(mine.counts.mine, before.counts.mine + 1);
    assert_eq!(mine.counts.unassigned, before.counts.unassigned - 1);
    assert!(mine.items.iter().any(|c| c.id == id), "in Mine at once");

    let row = engine.assign(id, None).await.unwrap();
    assert_eq!(row.assignee, None);
    let after = all_time(&engine, ListFilter::Unassigned).await;
    assert_eq!(after.counts, before.counts, "the counts are back");
    assert!(
        after.items.iter().any(|c| c.id == id),
        "in Unassigned again"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdb3_rte3_linking_and_unlinking_a_work_order_notes_it_in_the_thread() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_lagging(&server.base, &desk, cache_path.clone()).await;
    let work_orders = engine.search_work_orders("").await.unwrap();
    assert!(!work_orders.is_empty());
    let wo = &work_orders[0];
    let found = engine
        .search_work_orders(&wo.vehicle_registration.replace(' ', ""))
        .await
        .unwrap();
    assert!(found.iter().any(|w| w.id == wo.id), "found by registration");
    let id = engine_conversations(&engine)
        .await
        .into_iter()
        .find(|c| c.customer_id.is_some() && c.work_order.is_none())
        .unwrap()
        .id;

    let detail = engine.link_work_order(id, wo.id).await.unwrap();
    assert_eq!(detail.linked_work_order.as_ref(), Some(wo));
    let row = engine.conversation(id).await.unwrap().unwrap();
    assert_eq!(row.work_order.map(|w| w.id), Some(wo.id), "the row at once");
    assert!(!row.needs_work_order_pick);
    let linked = format!(
        "Work order {} ({}) linked",
        wo.number, wo.vehicle_registration
    );
    assert_eq!(
        cached_notes(&cache_path, id).first(),
        Some(&(NoteKind::System, linked))
    );

    let detail = engine.unlink_work_order(id).await.unwrap();
    assert_eq!(detail.linked_work_order, None);
    assert_eq!(
        engine.conversation(id).await.unwrap().unwrap().work_order,
        None
    );
    let unlinked = format!(
        "Work order {} ({}) unlinked",
        wo.number, wo.vehicle_registration
    );
    assert_eq!(
        cached_notes(&cache_path, id).first(),
        Some(&(NoteKind::System, unlinked))
    );

    let (status, sentence) = refusal(engine.unlink_work_order(id).await);
    assert_eq!(
        (status, sentence.as_str()),
        (409, "no work order is linked to this conversation")
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wo1_a_work_order_opens_on_its_customers_or_its_linked_conversation() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_lagging(&server.base, &desk, cache_path).await;
    let rows = engine_conversations(&engine).await;
    let work_orders = engine.search_work_orders("").await.unwrap();
    for wo in &work_orders {
        let view = engine.work_order(wo.id).await.unwrap();
        assert_eq!(&view.work_order, wo);
        // The customer's most recently active conversation, or one already linked to it.
        let expected = rows
            .iter()
            .filter(|c| {
                c.work_order.as_ref().map(|w| w.id) == Some(wo.id)
                    || c.customer_id == Some(wo.customer_id)
            })
            .max_by_key(|c| {
                (
                    c.work_order.as_ref().map(|w| w.id) == Some(wo.id),
                    c.last_activity_at,
                    c.id,
                )
            })
            .map(|c| c.id);
        assert_eq!(view.conversation_id, expected, "{}", wo.number);
    }
    assert!(
        work_orders
            .iter()
            .any(|w| rows.iter().any(|c| c.customer_id == Some(w.customer_id))),
        "the seed gives some work order's customer a conversation"
    );

    // Linked to another customer's conversation, that conversation is the one shown.
    let wo = &work_orders[0];
    let other = rows
        .iter()
        .find(|c| c.customer_id.is_some_and(|id| id != wo.customer_id) && c.work_order.is_none())
        .unwrap()
        .id;
    engine.link_work_order(other, wo.id).await.unwrap();
    let view = engine.work_order(wo.id).await.unwrap();
    assert_eq!(view.conversation_id, Some(other));

    match engine.work_order(999_999).await {
        Err(EngineError::Invalid(m)) => assert_eq!(m, "this work order no longer exists"),
        other => panic!("{other:?}"),
    }
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmp3_apq1_a_trainees_reply_waits_for_approval_and_hears_the_decision() {
    let (dir, server, _, _) = desk().await;
    let trainee_login = login(&server.base, "trainee@engine.test").await;
    let manager_login = login(&server.base, "manager@engine.test").await;
    let trainee_cache = dir.path().join("trainee.db");
    let manager_cache = dir.path().join("manager.db");
    let trainee = start_live(&server.base, &trainee_login, trainee_cache.clone()).await;
    let manager = start_lagging(&server.base, &manager_login, manager_cache.clone()).await;
    let conversation = sms_conversation(&trainee).await;
    let id = conversation.id;

    // Replies through the outbox; the server's answer is the gated message.
    let send = |body: &'static str| {
        let trainee = &trainee;
        let trainee_cache = &trainee_cache;
        async move {
            let entry = trainee
                .reply(id, Some(body.into()), None, Some(Channel::Sms))
                .await
                .unwrap();
            let client_id = Some(entry.client_id.clone());
            let mut found = None;
            eventually(
                "the server accepts the reply",
                Duration::from_secs(10),
                || {
                    let hit = cached_thread(trainee_cache, id)
                        .into_iter()
                        .find_map(|i| match i {
                            ThreadItem::Message(m) if m.client_id == client_id => Some(m),
                            _ => None,
                        });
                    found = hit.clone();
                    async move { hit.is_some() }
                },
            )
            .await;
            assert!(trainee.outbox(id).await.unwrap().is_empty());
            found.unwrap()
        }
    };
    let first = send("Can we book you in for Tuesday?").await;
    assert_eq!(first.status, DeliveryStatus::PendingApproval);
    let view = trainee.thread(id, None).await.unwrap();
    assert!(
        view.items.iter().any(|i| matches!(i,
        ThreadItem::Message(m) if m.id == first.id && m.status == DeliveryStatus::PendingApproval))
    );
    let (status, _) = refusal(trainee.approvals().await);
    assert_eq!(status, 403, "a trainee has no Approval Queue");

    // The manager's desktop holds the gated message (from its event) before deciding, so no
    // late event can cover the decision while it is checked.
    eventually(
        "the manager's cache has the reply",
        Duration::from_secs(10),
        || {
            let held = cached_message(&manager_cache, id, first.id).is_some();
            async move { held }
        },
    )
    .await;
    let queue = manager.approvals().await.unwrap();
    let item = queue.iter().find(|a| a.message.id == first.id).unwrap();
    assert_eq!(item.conversation_title, conversation.title);
    let approved = manager.approve(first.id).await.unwrap();
    assert!(
        matches!(
            approved.status,
            DeliveryStatus::Pending
                | DeliveryStatus::Sent
                | DeliveryStatus::Delivered
                | DeliveryStatus::Read
        ),
        "{:?}",
        approved.status
    );
    assert_eq!(
        cached_message(&manager_cache, id, first.id).map(|m| m.status),
        Some(approved.status),
        "the manager's cache has the decision at once"
    );
    assert!(!manager
        .approvals()
        .await
        .unwrap()
        .iter()
        .any(|a| a.message.id == first.id));
    let (status, sentence) = refusal(manager.approve(first.id).await);
    assert_eq!(status, 409);
    assert!(sentence.contains("no longer awaits approval"), "{sentence}");

    let second = send("It will be £240 all in").await;
    assert_eq!(second.status, DeliveryStatus::PendingApproval);
    let (status, sentence) = refusal(manager.reject(second.id, "  ").await);
    assert_eq!(
        (status, sentence.as_str()),
        (422, "give a reason so the author knows what to change")
    );
    let reason = "Please quote the price with VAT";
    let rejected = manager.reject(second.id, reason).await.unwrap();
    assert_eq!(rejected.status, DeliveryStatus::Rejected);
    assert_eq!(rejected.error.as_deref(), Some(reason));

    // The trainee's desktop hears both decisions through its sync stream.
    eventually(
        "the trainee's cache shows the decisions",
        Duration::from_secs(10),
        || {
            let a = cached_message(&trainee_cache, id, first.id);
            let r = cached_message(&trainee_cache, id, second.id);
            let done = a.is_some_and(|m| m.status == approved.status)
                && r.is_some_and(|m| {
                    m.status == DeliveryStatus::Rejected && m.error.as_deref() == Some(reason)
                });
            async move { done }
        },
    )
    .await;
    trainee.shutdown().await;
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmp4_a_failed_message_goes_back_to_the_queue_once() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_lagging(&server.base, &desk, cache_path.clone()).await;
    // The seed marks some outbound messages failed (the test server sends nothing).
    let rows = engine_conversations(&engine).await;
    let failed = rows
        .iter()
        .flat_map(|c| cached_thread(&cache_path, c.id))
        .find_map(|i| match i {
            ThreadItem::Message(m) if m.status == DeliveryStatus::Failed => Some(m),
            _ => None,
        })
        .expect("the seed has a failed message");

    let retried = engine.retry(failed.id).await.unwrap();
    assert_eq!(retried.status, DeliveryStatus::Pending);
    assert_eq!(
        cached_message(&cache_path, failed.conversation_id, failed.id).map(|m| m.status),
        Some(DeliveryStatus::Pending),
        "the thread shows it queued at once"
    );
    let (status, sentence) = refusal(engine.retry(failed.id).await);
    assert_eq!(
        (status, sentence.as_str()),
        (
            409,
            "only a failed message can be retried; this one is pending"
        )
    );
    engine.shutdown().await;
}

/// THR-2: a conversation the cache does not hold (a link opened while the first sync is still
/// loading) still has its header — name, channel, WhatsApp window — from the conversation's
/// own detail on the server, not from the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thr2_a_conversation_missing_from_the_cache_has_its_header_from_the_server() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_lagging(&server.base, &desk, cache_path.clone()).await;
    let rows = engine_conversations(&engine).await;
    let wanted = rows
        .iter()
        .find(|c| c.last_channel == Channel::Whatsapp)
        .expect("the seed has a WhatsApp conversation")
        .clone();
    assert!(engine
        .header(wanted.id)
        .await
        .unwrap()
        .is_some_and(|h| h.whatsapp_window.is_some()));
    // The cache loses the row, as before the first sync reaches it.
    rusqlite::Connection::open(&cache_path)
        .unwrap()
        .execute("DELETE FROM conversations WHERE id = ?1", [wanted.id])
        .unwrap();
    assert_eq!(engine.conversation(wanted.id).await.unwrap(), None);

    let header = engine
        .header(wanted.id)
        .await
        .unwrap()
        .expect("the header comes from the server");
    assert_eq!(header.summary.id, wanted.id);
    assert_eq!(header.summary.title, wanted.title);
    assert_eq!(header.summary.last_channel, Channel::Whatsapp);
    let window = engine.detail(wanted.id).await.unwrap().whatsapp_window;
    assert_eq!(header.whatsapp_window, Some(window));
    // Nothing anywhere: no header, no error.
    assert_eq!(engine.header(999_999).await.unwrap(), None);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voi7_voi6_voi8_calls_open_resolve_and_move_with_both_rows_at_once() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_lagging(&server.base, &desk, cache_path.clone()).await;
    let rows = engine_conversations(&engine).await;
    // Every cached unresolved call, as (call, its conversation's row).
    let mut unresolved = Vec::new();
    for c in rows.iter().filter(|c| c.unresolved_calls > 0) {
        for item in cached_thread(&cache_path, c.id) {
            if let ThreadItem::Call(call) = item {
                if !call.resolved && call.outcome.needs_resolution() {
                    unresolved.push((call, c.clone()));
                }
            }
        }
    }
    assert!(unresolved.len() >= 2, "the seed has unresolved calls");

    // VOI-8 and VOI-7.
    let (call, row) = unresolved[0].clone();
    let view = engine.call(call.id).await.unwrap();
    assert_eq!(view.call, call);
    assert_eq!(view.conversation.as_ref(), Some(&row));
    let resolved = engine.resolve_call(call.id).await.unwrap();
    assert!(resolved.resolved);
    let after = engine.conversation(row.id).await.unwrap().unwrap();
    assert_eq!(after.unresolved_calls, row.unresolved_calls - 1, "at once");
    assert!(
        engine.resolve_call(call.id).await.unwrap().resolved,
        "twice is fine"
    );

    // VOI-6: to a customer's conversation; both rows follow at once.
    let (call, from) = unresolved
        .iter()
        .find(|(c, r)| r.id != row.id && c.id != call.id)
        .cloned()
        .unwrap();
    let customers = engine.search_customers("").await.unwrap();
    assert!(!customers.is_empty() && customers.len() <= 20);
    let to_customer = customers
        .iter()
        .find(|c| Some(c.id) != from.customer_id && Some(c.id) != row.customer_id)
        .unwrap();
    let destination = CallDestination::Customer {
        customer_id: to_customer.id,
    };
    let moved = engine
        .reassign_call(
            call.id,
            destination.clone(),
            Some("Spouse calling from her phone".into()),
        )
        .await
        .unwrap();
    assert_eq!(moved.from_conversation_id, from.id);
    assert_eq!(moved.call.conversation_id, moved.to_conversation_id);
    let api = inbox_client::api::Api::new(&server.base, &desk.token, &system_transport());
    for id in [moved.from_conversation_id, moved.to_conversation_id] {
        let server_row = api.detail(id).await.unwrap().summary;
        assert_eq!(
            engine.conversation(id).await.unwrap(),
            Some(server_row),
            "conversation {id} in the cache at once"
        );
    }
    let from_now = engine.conversation(from.id).await.unwrap().unwrap();
    assert_eq!(from_now.unresolved_calls, from.unresolved_calls - 1);
    let to_now = engine
        .conversation(moved.to_conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(to_now.customer_id, Some(to_customer.id));
    assert!(to_now.unresolved_calls >= 1);
    let in_thread = |conversation: Id| {
        cached_thread(&cache_path, conversation)
            .iter()
            .any(|i| matches!(i, ThreadItem::Call(c) if c.id == call.id))
    };
    assert!(in_thread(moved.to_conversation_id) && !in_thread(from.id));

    let (status, sentence) = refusal(engine.reassign_call(call.id, destination, None).await);
    assert_eq!(
        (status, sentence.as_str()),
        (409, "the call is already in that conversation")
    );
    engine.shutdown().await;
}

/// The `service_due` template in en_GB with this text and header.
fn template(body: &str, header: Option<TemplateHeader>) -> TemplateInput {
    TemplateInput {
        name: "service_due".into(),
        language: "en_GB".into(),
        body: body.into(),
        header,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set1_a_manager_edits_quick_messages_and_templates_and_the_front_desk_cannot() {
    let (dir, server, desk, desk_cache) = desk().await;
    let manager_login = login(&server.base, "manager@engine.test").await;
    let manager = start_lagging(&server.base, &manager_login, dir.path().join("manager.db")).await;

    let q = manager
        .save_quick_message(None, "brakes", "Your brake pads need replacing.")
        .await
        .unwrap();
    assert!(manager.quick_messages().await.unwrap().contains(&q));
    let edited = manager
        .save_quick_message(
            Some(q.id),
            "brakes",
            "Your front brake pads need replacing.",
        )
        .await
        .unwrap();
    assert_eq!(edited.id, q.id);
    let list = manager.quick_messages().await.unwrap();
    assert!(list.contains(&edited) && !list.contains(&q));
    manager.delete_quick_message(q.id).await.unwrap();
    assert!(!manager
        .quick_messages()
        .await
        .unwrap()
        .iter()
        .any(|m| m.id == q.id));

    let t = manager
        .save_template(
            None,
            &template("Hi {{1}}, your {{2}} is due a service.", None),
        )
        .await
        .unwrap();
    assert_eq!((t.param_count, t.header), (2, None));
    assert!(manager.templates().await.unwrap().contains(&t));
    let edited = manager
        .save_template(
            Some(t.id),
            &template(
                "Hi {{1}}, a service is due.",
                Some(TemplateHeader::Document),
            ),
        )
        .await
        .unwrap();
    assert_eq!(edited.param_count, 1);
    assert_eq!(edited.header, Some(TemplateHeader::Document), "CMP-2");
    let list = manager.templates().await.unwrap();
    assert!(list.contains(&edited) && !list.contains(&t));
    manager.delete_template(t.id).await.unwrap();
    assert!(!manager
        .templates()
        .await
        .unwrap()
        .iter()
        .any(|x| x.id == t.id));

    let front_desk = start_live(&server.base, &desk, desk_cache).await;
    let forbidden = (
        403,
        "your role does not have the settings.templates.manage capability".to_string(),
    );
    assert_eq!(
        refusal(front_desk.save_quick_message(None, "x", "y").await),
        forbidden
    );
    assert_eq!(
        refusal(front_desk.save_template(None, &template("y", None)).await),
        forbidden
    );
    let existing = manager.templates().await.unwrap()[0].id;
    assert_eq!(
        refusal(front_desk.delete_template(existing).await),
        forbidden
    );
    front_desk.shutdown().await;
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_survive_a_restart_and_an_empty_body_forgets_them() {
    let (_dir, server, desk, cache_path) = desk().await;
    let start = || start_live(&server.base, &desk, cache_path.clone());
    let engine = start().await;
    let draft = Draft {
        conversation_id: 7,
        body: "Your car will be ready at".into(),
        channel: Some(Channel::Sms),
    };
    engine.set_draft(draft.clone()).await.unwrap();
    assert_eq!(engine.draft(8).await.unwrap(), None, "one per conversation");
    engine.shutdown().await;

    let engine = start().await;
    assert_eq!(engine.draft(7).await.unwrap(), Some(draft.clone()));
    engine
        .set_draft(Draft {
            body: "  ".into(),
            ..draft
        })
        .await
        .unwrap();
    assert_eq!(engine.draft(7).await.unwrap(), None);
    engine.shutdown().await;
    let engine = start().await;
    assert_eq!(engine.draft(7).await.unwrap(), None, "still forgotten");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsk5_writes_are_refused_offline_and_the_sidebar_reads_the_cache() {
    let (_dir, mut server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    let opened = sms_conversation(&engine).await;
    let online = engine.detail(opened.id).await.unwrap();
    // A customer's conversation whose sidebar this desktop never opened (the snapshot brought
    // its customer).
    let never_opened = engine_conversations(&engine)
        .await
        .into_iter()
        .rev()
        .find(|c| c.customer_id.is_some() && c.id != opened.id)
        .unwrap();
    let work_order = engine.search_work_orders("").await.unwrap()[0].id;
    // What the server would offer for a conversation this desktop never opened.
    let never_opened_online = get(
        &server.base,
        &desk.token,
        &format!("/api/v1/conversations/{}", never_opened.id),
    )
    .await["reply_channels"]
        .clone();
    server.kill();

    let offline = |r: Result<_, EngineError>| matches!(r, Err(EngineError::Offline));
    assert!(offline(
        engine.add_note(opened.id, "Rang back").await.map(|_| ())
    ));
    assert!(offline(
        engine
            .assign(opened.id, Some(desk.user.id))
            .await
            .map(|_| ())
    ));
    assert!(offline(
        engine
            .link_work_order(opened.id, work_order)
            .await
            .map(|_| ())
    ));
    assert_eq!(
        engine.conversation(opened.id).await.unwrap().as_ref(),
        Some(&online.summary),
        "nothing changed locally"
    );

    let cached = engine.detail(opened.id).await.unwrap();
    assert_eq!(cached.summary, online.summary);
    assert_eq!(cached.customer, online.customer);
    assert_eq!(cached.reply_channels, online.reply_channels);
    let cached = engine.detail(never_opened.id).await.unwrap();
    assert!(cached.customer.is_some());
    assert_eq!(
        serde_json::to_value(&cached.reply_channels).unwrap(),
        never_opened_online
    );
    engine.shutdown().await;
}

/// Stopping an engine that is still starting returns: the stop signal is kept for tasks that
/// subscribe later (`watch::Sender::send` dropped it when no task held a receiver at that
/// instant, and shutdown then waited forever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_stopped_while_starting_stops() {
    let (_dir, server, desk, cache_path) = desk().await;
    for _ in 0..5 {
        let engine = Engine::start(engine_config(&server.base, &desk, cache_path.clone()))
            .await
            .unwrap();
        let stopped = tokio::time::timeout(Duration::from_secs(10), engine.shutdown()).await;
        assert!(stopped.is_ok(), "shutdown hung");
    }
}

/// VOI-8 (issue 13): a recording URL is webhook input; the call page is given one only from the
/// signed-in server's or a provider's origin, and says "Recording unavailable" otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voi8_a_recording_url_from_an_unknown_origin_is_withheld() {
    let (_dir, server, desk, cache_path) = desk().await;
    let engine = start_live(&server.base, &desk, cache_path.clone()).await;
    let mut calls = Vec::new();
    for c in engine_conversations(&engine).await {
        for item in cached_thread(&cache_path, c.id) {
            if let ThreadItem::Call(call) = item {
                calls.push(call.id);
            }
        }
    }
    assert!(calls.len() >= 2, "the seed has calls");
    let (crafted, twilio) = (calls[0], calls[1]);
    // As a forged recording callback would have left them in the server's database.
    let db = server.db_url().trim_start_matches("sqlite://").to_string();
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    for (id, url) in [
        (crafted, "https://tracker.example/rec.mp3"),
        (
            twilio,
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
        ),
    ] {
        conn.execute(
            "UPDATE calls SET recording_url = ?1, recording_secs = 12 WHERE id = ?2",
            rusqlite::params![url, id],
        )
        .unwrap();
    }

    let view = engine.call(crafted).await.unwrap();
    assert!(view.recording_unavailable);
    assert_eq!(view.call.recording_url, None, "never handed to the page");
    let resolved = engine.resolve_call(crafted).await.unwrap();
    assert_eq!(resolved.recording_url, None, "nor through Mark resolved");

    let view = engine.call(twilio).await.unwrap();
    assert!(!view.recording_unavailable);
    assert_eq!(
        view.call.recording_url.as_deref(),
        Some("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1")
    );
    engine.shutdown().await;
}
