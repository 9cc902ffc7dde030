//! One round of the campaign: customer messages and staff replies flow while faults are
//! injected at random times — the server SIGKILLed during ingest and during dispatch, the
//! engines' connections cut, an engine SIGKILLed, the providers failing, timing out or slow,
//! the database held locked. Every delivery is retried the way its sender would: Meta redelivers
//! a WhatsApp webhook with the same id until it gets a 2xx; Twilio retries an SMS webhook only
//! when the connection fails, within its 15 s window (the connection overrides docs/api.md sets),
//! and never after an answer, so an SMS answered 5xx is lost; staff resend with the same
//! `client_id` until the server answers.

use std::time::{Duration, Instant};

use serde_json::json;

use super::http;
use super::ledger::{Inbound, Reply};
use super::rng::Rng;
use super::{Campaign, Customer};

/// The fault kinds, with how often each is chosen.
pub const KINDS: &[(&str, u64)] = &[
    ("server_kill_during_ingest", 2),
    ("server_kill_during_dispatch", 2),
    ("websocket_drop", 3),
    ("engine_kill", 3),
    ("provider_5xx", 2),
    ("provider_timeout", 1),
    ("provider_slow", 2),
    ("database_locked", 2),
];

const CALL_TIMEOUT: Duration = Duration::from_secs(40);
/// How long a sender keeps retrying one delivery before it counts as never accepted.
const GIVE_UP: Duration = Duration::from_secs(120);
/// Twilio's retries of a webhook whose connection failed all happen within its total time
/// (`tt`, at most 15 s).
const TWILIO_RETRY_WINDOW: Duration = Duration::from_secs(15);

