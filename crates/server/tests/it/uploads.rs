//! Files the garage sends (issue 17, CMP-1): staff upload with `POST /api/v1/media` (its own
//! size limit, the type read from the bytes), a reply carries its author's uploads as
//! `attachments: [id, …]`, a portal customer uploads for their own messages and reads only their
//! own thread's files, and a manager removes a sensitive file from the server, the blob store
//! and the thread, audited.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::media::{get_raw, png, walk};
use crate::support::{conv::*, *};

/// Uploads `bytes` as `content_type` with the bearer `token` to `path`.
async fn upload_to(
    s: &Server,
    path: &str,
    token: &str,
    bytes: Vec<u8>,
    content_type: &str,
    name: &str,
) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", s.base))
        .query(&[("file_name", name)])
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn upload(
    c: &Client,
    s: &Server,
    bytes: Vec<u8>,
    t: &str,
    name: &str,
) -> (StatusCode, Value) {
    upload_to(
        s,
        "/api/v1/media",
        c.token.as_deref().unwrap(),
        bytes,
        t,
        name,
    )
    .await
}

async fn reply(c: &Client, client_id: &str, body: Value) -> (StatusCode, Value) {
    let mut req = json!({ "client_id": client_id, "channel": "sms" });
    for (k, v) in body.as_object().unwrap() {
        req[k] = v.clone();
    }
    c.post(&format!("/api/v1/conversations/{ALICE}/messages"), req)
        .await
}

