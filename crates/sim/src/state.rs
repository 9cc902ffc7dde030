//! What the simulator's parts share: the configuration, the seed summary (accounts and tokens),
//! the poster that reaches the server, the providers' random source, and a record of what the
//! fake send APIs accepted (for tests and for a look at a running simulator).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::callbacks::Poster;
use crate::config::SimConfig;
use crate::random;
use crate::summary::Summary;

/// A send the fake APIs took, and where its status went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// `twilio` or `whatsapp`.
    pub provider: &'static str,
    /// `SM…` or `wamid.…`.
    pub id: String,
    /// The Twilio account that sent it (empty for WhatsApp).
    pub account: String,
    pub from: String,
    pub to: String,
    /// When the provider took it.
    pub at: chrono::DateTime<chrono::Utc>,
    /// The text, or `template:<name>`.
    pub body: String,
    /// The final status the simulator reported (`delivered`, `read`, `undelivered`, `failed`),
    /// once its callbacks have gone out.
    pub final_status: Option<String>,
    /// Where it stands now, as the provider's lookup reports it (`queued`, `sent`, …).
    pub status: String,
    /// The error code of a failed send, for the lookup.
    pub error_code: Option<String>,
    /// The files it carried, as the simulator received them: `image/png 1234 bytes`.
    pub media: Vec<String>,
}

/// How many sends are remembered (for lookups and lists): more than a fault campaign sends.
const SENT_KEPT: usize = 20_000;

pub struct Sim {
    pub config: SimConfig,
    pub summary: Summary,
    pub poster: Poster,
    rng: Mutex<StdRng>,
    /// The failure rate as f64 bits, changeable while running.
    failure_rate: AtomicU64,
    sent: Mutex<std::collections::VecDeque<Sent>>,
    /// Every send the fake APIs accepted since start (provider, id, body), never trimmed: what
    /// `GET /sim/sent` answers, so a fault campaign can count each reply's deliveries.
    ledger: Mutex<Vec<(String, String, String)>>,
    /// The fault the next sends meet, and how many more sends meet it.
    fault: Mutex<(SendFault, u32)>,
    /// Files uploaded to the fake WhatsApp media endpoint: media id → `type size bytes`.
    pub(crate) uploads: Mutex<std::collections::HashMap<String, String>>,
    /// How many sends met each fault since start (`GET /sim/faults`): what a campaign injected,
    /// as opposed to what it armed.
    met: Mutex<std::collections::BTreeMap<SendFault, u64>>,
}

/// What a fake send API does to a send instead of answering at once (set through
/// `POST /sim/faults`; see [`crate::admin`]).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SendFault {
    /// Answer at once (no fault).
    None,
    /// Refuse with a 503 before taking the send: nothing is sent.
    Error,
    /// Take the send, then answer only after the server's 20 s timeout: the send went out but
    /// the server never hears so (the ambiguous case).
    Timeout,
    /// Take the send and answer after a few seconds.
    Slow,
}

impl Sim {
    pub fn new(config: SimConfig, summary: Summary) -> Arc<Sim> {
        let poster = Poster::new(
            &config.server,
            &config.public_url,
            config.app_secret.clone(),
        );
        Arc::new(Sim {
            // The providers' randomness is seeded apart from the customers', so a run's customer
            // traffic does not depend on how many replies the server sent.
            rng: Mutex::new(StdRng::seed_from_u64(config.seed ^ 0x70_7276_6964_6572)),
            failure_rate: AtomicU64::new(config.failure_rate.to_bits()),
            sent: Mutex::new(std::collections::VecDeque::new()),
            ledger: Mutex::new(Vec::new()),
            fault: Mutex::new((SendFault::None, 0)),
            met: Mutex::default(),
            uploads: Mutex::default(),
            poster,
            summary,
            config,
        })
    }

    fn rng(&self) -> MutexGuard<'_, StdRng> {
        self.rng.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A provider delay.
    pub fn delay(&self) -> Duration {
        random::delay(&mut *self.rng(), &self.config.delays)
    }

    /// Runs `f` with the providers' RNG.
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        f(&mut self.rng())
    }

    /// Whether the next outbound message fails (with probability `failure_rate`).
    pub fn next_fails(&self) -> bool {
        let p = self.failure_rate();
        p > 0.0 && self.rng().gen_bool(p.min(1.0))
    }

    pub fn failure_rate(&self) -> f64 {
        f64::from_bits(self.failure_rate.load(Ordering::Relaxed))
    }

    /// Changes the share of failing sends (clamped to 0..=1).
    pub fn set_failure_rate(&self, p: f64) {
        let p = if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.failure_rate.store(p.to_bits(), Ordering::Relaxed);
    }

    pub(crate) fn record_sent(&self, s: Sent) {
        let mut body = s.body.clone();
        for m in &s.media {
            body.push_str(&format!(" [media {m}]"));
        }
        self.ledger.lock().unwrap_or_else(|e| e.into_inner()).push((
            s.provider.to_string(),
            s.id.clone(),
            body,
        ));
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if sent.len() >= SENT_KEPT {
            sent.pop_front();
        }
        sent.push_back(s);
    }

    /// A status a send reached (and, on failure, its error code).
    pub(crate) fn record_status(&self, id: &str, status: &str, error_code: Option<&str>) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = sent.iter_mut().rev().find(|s| s.id == id) {
            s.status = status.to_string();
            s.error_code = error_code.map(str::to_string);
        }
    }

    /// A send of `provider` with this id, as it stands now.
    /// What `provider` sent from `account` to `to`, newest first (Twilio's message list).
    pub fn sent_to(&self, provider: &str, account: &str, to: &str) -> Vec<Sent> {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.iter()
            .rev()
            .filter(|s| s.provider == provider && s.account == account && s.to == to)
            .cloned()
            .collect()
    }

    pub fn sent_one(&self, provider: &str, id: &str) -> Option<Sent> {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.iter()
            .rev()
            .find(|s| s.provider == provider && s.id == id)
            .cloned()
    }

    pub(crate) fn record_final(&self, id: &str, status: &str) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = sent.iter_mut().rev().find(|s| s.id == id) {
            s.final_status = Some(status.to_string());
        }
    }

    /// Every send accepted since start, oldest first: `(provider, id, body)`.
    pub fn ledger(&self) -> Vec<(String, String, String)> {
        self.ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Makes the next `count` sends meet `fault` (`count` 0 or [`SendFault::None`] clears it).
    pub fn set_fault(&self, fault: SendFault, count: u32) {
        *self.fault.lock().unwrap_or_else(|e| e.into_inner()) = (fault, count);
    }

    /// The fault the send being handled meets (and one fewer send meets it after this).
    pub fn take_fault(&self) -> SendFault {
        let mut f = self.fault.lock().unwrap_or_else(|e| e.into_inner());
        if f.1 == 0 {
            return SendFault::None;
        }
        f.1 -= 1;
        *self
            .met
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(f.0)
            .or_default() += 1;
        f.0
    }

    /// How many sends met each fault since start.
    pub fn faults_met(&self) -> std::collections::BTreeMap<SendFault, u64> {
        self.met.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The sends the fake APIs accepted, oldest first (the last thousand).
    pub fn sent(&self) -> Vec<Sent> {
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}
