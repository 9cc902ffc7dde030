//! The engine over https (issue 13): signs in and stays live through a TLS-terminating proxy whose
//! certificate comes from a garage's own certificate authority, trusted through the engine's
//! extra-CA option (`GARAGE_INBOX_EXTRA_CA`); refused when that CA is not trusted.

use std::time::Duration;

use inbox_client::api::{Api, ApiError};
use inbox_client::{Engine, ServerAddressError, Transport, Update};
use serde_json::json;

use crate::support::*;
use crate::tls_proxy::TlsProxy;

/// The proxy's CA written where a garage's IT would put it, and a transport trusting it.
fn trusting(proxy: &TlsProxy, dir: &std::path::Path) -> Transport {
    let ca = dir.join("garage-ca.pem");
    std::fs::write(&ca, &proxy.ca_pem).unwrap();
    Transport::new(Some(&ca)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls1_sign_in_and_live_sync_over_https_with_the_garages_own_ca() {
    let (dir, server, desk, cache) = desk().await;
    let proxy = TlsProxy::start(server.addr()).await;
    let transport = trusting(&proxy, dir.path());

    let login = Api::login(&transport, &proxy.base, "desk@engine.test", PASSWORD)
        .await
        .unwrap();
    let mut config = engine_config(&proxy.base, &login, cache);
    config.transport = Some(transport);
    let engine = Engine::start(config).await.unwrap();
    live(&engine).await;
    assert_in_step(&engine, &server.base, &login.token).await;

    // A change made elsewhere arrives over the wss:// socket.
    let first = engine_conversations(&engine).await[0].id;
    let mut updates = engine.subscribe();
    let (status, _) = post(
        &server.base,
        &desk.token,
        &format!("/api/v1/conversations/{first}/notes"),
        json!({ "body": "over tls" }),
    )
    .await;
    assert_eq!(status, 201);
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(Update::Changed { conversations, .. }) = updates.recv().await {
                if conversations.contains(&first) {
                    return;
                }
            }
        }
    })
    .await
    .expect("the note reached the engine over wss://");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls1_a_server_certificate_from_an_untrusted_ca_is_refused() {
    let (dir, server, _desk, _cache) = desk().await;
    let proxy = TlsProxy::start(server.addr()).await;
    let e = Api::login(
        &system_transport(),
        &proxy.base,
        "desk@engine.test",
        PASSWORD,
    )
    .await
    .unwrap_err();
    // Refused for its certificate, before any credential is sent (not for any other reason the
    // proxy might fail).
    match &e {
        ApiError::Unreachable(why) => assert!(
            why.contains("invalid peer certificate: UnknownIssuer"),
            "{why}"
        ),
        other => panic!("{other:?}"),
    }
    // The same proxy, its CA trusted: the sign-in goes through.
    let login = Api::login(
        &trusting(&proxy, dir.path()),
        &proxy.base,
        "desk@engine.test",
        PASSWORD,
    )
    .await
    .unwrap();
    assert!(!login.token.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acc3_credentials_never_go_to_a_plain_http_server_on_the_network() {
    let (_dir, _server, desk, cache) = desk().await;
    // 192.0.2.1 is a documentation address: a connection attempt would hang until its timeout.
    let started = std::time::Instant::now();
    let e = Api::login(
        &system_transport(),
        "http://192.0.2.1:8787",
        "desk@engine.test",
        PASSWORD,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, ApiError::Address(ServerAddressError::PlainHttp)),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "Use an https:// address; plain http is only allowed for this computer."
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refused before connecting"
    );

    // A session for a plain-http server on the network is not started either (the token would
    // go out with every request).
    let config = engine_config("http://garage.example.com", &desk, cache);
    let Err(e) = Engine::start(config).await else {
        panic!("the engine started on plain http to another host");
    };
    assert!(e.to_string().contains("https://"), "{e}");
}

/// A loopback server that answers every request with `307 Temporary Redirect` to `to` (a 307
/// resends the body: the password, for a sign-in).
async fn redirecting_to(to: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let to = to.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: {to}/api/v1/auth/login\r\n\
                     Content-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acc3_a_redirect_to_plain_http_on_the_network_is_not_followed() {
    let (_dir, server, _desk, _cache) = desk().await;
    // A redirect to this computer is followed: the sign-in arrives.
    let to_loopback = redirecting_to(server.base.clone()).await;
    let login = Api::login(
        &system_transport(),
        &to_loopback,
        "desk@engine.test",
        PASSWORD,
    )
    .await
    .unwrap();
    assert!(!login.token.is_empty());

    // To plain http on the network it is refused before any connection (192.0.2.1 is a
    // documentation address: a connection attempt would hang until its timeout).
    let to_network = redirecting_to("http://192.0.2.1:8787".into()).await;
    let started = std::time::Instant::now();
    let e = Api::login(
        &system_transport(),
        &to_network,
        "desk@engine.test",
        PASSWORD,
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains(
            "redirected to http://192.0.2.1:8787/api/v1/auth/login, which is not https://"
        ),
        "{e}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refused before connecting"
    );
}
