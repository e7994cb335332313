//! Evaluations of keys the served snapshot lacks (`FLAG_NOT_FOUND`), counted per key.
//!
//! The keys come from callers, so they are bounded: at most [`MAX_NOT_FOUND_KEYS`]
//! distinct keys per window, and the rest (and keys no flag can have) summed apart. An
//! evaluation of a key already counted in this window loads the map and adds to an
//! atomic, without a lock; the first of a key in a window takes a lock and copies the
//! map, which happens at most [`MAX_NOT_FOUND_KEYS`] times a window.
//!
//! Taking the counts starts a new window: the map is replaced by an empty one, and each
//! old counter is swapped to [`RETIRED`], which reads its count in the same step. An
//! evaluation that adds to a counter already retired sees the mark in what `fetch_add`
//! returns and counts again in the new map, so none is lost or counted twice.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use rustc_hash::FxHashMap;

/// Distinct keys counted by name in one window.
pub(crate) const MAX_NOT_FOUND_KEYS: usize = 1_000;

/// The longest key reported by name: the control plane's longest flag key.
const MAX_KEY_LEN: usize = 128;

/// Marks a counter taken: its map is no longer current.
const RETIRED: u64 = 1 << 63;

/// Evaluations of keys no served snapshot has, by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFoundCount {
    /// The key asked for; `None` sums the keys past the bound of 1,000 distinct keys a
    /// window, and keys no flag of the control plane can have (anything but 1 to 128
    /// ASCII letters, digits, `.`, `_` and `-`, not starting with `.` or `-`).
    pub flag: Option<Arc<str>>,
    /// The number of evaluations.
    pub count: u64,
}

type Keys = FxHashMap<Arc<str>, Arc<AtomicU64>>;

#[derive(Default)]
pub(crate) struct NotFound {
    keys: ArcSwap<Keys>,
    /// Serializes replacing `keys`: a new key, and a take.
    writer: Mutex<()>,
    /// Evaluations of keys past the bound, or that cannot be flag keys.
    other: AtomicU64,
}

impl NotFound {
    /// Counts one evaluation of `key`. Lock-free unless `key` is new in this window.
    pub(crate) fn record(&self, key: &str) {
        if !reportable(key) {
            self.other.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let keys = self.keys.load();
        match keys.get(key) {
            Some(counter) if counter.fetch_add(1, Ordering::Relaxed) & RETIRED == 0 => {}
            // Taken meanwhile: counted in the new window instead.
            Some(_) => self.insert(key),
            None if keys.len() >= MAX_NOT_FOUND_KEYS => {
                self.other.fetch_add(1, Ordering::Relaxed);
            }
            None => self.insert(key),
        }
    }

    fn insert(&self, key: &str) {
        let _writer = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let keys = self.keys.load();
        // Under the lock, no counter in the current map is retired.
        if let Some(counter) = keys.get(key) {
            counter.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if keys.len() >= MAX_NOT_FOUND_KEYS {
            self.other.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut next = Keys::clone(&keys);
        next.insert(Arc::from(key), Arc::new(AtomicU64::new(1)));
        self.keys.store(Arc::new(next));
    }

    /// The counts by key (ascending, the keys past the bound last) and their total;
    /// with `take`, in the same atomic steps, a new window begins.
    pub(crate) fn read(&self, take: bool) -> (Vec<NotFoundCount>, u64) {
        let (keys, other) = if take {
            let _writer = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let keys = self.keys.swap(Arc::default());
            let counts: Vec<_> =
                keys.iter().map(|(key, counter)| (key.clone(), counter.swap(RETIRED, Ordering::Relaxed))).collect();
            (counts, self.other.swap(0, Ordering::Relaxed))
        } else {
            let keys = self.keys.load();
            let counts = keys.iter().map(|(key, counter)| (key.clone(), counter.load(Ordering::Relaxed))).collect();
            (counts, self.other.load(Ordering::Relaxed))
        };
        // A counter retired by a take under way was counted by it.
        let mut counts: Vec<NotFoundCount> = keys
            .into_iter()
            .filter(|(_, count)| *count > 0 && *count & RETIRED == 0)
            .map(|(flag, count)| NotFoundCount { flag: Some(flag), count })
            .collect();
        counts.sort_by(|a, b| a.flag.cmp(&b.flag));
        if other > 0 {
            counts.push(NotFoundCount { flag: None, count: other });
        }
        let total = counts.iter().fold(0u64, |sum, c| sum.saturating_add(c.count));
        (counts, total)
    }
}

/// Whether `key` could be a flag of the control plane (1 to 128 ASCII letters, digits,
/// `.`, `_` and `-`, not starting with `.` or `-`). Any other is summed under `None`:
/// no flag was ever created or deleted under it, and it would fail a report whole.
fn reportable(key: &str) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len())
        && !key.starts_with(['.', '-'])
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}
