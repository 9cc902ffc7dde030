//! The fake provider APIs on their own (no server): they refuse what Twilio and Meta refuse, with
//! the providers' codes, and answer good sends like them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use inbox_sim::{Sim, SimConfig, Summary};
use serde_json::{json, Value};

#[tokio::test]
async fn the_fake_apis_refuse_like_the_providers() {
    let summary = Summary::parse(
        r#"{ "organisations": [{ "id": 1, "name": "G",
            "twilio": { "account_sid": "AC11", "auth_token": "tok", "numbers": ["+441632960001"] },
            "whatsapp": { "phone_number_id": "100000000000001" } }] }"#,
    )
    .unwrap();
    let mut config = SimConfig::new("http://127.0.0.1:9");
    config.customers = false;
    let sim = Sim::new(config, summary);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(inbox_sim::serve_apis(
        listener,
        Arc::clone(&sim),
        std::future::pending(),
    ));
    let http = reqwest::Client::new();
    let twilio = |token: &'static str, form: Vec<(&'static str, &'static str)>| {
        let http = http.clone();
        let url = format!("{base}/2010-04-01/Accounts/AC11/Messages.json");
        async move {
            let res = http
                .post(url)
                .basic_auth("AC11", Some(token))
                .form(&form)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, e) = twilio(
        "wrong",
        vec![
            ("To", "+447700900001"),
            ("From", "+441632960001"),
            ("Body", "x"),
        ],
    )
    .await;
    assert_eq!((status, e["code"].as_i64()), (401, Some(20003)), "{e}");
    let (status, e) = twilio("tok", vec![("From", "+441632960001"), ("Body", "x")]).await;
    assert_eq!((status, e["code"].as_i64()), (400, Some(21604)));
    let (status, e) = twilio(
        "tok",
        vec![("To", "+447700900001"), ("From", "+441632960001")],
    )
    .await;
    assert_eq!((status, e["code"].as_i64()), (400, Some(21602)));
    let (status, r) = twilio(
        "tok",
        vec![
            ("To", "+447700900001"),
            ("From", "+441632960001"),
            ("Body", "Ready"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["status"], "queued");
    assert_eq!(r["num_segments"], "1");
    assert_eq!(sim.sent().len(), 1);
    // Twilio's Messages lookup: the message as it stands; 404 for one never sent, 401 without
    // the account's token.
    let lookup = |token: &'static str, sid: String| {
        let http = http.clone();
        let url = format!("{base}/2010-04-01/Accounts/AC11/Messages/{sid}.json");
        async move {
            let res = http
                .get(url)
                .basic_auth("AC11", Some(token))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let sid = r["sid"].as_str().unwrap().to_string();
    let (status, found) = lookup("tok", sid.clone()).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        (found["sid"].as_str(), found["to"].as_str()),
        (Some(sid.as_str()), Some("+447700900001"))
    );
    assert!(found["status"].is_string(), "{found}");
    let (status, e) = lookup("tok", "SM0".into()).await;
    assert_eq!((status, e["code"].as_i64()), (404, Some(20404)));
    let (status, e) = lookup("wrong", sid.clone()).await;
    assert_eq!((status, e["code"].as_i64()), (401, Some(20003)));
    // Twilio's message list, filtered by the number: what settles a send whose answer was lost.
    let list = |token: &'static str, to: &'static str| {
        let http = http.clone();
        let url = format!("{base}/2010-04-01/Accounts/AC11/Messages.json");
        async move {
            let res = http
                .get(url)
                .query(&[("To", to), ("PageSize", "20")])
                .basic_auth("AC11", Some(token))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, page) = list("tok", "+447700900001").await;
    assert_eq!(status, 200, "{page}");
    let listed = page["messages"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0]["sid"].as_str(), listed[0]["body"].as_str()),
        (Some(sid.as_str()), Some("Ready"))
    );
    assert_eq!(listed[0]["from"], "+441632960001");
    assert_eq!(list("tok", "+447700900999").await.1["messages"], json!([]));
    assert_eq!(list("wrong", "+447700900001").await.0, 401);

    let meta = |auth: Option<&'static str>, pnid: &'static str, body: Value| {
        let http = http.clone();
        let url = format!("{base}/v24.0/{pnid}/messages");
        async move {
            let mut req = http.post(url).json(&body);
            if let Some(a) = auth {
                req = req.bearer_auth(a);
            }
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let text = json!({ "messaging_product": "whatsapp", "to": "+447700900001", "type": "text", "text": { "body": "Hi" } });
    let (status, e) = meta(None, "100000000000001", text.clone()).await;
    assert_eq!((status, e["error"]["code"].as_i64()), (401, Some(190)));
    let (status, e) = meta(Some("EAAG1"), "999", text.clone()).await;
    assert_eq!((status, e["error"]["code"].as_i64()), (400, Some(100)));
    let (status, ok) = meta(Some("EAAG1"), "100000000000001", text).await;
    assert_eq!(status, 200);
    assert!(ok["messages"][0]["id"]
        .as_str()
        .unwrap()
        .starts_with("wamid."));
    assert_eq!(ok["contacts"][0]["wa_id"], "447700900001");
    let (status, read) = meta(
        Some("EAAG1"),
        "100000000000001",
        json!({ "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X" }),
    )
    .await;
    assert_eq!((status, read["success"].as_bool()), (200, Some(true)));
}

/// The control API a fault campaign drives: an injected 503 takes nothing, a slow answer still
/// takes the send, and `/sim/sent` lists every accepted send.
#[tokio::test]
async fn injected_send_faults_refuse_or_delay_and_the_ledger_counts_every_send() {
    let summary = Summary::parse(
        r#"{ "organisations": [{ "id": 1, "name": "G",
            "twilio": { "account_sid": "AC11", "auth_token": "tok", "numbers": ["+441632960001"] } }] }"#,
    )
    .unwrap();
    let mut config = SimConfig::new("http://127.0.0.1:9");
    config.customers = false;
    let sim = Sim::new(config, summary);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(inbox_sim::serve_apis(
        listener,
        Arc::clone(&sim),
        std::future::pending(),
    ));
    let http = reqwest::Client::new();
    let send = |body: &'static str| {
        let http = http.clone();
        let url = format!("{base}/2010-04-01/Accounts/AC11/Messages.json");
        async move {
            http.post(url)
                .basic_auth("AC11", Some("tok"))
                .form(&[
                    ("To", "+447700900001"),
                    ("From", "+441632960001"),
                    ("Body", body),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let fault = |fault: &'static str, count: u32| {
        let http = http.clone();
        let url = format!("{base}/sim/faults");
        async move {
            http.post(url)
                .json(&json!({ "fault": fault, "count": count }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(fault("error", 2).await, 204);
    assert_eq!(send("one").await, 503);
    assert_eq!(send("two").await, 503);
    assert_eq!(send("three").await, 201, "the fault lasts two sends");
    assert_eq!(fault("slow", 1).await, 204);
    let began = std::time::Instant::now();
    assert_eq!(send("four").await, 201);
    assert!(began.elapsed() >= std::time::Duration::from_millis(1500));
    let sent: Value = http
        .get(format!("{base}/sim/sent"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = sent["sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["three", "four"],
        "refused sends are not in the ledger"
    );
    assert_eq!(fault("bogus", 1).await, 422);
}

/// CMP-2: a template's image or document header names an upload the fake Cloud API took; it is
/// recorded with the send like any outbound file, and an id it never issued is refused with
/// Graph's media error (131053) and nothing is sent.
#[tokio::test]
async fn cmp2_a_template_header_goes_by_an_uploaded_media_id_and_an_unknown_one_is_refused() {
    let summary = Summary::parse(
        r#"{ "organisations": [{ "id": 1, "name": "G",
            "whatsapp": { "phone_number_id": "100000000000001" } }] }"#,
    )
    .unwrap();
    let mut config = SimConfig::new("http://127.0.0.1:9");
    config.customers = false;
    let sim = Sim::new(config, summary);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("{}/v23.0/100000000000001", {
        let a = listener.local_addr().unwrap();
        format!("http://{a}")
    });
    tokio::spawn(inbox_sim::serve_apis(
        listener,
        Arc::clone(&sim),
        std::future::pending(),
    ));
    let http = reqwest::Client::new();
    let pdf = b"%PDF-1.7\n%%EOF\n".to_vec();
    let form = reqwest::multipart::Form::new()
        .text("messaging_product", "whatsapp")
        .text("type", "application/pdf")
        .part(
            "file",
            reqwest::multipart::Part::bytes(pdf.clone())
                .file_name("INV-7.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let up: Value = http
        .post(format!("{base}/media"))
        .bearer_auth("EAAG")
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let media_id = up["id"].as_str().expect("a media id").to_string();
    let template = |id: &str| {
        json!({ "messaging_product": "whatsapp", "recipient_type": "individual",
                "to": "+447700900001", "type": "template",
                "template": { "name": "invoice_ready", "language": { "code": "en_GB" },
                    "components": [
                        { "type": "header", "parameters": [{ "type": "document",
                            "document": { "id": id, "filename": "INV-7.pdf" } }] },
                        { "type": "body", "parameters": [{ "type": "text", "text": "Sam" }] }
                    ] } })
    };
    let send = |body: Value| {
        let (http, url) = (http.clone(), format!("{base}/messages"));
        async move {
            let res = http
                .post(url)
                .bearer_auth("EAAG")
                .json(&body)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, e) = send(template("999")).await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["error"]["code"], 131053, "{e}");
    assert!(
        sim.sent().is_empty(),
        "nothing sent with an unknown media id"
    );

    let (status, ok) = send(template(&media_id)).await;
    assert_eq!(status, 200, "{ok}");
    assert!(ok["messages"][0]["id"]
        .as_str()
        .unwrap()
        .starts_with("wamid."));
    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body, "template:invoice_ready");
    assert_eq!(
        sent[0].media,
        vec![format!("document application/pdf {} bytes", pdf.len())]
    );
}
