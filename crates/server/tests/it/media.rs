//! Photos, documents and voice notes from the providers (issue 17), against local fakes of
//! Twilio's media host and Meta's Graph API: the webhook is answered at once and the files are
//! fetched after, with the account's credentials, only from the allow-listed origins; checked
//! against the limits; stored once per content; served to the organisation only.

use std::io::Cursor;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use inbox_server::clock::Clock;
use serde_json::{json, Value};

use crate::support::{conv::*, *};
use crate::webhooks::{sid, twilio, whatsapp};

/// A small real photo.
pub(crate) fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x / 3) as u8, (y / 2) as u8, 120])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A PDF of `size` bytes (its header, then padding).
pub(crate) fn pdf_of(size: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n".to_vec();
    v.resize(size, b'%');
    v
}

#[derive(Clone, Default)]
pub(crate) struct Fake {
    base: Arc<std::sync::Mutex<String>>,
    pub(crate) hits: Arc<AtomicUsize>,
    /// Answers 503 this many more times on `/flaky`.
    flaky: Arc<AtomicUsize>,
    /// A URL on another origin, where `/away` redirects.
    elsewhere: Arc<std::sync::Mutex<String>>,
}

/// Twilio's media URLs (basic auth) and Meta's Graph API and lookaside host (bearer).
pub(crate) async fn fake_provider() -> (String, Fake) {
    async fn twilio_media(
        State(f): State<Fake>,
        Path(name): Path<String>,
        headers: HeaderMap,
    ) -> axum::response::Response {
        f.hits.fetch_add(1, Ordering::SeqCst);
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let expected = format!(
            "Basic {}",
            base64_encode(&format!("{TWILIO_SID}:{TWILIO_TOKEN}"))
        );
        if auth != expected {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        match name.as_str() {
            "photo" => ([(header::CONTENT_TYPE, "image/png")], png()).into_response(),
            "flaky"
                if f.flaky
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok() =>
            {
                StatusCode::SERVICE_UNAVAILABLE.into_response()
            }
            "flaky" => (
                [(header::CONTENT_TYPE, "application/pdf")],
                b"%PDF-1.7 quote".to_vec(),
            )
                .into_response(),
            "exe" => (
                [(header::CONTENT_TYPE, "application/x-msdownload")],
                b"MZ".to_vec(),
            )
                .into_response(),
            "big" => (
                [(header::CONTENT_TYPE, "application/pdf")],
                pdf_of(9 * 1024 * 1024),
            )
                .into_response(),
            "huge" => (
                [(header::CONTENT_TYPE, "application/pdf")],
                pdf_of(11 * 1024 * 1024),
            )
                .into_response(),
            // Elsewhere: an origin that is not the provider's.
            "away" => (
                StatusCode::FOUND,
                [(header::LOCATION, f.elsewhere.lock().unwrap().clone())],
            )
                .into_response(),
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }
    async fn graph(
        State(f): State<Fake>,
        Path(id): Path<String>,
        headers: HeaderMap,
    ) -> axum::response::Response {
        if headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            != Some("Bearer EAAG-fixture-token")
        {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let base = f.base.lock().unwrap().clone();
        axum::Json(
            json!({ "id": id, "url": format!("{base}/lookaside/{id}"), "mime_type": "image/png" }),
        )
        .into_response()
    }
    async fn lookaside(State(f): State<Fake>) -> axum::response::Response {
        f.hits.fetch_add(1, Ordering::SeqCst);
        ([(header::CONTENT_TYPE, "image/png")], png()).into_response()
    }
    let fake = Fake::default();
    let app = Router::new()
        .route(
            "/2010-04-01/Accounts/{sid}/Messages/{mm}/Media/{name}",
            get(|s, Path((_, _, name)): Path<(String, String, String)>, h| {
                twilio_media(s, Path(name), h)
            }),
        )
        .route("/v23.0/{id}", get(graph))
        .route("/lookaside/{id}", get(lookaside))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    *fake.base.lock().unwrap() = base.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, fake)
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The server, its providers pointed at the fake, and a clock the test can move on.
async fn start(base: &str) -> (Server, Arc<AtomicI64>, std::path::PathBuf) {
    let offset = Arc::new(AtomicI64::new(0));
    let media = std::env::temp_dir().join(format!("inbox-media-test-{}", rand::random::<u64>()));
    let (o, m, b) = (Arc::clone(&offset), media.clone(), base.to_string());
    let s = Server::start_with(move |state| {
        state.clock =
            Clock::from_fn(move || now() + chrono::Duration::seconds(o.load(Ordering::SeqCst)));
        state.providers.twilio_api_base = b.clone();
        state.providers.whatsapp_api_base = format!("{b}/v23.0");
        state.blobs = Some(Arc::new(inbox_server::media::Blobs::new(m)));
    })
    .await;
    (s, offset, media)
}

fn mms<'a>(
    message_sid: &'a str,
    body: &'a str,
    media: &'a [(String, &'a str)],
) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = [
        ("MessageSid", message_sid),
        ("AccountSid", TWILIO_SID),
        ("From", ALICE_PHONE),
        ("To", GARAGE_NUMBER),
        ("Body", body),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    p.push(("NumMedia".into(), media.len().to_string()));
    for (i, (url, t)) in media.iter().enumerate() {
        p.push((format!("MediaUrl{i}"), url.clone()));
        p.push((format!("MediaContentType{i}"), t.to_string()));
    }
    p
}

