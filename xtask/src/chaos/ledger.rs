//! The campaign's ledger — every inbound message the simulator was asked to deliver and every
//! reply staff wrote — and the check of one quiet moment against it: what the server stored,
//! what the fake providers received, what each engine's cache holds. Pure, so the verdicts are
//! unit-tested apart from the processes.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

/// One inbound message, identified by its unique body (and its provider id).
#[derive(Debug, Clone)]
pub struct Inbound {
    pub body: String,
    /// `sms` or `whatsapp`.
    pub channel: &'static str,
    pub from: String,
    pub provider_id: String,
    /// The server answered the webhook 2xx (the provider stops redelivering).
    pub accepted: bool,
    /// The server answered an SMS webhook 5xx: Twilio does not retry it, so it is lost.
    pub answered_5xx: bool,
}

/// One reply written by staff through the REST API, identified by its unique body and client id.
#[derive(Debug, Clone)]
pub struct Reply {
    pub body: String,
    pub client_id: String,
    pub conversation_id: i64,
    pub channel: &'static str,
    /// The server answered the POST 200/201.
    pub accepted: bool,
}

/// A message as the server's database holds it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub body: String,
    pub status: String,
    pub error: Option<String>,
}

/// One engine's cache: its cursor and how often each campaign body appears.
#[derive(Debug, Clone, Default)]
pub struct Cached {
    pub cursor: Option<i64>,
    pub bodies: HashMap<String, u64>,
}

/// What one check found. `lost` and `duplicated` are per message (a message missing from two
/// engines is one loss); `by_kind` says where.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    pub inbound_ok: u64,
    pub replies_once: u64,
    pub lost: u64,
    pub duplicated: u64,
    /// Replies the server marks `unknown`: (body, the server's reason).
    pub unknown: Vec<(String, String)>,
    /// Replies the server marks failed that the provider never took (staff see the failure).
    pub failed_shown: u64,
    /// Deliveries (webhooks, reply posts) the server never accepted, however often retried.
    pub not_accepted: u64,
    /// Inbound messages stored although their sender never heard a 2xx (the answer was cut by a
    /// kill, or came after the sender gave up): not lost, and checked like any other.
    pub stored_unanswered: u64,
    /// Replies the server still holds queued to send when the check ran.
    pub in_flight: u64,
    /// Engines whose cursor is not the server's head.
    pub cursors_behind: u64,
    pub by_kind: BTreeMap<&'static str, u64>,
    /// One line per problem, for the report.
    pub problems: Vec<String>,
}

impl Findings {
    fn note(&mut self, kind: &'static str, what: String) {
        *self.by_kind.entry(kind).or_default() += 1;
        self.problems.push(format!("{kind}: {what}"));
    }

    /// Whether the engines are at the server's head and every delivery was accepted; with
    /// `replies_too`, also no reply is still queued to send.
    pub fn quiet(&self, replies_too: bool) -> bool {
        self.not_accepted == 0 && self.cursors_behind == 0 && (!replies_too || self.in_flight == 0)
    }

    /// The figures that say whether anything still moves (two equal checks a second apart
    /// mean the system is at rest).
    pub fn figures(&self) -> (u64, u64, u64, u64, usize, u64) {
        (
            self.lost,
            self.duplicated,
            self.inbound_ok,
            self.replies_once,
            self.unknown.len(),
            self.in_flight,
        )
    }

    pub fn to_json(&self) -> Value {
        json!({
            "inbound_ok": self.inbound_ok,
            "replies_delivered_once": self.replies_once,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "replies_unknown": self.unknown.len(),
            "unknown": self.unknown.iter().map(|(b, why)| json!({ "body": b, "why": why })).collect::<Vec<_>>(),
            "replies_failed_shown_to_staff": self.failed_shown,
            "never_accepted": self.not_accepted,
            "inbound_stored_without_a_2xx": self.stored_unanswered,
            "replies_still_queued": self.in_flight,
            "cursors_behind": self.cursors_behind,
            "by_kind": self.by_kind,
            "problems": self.problems,
        })
    }
}

/// Statuses a reply holds while the server still owes it a send.
const IN_FLIGHT: &[&str] = &["pending", "queued", "sending"];
/// Statuses that claim the provider took the reply.
const SENT: &[&str] = &["sent", "delivered", "read", "undelivered"];