#[tokio::test]
async fn cmp1_staff_upload_a_photo_and_a_reply_carries_it() {
    let s = Server::start().await;
    let frontdesk = s.login("frontdesk@fixture.test").await;

    // The type comes from the bytes, the name from the sender without its path.
    let (status, up) = upload(
        &frontdesk,
        &s,
        png(),
        "image/jpeg",
        "C:\\Users\\desk\\pads.png",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    assert_eq!(up["status"], "ready");
    assert_eq!(up["content_type"], "image/png");
    assert_eq!(up["file_name"], "pads.png");
    assert_eq!(up["size"].as_u64().unwrap(), png().len() as u64);
    let id = up["id"].as_i64().unwrap();
    let (status, _, bytes) = get_raw(&frontdesk, &format!("/api/v1/media/{id}")).await;
    assert_eq!((status, bytes), (200, png()));
    assert_eq!(
        get_raw(&frontdesk, &format!("/api/v1/media/{id}/thumbnail"))
            .await
            .0,
        200
    );

    // What is refused, and how.
    let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff".to_vec();
    let (status, e) = upload(&frontdesk, &s, exe, "image/jpeg", "photo.jpg").await;
    assert_eq!(status, 422, "{e}");
    let (status, _) = upload(&frontdesk, &s, Vec::new(), "image/png", "empty.png").await;
    assert_eq!(status, 422);
    let mp4 = [b"\0\0\0\x18ftypmp42".as_slice(), &[0; 64]].concat();
    let (status, e) = upload(&frontdesk, &s, mp4, "video/mp4", "clip.mp4").await;
    assert_eq!(status, 422);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("Video"),
        "{e}"
    );
    let mut big = png();
    big.resize(10 * 1024 * 1024 + 1, 0);
    let (status, e) = upload(&frontdesk, &s, big, "image/png", "big.png").await;
    assert_eq!(status, 413, "{e}");
    // Every other route keeps its 1 MiB.
    let (status, _) = frontdesk
        .post(
            "/api/v1/conversations/1/notes",
            json!({ "body": "x".repeat(2 * 1024 * 1024) }),
        )
        .await;
    assert_eq!(status, 413);

    // A reply with only a photo.
    let (status, m) = reply(&frontdesk, "up-1", json!({ "attachments": [id] })).await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["body"], "");
    assert_eq!(m["attachments"][0]["id"], id);
    assert_eq!(m["attachments"][0]["status"], "ready");
    let row = frontdesk
        .ok(&format!("/api/v1/conversations/{ALICE}"))
        .await;
    assert_eq!(row["preview"], "Photo", "LST-10: {row}");
    // The same client id again is the same message.
    let (status, again) = reply(&frontdesk, "up-1", json!({ "attachments": [id] })).await;
    assert_eq!((status, &again["id"]), (StatusCode::OK, &m["id"]));

    // An upload goes on one message, by its own author, in its own organisation.
    let (status, e) = reply(
        &frontdesk,
        "up-2",
        json!({ "body": "again", "attachments": [id] }),
    )
    .await;
    assert_eq!(status, 422, "{e}");
    let (_, second) = upload(&frontdesk, &s, png(), "image/png", "b.png").await;
    let manager = s.login("manager@fixture.test").await;
    let (status, _) = reply(&manager, "up-3", json!({ "attachments": [second["id"]] })).await;
    assert_eq!(status, 422, "not the manager's upload");
    let other = s.login("frontdesk@other.test").await;
    let (status, _) = other
        .post(
            &format!("/api/v1/conversations/{OTHER}/messages"),
            json!({ "client_id": "up-4", "attachments": [second["id"]] }),
        )
        .await;
    assert_eq!(status, 422, "not the other garage's upload");
    assert_eq!(
        get_raw(&other, &format!("/api/v1/media/{}", second["id"]))
            .await
            .0,
        404
    );
    let (status, _) = reply(
        &frontdesk,
        "up-5",
        json!({ "attachments": [second["id"], second["id"]] }),
    )
    .await;
    assert_eq!(status, 422, "listed twice");
    let mut five = Vec::new();
    for i in 0..5 {
        five.push(
            upload(&frontdesk, &s, png(), "image/png", &format!("{i}.png"))
                .await
                .1["id"]
                .clone(),
        );
    }
    let (status, e) = reply(&frontdesk, "up-6", json!({ "attachments": five })).await;
    assert_eq!(status, 422, "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("4 files"),
        "{e}"
    );
    let (status, _) = reply(&frontdesk, "up-7", json!({ "attachments": [123456789] })).await;
    assert_eq!(status, 422, "an unknown id");
    // A template carries no files.
    let (status, _) = frontdesk
        .post(
            &format!("/api/v1/conversations/{BOB}/messages"),
            json!({ "client_id": "up-8", "template": { "name": "vehicle_ready", "params": ["Focus"] }, "attachments": [second["id"]] }),
        )
        .await;
    assert_eq!(status, 422);
    // An SMS must fit with a link line for each file (where MMS does not reach).
    let (status, e) = reply(
        &frontdesk,
        "up-10",
        json!({ "body": "x".repeat(1590), "attachments": [second["id"]] }),
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("link to each file"),
        "{e}"
    );
    // Nothing refused took the upload: it still goes on a reply.
    let (status, m) = reply(
        &frontdesk,
        "up-9",
        json!({ "body": "Both sides", "attachments": [second["id"]] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
}

#[tokio::test]
async fn a_manager_removes_a_sensitive_file_everywhere_and_it_is_audited() {
    let media = std::env::temp_dir().join(format!("inbox-media-rm-{}", rand::random::<u64>()));
    let m2 = media.clone();
    let s = Server::start_with(move |st| {
        st.blobs = Some(std::sync::Arc::new(inbox_server::media::Blobs::new(m2)));
    })
    .await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let manager = s.login("manager@fixture.test").await;
    let (_, up) = upload(&frontdesk, &s, png(), "image/png", "V5C.png").await;
    let id = up["id"].as_i64().unwrap();
    let (_, m) = reply(
        &frontdesk,
        "rm-1",
        json!({ "body": "Your V5C", "attachments": [id] }),
    )
    .await;
    let head = manager.ok("/api/v1/sync/snapshot").await["seq"]
        .as_i64()
        .unwrap();
    let mut ws = manager.sync(head).await.unwrap();

    // The front desk cannot remove a sent file; a manager can.
    let (status, _) = frontdesk.delete(&format!("/api/v1/media/{id}")).await;
    assert_eq!(status, 403);
    let (status, after) = manager.delete(&format!("/api/v1/media/{id}")).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["id"], m["id"]);
    assert_eq!(after["attachments"][0]["status"], "failed");
    assert_eq!(after["attachments"][0]["error"], "Removed by Manager");
    assert_eq!(
        get_raw(&frontdesk, &format!("/api/v1/media/{id}")).await.0,
        409
    );
    assert_eq!(
        get_raw(&frontdesk, &format!("/api/v1/media/{id}/thumbnail"))
            .await
            .0,
        409
    );
    let files: Vec<_> = walk(&media);
    assert!(files.is_empty(), "file and thumbnail gone: {files:?}");
    // Open desktops hear of it (and drop their copies).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        assert!(tokio::time::Instant::now() < deadline, "no removal event");
        let f = frame(&mut ws).await;
        let a = &f["data"]["attachments"][0];
        if f["type"] == "message" && f["data"]["id"] == m["id"] && a["status"] == "failed" {
            assert_eq!(a["error"], "Removed by Manager");
            break;
        }
    }
    // Audited, with who did it.
    let owner = s.login("owner@fixture.test").await;
    let audit = owner.ok("/api/v1/audit").await;
    let entry = &audit["items"][0];
    assert_eq!(entry["action"], "attachment.removed", "{audit}");
    assert_eq!(entry["by"], "Manager");
    // Another organisation's id, or one already gone, is not found.
    let other = s.login("frontdesk@other.test").await;
    let (_, up2) = upload(&frontdesk, &s, png(), "image/png", "a.png").await;
    assert_eq!(
        other
            .delete(&format!("/api/v1/media/{}", up2["id"]))
            .await
            .0,
        404
    );
    // Staff take back their own unsent upload; the file stays while a message holds a copy.
    let (_, up3) = upload(&frontdesk, &s, png(), "image/png", "b.png").await;
    let (_, held) = reply(&frontdesk, "rm-2", json!({ "attachments": [up3["id"]] })).await;
    assert_eq!(held["attachments"][0]["status"], "ready");
    let (status, _) = frontdesk
        .delete(&format!("/api/v1/media/{}", up2["id"]))
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        walk(&media)
            .iter()
            .filter(|p| !p.contains("thumbs"))
            .count(),
        1
    );
}