/// Alice sends the garage an MMS (signed as Twilio signs it, accepted).
pub(crate) async fn send_mms(s: &Server, message_sid: &str, body: &str, files: &[(String, &str)]) {
    let params = mms(message_sid, body, files);
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, text) = twilio(s, "/webhooks/twilio/sms", &refs, Some(TWILIO_TOKEN)).await;
    assert_eq!(status, 200, "{text}");
}

/// The message with this body once every attachment has settled (or after 20 s).
pub(crate) async fn settled(c: &Client, conversation: i64, body: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let m = c
            .thread_items(conversation)
            .await
            .into_iter()
            .find(|i| i["body"] == body)
            .unwrap_or(Value::Null);
        let done = m["attachments"]
            .as_array()
            .is_some_and(|a| a.iter().all(|a| a["status"] != "pending"));
        if done || tokio::time::Instant::now() > deadline {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn get_raw(c: &Client, path: &str) -> (u16, HeaderMap, Vec<u8>) {
    let res = reqwest::Client::new()
        .get(format!("{}{path}", c.base))
        .bearer_auth(c.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    let mut h = HeaderMap::new();
    for (k, v) in headers.iter() {
        h.insert(k.clone(), v.clone());
    }
    (status, h, res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn an_mms_s_photos_are_fetched_after_the_webhook_stored_once_and_served_to_the_garage_only() {
    let (base, fake) = fake_provider().await;
    let (s, _, media) = start(&base).await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let url =
        |name: &str| format!("{base}/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM1/Media/{name}");
    let files = [
        (url("photo"), "image/png"),
        (url("photo"), "image/png"),
        (url("clip"), "video/mp4"),
        ("https://evil.example/steal".to_string(), "image/jpeg"),
    ];
    send_mms(&s, &sid("MM", 1701), "This light came on", &files).await;

    let m = settled(&frontdesk, ALICE, "This light came on").await;
    let a = m["attachments"].as_array().unwrap().clone();
    assert_eq!(a.len(), 4, "{m}");
    for photo in &a[..2] {
        assert_eq!(photo["status"], "ready", "{photo}");
        assert_eq!(photo["content_type"], "image/png");
        assert!(photo["file_name"].as_str().unwrap().starts_with("photo-"));
        assert_eq!(photo["size"].as_u64().unwrap(), png().len() as u64);
    }
    assert_eq!(a[2]["status"], "failed");
    assert_eq!(
        a[2]["error"],
        "Video not accepted; ask the customer for photos"
    );
    assert_eq!(a[3]["status"], "failed");
    assert!(
        a[3]["error"].as_str().unwrap().contains("never fetched"),
        "{}",
        a[3]
    );
    assert_eq!(
        fake.hits.load(Ordering::SeqCst),
        2,
        "neither the video nor the other host"
    );

    // The file, and a small thumbnail without EXIF.
    let id = a[0]["id"].as_i64().unwrap();
    let (status, headers, bytes) = get_raw(&frontdesk, &format!("/api/v1/media/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, png());
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    assert!(headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"photo-1.png\""));
    let (status, headers, thumb) =
        get_raw(&frontdesk, &format!("/api/v1/media/{id}/thumbnail")).await;
    assert_eq!(status, 200);
    assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
    let t = image::load_from_memory(&thumb).unwrap();
    assert_eq!((t.width(), t.height()), (320, 240));
    let (status, _, _) = get_raw(&frontdesk, &format!("/api/v1/media/{}", a[2]["id"])).await;
    assert_eq!(status, 409, "a failed file is never there");

    // One stored copy of the two identical photos.
    let shas = walk(&media)
        .into_iter()
        .filter(|p| !p.contains("thumbs"))
        .count();
    assert_eq!(shas, 1, "{:?}", walk(&media));

    // Another garage's staff, or nobody, cannot have it.
    let other = s.login("frontdesk@other.test").await;
    assert_eq!(get_raw(&other, &format!("/api/v1/media/{id}")).await.0, 404);
    assert_eq!(
        get_raw(&other, &format!("/api/v1/media/{id}/thumbnail"))
            .await
            .0,
        404
    );
    let (status, _) = s.anonymous().get(&format!("/api/v1/media/{id}")).await;
    assert_eq!(status, 401);
    assert_eq!(get_raw(&frontdesk, "/api/v1/media/999999").await.0, 404);
    // A mechanic does not read conversations.
    let mechanic = s.login("mechanic@fixture.test").await;
    assert_eq!(
        get_raw(&mechanic, &format!("/api/v1/media/{id}")).await.0,
        403
    );
}

pub(crate) fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

#[tokio::test]
async fn a_download_that_fails_is_retried_and_one_that_cannot_succeed_is_shown_as_failed() {
    let (base, fake) = fake_provider().await;
    let (s, offset, _) = start(&base).await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    fake.flaky.store(1, Ordering::SeqCst);
    let url =
        |name: &str| format!("{base}/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM2/Media/{name}");
    let files = [
        (url("flaky"), "application/pdf"),
        (url("gone"), "image/jpeg"),
        (url("exe"), "image/jpeg"),
    ];
    send_mms(&s, &sid("MM", 1702), "", &files).await;

    // The row names the files when the message has no text (LST-10).
    let rows = frontdesk.ok("/api/v1/conversations?range=all_time").await;
    let alice = rows["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == ALICE)
        .unwrap()
        .clone();
    assert_eq!(alice["preview"], "3 files", "{alice}");

    // The 503 waits for its retry, 10 s later on the server's clock.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let m = loop {
        let m = frontdesk
            .thread_items(ALICE)
            .await
            .into_iter()
            .find(|i| i["attachments"].as_array().is_some_and(|a| a.len() == 3))
            .unwrap();
        // The two that cannot succeed have ended (they are fetched side by side).
        let ended =
            m["attachments"][1]["status"] == "failed" && m["attachments"][2]["status"] == "failed";
        if ended || tokio::time::Instant::now() > deadline {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(m["attachments"][0]["status"], "pending", "{m}");
    assert_eq!(
        m["attachments"][1]["error"],
        "Could not be downloaded: the provider answered HTTP 404"
    );
    assert_eq!(
        m["attachments"][2]["error"],
        "application/vnd.microsoft.portable-executable files are not accepted",
        "what the bytes are, not what the provider called them"
    );
    let id = m["attachments"][0]["id"].as_i64().unwrap();
    let (status, body) = frontdesk.get(&format!("/api/v1/media/{id}")).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("still being downloaded"));

    offset.store(30, Ordering::SeqCst);
    let m = settled(&frontdesk, ALICE, "").await;
    assert_eq!(m["attachments"][0]["status"], "ready", "{m}");
    assert_eq!(m["attachments"][0]["content_type"], "application/pdf");
    let (attempts, _) =
        s.db.two_texts(&format!(
            "SELECT CAST(attempts AS TEXT), 'x' FROM attachments WHERE id = {id}"
        ))
        .await;
    assert_eq!(attempts, "2");
    let (status, _, bytes) = get_raw(&frontdesk, &format!("/api/v1/media/{id}")).await;
    assert_eq!((status, bytes), (200, b"%PDF-1.7 quote".to_vec()));
    assert_eq!(
        get_raw(&frontdesk, &format!("/api/v1/media/{id}/thumbnail"))
            .await
            .0,
        404,
        "a PDF has no thumbnail"
    );
}

#[tokio::test]
async fn a_whatsapp_photo_is_fetched_through_the_graph_api_with_its_caption_as_text() {
    let (base, fake) = fake_provider().await;
    let (s, _, _) = start(&base).await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let ts = now().timestamp().to_string();
    let n = json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "WABA1", "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "441632960001", "phone_number_id": WA_PHONE_NUMBER_ID },
            "contacts": [{ "profile": { "name": "Bob" }, "wa_id": "447700900102" }],
            "messages": [{ "from": "447700900102", "id": "wamid.PHOTO1", "timestamp": ts, "type": "image",
                           "image": { "id": "1234567890", "mime_type": "image/png", "caption": "The dent" } }]
        } }] }]
    });
    let (status, _) = whatsapp(&s, &n, WA_APP_SECRET).await;
    assert_eq!(status, 200);
    let m = settled(&frontdesk, BOB, "The dent").await;
    assert_eq!(m["attachments"][0]["status"], "ready", "{m}");
    assert_eq!(m["attachments"][0]["file_name"], "photo-1.png");
    assert_eq!(fake.hits.load(Ordering::SeqCst), 1);
    let id = m["attachments"][0]["id"].as_i64().unwrap();
    assert_eq!(
        get_raw(&frontdesk, &format!("/api/v1/media/{id}/thumbnail"))
            .await
            .0,
        200
    );
    // Search finds it by its caption and its file name.
    assert_eq!(frontdesk.ids("q=dent").await.0, vec![BOB]);
}

