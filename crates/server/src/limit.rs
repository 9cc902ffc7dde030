//! In-memory keyed limiters with bounded memory (issue 13): [`Backoff`] counts failures per key
//! and blocks a key with exponential back-off (sign-in), [`RateLimiter`] is a token bucket per key
//! (portal posts), [`ConnectionSlots`] caps open connections per key (sync sockets per user).
//! The first two forget idle keys and never hold more than their key limit, evicting the stalest
//! key when full. State is per process: each server instance limits on its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Whole seconds to wait, at least 1 (the `Retry-After` a client is told).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// Inserts `key` if there is room, first dropping entries `stale` says are no longer needed,
/// then the one with the oldest `last_seen` if the map is still full.
fn make_room<V>(
    map: &mut HashMap<String, V>,
    max_keys: usize,
    stale: impl Fn(&V) -> bool,
    last_seen: impl Fn(&V) -> Instant,
) {
    if map.len() < max_keys {
        return;
    }
    map.retain(|_, v| !stale(v));
    if map.len() >= max_keys {
        if let Some(oldest) = map
            .iter()
            .min_by_key(|(_, v)| last_seen(v))
            .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
    }
}

/// Failures per key: `free` failures cost nothing; from the `free`-th on, each failure blocks the
/// key for `base × 2^(failures − free)`, at most `max`. A key with no failure for `forget` after
/// its block ends starts again from zero; a success clears it at once.
pub struct Backoff {
    pub free: u32,
    pub base: Duration,
    pub max: Duration,
    pub forget: Duration,
    pub max_keys: usize,
    entries: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Instant,
}

impl Failures {
    fn expired(&self, now: Instant, forget: Duration) -> bool {
        now >= self.blocked_until.max(self.last) + forget
    }
}

impl Backoff {
    pub fn new(free: u32, base: Duration, max: Duration, forget: Duration) -> Backoff {
        Backoff {
            free,
            base,
            max,
            forget,
            max_keys: 65_536,
            entries: Mutex::default(),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        // The map holds counters only; a panic elsewhere leaves nothing inconsistent.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long the key must still wait, if it is blocked.
    pub fn blocked(&self, key: &str, now: Instant) -> Option<Duration> {
        let entries = self.entries();
        let f = entries.get(key)?;
        (f.blocked_until > now).then(|| f.blocked_until - now)
    }

    /// Counts a failure; returns the block it starts, if any.
    pub fn fail(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut entries = self.entries();
        if !entries.contains_key(key) {
            let forget = self.forget;
            make_room(
                &mut entries,
                self.max_keys,
                |f| f.expired(now, forget),
                |f| f.last,
            );
        }
        let f = entries.entry(key.to_string()).or_insert(Failures {
            count: 0,
            last: now,
            blocked_until: now,
        });
        if f.expired(now, self.forget) {
            f.count = 0;
        }
        f.count = f.count.saturating_add(1);
        f.last = now;
        if f.count < self.free {
            return None;
        }
        let doublings = (f.count - self.free).min(30);
        let wait = self.base.saturating_mul(1 << doublings).min(self.max);
        f.blocked_until = now + wait;
        Some(wait)
    }

    pub fn succeed(&self, key: &str) {
        self.entries().remove(key);
    }

    pub fn keys(&self) -> usize {
        self.entries().len()
    }
}

/// A token bucket per key: `burst` at once, then one more every `every`.
pub struct RateLimiter {
    pub burst: u32,
    pub every: Duration,
    pub max_keys: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(burst: u32, every: Duration) -> RateLimiter {
        RateLimiter {
            burst,
            every,
            max_keys: 65_536,
            buckets: Mutex::default(),
        }
    }

    /// Takes one token, or says how long until one is free.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (burst, every) = (f64::from(self.burst), self.every.as_secs_f64());
        let refill = |b: &Bucket| {
            (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() / every).min(burst)
        };
        if !buckets.contains_key(key) {
            make_room(
                &mut buckets,
                self.max_keys,
                |b| refill(b) >= burst,
                |b| b.at,
            );
        }
        let b = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = refill(&*b);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) * every))
        }
    }
}

