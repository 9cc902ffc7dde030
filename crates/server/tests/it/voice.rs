//! Voice webhooks (issue 5, VOI-1 … VOI-3, VOI-7): calls routed like messages, withheld callers
//! kept apart, voicemail with recording and transcript, and only a bridged dial counts as answered.

use crate::support::*;
use crate::webhooks::{sid, twilio};

#[tokio::test]
async fn voi1_to_voi3_voice_webhooks_route_calls_and_record_voicemail() {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let call = |call_sid: &str, from: &str| -> Vec<(String, String)> {
        vec![
            ("CallSid".into(), call_sid.into()),
            ("AccountSid".into(), TWILIO_SID.into()),
            ("From".into(), from.into()),
            ("To".into(), GARAGE_NUMBER.into()),
            ("CallStatus".into(), "ringing".into()),
            ("Direction".into(), "inbound".into()),
            ("ApiVersion".into(), "2010-04-01".into()),
        ]
    };
    let post = |p: Vec<(String, String)>, path: &'static str| {
        let s = &s;
        async move {
            let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            twilio(s, path, &refs, Some(TWILIO_TOKEN)).await
        }
    };
    let alice_call = sid("CA", 1);
    let (status, twiml) = post(call(&alice_call, ALICE_PHONE), "/webhooks/twilio/voice").await;
    assert_eq!(status, 200);
    assert!(
        twiml.contains("<Record"),
        "no forwarding number: straight to voicemail: {twiml}"
    );
    let alice = c
        .ok(&format!("/api/v1/conversations/{}/messages", conv::ALICE))
        .await;
    assert_eq!(
        alice["items"][0]["type"], "call",
        "VOI-1: joins the customer's thread"
    );
    // Withheld callers, in two of Twilio's forms: a thread each (VOI-3).
    post(call(&sid("CA", 2), "anonymous"), "/webhooks/twilio/voice").await;
    post(call(&sid("CA", 3), "+266696687"), "/webhooks/twilio/voice").await;
    let withheld = c.ok("/api/v1/conversations?range=today").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["withheld"] == true)
        .count();
    assert_eq!(withheld, 2);
    // The recording and its transcript make it a voicemail; a stale progress callback later
    // does not undo that.
    let mut rec = vec![
        ("CallSid".to_string(), alice_call.clone()),
        ("AccountSid".into(), TWILIO_SID.into()),
        ("RecordingSid".into(), sid("RE", 1)),
        (
            "RecordingUrl".into(),
            "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1".into(),
        ),
        ("RecordingStatus".into(), "completed".into()),
        ("RecordingDuration".into(), "38".into()),
    ];
    assert_eq!(
        post(rec.clone(), "/webhooks/twilio/voice/recording")
            .await
            .0,
        200
    );
    rec.retain(|(k, _)| k == "CallSid" || k == "AccountSid");
    rec.extend([
        ("TranscriptionStatus".to_string(), "completed".to_string()),
        (
            "TranscriptionText".into(),
            "Hi, my exhaust is blowing, can you call me".into(),
        ),
        ("RecordingSid".into(), sid("RE", 1)),
    ]);
    assert_eq!(
        post(rec, "/webhooks/twilio/voice/transcription").await.0,
        200
    );
    let done = vec![
        ("CallSid".to_string(), alice_call.clone()),
        ("AccountSid".into(), TWILIO_SID.into()),
        ("CallStatus".into(), "completed".into()),
        ("CallDuration".into(), "55".into()),
        ("SequenceNumber".into(), "3".into()),
    ];
    assert_eq!(post(done, "/webhooks/twilio/voice/status").await.0, 200);
    let item = c
        .ok(&format!("/api/v1/conversations/{}/messages", conv::ALICE))
        .await["items"][0]
        .clone();
    assert_eq!(item["outcome"], "voicemail");
    assert_eq!(item["summary"], "Voicemail - 0:38");
    assert_eq!(
        item["transcript"],
        "Hi, my exhaust is blowing, can you call me"
    );
    assert_eq!(
        c.ids("q=exhaust").await.0,
        vec![conv::ALICE],
        "transcripts are searchable"
    );
    let row = c
        .ok(&format!("/api/v1/conversations/{}", conv::ALICE))
        .await;
    assert_eq!(
        row["unresolved_calls"], 1,
        "VOI-7: a voicemail waits to be resolved"
    );
}

#[tokio::test]
async fn voi7_a_caller_who_hangs_up_during_the_greeting_is_missed_and_only_a_bridged_dial_is_answered(
) {
    let s = Server::start().await;
    let c = s.login("frontdesk@fixture.test").await;
    let send = |path: &'static str, p: Vec<(&'static str, String)>| {
        let s = &s;
        async move {
            let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(
                twilio(s, path, &refs, Some(TWILIO_TOKEN)).await.0,
                200,
                "{path}"
            );
        }
    };
    let base = |call: &str| {
        vec![
            ("CallSid", call.to_string()),
            ("AccountSid", TWILIO_SID.to_string()),
            ("From", ALICE_PHONE.to_string()),
            ("To", GARAGE_NUMBER.to_string()),
        ]
    };
    let hung_up = sid("CA", 50);
    let mut p = base(&hung_up);
    p.extend([
        ("CallStatus", "ringing".to_string()),
        ("Direction", "inbound".to_string()),
    ]);
    send("/webhooks/twilio/voice", p).await;
    let mut done = base(&hung_up);
    done.extend([
        ("CallStatus", "completed".to_string()),
        ("CallDuration", "12".to_string()),
        ("SequenceNumber", "2".to_string()),
    ]);
    send("/webhooks/twilio/voice/status", done).await;
    let call = c
        .ok(&format!("/api/v1/conversations/{}/messages", conv::ALICE))
        .await["items"][0]
        .clone();
    assert_eq!(
        (call["outcome"].as_str(), call["summary"].as_str()),
        (Some("missed"), Some("Missed call"))
    );

    let bridged = sid("CA", 51);
    let mut p = base(&bridged);
    p.extend([
        ("CallStatus", "ringing".to_string()),
        ("Direction", "inbound".to_string()),
    ]);
    send("/webhooks/twilio/voice", p).await;
    let mut dial = base(&bridged);
    dial.extend([
        ("CallStatus", "in-progress".to_string()),
        ("DialCallStatus", "completed".to_string()),
    ]);
    send("/webhooks/twilio/voice/dial", dial).await;
    let mut done = base(&bridged);
    done.extend([
        ("CallStatus", "completed".to_string()),
        ("CallDuration", "95".to_string()),
        ("SequenceNumber", "3".to_string()),
    ]);
    send("/webhooks/twilio/voice/status", done).await;
    let calls = c
        .ok(&format!("/api/v1/conversations/{}/messages", conv::ALICE))
        .await;
    let call = calls["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "call" && i["outcome"] == "answered")
        .unwrap()
        .clone();
    assert_eq!(call["summary"], "Voice call - 1m 35s - ended");
}