#[tokio::test]
async fn limits_hold_and_a_redirect_off_the_provider_s_hosts_is_not_followed() {
    let (base, fake) = fake_provider().await;
    // Another origin, which must never be asked for anything.
    let (other, other_fake) = fake_provider().await;
    *fake.elsewhere.lock().unwrap() =
        format!("{other}/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM3/Media/photo");
    let (s, _, _) = start(&base).await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let url =
        |name: &str| format!("{base}/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM3/Media/{name}");
    let files = [
        (url("big"), "application/pdf"),
        (url("big"), "application/pdf"),
        (url("big"), "application/pdf"),
        (url("away"), "image/jpeg"),
    ];
    send_mms(&s, &sid("MM", 1703), "Three quotes", &files).await;
    let m = settled(&frontdesk, ALICE, "Three quotes").await;
    let a = m["attachments"].as_array().unwrap();
    let errors: Vec<&str> = a.iter().filter_map(|a| a["error"].as_str()).collect();
    assert_eq!(
        a.iter().filter(|a| a["status"] == "ready").count(),
        2,
        "{m}"
    );
    assert!(errors.contains(&"Over 25 MB in one message"), "{errors:?}");
    assert!(
        errors.iter().any(|e| e.contains("redirected outside")),
        "{errors:?}"
    );
    assert_eq!(
        other_fake.hits.load(Ordering::SeqCst),
        0,
        "the other origin was never asked"
    );

    send_mms(
        &s,
        &sid("MM", 1704),
        "Too big",
        &[(url("huge"), "application/pdf")],
    )
    .await;
    let m = settled(&frontdesk, ALICE, "Too big").await;
    assert_eq!(m["attachments"][0]["error"], "Over 10 MB", "{m}");
}

