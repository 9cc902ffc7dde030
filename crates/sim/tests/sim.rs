//! End to end against a real `inbox-server` in this process (SQLite, seeded with the demo data):
//! the simulator's customers text, message, write and call, and everything lands in the inbox;
//! replies go out through the fake Twilio and Meta APIs and come back `delivered` (or `failed`)
//! through signed status callbacks. Timings are shortened.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use inbox_sim::calls::CallPlan;
use inbox_sim::events::WhatsappMessage;
use inbox_sim::media::File;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};
use support::world;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_reach_the_inbox_and_replies_come_back_delivered() {
    let w = world().await;
    let c = &w.customers;
    let mut rng = StdRng::seed_from_u64(1);

    // SMS from a stranger, and an MMS from a demo customer.
    assert!(
        c.sms(
            &mut rng,
            "+447700900901",
            "Hi, is my Quokka ready for collection?",
            None
        )
        .await
    );
    let sms_conv = w.conversation("quokka").await;
    assert_eq!(sms_conv["caller_number"], "+447700900901", "{sms_conv}");
    assert!(
        c.sms(
            &mut rng,
            "+447700900005",
            "Photo of the Dashlight",
            Some(File::Photo)
        )
        .await
    );
    let mms = w.thread(&w.conversation("dashlight").await).await;
    assert_eq!(mms[0]["body"], "Photo of the Dashlight", "{}", mms[0]);
    assert_eq!(
        mms[0]["attachments"][0]["content_type"], "image/jpeg",
        "{}",
        mms[0]
    );

    // WhatsApp: text, a captioned photo, a button reply.
    assert!(
        c.whatsapp(
            &mut rng,
            "+447700900902",
            "Priya Patel",
            &WhatsappMessage::Text("Can the Wombat have an MOT on Friday? £54.85 ok 👍".into())
        )
        .await
    );
    let wa_conv = w.conversation("wombat").await;
    let wa = w.thread(&wa_conv).await;
    assert_eq!(wa[0]["channel"], "whatsapp");
    assert_eq!(
        wa[0]["body"], "Can the Wombat have an MOT on Friday? £54.85 ok 👍",
        "non-ASCII survives Meta's escaping and signature"
    );
    assert!(
        c.whatsapp(
            &mut rng,
            "+447700900902",
            "Priya Patel",
            &WhatsappMessage::Photo {
                caption: Some("Leaky Numbat".into())
            }
        )
        .await
    );
    assert!(
        c.whatsapp(
            &mut rng,
            "+447700900902",
            "Priya Patel",
            &WhatsappMessage::Button(0)
        )
        .await
    );
    let wa = w.thread(&wa_conv).await;
    let newest: Vec<&str> = wa[..3]
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert!(
        wa[..3]
            .iter()
            .all(|m| m["channel"] == "whatsapp" && m["direction"] == "inbound"),
        "{newest:?}"
    );
    assert!(
        newest[0].contains("Yes, book it in"),
        "the button's title: {newest:?}"
    );
    assert!(
        newest[1].contains("Leaky Numbat"),
        "the photo's caption: {newest:?}"
    );

    // The portal.
    assert!(
        c.portal(&mut rng, 0, "Portal note about the Platypus")
            .await
    );
    let portal = w.thread(&w.conversation("platypus").await).await;
    assert_eq!(portal[0]["channel"], "portal");

    // Calls: answered, missed, voicemail with a transcript, withheld.
    let answered = c
        .call(
            &mut rng,
            "+447700900903",
            &CallPlan::Answered { talk_secs: 95 },
        )
        .await
        .unwrap();
    assert_eq!(
        (answered.outcome, answered.all_accepted),
        ("answered", true)
    );
    let missed = c
        .call(&mut rng, "+447700900904", &CallPlan::Missed)
        .await
        .unwrap();
    assert_eq!((missed.outcome, missed.all_accepted), ("missed", true));
    let transcript = "Hello it's about the Axolotl, please ring me back";
    let vm = c
        .call(
            &mut rng,
            "+447700900905",
            &CallPlan::Voicemail {
                secs: 21,
                transcript: transcript.into(),
            },
        )
        .await
        .unwrap();
    assert_eq!((vm.outcome, vm.all_accepted), ("voicemail", true));
    let withheld = c
        .call(&mut rng, "anonymous", &CallPlan::Missed)
        .await
        .unwrap();
    assert!(withheld.all_accepted);
    let a = w.first_call("07700900903").await;
    assert_eq!(a["outcome"], "answered", "{a}");
    assert!(a["duration_secs"].as_u64().unwrap() > 95, "{a}");
    assert_eq!(w.first_call("07700900904").await["outcome"], "missed");
    let v = w.first_call("axolotl").await;
    assert_eq!(v["outcome"], "voicemail", "{v}");
    assert_eq!(v["transcript"], transcript);
    assert_eq!(v["recording_secs"], 21);
    assert!(v["recording_url"]
        .as_str()
        .unwrap()
        .contains("/Recordings/RE"));

    // A reply by SMS goes to the fake Twilio API and comes back delivered.
    let (status, reply) = w
        .post(
            &format!("/api/v1/conversations/{}/messages", sms_conv["id"]),
            json!({ "client_id": "sim-r1", "body": "Yes, it's ready from 4pm", "channel": "sms" }),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    let m = w
        .wait_status(&sms_conv, &reply["id"], &["delivered", "failed"])
        .await;
    assert_eq!(m["status"], "delivered", "{m}");
    let sent = w.sim.sent();
    let at_twilio = sent
        .iter()
        .find(|s| s.body == "Yes, it's ready from 4pm")
        .expect("the fake Twilio API got it");
    assert_eq!(
        (at_twilio.provider, at_twilio.to.as_str()),
        ("twilio", "+447700900901")
    );
    assert!(at_twilio.id.starts_with("SM"));

    // By WhatsApp: delivered or read, as the customer's phone reported.
    let (status, reply) = w
        .post(
            &format!("/api/v1/conversations/{}/messages", wa_conv["id"]),
            json!({ "client_id": "sim-r2", "body": "Friday at 9 is fine", "channel": "whatsapp" }),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    let last = w.wait_final("Friday at 9 is fine").await;
    assert!(last == "read" || last == "delivered", "{last}");
    let m = w.wait_status(&wa_conv, &reply["id"], &[&last]).await;
    assert_eq!(m["status"], last.as_str(), "{m}");

    // With every send failing, the failure and its Twilio code reach the thread.
    w.sim.set_failure_rate(1.0);
    let (_, reply) = w
        .post(
            &format!("/api/v1/conversations/{}/messages", sms_conv["id"]),
            json!({ "client_id": "sim-r3", "body": "Are you still there?", "channel": "sms" }),
        )
        .await;
    let m = w.wait_status(&sms_conv, &reply["id"], &["failed"]).await;
    let error = m["error"].as_str().unwrap_or("");
    assert!(
        ["30003", "30005", "30006", "21610", "30007"]
            .iter()
            .any(|c| error.contains(c)),
        "{m}"
    );
    w.sim.set_failure_rate(0.0);

    // Nothing the simulator sent was refused.
    let stats = &w.sim.poster.stats;
    assert_eq!(
        (stats.rejected(), stats.failed()),
        (0, 0),
        "every webhook accepted ({} were)",
        stats.accepted()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_customers_are_all_accepted() {
    let w = world().await;
    let before = w.get("/api/v1/conversations?range=today").await["counts"]["all"]
        .as_u64()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(60), w.customers.clone().run())
        .await
        .expect("16 events in time");
    let stats = &w.sim.poster.stats;
    assert_eq!(
        (stats.rejected(), stats.failed()),
        (0, 0),
        "every webhook accepted ({} were)",
        stats.accepted()
    );
    assert!(stats.accepted() >= 16, "{}", stats.accepted());
    let after = w.get("/api/v1/conversations?range=today").await["counts"]["all"]
        .as_u64()
        .unwrap();
    assert!(
        after > before,
        "conversations active today: {before} → {after}"
    );
}

/// Issue 17, CMP-1: a reply's photo leaves the server whole on every channel. A UK mobile gets
/// a text with a short-lived signed link (Twilio sends MMS only to the US, Canada and
/// Australia), a US number gets a real MMS whose `MediaUrl` the fake Twilio fetches, and
/// WhatsApp gets the file uploaded to the Cloud API and sent as an image with its caption.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_photos_go_by_link_by_mms_and_on_whatsapp() {
    let w = world().await;
    let c = &w.customers;
    let mut rng = StdRng::seed_from_u64(3);
    let photo = inbox_sim::media::photo("brake-pads");
    assert!(
        c.sms(
            &mut rng,
            "+447700900931",
            "Can I see the Numbat's pads?",
            None
        )
        .await
    );
    assert!(
        c.sms(&mut rng, "+15555550123", "Send the Bilby photos", None)
            .await
    );
    let wa = WhatsappMessage::Text("Photo of the Wallaby please".into());
    assert!(c.whatsapp(&mut rng, "+447700900932", "Sam Lee", &wa).await);

    // UK: the text carries a link, and the link opens the photo in a phone's browser.
    let uk = w.conversation("numbat").await;
    let up = w.upload(photo.clone(), "image/jpeg", "pads.jpg").await;
    assert_eq!(
        (up["status"].as_str(), up["file_name"].as_str()),
        (Some("ready"), Some("pads.jpg"))
    );
    let (status, reply) = w
        .post(
            &format!("/api/v1/conversations/{}/messages", uk["id"]),
            json!({ "client_id": "media-uk", "body": "Worn, as you can see", "channel": "sms", "attachments": [up["id"]] }),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["attachments"][0]["id"], up["id"]);
    let m = w
        .wait_status(&uk, &reply["id"], &["delivered", "failed"])
        .await;
    assert_eq!(m["status"], "delivered", "{m}");
    let sent = w.sim.sent();
    let text = sent
        .iter()
        .find(|s| s.body.starts_with("Worn, as you can see"))
        .expect("the fake Twilio API got it");
    assert!(text.media.is_empty(), "no MMS to a UK mobile");
    let link = text
        .body
        .lines()
        .find_map(|l| l.strip_prefix("Photo: "))
        .unwrap_or_else(|| panic!("a link in {:?}", text.body));
    let path = link
        .strip_prefix("https://inbox.sim.test")
        .expect("on the public URL");
    assert!(path.starts_with("/m/"), "{link}");
    let res = w
        .http
        .get(format!("{}{path}", w.server))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    assert_eq!(res.bytes().await.unwrap().to_vec(), photo);
    let forged = w
        .http
        .get(format!(
            "{}/m/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            w.server
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 404);

    // US: a real MMS, fetched by the fake Twilio from the signed MediaUrl.
    let us = w.conversation("bilby").await;
    let up = w.upload(photo.clone(), "image/jpeg", "pads.jpg").await;
    let (status, reply) = w
        .post(
            &format!("/api/v1/conversations/{}/messages", us["id"]),
            json!({ "client_id": "media-us", "channel": "sms", "attachments": [up["id"]] }),
        )
        .await;
    assert_eq!(status, 201, "a photo needs no text: {reply}");
    let m = w
        .wait_status(&us, &reply["id"], &["delivered", "failed"])
        .await;
    assert_eq!(m["status"], "delivered", "{m}");
    let mms = w
        .sim
        .sent()
        .into_iter()
        .find(|s| s.to == "+15555550123")
        .unwrap();
    assert_eq!(mms.media, vec![format!("image/jpeg {} bytes", photo.len())]);
    assert!(!mms.body.contains("/m/"), "{}", mms.body);

    // WhatsApp: uploaded to the Cloud API, then sent as an image with the text as caption.
    let wa = w.conversation("wallaby").await;
    let up = w.upload(photo.clone(), "image/jpeg", "pads.jpg").await;
    let (status, reply) = w
        .post(
            &format!("/api/v1/conversations/{}/messages", wa["id"]),
            json!({ "client_id": "media-wa", "body": "Here you go", "channel": "whatsapp", "attachments": [up["id"]] }),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    let last = w.wait_final("Here you go").await;
    let m = w.wait_status(&wa, &reply["id"], &[&last]).await;
    assert!(m["status"] == "read" || m["status"] == "delivered", "{m}");
    let at_meta = w
        .sim
        .sent()
        .into_iter()
        .find(|s| s.body == "Here you go")
        .unwrap();
    assert_eq!(
        at_meta.media,
        vec![format!("image image/jpeg {} bytes", photo.len())]
    );

    // The same photo three times is stored once.
    let files = walk(&w.media_dir());
    assert_eq!(
        files.iter().filter(|p| !p.contains("thumbs")).count(),
        1,
        "{files:?}"
    );
}

/// Issue 17, CMP-2: a template approved with an image header goes out through the server's
/// dispatcher to the fake Cloud API as one template message whose header names the uploaded
/// photo, and the handset's statuses come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmp2_an_image_header_template_reaches_the_fake_cloud_api_with_its_photo() {
    let w = world().await;
    let mut rng = StdRng::seed_from_u64(4);
    let wa = WhatsappMessage::Text("Are the Quoll's pads worn?".into());
    assert!(
        w.customers
            .whatsapp(&mut rng, "+447700900933", "Jo Quinn", &wa)
            .await
    );
    let conv = w.conversation("quoll").await;

    let login: serde_json::Value = w
        .http
        .post(format!("{}/api/v1/auth/login", w.server))
        .json(&json!({ "email": "manager@demo.test", "password": "demo-password" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = w
        .http
        .post(format!("{}/api/v1/templates", w.server))
        .bearer_auth(login["token"].as_str().unwrap())
        .json(&json!({ "name": "brake_pads_photo", "language": "en_GB",
                       "body": "Hi {{1}}, here is the photo of your brake pads.", "header": "image" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let photo = inbox_sim::media::photo("brake-pads");
    let up = w.upload(photo.clone(), "image/jpeg", "pads.jpg").await;
    let (status, reply) = w
        .post(
            &format!("/api/v1/conversations/{}/messages", conv["id"]),
            json!({ "client_id": "tpl-photo", "channel": "whatsapp", "attachments": [up["id"]],
                    "template": { "name": "brake_pads_photo", "params": ["Jo"] } }),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    let last = w.wait_final("template:brake_pads_photo").await;
    let m = w.wait_status(&conv, &reply["id"], &[&last]).await;
    assert!(m["status"] == "read" || m["status"] == "delivered", "{m}");
    let at_meta: Vec<_> = w
        .sim
        .sent()
        .into_iter()
        .filter(|s| s.to == "+447700900933")
        .collect();
    assert_eq!(at_meta.len(), 1, "one WhatsApp message");
    assert_eq!(
        at_meta[0].media,
        vec![format!("image image/jpeg {} bytes", photo.len())]
    );
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

/// Issue 17: customers send PDFs and voice notes as well as photos, by MMS and on WhatsApp; the
/// server fetches each from the simulator's provider APIs and keeps it as what its bytes are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_send_pdfs_and_voice_notes_by_mms_and_on_whatsapp() {
    let w = world().await;
    let c = &w.customers;
    let mut rng = StdRng::seed_from_u64(17);
    assert!(
        c.sms(
            &mut rng,
            "+447700900931",
            "The insurer's form for the Echidna",
            Some(File::Pdf)
        )
        .await
    );
    let from = "+447700900932";
    let say = WhatsappMessage::Text("About the Bandicoot's squeak".into());
    assert!(c.whatsapp(&mut rng, from, "Sam Okafor", &say).await);
    let voice = WhatsappMessage::VoiceNote;
    assert!(c.whatsapp(&mut rng, from, "Sam Okafor", &voice).await);
    let doc = WhatsappMessage::Document {
        filename: "MOT certificate.pdf".into(),
        caption: Some("Last year's MOT".into()),
    };
    assert!(c.whatsapp(&mut rng, from, "Sam Okafor", &doc).await);

    let mms = w.conversation("echidna").await;
    let pdf = ready_file(&w, &mms, "application/pdf").await;
    assert!(pdf.starts_with(b"%PDF-1.4\n"), "a real PDF by MMS");
    let wa = w.conversation("bandicoot").await;
    assert_eq!(
        ready_file(&w, &wa, "audio/ogg").await,
        inbox_sim::media::VOICE_NOTE,
        "the voice note arrives whole"
    );
    assert!(ready_file(&w, &wa, "application/pdf")
        .await
        .starts_with(b"%PDF-1.4\n"));
    let thread = w.thread(&wa).await;
    let names: Vec<&str> = thread
        .iter()
        .flat_map(|m| m["attachments"].as_array().into_iter().flatten())
        .map(|a| a["file_name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"MOT certificate.pdf"), "{names:?}");
    assert!(
        thread.iter().any(|m| m["body"] == "Last year's MOT"),
        "the document's caption is the message's text"
    );
}

/// Waits until the thread has a ready file of `content_type`, and downloads it.
async fn ready_file(w: &support::World, conversation: &Value, content_type: &str) -> Vec<u8> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let id = loop {
        let found = w
            .thread(conversation)
            .await
            .iter()
            .flat_map(|m| m["attachments"].as_array().cloned().unwrap_or_default())
            .find(|a| a["content_type"] == content_type && a["status"] == "ready")
            .map(|a| a["id"].clone());
        if let Some(id) = found {
            break id;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no ready {content_type} in {:?}",
            w.thread(conversation).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let res = w
        .http
        .get(format!("{}/api/v1/media/{id}", w.server))
        .bearer_auth(&w.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.bytes().await.unwrap().to_vec()
}
