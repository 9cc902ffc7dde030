//! Issue 13: sign-in is throttled per account (and per address behind trusted proxies) with a
//! 429 and `Retry-After`, password hashing runs in bounded slots, and portal posts are
//! rate-limited per customer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use inbox_server::auth::throttle::{parse_trusted_proxies, LoginThrottle};
use serde_json::json;

use crate::support::*;

async fn login(
    s: &Server,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&json!({ "email": email, "password": password }));
    if let Some(a) = forwarded_for {
        req = req.header("x-forwarded-for", a);
    }
    req.send().await.unwrap()
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn acc_signin_backs_off_after_five_wrong_passwords_and_the_right_one_works_after_the_wait() {
    let s = Server::start().await;
    let email = "frontdesk@fixture.test";
    for i in 0..5 {
        let res = login(&s, email, "wrong-password", None).await;
        assert_eq!(res.status(), 401, "attempt {i} is free");
    }
    let res = login(&s, email, "wrong-password", None).await;
    assert_eq!(res.status(), 429);
    assert_eq!(retry_after(&res), 1);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // While the account waits, even the right password is not tried.
    let res = login(&s, email, PASSWORD, None).await;
    assert_eq!(res.status(), 429);
    // Case and spaces do not make a new account key.
    assert_eq!(
        login(&s, " FrontDesk@Fixture.test ", "x", None)
            .await
            .status(),
        429
    );
    // Another account is not affected.
    assert_eq!(
        login(&s, "manager@fixture.test", PASSWORD, None)
            .await
            .status(),
        200
    );
    // The next wrong try after the wait doubles it.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let res = login(&s, email, "wrong-password", None).await;
    assert_eq!(res.status(), 401);
    let res = login(&s, email, PASSWORD, None).await;
    assert_eq!(res.status(), 429);
    assert_eq!(retry_after(&res), 2);
    tokio::time::sleep(Duration::from_secs(retry_after(&res))).await;
    assert_eq!(login(&s, email, PASSWORD, None).await.status(), 200);
    // Signing in reset the account: five wrong passwords are free again.
    for _ in 0..5 {
        assert_eq!(login(&s, email, "wrong-password", None).await.status(), 401);
    }
}

#[tokio::test]
async fn acc_no_per_address_limit_without_trusted_proxies() {
    let s = Server::start_with(|state| {
        state.login = Arc::new(LoginThrottle::new(2, Vec::new()).address_free_failures(3));
    })
    .await;
    // Ten accounts from one address (and a claimed X-Forwarded-For): never limited by address.
    for i in 0..10 {
        let res = login(
            &s,
            &format!("nobody{i}@fixture.test"),
            "x",
            Some("203.0.113.5"),
        )
        .await;
        assert_eq!(res.status(), 401);
    }
}

