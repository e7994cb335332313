//! Exponential backoff and jitter.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::time::Duration;

/// Delays after consecutive failures: `initial`, doubling up to `max`, each jittered.
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    jitter: f64,
    failures: u32,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration, jitter: f64) -> Backoff {
        Backoff { initial, max, jitter, failures: 0 }
    }

    /// The delay before the next attempt after one more failure.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let factor = 1u32 << self.failures.min(20);
        self.failures = self.failures.saturating_add(1);
        let delay = self.initial.checked_mul(factor).map_or(self.max, |delay| delay.min(self.max));
        jittered(delay, self.jitter)
    }

    /// After a success, the next failure starts from `initial` again.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

/// `delay` shortened by a random fraction up to `jitter`: never longer than asked, and
/// a fleet of clients spreads out instead of polling in lockstep.
pub(crate) fn jittered(delay: Duration, jitter: f64) -> Duration {
    delay.mul_f64(1.0 - jitter * random_unit())
}

/// A uniform random number in `[0, 1)`. Jitter needs spread, not secrecy: std's
/// per-instance random hasher keys are enough, and no RNG crate is needed.
fn random_unit() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0x5eed);
    // 53 random bits make an exact f64 fraction.
    let bits = hasher.finish() >> 11;
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_and_resets() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(350), 0.0);
        let delays: Vec<_> = (0..4).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, [100, 200, 350, 350]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(100));
    }

    #[test]
    fn jitter_only_shortens_and_spreads() {
        let delays: Vec<_> = (0..200).map(|_| jittered(Duration::from_secs(10), 0.5)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(10) && *d >= Duration::from_secs(5)));
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() > 100, "jitter must vary between calls");
    }
}
