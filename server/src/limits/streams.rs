//! Caps on open event streams (`GET /v1/stream/{env}`): per SDK key and per server.
//!
//! A stream holds a socket, a task and about 17 KiB for as long as its client likes.
//! Without a cap, one leaked key (or a client that opens a stream per request and never
//! closes them) could open streams until the process ran out of descriptors or memory,
//! and every other client, and the admin API, with it. A stream is only a hint to
//! fetch sooner: an SDK refused one keeps polling the snapshot, so a cap delays
//! updates for the clients over it and never cuts them off.
//!
//! Refusals are logged at `warn`, once a minute for each key (and once a minute for the
//! server's cap), saying how many were left out: a fleet retrying against a full cap
//! would otherwise write a line per attempt.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How often a refusal of one key (or of the server's cap) is logged at most.
const WARN_INTERVAL: Duration = Duration::from_secs(60);

/// The open streams, and the caps they are held to.
pub(crate) struct StreamCaps {
    per_key: usize,
    per_server: usize,
    open: Arc<Mutex<Open>>,
    warnings: Mutex<Warnings>,
}

/// Streams open now.
#[derive(Default)]
struct Open {
    total: usize,
    /// By SHA-256 of the SDK key; a key with none open has no entry.
    by_key: HashMap<[u8; 32], usize>,
}

/// Why a stream was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamRefusal {
    /// The key has this many open, its cap (`--max-streams-per-key`).
    Key { limit: usize },
    /// The server has this many open, its cap (`--max-streams`).
    Server { limit: usize },
}

/// One open stream, counted until it is dropped (the stream ended, or its client left).
pub(crate) struct StreamPermit {
    open: Arc<Mutex<Open>>,
    key: [u8; 32],
}

impl StreamCaps {
    /// Caps of `per_key` streams for each key and `per_server` in all.
    pub(crate) fn new(per_key: usize, per_server: usize) -> StreamCaps {
        StreamCaps { per_key, per_server, open: Arc::default(), warnings: Mutex::default() }
    }

    /// Counts a new stream of `key` (an SDK key's SHA-256), unless a cap is reached. A
    /// key at its cap is told so even when the server is full too: it is the one thing
    /// its owner can act on.
    pub(crate) fn try_open(&self, key: [u8; 32]) -> Result<StreamPermit, StreamRefusal> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let of_key = open.by_key.get(&key).copied().unwrap_or(0);
        if of_key >= self.per_key {
            return Err(StreamRefusal::Key { limit: self.per_key });
        }
        if open.total >= self.per_server {
            return Err(StreamRefusal::Server { limit: self.per_server });
        }
        open.total += 1;
        open.by_key.insert(key, of_key + 1);
        Ok(StreamPermit { open: Arc::clone(&self.open), key })
    }

    /// Streams open now: in all, and of `key`.
    #[cfg(test)]
    pub(crate) fn open(&self, key: &[u8; 32]) -> (usize, usize) {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        (open.total, open.by_key.get(key).copied().unwrap_or(0))
    }

    /// Whether a refusal for `key` is to be logged now, and if so how many refusals
    /// since the last line were not: the first refusal of a key (or of the server's
    /// cap) in [`WARN_INTERVAL`] is.
    pub(crate) fn to_log(&self, refusal: StreamRefusal, key: [u8; 32], now: Instant) -> Option<u64> {
        let mut warnings = self.warnings.lock().unwrap_or_else(PoisonError::into_inner);
        let quiet = match refusal {
            StreamRefusal::Key { .. } => {
                // Keys refused long ago are forgotten; only valid keys get this far, so
                // the map is bounded by the number of SDK keys anyway.
                if warnings.by_key.len() > 64 {
                    warnings.by_key.retain(|_, quiet| now.duration_since(quiet.since) < WARN_INTERVAL);
                }
                warnings.by_key.entry(key).or_insert(Quiet { since: now, unlogged: None })
            }
            StreamRefusal::Server { .. } => warnings.server.get_or_insert(Quiet { since: now, unlogged: None }),
        };
        quiet.next(now)
    }
}

/// When a refusal was last logged, for one key or for the server.
#[derive(Default)]
struct Warnings {
    by_key: HashMap<[u8; 32], Quiet>,
    server: Option<Quiet>,
}

/// The last logged refusal and the ones left out since.
struct Quiet {
    since: Instant,
    /// `None` until the first line is logged; then the refusals not logged since.
    unlogged: Option<u64>,
}

impl Quiet {
    /// Some(left out since the last line) when this refusal is to be logged.
    fn next(&mut self, now: Instant) -> Option<u64> {
        match self.unlogged {
            Some(unlogged) if now.duration_since(self.since) < WARN_INTERVAL => {
                self.unlogged = Some(unlogged + 1);
                None
            }
            previous => {
                *self = Quiet { since: now, unlogged: Some(0) };
                Some(previous.unwrap_or(0))
            }
        }
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(of_key) = open.by_key.get_mut(&self.key) {
            *of_key = of_key.saturating_sub(1);
            if *of_key == 0 {
                open.by_key.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_at_its_cap_is_refused_until_one_of_its_streams_ends() {
        let caps = StreamCaps::new(2, 3);
        let (a, b) = ([1; 32], [2; 32]);
        let first = caps.try_open(a).unwrap();
        let _second = caps.try_open(a).unwrap();
        assert_eq!(caps.try_open(a).err(), Some(StreamRefusal::Key { limit: 2 }));
        let _other = caps.try_open(b).unwrap();
        assert_eq!(caps.try_open(b).err(), Some(StreamRefusal::Server { limit: 3 }), "the server is full");
        assert_eq!(caps.try_open(a).err(), Some(StreamRefusal::Key { limit: 2 }), "the key's own cap first");
        drop(first);
        assert_eq!(caps.open(&a), (2, 1));
        let _again = caps.try_open(a).unwrap();
        assert_eq!(caps.open(&a), (3, 2));
    }

    #[test]
    fn every_stream_ended_leaves_nothing_counted() {
        let caps = StreamCaps::new(10, 10);
        let permits: Vec<_> = (0..5u8).map(|i| caps.try_open([i % 2; 32]).unwrap()).collect();
        assert_eq!(caps.open(&[0; 32]), (5, 3));
        drop(permits);
        assert_eq!(caps.open(&[0; 32]), (0, 0));
        assert!(caps.open.lock().unwrap().by_key.is_empty());
    }

    #[test]
    fn refusals_are_logged_once_a_minute_per_key_with_the_count_left_out() {
        let caps = StreamCaps::new(1, 1);
        let start = Instant::now();
        let key = StreamRefusal::Key { limit: 1 };
        assert_eq!(caps.to_log(key, [1; 32], start), Some(0));
        assert_eq!(caps.to_log(key, [1; 32], start + Duration::from_secs(1)), None);
        assert_eq!(caps.to_log(key, [1; 32], start + Duration::from_secs(59)), None);
        assert_eq!(caps.to_log(key, [2; 32], start + Duration::from_secs(2)), Some(0), "another key has its own");
        let server = StreamRefusal::Server { limit: 1 };
        assert_eq!(caps.to_log(server, [3; 32], start), Some(0));
        assert_eq!(caps.to_log(server, [4; 32], start + Duration::from_secs(3)), None, "one line for the server");
        assert_eq!(caps.to_log(key, [1; 32], start + Duration::from_secs(60)), Some(2));
        assert_eq!(caps.to_log(key, [1; 32], start + Duration::from_secs(61)), None);
    }
}