/// Open connections per key (WebSocket connections per user): a slot is held while the
/// connection lives and given back when its [`Slot`] is dropped. Keys with no open connection
/// are removed, so memory follows what is open.
pub struct ConnectionSlots {
    pub max_per_key: usize,
    open: Arc<Mutex<HashMap<i64, usize>>>,
}

/// One open connection's place; dropping it frees the place.
pub struct Slot {
    key: i64,
    open: Arc<Mutex<HashMap<i64, usize>>>,
}

impl ConnectionSlots {
    pub fn new(max_per_key: usize) -> ConnectionSlots {
        ConnectionSlots {
            max_per_key,
            open: Arc::default(),
        }
    }

    /// A slot, or None when the key already has `max_per_key` open.
    pub fn try_take(&self, key: i64) -> Option<Slot> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(key).or_default();
        if *n >= self.max_per_key {
            return None;
        }
        *n += 1;
        Some(Slot {
            key,
            open: Arc::clone(&self.open),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_free_then_doubles_and_resets_on_success() {
        let b = Backoff::new(
            5,
            Duration::from_secs(1),
            Duration::from_secs(8),
            Duration::from_secs(60),
        );
        let t = Instant::now();
        for _ in 0..4 {
            assert_eq!(b.fail("a", t), None);
        }
        assert_eq!(b.fail("a", t), Some(Duration::from_secs(1)));
        assert_eq!(b.blocked("a", t), Some(Duration::from_secs(1)));
        assert_eq!(b.blocked("a", t + Duration::from_secs(1)), None);
        assert_eq!(b.fail("a", t), Some(Duration::from_secs(2)));
        for _ in 0..10 {
            b.fail("a", t);
        }
        assert_eq!(b.blocked("a", t), Some(Duration::from_secs(8)), "capped");
        assert_eq!(b.blocked("b", t), None, "per key");
        b.succeed("a");
        assert_eq!(b.blocked("a", t), None);
        assert_eq!(b.fail("a", t), None, "a success starts again from zero");
    }

    #[test]
    fn backoff_forgets_idle_keys_and_bounds_its_memory() {
        let mut b = Backoff::new(
            2,
            Duration::from_secs(1),
            Duration::from_secs(1),
            Duration::from_secs(10),
        );
        b.max_keys = 100;
        let t = Instant::now();
        b.fail("a", t);
        b.fail("a", t + Duration::from_secs(20));
        assert_eq!(
            b.blocked("a", t + Duration::from_secs(20)),
            None,
            "the first failure was forgotten"
        );
        for i in 0..1_000 {
            b.fail(&format!("k{i}"), t + Duration::from_millis(i));
        }
        assert!(b.keys() <= 100);
    }

    #[test]
    fn rate_limiter_allows_a_burst_then_one_per_interval() {
        let r = RateLimiter::new(3, Duration::from_secs(10));
        let t = Instant::now();
        for _ in 0..3 {
            assert_eq!(r.take("x", t), Ok(()));
        }
        let wait = r.take("x", t).unwrap_err();
        assert_eq!(retry_after_secs(wait), 10);
        assert_eq!(r.take("y", t), Ok(()), "per key");
        assert_eq!(r.take("x", t + Duration::from_secs(10)), Ok(()));
        assert!(r.take("x", t + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn connection_slots_are_capped_per_key_and_given_back() {
        let slots = ConnectionSlots::new(2);
        let (a, b) = (slots.try_take(1).unwrap(), slots.try_take(1).unwrap());
        assert!(slots.try_take(1).is_none());
        assert!(slots.try_take(2).is_some(), "per key");
        drop(a);
        let c = slots.try_take(1).expect("a freed slot is reusable");
        drop((b, c));
        assert!(slots.open.lock().unwrap().is_empty());
    }
}
