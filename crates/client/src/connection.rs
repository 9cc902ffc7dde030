//! The connection's states as the UI shows them (RT-2): connecting → live → reconnecting (backoff
//! with jitter, 1 s up to 30 s) → paused once 60 s pass without a connection (the amber banner)
//! → live again. Signed out when the server no longer accepts the session.

use std::time::Duration;

use rand::Rng;

pub use inbox_core::desktop::ConnectionState;

/// Retry delays: exponential from `min` to `max`, each drawn between half and all of it so a
/// front desk's worth of desktops does not reconnect in step after an outage.
#[derive(Debug, Clone)]
pub struct Backoff {
    pub min: Duration,
    pub max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            min,
            max,
            attempt: 0,
        }
    }

    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let ceiling = self
            .min
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        half + Duration::from_millis(rng.gen_range(0..=half.as_millis() as u64))
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(30))
    }
}

/// The state to show after a failed attempt, given how long we have been without a connection.
pub fn after_failure(
    attempt: u32,
    retry_in: Duration,
    offline_for: Duration,
    pause_after: Duration,
) -> ConnectionState {
    let retry_in_ms = retry_in.as_millis() as u64;
    if offline_for >= pause_after {
        ConnectionState::Paused {
            offline_for_secs: offline_for.as_secs(),
            retry_in_ms,
        }
    } else {
        ConnectionState::Reconnecting {
            attempt,
            retry_in_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    #[test]
    fn backoff_grows_from_one_second_to_thirty_with_jitter() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut b = Backoff::default();
        let ceilings = [1, 2, 4, 8, 16, 30, 30, 30];
        for c in ceilings {
            let d = b.next_delay(&mut rng);
            let ceiling = Duration::from_secs(c);
            assert!(
                d >= ceiling / 2 && d <= ceiling,
                "{d:?} for ceiling {ceiling:?}"
            );
        }
        b.reset();
        assert!(b.next_delay(&mut rng) <= Duration::from_secs(1));
    }

    #[test]
    fn rt2_paused_after_a_minute_without_connection() {
        let s = after_failure(
            3,
            Duration::from_secs(4),
            Duration::from_secs(59),
            Duration::from_secs(60),
        );
        assert_eq!(
            s,
            ConnectionState::Reconnecting {
                attempt: 3,
                retry_in_ms: 4000
            }
        );
        let s = after_failure(
            7,
            Duration::from_secs(30),
            Duration::from_secs(61),
            Duration::from_secs(60),
        );
        assert!(s.shows_paused_banner());
    }

    proptest! {
        #[test]
        fn backoff_never_exceeds_max(seed in any::<u64>(), attempts in 1usize..200) {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let mut b = Backoff::default();
            for _ in 0..attempts {
                let d = b.next_delay(&mut rng);
                prop_assert!(d <= Duration::from_secs(30) && d >= Duration::from_millis(500));
            }
        }
    }
}