/// Signs in; returns the token and the user id.
pub fn login(server: &str, password: &str) -> anyhow::Result<(String, i64)> {
    let body = json!({ "email": "frontdesk@demo.test", "password": password });
    for _ in 0..20 {
        let a = http::call(
            server,
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&body),
            CALL_TIMEOUT,
        )?;
        if a.ok() {
            let token = a.body["token"].as_str().unwrap_or("").to_string();
            let user = a.body["user"]["id"].as_i64().unwrap_or(0);
            return Ok((token, user));
        }
        if a.status != 429 {
            anyhow::bail!("sign-in answered {}: {}", a.status, a.body);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    anyhow::bail!("sign-in kept answering 429")
}

/// Sets the fake providers' fault for their next `count` sends.
pub fn provider(c: &Campaign, fault: &str, count: u64) -> anyhow::Result<()> {
    let a = http::call(
        &c.run.sim_address,
        "POST",
        "/sim/faults",
        None,
        Some(&json!({ "fault": fault, "count": count })),
        CALL_TIMEOUT,
    )?;
    if !a.ok() {
        anyhow::bail!("the simulator refused fault {fault}: {}", a.status);
    }
    Ok(())
}

/// A new inbound message from `customer`, delivered (and redelivered) until the server takes
/// it; recorded in the ledger either way.
pub fn inbound(c: &Campaign, customer: &Customer) {
    let n = c.next();
    let body = format!("{}in-{n}", c.prefix);
    let provider_id = match customer.channel {
        "whatsapp" => format!("wamid.chaos{}x{n}", c.options.seed),
        _ => format!("SM{:016x}{:016x}", c.options.seed, n),
    };
    let request = json!({ "channel": customer.channel, "from": customer.from, "body": body, "id": provider_id });
    let sms = customer.channel == "sms";
    let deadline = Instant::now() + if sms { TWILIO_RETRY_WINDOW } else { GIVE_UP };
    let (mut accepted, mut answered_5xx) = (false, false);
    while Instant::now() < deadline {
        if let Ok(a) = http::call(
            &c.run.sim_address,
            "POST",
            "/sim/inbound",
            None,
            Some(&request),
            CALL_TIMEOUT,
        ) {
            // 0: the server could not be reached (killed, restarting).
            let status = a.body["status"].as_u64().unwrap_or(0);
            if (200..300).contains(&status) {
                accepted = true;
                break;
            }
            if (400..500).contains(&status) {
                c.note(format!("the server refused inbound {body:?} with {status}"));
                break;
            }
            if sms && status >= 500 {
                c.note(format!(
                    "the server answered SMS {body:?} with {status}: Twilio does not retry it"
                ));
                answered_5xx = true;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    if let Ok(mut l) = c.inbound.lock() {
        l.push(Inbound {
            body,
            channel: customer.channel,
            from: customer.from.clone(),
            provider_id,
            accepted,
            answered_5xx,
        });
    }
}

/// A staff reply to `customer`, posted (and reposted with the same `client_id`) until the server
/// answers; recorded in the ledger either way.
pub fn reply(c: &Campaign, customer: &Customer) {
    let n = c.next();
    let body = format!("{}out-{n}", c.prefix);
    let client_id = format!("{}c-{n}", c.prefix);
    let request = json!({ "client_id": client_id, "body": body, "channel": customer.channel });
    let path = format!(
        "/api/v1/conversations/{}/messages",
        customer.conversation_id
    );
    let deadline = Instant::now() + GIVE_UP;
    let mut accepted = false;
    while Instant::now() < deadline {
        if let Ok(a) = http::call(
            &c.run.server_address,
            "POST",
            &path,
            Some(&c.staff_token),
            Some(&request),
            CALL_TIMEOUT,
        ) {
            if a.ok() {
                accepted = true;
                break;
            }
            if (400..500).contains(&a.status) && a.status != 429 {
                c.note(format!(
                    "the server refused reply {body:?} with {}: {}",
                    a.status, a.body
                ));
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    if let Ok(mut l) = c.replies.lock() {
        l.push(Reply {
            body,
            client_id,
            conversation_id: customer.conversation_id,
            channel: customer.channel,
            accepted,
        });
    }
}

/// The campaign's customers: four texting, two on WhatsApp, each with a first message whose
/// conversation the replies go to.
pub fn meet_customers(c: &Campaign, rng: &mut Rng) -> anyhow::Result<()> {
    let mut first = Vec::new();
    for i in 0..6u64 {
        let channel = if i < 4 { "sms" } else { "whatsapp" };
        let from = format!(
            "+4477009{:05}",
            55_000 + (c.options.seed % 900) * 10 + i + rng.range(0, 1)
        );
        let who = Customer {
            from,
            channel,
            conversation_id: 0,
        };
        inbound(c, &who);
        let body = c
            .inbound
            .lock()
            .ok()
            .and_then(|l| l.last().map(|m| m.body.clone()))
            .unwrap_or_default();
        first.push((who, body));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let server = c.run.report(
            &c.bins,
            &[
                "server",
                &c.run.database.to_string_lossy(),
                &c.org_id.to_string(),
                &c.prefix,
            ],
        )?;
        let found = |body: &str| -> Option<i64> {
            server["messages"]
                .as_array()?
                .iter()
                .find(|m| m["body"] == body)?["conversation_id"]
                .as_i64()
        };
        let known: Vec<Customer> = first
            .iter()
            .filter_map(|(who, body)| {
                found(body).map(|id| Customer {
                    conversation_id: id,
                    ..who.clone()
                })
            })
            .collect();
        if known.len() == first.len() {
            *c.customers
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))? = known;
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("the campaign's first messages never reached the server's database");
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn pick_customer(c: &Campaign, rng: &mut Rng) -> Option<Customer> {
    let customers = c.customers.lock().ok()?;
    let i = rng.range(0, customers.len() as u64) as usize;
    customers.get(i).cloned()
}

/// One round: traffic for the window, with `faults_per_round` faults at random moments in it.
pub fn round(c: &Campaign, rng: &mut Rng) -> anyhow::Result<()> {
    let window = c.options.window;
    let mut at: Vec<u64> = (0..c.options.faults_per_round)
        .map(|_| rng.range(0, window.as_millis() as u64))
        .collect();
    at.sort_unstable();
    let plan: Vec<(u64, usize)> = at
        .into_iter()
        .map(|t| {
            (
                t,
                rng.weighted(&KINDS.iter().map(|k| k.1).collect::<Vec<_>>()),
            )
        })
        .collect();
    let mut traffic_rng = rng.fork();
    let mut fault_rng = rng.fork();
    std::thread::scope(|s| {
        s.spawn(|| {
            let messages = 8u64;
            for k in 0..messages {
                std::thread::sleep(window / messages as u32);
                if let Some(who) = pick_customer(c, &mut traffic_rng) {
                    if k % 3 == 2 {
                        reply(c, &who);
                    } else {
                        inbound(c, &who);
                    }
                }
            }
        });
        let began = Instant::now();
        let mut result = Ok(());
        for (t, kind) in plan {
            let wait = Duration::from_millis(t).saturating_sub(began.elapsed());
            std::thread::sleep(wait);
            if let Err(e) = inject(c, s, KINDS[kind].0, &mut fault_rng) {
                result = Err(e);
                break;
            }
        }
        result
    })
}

/// Injects one fault (bursts of traffic it needs run on scoped threads of the round).
fn inject<'s, 'c: 's>(
    c: &'c Campaign,
    s: &'s std::thread::Scope<'s, '_>,
    kind: &'static str,
    rng: &mut Rng,
) -> anyhow::Result<()> {
    // Counted when they take effect: a cut only when there was a connection to cut, and the
    // provider faults from what the fake providers report as met (`Campaign::provider_faults`),
    // since a fault armed for sends that never come injects nothing.
    if !matches!(
        kind,
        "websocket_drop" | "provider_5xx" | "provider_timeout" | "provider_slow"
    ) {
        c.count_fault(kind);
    }
    match kind {
        "server_kill_during_ingest" => {
            for _ in 0..3 {
                if let Some(who) = pick_customer(c, rng) {
                    s.spawn(move || inbound(c, &who));
                }
            }
            std::thread::sleep(Duration::from_millis(rng.range(0, 60)));
            restart_server(c, rng)?;
        }
        "server_kill_during_dispatch" => {
            if rng.chance(0.5) {
                provider(c, "slow", 2)?;
            }
            let mut posted = Vec::new();
            for _ in 0..2 {
                if let Some(who) = pick_customer(c, rng) {
                    posted.push(s.spawn(move || reply(c, &who)));
                }
            }
            for p in posted {
                let _ = p.join();
            }
            std::thread::sleep(Duration::from_millis(rng.range(20, 2500)));
            restart_server(c, rng)?;
        }
        "websocket_drop" => {
            if c.proxy.cut() > 0 {
                c.count_fault(kind);
            }
        }
        "engine_kill" => {
            let i = rng.range(0, c.options.engines as u64) as usize;
            if let Some(who) = pick_customer(c, rng) {
                s.spawn(move || inbound(c, &who));
            }
            std::thread::sleep(Duration::from_millis(rng.range(0, 300)));
            if let Ok(mut engines) = c.engines.lock() {
                if let Some(e) = engines.get_mut(i) {
                    e.kill();
                }
            }
            std::thread::sleep(Duration::from_millis(rng.range(100, 1500)));
            let fresh = c.start_engine(i, rng)?;
            if let Ok(mut engines) = c.engines.lock() {
                if let Some(e) = engines.get_mut(i) {
                    *e = fresh;
                }
            }
        }
        "provider_5xx" => provider(c, "error", rng.range(1, 4))?,
        "provider_timeout" => provider(c, "timeout", 1)?,
        "provider_slow" => provider(c, "slow", rng.range(1, 4))?,
        "database_locked" => {
            // Mostly within the server's 10 s busy timeout; sometimes past it, so writes fail.
            let ms = if rng.chance(0.25) {
                rng.range(10_500, 13_000)
            } else {
                rng.range(500, 6000)
            };
            let lock = c.run.lock(&c.bins, ms)?;
            if let Ok(mut l) = c.locks.lock() {
                l.push(lock);
            }
        }
        other => anyhow::bail!("unknown fault {other}"),
    }
    Ok(())
}

/// SIGKILL the server, wait a moment, start it again on the same database.
fn restart_server(c: &Campaign, rng: &mut Rng) -> anyhow::Result<()> {
    if let Ok(mut s) = c.server.lock() {
        s.kill();
    }
    std::thread::sleep(Duration::from_millis(rng.range(200, 1500)));
    c.ensure_server()
}