/// VOI-8, issue 17: a call's recording reaches the desktop through the server, fetched with the
/// account's credentials from the provider's allow-listed origin only; never another garage's.
#[tokio::test]
async fn voi8_a_recording_is_fetched_for_the_garage_from_the_provider_only() {
    let (base, fake) = fake_provider().await;
    let (s, _, _) = start(&base).await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let voice = |call_sid: &str, url: &str| -> Vec<(String, String)> {
        vec![
            ("CallSid".into(), call_sid.into()),
            ("AccountSid".into(), TWILIO_SID.into()),
            ("RecordingSid".into(), sid("RE", 9)),
            ("RecordingUrl".into(), url.into()),
            ("RecordingStatus".into(), "completed".into()),
            ("RecordingDuration".into(), "12".into()),
        ]
    };
    let mut calls = Vec::new();
    for (n, url) in [
        (
            1,
            format!("{base}/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM1/Media/photo"),
        ),
        (2, "https://evil.example/rec.mp3".to_string()),
    ] {
        let call_sid = sid("CA", 900 + n);
        let ring: Vec<(&str, &str)> = vec![
            ("CallSid", &call_sid),
            ("AccountSid", TWILIO_SID),
            ("From", ALICE_PHONE),
            ("To", GARAGE_NUMBER),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("ApiVersion", "2010-04-01"),
        ];
        assert_eq!(
            twilio(&s, "/webhooks/twilio/voice", &ring, Some(TWILIO_TOKEN))
                .await
                .0,
            200
        );
        let rec = voice(&call_sid, &url);
        let refs: Vec<(&str, &str)> = rec.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, _) = twilio(
            &s,
            "/webhooks/twilio/voice/recording",
            &refs,
            Some(TWILIO_TOKEN),
        )
        .await;
        assert_eq!(status, 200);
        let id = frontdesk
            .thread_items(ALICE)
            .await
            .into_iter()
            .find(|i| i["type"] == "call" && i["recording_url"] == url.as_str())
            .and_then(|i| i["id"].as_i64())
            .unwrap();
        calls.push(id);
    }
    let before = fake.hits.load(Ordering::SeqCst);
    let (status, headers, bytes) =
        get_raw(&frontdesk, &format!("/api/v1/calls/{}/recording", calls[0])).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, png(), "fetched with the account's credentials");
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(fake.hits.load(Ordering::SeqCst), before + 1);
    // A recording URL off the provider's hosts is never fetched.
    let (status, _, _) =
        get_raw(&frontdesk, &format!("/api/v1/calls/{}/recording", calls[1])).await;
    assert_eq!(status, 503);
    assert_eq!(fake.hits.load(Ordering::SeqCst), before + 1);
    // Another garage's staff cannot have it; a call without a recording has none.
    let other = s.login("frontdesk@other.test").await;
    assert_eq!(
        get_raw(&other, &format!("/api/v1/calls/{}/recording", calls[0]))
            .await
            .0,
        404
    );
}

