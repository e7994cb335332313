//! Telemetry: evaluation counters, not-found keys, and exposures: a bounded queue and
//! the host's listener ([`exposure`]).
//!
//! Counters are plain atomics reached through the served snapshot's per-flag table, so
//! counting takes no lock. They outlive snapshot swaps: a flag's counter is the same
//! atomic in every version that has the flag. Keys the snapshot lacks are counted per
//! key ([`not_found`]). With [`crate::PennonProviderBuilder::telemetry`], the provider
//! takes them every interval and posts them to the control plane (`crate::report`);
//! without it they wait for the host ([`crate::ProviderHandle::take_evaluation_counts`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crossbeam_queue::ArrayQueue;
use pennon_core::{Bucket, Reason};
use rustc_hash::FxHashMap;

use crate::config::Clock;
use crate::served::{FlagEntry, Served};
use crate::ContextAttributes;

mod exposure;
mod not_found;

pub(crate) use exposure::ExposureListener;
pub use exposure::{Exposure, ExposureScope};
pub use not_found::NotFoundCount;
pub(crate) use not_found::MAX_NOT_FOUND_KEYS;

/// How many times one flag served one variant (or failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationCount {
    /// The flag key.
    pub flag: Arc<str>,
    /// The variant served; `None` counts evaluations that ended in an error.
    pub variant: Option<Arc<str>>,
    /// The number of evaluations.
    pub count: u64,
}

/// A reading of every counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvaluationCounts {
    /// Non-zero counts, by flag then variant (errors last).
    pub counts: Vec<EvaluationCount>,
    /// Evaluations of keys no served snapshot has (`FLAG_NOT_FOUND`), in all.
    pub flag_not_found: u64,
    /// The same by key, ascending; at most 1,000 keys a window are named, and the rest,
    /// with keys no flag can have, are summed last under `flag: None`.
    pub not_found: Vec<NotFoundCount>,
}

/// One flag's counters as a served snapshot holds them: found without a lock.
pub(crate) struct FlagCounterSet {
    /// The flag key, shared with exposures.
    pub(crate) key: Arc<str>,
    /// Each variant's name (shared with exposures) and counter.
    pub(crate) variants: Box<[(Arc<str>, Arc<AtomicU64>)]>,
    /// Evaluations of the flag that ended in an error.
    pub(crate) errors: Arc<AtomicU64>,
}

#[derive(Default)]
struct FlagCounters {
    variants: FxHashMap<Arc<str>, Arc<AtomicU64>>,
    errors: Arc<AtomicU64>,
}

/// Counters and exposures, shared by every snapshot version.
pub(crate) struct Telemetry {
    /// Every counter handed out, so swaps reuse them and readers find them. Locked only
    /// by swaps and readers, never by evaluations.
    registry: Mutex<FxHashMap<Arc<str>, FlagCounters>>,
    not_found: not_found::NotFound,
    exposures: Option<ArrayQueue<Exposure>>,
    dropped: AtomicU64,
    listener: Option<exposure::Listener>,
    scope: ExposureScope,
    /// Stamps exposures of flags whose evaluation did not read the clock.
    clock: Clock,
}

/// What the builder says of exposures.
pub(crate) struct ExposureConfig {
    /// Slots of the queue; 0: no queue.
    pub(crate) capacity: usize,
    pub(crate) scope: ExposureScope,
    pub(crate) listener: Option<ExposureListener>,
}

impl Telemetry {
    pub(crate) fn new(exposures: &ExposureConfig, clock: Clock) -> Telemetry {
        Telemetry {
            registry: Mutex::default(),
            not_found: not_found::NotFound::default(),
            exposures: (exposures.capacity > 0).then(|| ArrayQueue::new(exposures.capacity)),
            dropped: AtomicU64::new(0),
            listener: exposures.listener.clone().map(exposure::Listener::new),
            scope: exposures.scope,
            clock,
        }
    }

