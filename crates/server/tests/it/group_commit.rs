//! Group commit (issue 15): inbound messages that arrive together share one commit, each in its
//! own savepoint, on both databases.

use inbox_core::providers::Provider;
use inbox_server::store::{NewInbound, StoreError};

use crate::support::Server;

fn inbound(from: &str, provider_id: &str, customer: Option<i64>) -> NewInbound {
    NewInbound {
        attachments: Vec::new(),
        uploads: Vec::new(),
        channel: inbox_core::Channel::Sms,
        from_number: Some(from.into()),
        customer_id: customer,
        body: format!("Message {provider_id}: is my car ready?"),
        provider: Provider::Twilio,
        provider_id: provider_id.into(),
        at: crate::support::now(),
    }
}

#[tokio::test]
async fn rte1_messages_arriving_together_are_each_stored_once_and_a_bad_one_fails_alone() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let before = s.store.log_bounds(1).await.unwrap().head;
    let mut jobs = Vec::new();
    for i in 0..20 {
        jobs.push(inbound(
            &format!("+44770090{i:04}"),
            &format!("SM-new-{i}"),
            None,
        ));
    }
    for _ in 0..5 {
        jobs.push(inbound("+447700905555", "SM-twice", None));
    }
    // A portal message carrying a file that is not its customer's: it fails after its row was
    // written, so its savepoint must take the row back while the rest of its batch stays.
    let mut stranger = inbound("+447700906666", "SM-stranger", Some(1));
    stranger.uploads = vec![999_999];
    stranger.body = "Zanzibar".into();
    jobs.push(stranger);
    jobs[3].body = "Quixotic".into();
    let mut running = Vec::new();
    for job in jobs {
        let store = std::sync::Arc::clone(&s.store);
        running.push(tokio::spawn(
            async move { store.ingest_message(1, job).await },
        ));
    }
    let mut results = Vec::new();
    for r in running {
        results.push(r.await.unwrap());
    }

    let (new, repeats, stranger) = (&results[..20], &results[20..25], &results[25]);
    assert!(new.iter().all(|r| r.as_ref().is_ok_and(|r| r.created)));
    let repeats: Vec<_> = repeats.iter().map(|r| r.as_ref().unwrap()).collect();
    assert_eq!(
        repeats.iter().filter(|r| r.created).count(),
        1,
        "one provider id is one message however many copies arrive together"
    );
    assert!(repeats.iter().all(|r| r.item_id == repeats[0].item_id));
    assert!(
        matches!(stranger, Err(StoreError::Invalid(_))),
        "{stranger:?}"
    );

    // Each stored message is in its thread, and the stranger's left nothing behind.
    for r in new {
        let r = r.as_ref().unwrap();
        let items = c.thread_items(r.conversation_id).await;
        assert!(items.iter().any(|i| i["id"] == r.item_id), "{items:?}");
    }
    let (found, _) = c.ids("q=Quixotic").await;
    assert_eq!(found, vec![new[3].as_ref().unwrap().conversation_id]);
    let (found, _) = c.ids("q=Zanzibar").await;
    assert_eq!(found, Vec::<i64>::new());
    let alice = c.thread_items(crate::support::conv::ALICE).await;
    assert!(
        alice.iter().all(|i| i["body"] != "Zanzibar"),
        "the failed message's row was taken back: {alice:?}"
    );

    // The log grew without a gap: every sequence number after `before`, once, in order.
    let events = s.store.events_after(1, before, 10_000).await.unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    let expected: Vec<i64> = (before + 1..=before + seqs.len() as i64).collect();
    assert_eq!(seqs, expected);
    assert!(
        seqs.len() >= 21 * 2,
        "a message and its conversation each: {seqs:?}"
    );
}

/// A message that arrives alone and fails is answered with its own error (here: a file that is
/// not its customer's is refused as invalid), not as a failed commit.
#[tokio::test]
async fn a_lone_message_that_fails_gets_its_own_error() {
    let s = Server::start().await;
    let mut stranger = inbound("+447700906666", "SM-alone", Some(1));
    stranger.uploads = vec![999_999];
    let result = s.store.ingest_message(1, stranger).await;
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
    let again = s
        .store
        .ingest_message(1, inbound("+447700906667", "SM-alone-2", None))
        .await
        .unwrap();
    assert!(again.created, "the writer goes on after a failed write");
}
