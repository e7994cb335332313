//! How often one SDK key may post telemetry: a token bucket per key, held in memory by
//! each instance.
//!
//! A key gets `per_minute` reports a minute on average, in bursts of up to
//! `per_minute`. Past that it is answered 429 with `Retry-After`, and the SDK keeps its
//! counts and sends them with its next report: the limit sheds load without losing
//! counts. It is per key, not per address, because a client key is shared by every
//! browser of an application and many may sit behind one address.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Keys held before full buckets are forgotten (a full bucket is what a key that has
/// not posted lately would get anyway).
const FORGET_ABOVE: usize = 10_000;

/// The buckets of every key that posted lately.
pub(crate) struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<[u8; 32], Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// A limiter of `per_minute` reports a minute per key (at least 1).
    pub(crate) fn new(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute: per_minute.max(1), buckets: Mutex::default() }
    }

    /// Takes one report from key `hash`'s bucket at `now`, or says how long until one
    /// is there.
    pub(crate) fn take(&self, hash: [u8; 32], now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() > FORGET_ABOVE {
            buckets.retain(|_, b| b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_second < capacity);
        }
        let bucket = buckets.entry(hash).or_insert(Bucket { tokens: capacity, at: now });
        let refill = now.saturating_duration_since(bucket.at).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refill).min(capacity);
        bucket.at = bucket.at.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
    }
}

/// `Retry-After` for a wait: whole seconds, rounded up, at least 1.
pub(crate) fn retry_after_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

#[cfg(test)]
mod tests {
    use super::{retry_after_seconds, RateLimiter};
    use std::time::{Duration, Instant};

    #[test]
    fn a_burst_then_one_report_per_interval() {
        let limiter = RateLimiter::new(6); // one every 10 s, bursts of 6
        let start = Instant::now();
        for _ in 0..6 {
            assert_eq!(limiter.take([1; 32], start), Ok(()));
        }
        let wait = limiter.take([1; 32], start).unwrap_err();
        assert_eq!(retry_after_seconds(wait), 10);
        // Another key has its own bucket.
        assert_eq!(limiter.take([2; 32], start), Ok(()));
        // Four seconds on, six more to wait; ten on, one report.
        assert_eq!(retry_after_seconds(limiter.take([1; 32], start + Duration::from_secs(4)).unwrap_err()), 6);
        assert_eq!(limiter.take([1; 32], start + Duration::from_secs(10)), Ok(()));
        assert!(limiter.take([1; 32], start + Duration::from_secs(10)).is_err());
        // A long pause refills the bucket to its size, not beyond.
        let later = start + Duration::from_secs(3600);
        for _ in 0..6 {
            assert_eq!(limiter.take([1; 32], later), Ok(()));
        }
        assert!(limiter.take([1; 32], later).is_err());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(3)), 3);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
    }
}