#[tokio::test]
async fn acc_per_address_limit_through_a_trusted_proxy() {
    let s = Server::start_with(|state| {
        let trusted = parse_trusted_proxies("127.0.0.1/32").unwrap();
        state.login = Arc::new(LoginThrottle::new(2, trusted).address_free_failures(3));
    })
    .await;
    for i in 0..3 {
        let res = login(
            &s,
            &format!("guess{i}@fixture.test"),
            "x",
            Some("203.0.113.5"),
        )
        .await;
        assert_eq!(res.status(), 401);
    }
    let res = login(&s, "frontdesk@fixture.test", PASSWORD, Some("203.0.113.5")).await;
    assert_eq!(
        res.status(),
        429,
        "the address is waiting, whatever the account"
    );
    assert!(retry_after(&res) >= 1);
    // Another client behind the same proxy signs in.
    let res = login(&s, "frontdesk@fixture.test", PASSWORD, Some("198.51.100.7")).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn acc_guessing_from_one_client_does_not_lock_the_account_for_the_others() {
    let s = Server::start_with(|state| {
        let trusted = parse_trusted_proxies("127.0.0.1/32").unwrap();
        state.login = Arc::new(LoginThrottle::new(2, trusted));
    })
    .await;
    let email = "frontdesk@fixture.test";
    for _ in 0..5 {
        let res = login(&s, email, "guess", Some("198.51.100.66")).await;
        assert_eq!(res.status(), 401);
    }
    let res = login(&s, email, PASSWORD, Some("198.51.100.66")).await;
    assert_eq!(res.status(), 429, "the guesser waits");
    // The garage's own desk, behind the same proxy, still signs in.
    let res = login(&s, email, PASSWORD, Some("203.0.113.9")).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn acc_a_trusted_proxy_that_forwards_no_address_is_not_one_client() {
    let s = Server::start_with(|state| {
        let trusted = parse_trusted_proxies("127.0.0.1/32").unwrap();
        state.login = Arc::new(LoginThrottle::new(2, trusted).address_free_failures(3));
    })
    .await;
    // A proxy set up without X-Forwarded-For: failures on many accounts must not make every
    // sign-in through it wait.
    for i in 0..6 {
        let res = login(&s, &format!("guess{i}@fixture.test"), "x", None).await;
        assert_eq!(res.status(), 401);
    }
    let res = login(&s, "frontdesk@fixture.test", PASSWORD, None).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn acc_password_hashing_runs_in_bounded_slots_and_the_api_stays_responsive() {
    let throttle = Arc::new(LoginThrottle::new(1, Vec::new()));
    let s = Server::start_with({
        let throttle = Arc::clone(&throttle);
        |state| state.login = throttle
    })
    .await;
    let me = s.login("viewer@fixture.test").await;
    let flood: Vec<_> = (0..24)
        .map(|i| {
            let base = s.base.clone();
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({ "email": format!("flood{i}@fixture.test"), "password": "x" }))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut most = 0;
    let mut slowest = Duration::ZERO;
    while !flood.iter().all(|f| f.is_finished()) {
        most = most.max(throttle.hashing_in_use());
        let t = Instant::now();
        assert_eq!(me.get("/api/v1/me").await.0, 200);
        slowest = slowest.max(t.elapsed());
    }
    for f in flood {
        assert_eq!(f.await.unwrap(), 401);
    }
    assert!(most <= 1, "at most one hash at a time, saw {most}");
    assert!(
        slowest < Duration::from_secs(1),
        "/me took {slowest:?} during the flood"
    );
}

#[tokio::test]
async fn portal_posts_are_rate_limited_per_customer() {
    let s = Server::start().await;
    let token = inbox_server::auth::token::generate();
    s.store
        .create_portal_token(1, 1, inbox_server::auth::token::hash(&token), now())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let post = |i: usize| {
        http.post(format!("{}/api/v1/portal/messages", s.base))
            .bearer_auth(&token)
            .json(&json!({ "body": format!("message {i}"), "client_id": format!("c{i}") }))
            .send()
    };
    for i in 0..10 {
        assert_eq!(post(i).await.unwrap().status(), 201, "post {i}");
    }
    let res = post(10).await.unwrap();
    assert_eq!(res.status(), 429);
    let wait = retry_after(&res);
    assert!((1..=6).contains(&wait), "{wait}");
    let c = s.login("frontdesk@fixture.test").await;
    let thread = c
        .ok(&format!("/api/v1/conversations/{}/messages", conv::ALICE))
        .await;
    assert!(
        thread["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["body"] != "message 10"),
        "the refused post was not stored"
    );
}

/// Issue 13: a user's live sync connections are capped; the next is refused before the upgrade.
#[tokio::test]
async fn sync_sockets_per_user_are_capped_with_a_429_before_upgrade() {
    let s = Server::start_with(|state| {
        state.sockets = Arc::new(inbox_server::limit::ConnectionSlots::new(2));
    })
    .await;
    let viewer = s.login("viewer@fixture.test").await;
    // From the head: a socket from 0 of an imported organisation is told to resync and closed.
    let head = s.store.log_bounds(1).await.unwrap().head;
    let first = viewer.sync(head).await.unwrap();
    let _second = viewer.sync(head).await.unwrap();
    match viewer.sync(head).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 429);
            assert!(res.headers().contains_key("retry-after"));
        }
        other => panic!("a third socket was not refused: {:?}", other.map(|_| ())),
    }
    // The limit is per user.
    let manager = s.login("manager@fixture.test").await;
    let _other = manager.sync(head).await.unwrap();
    // Closing one frees its place.
    drop(first);
    let start = Instant::now();
    loop {
        match viewer.sync(head).await {
            Ok(_) => break,
            Err(e) if start.elapsed() < Duration::from_secs(5) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the freed place was not given back: {e}"),
        }
    }
}
