//! Issue 13: the accept loop's protection against slow and idle clients, and its connection cap.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

fn config(header: u64, idle: u64, max: usize) -> ServeConfig {
    ServeConfig {
        header_read_timeout: Duration::from_secs(header),
        idle_timeout: Duration::from_secs(idle),
        max_connections: max,
        ..ServeConfig::default()
    }
}

async fn connect(s: &Server) -> TcpStream {
    TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection; how long that took, or None within `limit`.
async fn closed_within(conn: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((start + limit).into(), conn.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn a_client_trickling_one_header_byte_every_20_s_is_cut_off_at_the_header_timeout() {
    let s = Server::start_serving(|_| {}, config(1, 60, 100)).await;
    let mut conn = connect(&s).await;
    let start = Instant::now();
    let mut closed = None;
    // Three bytes at most: a server without a header timeout would hold on for minutes.
    for byte in b"GET".iter() {
        if conn.write_all(&[*byte]).await.is_err() {
            closed = Some(start.elapsed());
            break;
        }
        if closed_within(&mut conn, Duration::from_secs(20))
            .await
            .is_some()
        {
            closed = Some(start.elapsed());
            break;
        }
    }
    let closed = closed.expect("the server kept the trickling connection open");
    assert!(closed < Duration::from_secs(3), "closed after {closed:?}");
    // Everyone else is still served.
    assert_eq!(s.anonymous().get("/healthz").await.0, 200);
}

#[tokio::test]
async fn a_silent_keep_alive_connection_is_closed_at_the_idle_timeout() {
    let s = Server::start_serving(|_| {}, config(30, 1, 100)).await;
    let mut conn = connect(&s).await;
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: inbox\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let closed = closed_within(&mut conn, Duration::from_secs(10))
        .await
        .expect("an idle keep-alive connection stays open");
    assert!(closed < Duration::from_secs(3), "closed after {closed:?}");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let s = Server::start_serving(|_| {}, config(30, 60, 2)).await;
    let held = (connect(&s).await, connect(&s).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let http = reqwest::Client::new();
    let url = format!("{}/healthz", s.base);
    let waiting = http
        .get(&url)
        .timeout(Duration::from_millis(700))
        .send()
        .await;
    assert!(
        waiting.is_err(),
        "a third connection was served: {waiting:?}"
    );
    drop(held);
    let res = http
        .get(&url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("served once a slot is free");
    assert_eq!(res.status(), 200);
    // Normal traffic goes on over reused connections.
    for _ in 0..5 {
        assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    }
}
