//! The optional language model (issue 16, AIA-1), against a local fake OpenAI-compatible
//! endpoint: the Owner configures it (key sealed), it refines intents and writes one-line
//! summaries of voicemails and long threads as notes, and a timeout, a garbage answer, an
//! error or a refusal leaves the local classifier's label in place. Nothing goes to it while AI
//! is off, and nothing it says is ever sent to a customer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::ai::alice_texts;
use crate::support::{conv::*, *};
use crate::webhooks::{sid, twilio};

/// What the fake endpoint was asked: (authorization header, model, system prompt, user text).
type Asked = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// The fake's state: what it was asked, and the intent it answers.
#[derive(Clone, Default)]
struct Fake {
    asked: Asked,
    label: Arc<Mutex<String>>,
}

/// A chat-completions endpoint whose answer depends on the text it is given.
async fn fake_model() -> (String, Fake) {
    async fn complete(
        State(Fake { asked, label }): State<Fake>,
        headers: HeaderMap,
        Json(req): Json<Value>,
    ) -> (axum::http::StatusCode, String) {
        let system = req["messages"][0]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let user = req["messages"][1]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let model = req["model"].as_str().unwrap_or_default().to_string();
        asked
            .lock()
            .unwrap()
            .push((auth, model, system.clone(), user.clone()));
        let say = |content: &str| {
            json!({ "choices": [{ "index": 0, "finish_reason": "stop",
                                  "message": { "role": "assistant", "content": content } }] })
            .to_string()
        };
        if user.contains("SLOW") {
            tokio::time::sleep(Duration::from_secs(9)).await;
        }
        if user.contains("GARBAGE") {
            return (
                axum::http::StatusCode::OK,
                "<html>Bad gateway</html>".into(),
            );
        }
        if user.contains("BROKEN") {
            return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "{}".into());
        }
        if user.contains("REFUSE") {
            let refusal = json!({ "choices": [{ "finish_reason": "stop", "message":
                { "role": "assistant", "content": null, "refusal": "I can't help with that." } }] });
            return (axum::http::StatusCode::OK, refusal.to_string());
        }
        if user.contains("NOT A LABEL") {
            return (
                axum::http::StatusCode::OK,
                say(r#"{"intent":"angry","confidence":0.9}"#),
            );
        }
        let answer = if system.contains("label messages") {
            let label = label.lock().unwrap().clone();
            format!("```json\n{{\"intent\": \"{label}\", \"confidence\": 0.91}}\n```")
        } else if user.contains("exhaust") {
            "Alice's exhaust is blowing; she wants a call back.".to_string()
        } else {
            "\"Alice keeps asking when the Corsa will be ready.\"".to_string()
        };
        (axum::http::StatusCode::OK, say(&answer))
    }
    let fake = Fake::default();
    *fake.label.lock().unwrap() = "escalation_request".into();
    let app = Router::new()
        .route("/v1/chat/completions", post(complete))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, fake)
}

/// How many times the fake was asked to label this text.
fn asked_to_label(fake: &Fake, text: &str) -> usize {
    fake.asked
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, _, system, user)| system.contains("label messages") && user == text)
        .count()
}