    fn registry(&self) -> MutexGuard<'_, FxHashMap<Arc<str>, FlagCounters>> {
        // A poisoned registry still holds valid atomics.
        self.registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The counters of `flag` and its variants, created on first sight.
    pub(crate) fn counters_for<'a>(&self, flag: &str, variants: impl Iterator<Item = &'a str>) -> FlagCounterSet {
        let mut registry = self.registry();
        let key = registry.get_key_value(flag).map_or_else(|| Arc::from(flag), |(key, _)| key.clone());
        let counters = registry.entry(key.clone()).or_default();
        let variants = variants
            .map(|name| match counters.variants.get_key_value(name) {
                Some((name, counter)) => (name.clone(), counter.clone()),
                None => {
                    let name: Arc<str> = name.into();
                    let counter = Arc::new(AtomicU64::new(0));
                    counters.variants.insert(name.clone(), counter.clone());
                    (name, counter)
                }
            })
            .collect();
        FlagCounterSet { key, variants, errors: counters.errors.clone() }
    }

    /// Counts one evaluation of `key`: the variant served to the caller, or `None` for
    /// an error (the engine's, or a value the caller's type could not hold), and, when
    /// the scope takes it, hands its exposure to the listener and the queue. The hot
    /// path: atomics only, and nothing built unless a listener or a queue with room
    /// takes the exposure.
    pub(crate) fn record(
        &self,
        key: &str,
        served: &Served,
        entry: Option<&FlagEntry>,
        served_variant: Option<&str>,
        reason: Reason,
        ctx: Ctx<'_>,
    ) {
        let Some(entry) = entry.map(|entry| &entry.counters) else {
            self.not_found.record(key);
            return;
        };
        let Some((variant, counter)) =
            served_variant.and_then(|name| entry.variants.iter().find(|(known, _)| **known == *name))
        else {
            entry.errors.fetch_add(1, Ordering::Relaxed);
            return;
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if !self.scope.takes(reason) {
            return;
        }
        // A full queue drops the exposure: without a listener, skip building it (the
        // targeting key copy).
        let queue = self.exposures.as_ref().filter(|queue| {
            let full = queue.is_full();
            if full {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            !full
        });
        if queue.is_none() && self.listener.is_none() {
            return;
        }
        let exposure = Exposure {
            flag: entry.key.clone(),
            variant: variant.clone(),
            reason,
            rule_id: ctx.rule_id.map(Arc::from),
            targeting_key: ctx.targeting_key.map(str::to_owned),
            bucket_attribute: ctx.bucket.map(|(bucket, _)| Arc::from(bucket.attribute())),
            bucket_value: ctx.bucket.and_then(|(bucket, attributes)| bucket.unit(attributes)),
            snapshot_version: served.snapshot.version(),
            timestamp_ms: ctx.now.unwrap_or_else(|| (self.clock)()),
        };
        if let Some(listener) = &self.listener {
            listener.notify(&exposure);
        }
        if let Some(queue) = queue {
            if queue.push(exposure).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Reads every counter; with `reset`, sets each to zero in the same atomic step and
    /// forgets flags no served snapshot holds any more. "Held" is read from the counters
    /// themselves (each snapshot keeps clones), not from a snapshot loaded before the
    /// lock: a swap registering a new flag meanwhile keeps its counters.
    pub(crate) fn counts(&self, reset: bool) -> EvaluationCounts {
        let read = |counter: &AtomicU64| {
            if reset {
                counter.swap(0, Ordering::Relaxed)
            } else {
                counter.load(Ordering::Relaxed)
            }
        };
        let mut registry = self.registry();
        let mut counts = Vec::new();
        for (flag, counters) in registry.iter() {
            let mut variants: Vec<_> = counters.variants.iter().collect();
            variants.sort_by(|a, b| a.0.cmp(b.0));
            for (variant, counter) in variants {
                let count = read(counter);
                if count > 0 {
                    counts.push(EvaluationCount { flag: flag.clone(), variant: Some(variant.clone()), count });
                }
            }
            let errors = read(&counters.errors);
            if errors > 0 {
                counts.push(EvaluationCount { flag: flag.clone(), variant: None, count: errors });
            }
        }
        if reset {
            registry.retain(|_, counters| Arc::strong_count(&counters.errors) > 1);
        }
        counts.sort_by(|a, b| a.flag.cmp(&b.flag));
        drop(registry);
        let (not_found, flag_not_found) = self.not_found.read(reset);
        EvaluationCounts { counts, flag_not_found, not_found }
    }

    /// Whether exposures are queued.
    pub(crate) fn has_exposures(&self) -> bool {
        self.exposures.as_ref().is_some_and(|queue| !queue.is_empty())
    }

    /// Takes up to `max` queued exposures, oldest first.
    pub(crate) fn drain_exposures(&self, max: usize) -> Vec<Exposure> {
        let Some(queue) = &self.exposures else { return Vec::new() };
        std::iter::from_fn(|| queue.pop()).take(max).collect()
    }

    /// Exposures dropped because the queue was full, since the start.
    pub(crate) fn exposures_dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// What telemetry needs from the evaluation, its context and the clock.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) targeting_key: Option<&'a str>,
    /// The id of the rule that decided, if one did.
    pub(crate) rule_id: Option<&'a str>,
    /// Where a rollout placed the context, and the context, to read the value hashed
    /// only when an exposure is queued.
    pub(crate) bucket: Option<(Bucket<'a>, &'a ContextAttributes<'a>)>,
    /// Unix milliseconds, when the evaluation read the clock; else an exposure reads it.
    pub(crate) now: Option<i64>,
}
