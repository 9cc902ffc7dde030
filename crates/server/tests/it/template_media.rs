//! WhatsApp templates with a media header (issue 17, CMP-2): a manager stores a template
//! approved with a photo or PDF header; outside the 24-hour window a reply with it carries
//! exactly one file of that kind, checked against the stored file, and reaches the Cloud API as
//! one template message whose header names the uploaded media.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::dispatch::{dispatcher, start_fake};
use crate::media::{pdf_of, png};
use crate::support::{conv::BOB, Client, Server};
use crate::uploads::upload;

/// Creates a template with `header` as the manager; returns it.
async fn create(manager: &Client, name: &str, body: &str, header: Value) -> Value {
    let (status, t) = manager
        .post(
            "/api/v1/templates",
            json!({ "name": name, "language": "en_GB", "body": body, "header": header }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    t
}

/// A template reply to Bob (WhatsApp, window closed) with these uploads.
async fn send(c: &Client, client_id: &str, name: &str, files: Value) -> (StatusCode, Value) {
    c.post(
        &format!("/api/v1/conversations/{BOB}/messages"),
        json!({ "client_id": client_id, "template": { "name": name, "params": ["Bob"] },
                "attachments": files }),
    )
    .await
}

fn message(e: &Value) -> &str {
    e["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn cmp2_a_template_header_is_created_updated_and_listed() {
    let s = Server::start().await;
    let manager = s.login("manager@fixture.test").await;
    let t = create(
        &manager,
        "invoice_ready",
        "Hi {{1}}, your invoice is attached.",
        json!("document"),
    )
    .await;
    let id = t["id"].as_i64().unwrap();
    assert_eq!(
        t,
        json!({ "id": id, "name": "invoice_ready", "language": "en_GB",
                "body": "Hi {{1}}, your invoice is attached.", "param_count": 1,
                "header": "document" })
    );
    // Older JSON without a header still means none; a template listed without one says null.
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let listed = frontdesk.ok("/api/v1/templates").await;
    let by_name = |n: &str| {
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("invoice_ready")["header"], "document");
    assert_eq!(by_name("vehicle_ready")["header"], Value::Null);

    let path = format!("/api/v1/templates/{id}");
    let body = |header: Value| {
        json!({ "name": "invoice_ready", "language": "en_GB",
                "body": "Hi {{1}}, your invoice is attached.", "header": header })
    };
    let (status, updated) = manager.put(&path, body(json!("image"))).await;
    assert_eq!(
        (status, &updated["header"]),
        (StatusCode::OK, &json!("image"))
    );
    let (status, updated) = manager
        .put(
            &path,
            json!({ "name": "invoice_ready", "language": "en_GB", "body": "Hi {{1}}." }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["header"], Value::Null, "absent is none");
    let (status, _) = manager.put(&path, body(json!("video"))).await;
    assert_eq!(status, 422, "only image or document");
    let (status, _) = frontdesk
        .post(
            "/api/v1/templates",
            json!({ "name": "x", "language": "en", "body": "y", "header": "image" }),
        )
        .await;
    assert_eq!(status, 403, "the front desk does not administer templates");
    // Everyone who reads the inbox sees the header the picker needs.
    assert_eq!(manager.put(&path, body(json!("document"))).await.0, 200);
    let again = frontdesk.ok("/api/v1/templates").await;
    assert!(
        again["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id && t["header"] == "document"),
        "{again}"
    );
}

#[tokio::test]
async fn cmp2_an_image_header_template_with_a_photo_goes_out_as_one_template_message() {
    let s = Server::start().await;
    let (fake_base, fake) = start_fake().await;
    let manager = s.login("manager@fixture.test").await;
    create(
        &manager,
        "brake_pads_photo",
        "Hi {{1}}, here is the photo of your brake pads.",
        json!("image"),
    )
    .await;
    let frontdesk = s.login("frontdesk@fixture.test").await;
    let (_, photo) = upload(&frontdesk, &s, png(), "image/png", "pads.png").await;
    let (status, m) = send(
        &frontdesk,
        "hdr-1",
        "brake_pads_photo",
        json!([photo["id"]]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["body"], "Hi Bob, here is the photo of your brake pads.");
    assert_eq!(m["attachments"][0]["id"], photo["id"]);

    let d = dispatcher(&s, &fake_base).with_blobs(s.blobs.clone().unwrap());
    assert_eq!(d.run_once().await.unwrap(), 1);
    let media = fake.media.lock().unwrap().clone();
    assert_eq!(media.len(), 1, "the photo is uploaded once");
    let (media_id, declared, file_name, size) = &media[0];
    assert_eq!(
        (declared.as_str(), file_name.as_str()),
        ("image/png", "pads.png")
    );
    assert_eq!(*size, png().len());
    let sent = fake.requests.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "one WhatsApp message: {sent:?}");
    assert_eq!(sent[0]["type"], "template");
    assert_eq!(sent[0]["template"]["name"], "brake_pads_photo");
    assert_eq!(
        sent[0]["template"]["components"],
        json!([
            { "type": "header", "parameters": [{ "type": "image", "image": { "id": media_id } }] },
            { "type": "body", "parameters": [{ "type": "text", "text": "Bob" }] }
        ])
    );
    let id = m["id"].as_i64().unwrap();
    assert_eq!(
        sent[0]["biz_opaque_callback_data"],
        format!("message={id}"),
        "one reference"
    );
    let thread = frontdesk.thread_items(BOB).await;
    let sent_msg = thread.iter().find(|i| i["id"] == id).unwrap();
    assert_eq!(sent_msg["status"], "pending", "{sent_msg}");
}

#[tokio::test]
async fn cmp2_a_gated_document_header_reply_waits_for_approval_then_goes_with_its_pdf() {
    let s = Server::start().await;
    let (fake_base, fake) = start_fake().await;
    let manager = s.login("manager@fixture.test").await;
    create(
        &manager,
        "invoice_ready",
        "Hi {{1}}, your invoice is attached.",
        json!("document"),
    )
    .await;
    let trainee = s.login("trainee@fixture.test").await;
    let (_, pdf) = upload(&trainee, &s, pdf_of(2048), "application/pdf", "INV-7.pdf").await;
    let (status, m) = send(&trainee, "hdr-g", "invoice_ready", json!([pdf["id"]])).await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["status"], "pending_approval");
    let d = dispatcher(&s, &fake_base).with_blobs(s.blobs.clone().unwrap());
    assert_eq!(
        d.run_once().await.unwrap(),
        0,
        "nothing goes before approval"
    );
    let id = m["id"].as_i64().unwrap();
    let (status, _) = manager
        .post(&format!("/api/v1/approvals/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(d.run_once().await.unwrap(), 1);
    let media_id = fake.media.lock().unwrap()[0].0.clone();
    let sent = fake.requests.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0]["template"]["components"][0],
        json!({ "type": "header", "parameters": [{ "type": "document",
                "document": { "id": media_id, "filename": "INV-7.pdf" } }] })
    );
}

#[tokio::test]
async fn cmp2_a_header_template_without_its_one_file_of_the_right_kind_is_refused_with_422() {
    let s = Server::start().await;
    let manager = s.login("manager@fixture.test").await;
    create(
        &manager,
        "brake_pads_photo",
        "Hi {{1}}, here is the photo of your brake pads.",
        json!("image"),
    )
    .await;
    let frontdesk = s.login("frontdesk@fixture.test").await;

    let (status, e) = send(&frontdesk, "bad-1", "brake_pads_photo", json!([])).await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(
        message(&e),
        r#"the template "brake_pads_photo" needs one photo (JPEG or PNG) attached"#
    );

    // The kind is the stored file's, read from its bytes, not what the desktop said.
    let (_, pdf) = upload(&frontdesk, &s, pdf_of(1024), "image/png", "pads.png").await;
    assert_eq!(pdf["content_type"], "application/pdf");
    let (status, e) = send(&frontdesk, "bad-2", "brake_pads_photo", json!([pdf["id"]])).await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(
        message(&e),
        r#"the template "brake_pads_photo" needs a photo (JPEG or PNG), not a application/pdf file"#
    );

    let (_, a) = upload(&frontdesk, &s, png(), "image/png", "a.png").await;
    let (_, b) = upload(&frontdesk, &s, png(), "image/png", "b.png").await;
    let (status, e) = send(
        &frontdesk,
        "bad-3",
        "brake_pads_photo",
        json!([a["id"], b["id"]]),
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert!(message(&e).contains("exactly one"), "{e}");

    // A template without a header still takes no file.
    let (status, e) = send(&frontdesk, "bad-4", "vehicle_ready", json!([a["id"]])).await;
    assert_eq!(status, 422, "{e}");
    assert!(message(&e).contains("carries no files"), "{e}");

    // Nothing refused took the uploads: the right one still goes.
    let (status, m) = send(&frontdesk, "ok-1", "brake_pads_photo", json!([a["id"]])).await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
}