/// Checks the ledger against the server (`stored`, by body), the providers (`provided`: how many
/// sends each body had) and the engines, whose cursors must equal `head`.
pub fn check(
    inbound: &[Inbound],
    replies: &[Reply],
    stored: &[Stored],
    provided: &HashMap<String, u64>,
    engines: &[Cached],
    head: i64,
) -> Findings {
    let mut f = Findings::default();
    let mut by_body: HashMap<&str, Vec<&Stored>> = HashMap::new();
    for s in stored {
        by_body.entry(s.body.as_str()).or_default().push(s);
    }
    let copies = |body: &str| by_body.get(body).map_or(0, Vec::len) as u64;
    // In each engine: (missing, doubled) for one body that the server holds `on_server` times.
    let in_engines = |f: &mut Findings, body: &str, on_server: u64, what: &str| {
        let (mut lost, mut doubled) = (false, false);
        for (i, e) in engines.iter().enumerate() {
            let n = e.bodies.get(body).copied().unwrap_or(0);
            if n == 0 && on_server > 0 {
                f.note(
                    "missing from an engine's cache",
                    format!("{what} {body:?} (engine {i})"),
                );
                lost = true;
            } else if n > 1 {
                f.note(
                    "doubled in an engine's cache",
                    format!("{what} {body:?} x{n} (engine {i})"),
                );
                doubled = true;
            }
        }
        (lost, doubled)
    };
    for m in inbound {
        // What the server stored counts, whatever its sender heard: the garage has the message.
        if (m.answered_5xx || !m.accepted) && copies(&m.body) > 0 {
            f.stored_unanswered += 1;
        } else if m.answered_5xx {
            f.note(
                "inbound SMS answered 5xx (Twilio does not retry: lost)",
                format!("{:?}", m.body),
            );
            f.lost += 1;
            continue;
        } else if !m.accepted {
            f.note(
                "inbound never accepted by the server",
                format!("{:?}", m.body),
            );
            f.not_accepted += 1;
            continue;
        }
        let n = copies(&m.body);
        let (mut lost, mut doubled) = (n == 0, n > 1);
        if n == 0 {
            f.note(
                "inbound accepted (2xx) but not stored",
                format!(
                    "{:?} {} {} from {}",
                    m.body, m.channel, m.provider_id, m.from
                ),
            );
        } else if n > 1 {
            f.note(
                "inbound stored twice",
                format!("{:?} x{n} {}", m.body, m.provider_id),
            );
        }
        let (l, d) = in_engines(&mut f, &m.body, n, "inbound");
        lost |= l;
        doubled |= d;
        f.lost += u64::from(lost);
        f.duplicated += u64::from(doubled);
        if !lost && !doubled {
            f.inbound_ok += 1;
        }
    }
    for r in replies {
        if !r.accepted {
            f.note(
                "reply never accepted by the server",
                format!("{:?}", r.body),
            );
            f.not_accepted += 1;
            continue;
        }
        let rows = by_body.get(r.body.as_str()).cloned().unwrap_or_default();
        let sends = provided.get(&r.body).copied().unwrap_or(0);
        let (mut lost, mut doubled) = (false, false);
        if rows.len() > 1 {
            f.note(
                "reply stored twice",
                format!("{:?} client_id {}", r.body, r.client_id),
            );
            doubled = true;
        }
        if sends > 1 {
            f.note(
                "reply sent to the provider more than once",
                format!("{:?} x{sends} on {}", r.body, r.channel),
            );
            doubled = true;
        }
        match rows.first() {
            None => {
                f.note(
                    "reply accepted (2xx) but not stored",
                    format!("{:?} in conversation {}", r.body, r.conversation_id),
                );
                lost = true;
            }
            Some(s) if s.status == "unknown" => {
                if sends > 1 {
                    // Counted as a duplicate above.
                } else {
                    let why = s.error.clone().unwrap_or_else(|| "no reason given".into());
                    f.unknown.push((r.body.clone(), why));
                }
            }
            Some(s) if IN_FLIGHT.contains(&s.status.as_str()) => {
                if sends > 0 {
                    f.note(
                        "reply taken by the provider but still queued to send",
                        format!("{:?} {}", r.body, s.status),
                    );
                }
                f.in_flight += 1;
            }
            Some(s) if s.status == "failed" => {
                if sends > 0 {
                    f.note(
                        "reply shown failed but the provider took it (a resend doubles it)",
                        format!("{:?} {}", r.body, s.error.clone().unwrap_or_default()),
                    );
                    doubled = true;
                } else {
                    f.failed_shown += 1;
                }
            }
            Some(s) if SENT.contains(&s.status.as_str()) && sends == 0 => {
                f.note(
                    "reply marked sent but the provider never took it",
                    format!("{:?} {}", r.body, s.status),
                );
                lost = true;
            }
            Some(_) => {}
        }
        let (l, d) = in_engines(&mut f, &r.body, rows.len() as u64, "reply");
        lost |= l;
        doubled |= d;
        f.lost += u64::from(lost);
        f.duplicated += u64::from(doubled);
        if !lost && !doubled && sends == 1 {
            f.replies_once += 1;
        }
    }
    for (i, e) in engines.iter().enumerate() {
        if e.cursor != Some(head) {
            f.cursors_behind += 1;
            f.problems.push(format!(
                "engine {i} cursor {:?}, server head {head}",
                e.cursor
            ));
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbound(body: &str) -> Inbound {
        Inbound {
            body: body.into(),
            channel: "sms",
            from: "+447700955001".into(),
            provider_id: format!("SM{body}"),
            accepted: true,
            answered_5xx: false,
        }
    }

    fn reply(body: &str) -> Reply {
        Reply {
            body: body.into(),
            client_id: format!("c-{body}"),
            conversation_id: 1,
            channel: "sms",
            accepted: true,
        }
    }

    fn stored(body: &str, status: &str) -> Stored {
        Stored {
            body: body.into(),
            status: status.into(),
            error: None,
        }
    }

    fn engine(cursor: i64, bodies: &[&str]) -> Cached {
        let mut c = Cached {
            cursor: Some(cursor),
            ..Cached::default()
        };
        for b in bodies {
            *c.bodies.entry(b.to_string()).or_default() += 1;
        }
        c
    }

    #[test]
    fn a_clean_run_finds_nothing() {
        let provided = HashMap::from([("r1".to_string(), 1)]);
        let f = check(
            &[inbound("i1")],
            &[reply("r1")],
            &[stored("i1", "received"), stored("r1", "delivered")],
            &provided,
            &[engine(9, &["i1", "r1"]), engine(9, &["i1", "r1"])],
            9,
        );
        assert_eq!(
            (f.lost, f.duplicated, f.inbound_ok, f.replies_once),
            (0, 0, 1, 1)
        );
        assert!(f.quiet(true), "{:?}", f.problems);
    }

    #[test]
    fn losses_and_duplicates_are_counted_per_message_by_kind() {
        let provided = HashMap::from([("r1".to_string(), 2), ("r3".to_string(), 1)]);
        let f = check(
            &[inbound("i1"), inbound("i2"), inbound("i3")],
            &[reply("r1"), reply("r2"), reply("r3")],
            &[
                stored("i2", "received"),
                stored("i3", "received"),
                stored("i3", "received"),
                stored("r1", "delivered"),
                stored("r2", "sent"),
                stored("r3", "failed"),
            ],
            &provided,
            &[
                engine(7, &["i2", "i3", "i3", "r1", "r2", "r3"]),
                engine(6, &["i3", "r1", "r2", "r3"]),
            ],
            7,
        );
        // i1 not stored, i2 missing from engine 1, r2 never reached the provider.
        assert_eq!(f.lost, 3, "{:?}", f.problems);
        let mut dropped = inbound("i4");
        (dropped.accepted, dropped.answered_5xx) = (false, true);
        let g = check(&[dropped.clone()], &[], &[], &HashMap::new(), &[], 0);
        assert_eq!(
            g.lost, 1,
            "an SMS answered 5xx is lost, not merely unaccepted"
        );
        // Stored although its sender never heard a 2xx: the garage has it, once.
        let mut unanswered = inbound("i5");
        unanswered.accepted = false;
        let h = check(
            &[dropped, unanswered],
            &[],
            &[stored("i4", "received"), stored("i5", "received")],
            &HashMap::new(),
            &[engine(2, &["i4", "i5"])],
            2,
        );
        assert_eq!(
            (h.lost, h.not_accepted, h.stored_unanswered),
            (0, 0, 2),
            "{:?}",
            h.problems
        );
        assert_eq!(h.inbound_ok, 2);
        // i3 stored twice, r1 sent twice, r3 failed although the provider took it.
        assert_eq!(f.duplicated, 3, "{:?}", f.problems);
        assert_eq!(f.by_kind["reply sent to the provider more than once"], 1);
        assert_eq!(f.cursors_behind, 1);
        assert!(!f.quiet(false));
    }

    #[test]
    fn unknown_failed_and_queued_replies_are_counted_apart() {
        let mut u = stored("r1", "unknown");
        u.error = Some("the server stopped while the provider had it".into());
        let f = check(
            &[],
            &[reply("r1"), reply("r2"), reply("r3")],
            &[u, stored("r2", "failed"), stored("r3", "pending")],
            &HashMap::new(),
            &[engine(3, &["r1", "r2", "r3"])],
            3,
        );
        assert_eq!((f.lost, f.duplicated), (0, 0));
        assert_eq!(f.unknown.len(), 1);
        assert_eq!(f.failed_shown, 1);
        assert_eq!(f.in_flight, 1);
        assert!(f.quiet(false) && !f.quiet(true));
    }
}