#[tokio::test]
async fn a_portal_customer_uploads_for_their_own_thread_and_reads_only_its_files() {
    let s = Server::start().await;
    let manager = s.login("manager@fixture.test").await;
    let token = crate::portal::carol_token(&s, &manager).await;
    let (status, up) = upload_to(
        &s,
        "/api/v1/portal/media",
        &token,
        png(),
        "image/png",
        "dent.png",
    )
    .await;
    assert_eq!(status, 201, "{up}");
    // Staff cannot attach a customer's upload, nor the customer a staff one.
    let (status, _) = reply(&manager, "p-1", json!({ "attachments": [up["id"]] })).await;
    assert_eq!(status, 422);
    let (_, staff_up) = upload(&manager, &s, png(), "image/png", "x.png").await;
    let post = |body: Value| {
        let (base, token) = (s.base.clone(), token.clone());
        async move {
            let res = reqwest::Client::new()
                .post(format!("{base}/api/v1/portal/messages"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                res.status(),
                res.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, _) = post(json!({ "client_id": "c1", "attachments": [staff_up["id"]] })).await;
    assert_eq!(status, 422);
    let (status, posted) =
        post(json!({ "client_id": "c2", "body": "", "attachments": [up["id"]] })).await;
    assert_eq!(status, 201, "{posted}");
    // The portal posting again (a lost answer) gets the same message, not an error.
    let (status, again) =
        post(json!({ "client_id": "c2", "body": "", "attachments": [up["id"]] })).await;
    assert_eq!(
        (status.as_u16(), &again["id"]),
        (200, &posted["id"]),
        "{again}"
    );

    // Staff see it in the thread; the customer reads it back, nobody else does.
    let item = manager
        .thread_items(CAROL)
        .await
        .into_iter()
        .find(|i| i["id"] == posted["id"])
        .unwrap();
    assert_eq!(item["attachments"][0]["file_name"], "dent.png", "{item}");
    let portal_get = |path: String, token: String| {
        let base = s.base.clone();
        async move {
            reqwest::Client::new()
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let mine = format!("/api/v1/portal/media/{}", up["id"]);
    assert_eq!(portal_get(mine.clone(), token.clone()).await, 200);
    assert_eq!(
        portal_get(
            format!("/api/v1/portal/media/{}", staff_up["id"]),
            token.clone()
        )
        .await,
        404
    );
    let listed = reqwest::Client::new()
        .get(format!("{}/api/v1/portal/messages", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let mine_listed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == posted["id"])
        .unwrap();
    assert_eq!(mine_listed["attachments"][0]["id"], up["id"]);
    // Another customer's portal token cannot read it.
    let alice = manager.ok(&format!("/api/v1/conversations/{ALICE}")).await["customer_id"]
        .as_i64()
        .unwrap();
    let other = inbox_server::auth::token::generate();
    s.store
        .create_portal_token(1, alice, inbox_server::auth::token::hash(&other), now())
        .await
        .unwrap();
    assert_eq!(portal_get(mine, other).await, 404);
}
