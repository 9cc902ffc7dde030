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
    pub to: String,
    /// The text, or `template:<name>`.
    pub body: String,
    /// The final status the simulator reported (`delivered`, `read`, `undelivered`, `failed`),
    /// once its callbacks have gone out.
    pub final_status: Option<String>,
}

/// How many sends are remembered.
const SENT_KEPT: usize = 1000;

pub struct Sim {
    pub config: SimConfig,
    pub summary: Summary,
    pub poster: Poster,
    rng: Mutex<StdRng>,
    /// The failure rate as f64 bits, changeable while running.
    failure_rate: AtomicU64,
    sent: Mutex<Vec<Sent>>,
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
            sent: Mutex::new(Vec::new()),
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
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if sent.len() >= SENT_KEPT {
            sent.remove(0);
        }
        sent.push(s);
    }

    pub(crate) fn record_final(&self, id: &str, status: &str) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = sent.iter_mut().rev().find(|s| s.id == id) {
            s.final_status = Some(status.to_string());
        }
    }

    /// The sends the fake APIs accepted, oldest first (the last thousand).
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