/// The label of the thread item with this body, once `until` holds for it (or after 15 s).
async fn label_when(c: &Client, body: &str, until: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let label = c
            .thread_items(ALICE)
            .await
            .into_iter()
            .find(|i| i["body"] == body)
            .map(|i| {
                i["intent"]["label"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .unwrap_or_default();
        if until(&label) || tokio::time::Instant::now() > deadline {
            return label;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Notes of Alice's thread that begin with `prefix`, once there are at least `n` (or after 15 s).
async fn notes(c: &Client, prefix: &str, n: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let found: Vec<String> = c
            .thread_items(ALICE)
            .await
            .into_iter()
            .filter(|i| i["type"] == "note")
            .filter_map(|i| i["body"].as_str().map(String::from))
            .filter(|b| b.starts_with(prefix))
            .collect();
        if found.len() >= n || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The Owner turns AI on and points the organisation at the fake model.
async fn configure(s: &Server, url: &str) -> Client {
    let owner = s.login("owner@fixture.test").await;
    let (status, body) = owner
        .put("/api/v1/settings/ai", json!({ "enabled": true }))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = owner
        .put(
            "/api/v1/settings/ai/model",
            json!({ "url": url, "model": "garage-llm", "key": "sk-fixture-123" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "url": url, "model": "garage-llm", "key_set": true })
    );
    owner
}

#[tokio::test]
async fn aia1_the_owner_configures_a_model_whose_key_is_sealed_and_which_refines_intents() {
    let s = Server::start().await;
    let (url, fake) = fake_model().await;

    // Only `settings.ai.manage` reads or sets it; the answer never holds the key.
    let manager = s.login("manager@fixture.test").await;
    assert_eq!(manager.get("/api/v1/settings/ai/model").await.0, 403);
    let (status, _) = manager
        .put(
            "/api/v1/settings/ai/model",
            json!({ "url": url, "model": "m" }),
        )
        .await;
    assert_eq!(status, 403);
    let owner = s.login("owner@fixture.test").await;
    for bad in [
        json!({ "url": url, "model": "" }),
        json!({ "url": "file:///etc/passwd", "model": "m" }),
        json!({ "url": "https://user:sk-1@api.example.com/v1", "model": "m" }),
        json!({ "url": url, "model": "m", "key": "two words" }),
    ] {
        let (status, body) = owner.put("/api/v1/settings/ai/model", bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }

    // Before AI is on, nothing about a message goes anywhere.
    let (status, _) = owner
        .put(
            "/api/v1/settings/ai/model",
            json!({ "url": url, "model": "garage-llm", "key": "sk-fixture-123" }),
        )
        .await;
    assert_eq!(status, 200);
    let early = "can i book it in thursday for the mot";
    alice_texts(&s, 2101, early).await;
    configure(&s, &url).await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    assert_eq!(
        label_when(&frontdesk, early, |l| !l.is_empty()).await,
        "booking_request"
    );

    // The key is sealed at rest, bound to the organisation.
    let (stored, _) =
        s.db.two_texts("SELECT ai_model_key, 'x' FROM provider_settings WHERE org_id = 1")
            .await;
    assert!(
        stored.starts_with("v2:") && !stored.contains("sk-fixture"),
        "{stored}"
    );
    assert_eq!(
        owner.ok("/api/v1/settings/ai/model").await,
        json!({ "url": url, "model": "garage-llm", "key_set": true })
    );
    let (configured, _) = s
        .db
        .two_texts("SELECT CAST(COUNT(*) AS TEXT), 'x' FROM provider_settings WHERE ai_model_url IS NOT NULL")
        .await;
    assert_eq!(configured, "1", "another garage's settings are its own");

    // A new message is labelled locally at once, then refined by the model.
    let text = "can i bring the astra in thursday morning";
    alice_texts(&s, 2102, text).await;
    assert_eq!(
        label_when(&frontdesk, text, |l| l == "escalation_request").await,
        "escalation_request"
    );
    let (auth, model, system, user) = fake.asked.lock().unwrap()[0].clone();
    assert_eq!(auth, "Bearer sk-fixture-123");
    assert_eq!(model, "garage-llm");
    assert!(
        system.contains("status_inquiry") && user == text,
        "{system} / {user}"
    );
    assert_eq!(asked_to_label(&fake, early), 0, "AI was off when it came");
    // The refined label is what the analytics count.
    let a = frontdesk.ok("/api/v1/analytics?range=today").await;
    let count = |label: &str| {
        a["intents"]["mix"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["label"] == label)
            .map_or(0, |c| c["count"].as_i64().unwrap())
    };
    assert_eq!(count("escalation_request"), 1, "{}", a["intents"]);
    assert_eq!(
        count("booking_request"),
        1,
        "the early one: {}",
        a["intents"]
    );

    // A staff correction is never overwritten by the model.
    let id = frontdesk
        .thread_items(ALICE)
        .await
        .into_iter()
        .find(|i| i["body"] == text)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, _) = frontdesk
        .put(
            &format!("/api/v1/messages/{id}/intent"),
            json!({ "label": "booking_request" }),
        )
        .await;
    assert_eq!(status, 200);
    // The model is asked about it again (the cursor put back) and now says spam.
    *fake.label.lock().unwrap() = "spam".into();
    s.db.execute("UPDATE provider_settings SET ai_model_cursor = 0 WHERE org_id = 1")
        .await;
    alice_texts(&s, 2103, "and one more thing").await;
    assert_eq!(
        label_when(&frontdesk, "and one more thing", |l| l == "spam").await,
        "spam"
    );
    assert_eq!(asked_to_label(&fake, text), 2);
    let (stored, correction) =
        s.db.two_texts(&format!(
            "SELECT intent, intent_correction FROM messages WHERE id = {id}"
        ))
        .await;
    assert_eq!(
        (stored.as_str(), correction.as_str()),
        ("escalation_request", "booking_request"),
        "the corrected message was left as it was"
    );

    // Turned off, it is removed with its key, and messages stay with the local label.
    let (status, body) = owner
        .put(
            "/api/v1/settings/ai/model",
            json!({ "url": "", "model": "", "key": "" }),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body),
        (200, json!({ "url": "", "model": "", "key_set": false }))
    );
    let calls = fake.asked.lock().unwrap().len();
    alice_texts(&s, 2104, "is it ready yet").await;
    assert_eq!(
        label_when(&frontdesk, "is it ready yet", |l| !l.is_empty()).await,
        "status_inquiry"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.asked.lock().unwrap().len(), calls);
    let (changes, by) =
        s.db.two_texts(
            "SELECT detail, CAST(user_id AS TEXT) FROM audit_log
             WHERE action = 'provider.updated' ORDER BY id DESC LIMIT 1",
        )
        .await;
    assert!(changes.contains("ai_model"), "{changes}");
    assert_eq!(by, user::OWNER.to_string(), "audited with who did it");
}

#[tokio::test]
async fn aia1_a_slow_broken_garbled_or_refusing_model_leaves_the_local_label() {
    let s = Server::start().await;
    let (url, fake) = fake_model().await;
    configure(&s, &url).await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let cases = [
        ("SLOW: is my car ready", "status_inquiry"),
        ("GARBAGE is my car ready", "status_inquiry"),
        ("BROKEN is my car ready yet", "status_inquiry"),
        ("REFUSE is the car ready yet", "status_inquiry"),
        ("NOT A LABEL is my car ready", "status_inquiry"),
    ];
    for (n, (text, _)) in cases.iter().enumerate() {
        alice_texts(&s, 2200 + n as u64, text).await;
    }
    // The model's answers are taken in order: once a later message is refined, every one
    // before it has had its answer (or its deadline).
    let last = "when can i book the van in";
    alice_texts(&s, 2299, last).await;
    assert_eq!(
        label_when(&frontdesk, last, |l| l == "escalation_request").await,
        "escalation_request",
        "the endpoint works again after a timeout"
    );
    for (text, local) in cases {
        assert_eq!(
            label_when(&frontdesk, text, |_| true).await,
            local,
            "{text}"
        );
    }
    assert_eq!(fake.asked.lock().unwrap().len(), cases.len() + 1);
}

#[tokio::test]
async fn aia1_voicemails_and_long_threads_get_a_one_line_summary_note() {
    let s = Server::start().await;
    let (url, fake) = fake_model().await;
    configure(&s, &url).await;
    let frontdesk = s.login("frontdesk@fixture.test").await;

    // A voicemail's transcript.
    let call_sid = sid("CA", 2301);
    let call = [
        ("CallSid", call_sid.as_str()),
        ("AccountSid", TWILIO_SID),
        ("From", ALICE_PHONE),
        ("To", GARAGE_NUMBER),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("ApiVersion", "2010-04-01"),
    ];
    assert_eq!(
        twilio(&s, "/webhooks/twilio/voice", &call, Some(TWILIO_TOKEN))
            .await
            .0,
        200
    );
    let rec = sid("RE", 2301);
    let transcript = [
        ("CallSid", call_sid.as_str()),
        ("AccountSid", TWILIO_SID),
        ("RecordingSid", rec.as_str()),
        ("TranscriptionStatus", "completed"),
        (
            "TranscriptionText",
            "Hi it's Alice, my exhaust is blowing, can you call me back",
        ),
    ];
    let (status, _) = twilio(
        &s,
        "/webhooks/twilio/voice/transcription",
        &transcript,
        Some(TWILIO_TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        notes(&frontdesk, "Voicemail summary (AI):", 1).await,
        vec!["Voicemail summary (AI): Alice's exhaust is blowing; she wants a call back."]
    );

    // Twelve messages since the model was set make a long thread: summarised once, not once
    // per message, from those twelve only (nothing from before the model was set).
    for n in 0..12 {
        alice_texts(&s, 2310 + n, &format!("any news on the corsa? ({n})")).await;
    }
    let first = notes(&frontdesk, "Thread summary (AI):", 1).await;
    assert_eq!(
        first,
        vec!["Thread summary (AI): Alice keeps asking when the Corsa will be ready."]
    );
    assert_eq!(
        label_when(&frontdesk, "any news on the corsa? (11)", |l| {
            l == "escalation_request"
        })
        .await,
        "escalation_request"
    );
    let read = fake
        .asked
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, _, system, user)| system.contains("summaries") && user.contains("corsa"))
        .map(|(_, _, _, user)| user.clone())
        .collect::<Vec<_>>();
    assert_eq!(read.len(), 1, "{read:?}");
    assert_eq!(read[0].lines().count(), 12, "{}", read[0]);
    assert!(read[0]
        .lines()
        .all(|l| l.starts_with("Customer: any news on the corsa?")));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(notes(&frontdesk, "Thread summary (AI):", 0).await.len(), 1);
    assert_eq!(
        notes(&frontdesk, "Voicemail summary (AI):", 0).await.len(),
        1
    );
}

#[tokio::test]
async fn aia1_two_server_instances_ask_the_model_once_per_message() {
    let s = Server::start().await;
    let peer = s.peer().await;
    let (url, fake) = fake_model().await;
    configure(&s, &url).await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    // Half the webhooks reach each instance, as behind a load balancer.
    let texts: Vec<String> = (0..6)
        .map(|n| format!("is the golf ready yet ({n})"))
        .collect();
    for (n, text) in texts.iter().enumerate() {
        let at = if n % 2 == 0 { &s } else { &peer };
        alice_texts(at, 2400 + n as u64, text).await;
    }
    for text in &texts {
        assert_eq!(
            label_when(&frontdesk, text, |l| l == "escalation_request").await,
            "escalation_request",
            "{text}"
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for text in &texts {
        assert_eq!(asked_to_label(&fake, text), 1, "{text}");
    }
}