/// The download queue hands out the due files oldest first, in that order, each held for its
/// lease with the attempt counted (SQLite and PostgreSQL alike: PostgreSQL once answered them
/// in id order).
#[tokio::test]
async fn due_downloads_are_claimed_oldest_first_and_held_for_their_lease() {
    let s = Server::start().await;
    // Due in an hour and more (the server's clock stays at `now`, so its worker leaves them
    // alone): the newest row is the oldest due, the oldest row the newest due.
    let hour = 3_600_000;
    let at = now().timestamp_millis();
    for (position, due) in [(0, at + 2 * hour), (1, at + 3 * hour), (2, at + hour)] {
        s.db.execute(&format!(
            "INSERT INTO attachments (org_id, message_id, position, content_type, file_name, status,
                                      source, source_ref, next_attempt_at, created_at)
             SELECT 1, min(id), {position}, 'image/png', 'queued-{position}.png', 'pending',
                    'twilio', 'queued-{position}', {due}, {at}
             FROM messages WHERE org_id = 1"
        ))
        .await;
    }
    let mut ids = Vec::new();
    for position in 0..3 {
        let (id, _) = s
            .db
            .two_texts(&format!(
                "SELECT CAST(id AS TEXT), 'x' FROM attachments WHERE file_name = 'queued-{position}.png'"
            ))
            .await;
        ids.push(id.parse::<i64>().unwrap());
    }
    let later = now() + chrono::Duration::hours(4);

    let claimed = s.store.claim_downloads(later, 2).await.unwrap();
    let order: Vec<i64> = claimed.iter().map(|d| d.id).collect();
    assert_eq!(order, [ids[2], ids[0]], "oldest due first");
    assert!(claimed.iter().all(|d| d.attempts == 1), "{claimed:?}");
    assert_eq!(claimed[0].source_ref, "queued-2");

    // Held for the lease: only the one left is due.
    let rest = s.store.claim_downloads(later, 2).await.unwrap();
    assert_eq!(rest.iter().map(|d| d.id).collect::<Vec<_>>(), [ids[1]]);
    assert!(s.store.claim_downloads(later, 2).await.unwrap().is_empty());
}
