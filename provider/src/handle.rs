//! [`ProviderHandle`]: status, events, telemetry, push and shutdown, from outside the SDK.

use std::path::PathBuf;
use std::sync::Arc;

use pennon_core::Snapshot;
use tokio::sync::{broadcast, watch};

use crate::state::Shared;
use crate::telemetry::{EvaluationCounts, Exposure};
use crate::{ProviderEvent, ProviderState, ReportOutcome, Status};

/// What an offered envelope did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// It verified and is now served.
    Updated {
        /// The version served before, if any.
        old_version: Option<u64>,
        /// The version served now.
        new_version: u64,
    },
    /// It is the version already held, byte for byte: nothing changed.
    Unchanged {
        /// That version.
        version: u64,
    },
}

/// A cheap, cloneable view of a [`crate::PennonProvider`] that stays usable after the
/// provider is handed to OpenFeature. It does not keep the provider's background tasks
/// alive: they stop when the provider is dropped.
#[derive(Clone)]
pub struct ProviderHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ProviderHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderHandle").field("state", &self.state()).finish_non_exhaustive()
    }
}

impl ProviderHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> ProviderHandle {
        ProviderHandle { shared }
    }

    /// The status now.
    pub fn status(&self) -> Status {
        self.shared.status()
    }

    /// The file holding the last-known-good envelope, with a `cache_dir`. It is named by
    /// environment and by what verifies it (keys, threshold, audience), so it changes
    /// when the trusted keys do; a file to seed a cache with goes here.
    pub fn cache_file(&self) -> Option<PathBuf> {
        self.shared.cache_file()
    }

    /// Status, served version and reason, as one consistent value.
    pub fn state(&self) -> ProviderState {
        let mut state = self.shared.watch_state().borrow().clone();
        state.status = self.shared.status();
        state
    }

    /// A receiver that sees every change of [`ProviderHandle::state`]; use
    /// `wait_for` on it to await a version or a status.
    pub fn watch_state(&self) -> watch::Receiver<ProviderState> {
        self.shared.watch_state()
    }

    /// Subscribes to provider events from now on. A subscriber that falls more than 256
    /// events behind gets `RecvError::Lagged` and continues with the newest.
    pub fn subscribe(&self) -> broadcast::Receiver<ProviderEvent> {
        self.shared.subscribe()
    }

    /// The served snapshot version, if any.
    pub fn version(&self) -> Option<u64> {
        self.shared.served_version()
    }

    /// The served snapshot, for direct use of `pennon-core` (explanations, values the
    /// OpenFeature types cannot carry).
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.shared.served.load().as_ref().map(|served| served.snapshot.clone())
    }

    /// Pushes an envelope received some other way (a message bus, a test). It is
    /// verified like any other, served if newer, and written to the cache.
    ///
    /// Blocking: verification is CPU work and the cache write is file I/O. From async
    /// code, call it inside `tokio::task::spawn_blocking`.
    pub fn offer(&self, envelope: &[u8]) -> Result<Offered, pennon_core::Error> {
        self.shared.offer_and_cache("push", envelope)
    }

    /// Reads every evaluation counter.
    pub fn evaluation_counts(&self) -> EvaluationCounts {
        self.shared.telemetry.counts(false)
    }

    /// Reads every evaluation counter and resets it to zero in the same atomic step, so
    /// no evaluation is counted twice or lost between two calls. With telemetry on
    /// ([`crate::PennonProviderBuilder::telemetry`]) its reports take them too: each
    /// evaluation goes to one of the two.
    pub fn take_evaluation_counts(&self) -> EvaluationCounts {
        self.shared.telemetry.counts(true)
    }

    /// Takes up to `max` queued exposures, oldest first (with telemetry on, its reports
    /// take them too, and each goes to one of the two: for every exposure beside the
    /// reports, use [`crate::PennonProviderBuilder::on_exposure`]).
    pub fn drain_exposures(&self, max: usize) -> Vec<Exposure> {
        self.shared.telemetry.drain_exposures(max)
    }

    /// How many exposures were dropped because the queue was full, since the start.
    /// (Reports carry how many in their window.)
    pub fn exposures_dropped(&self) -> u64 {
        self.shared.telemetry.exposures_dropped()
    }

    /// Sends a telemetry report now, with everything counted since the last accepted
    /// one, after the post under way if there is one. For a host about to be frozen or
    /// killed (a serverless function), and tests; the background task reports on its
    /// own every interval. Never sooner than a server's `Retry-After` allows
    /// ([`ReportOutcome::Deferred`]).
    pub async fn flush_telemetry(&self) -> ReportOutcome {
        match &self.shared.reporter {
            Some(reporter) => reporter.report(&self.shared).await,
            None => ReportOutcome::Disabled,
        }
    }

    /// How many background tasks are running.
    pub fn running_tasks(&self) -> usize {
        *self.shared.tasks.borrow()
    }

    /// Waits until every background task has stopped (after shutdown or drop).
    pub async fn stopped(&self) {
        let mut tasks = self.shared.tasks.subscribe();
        let _ = tasks.wait_for(|&alive| alive == 0).await;
    }

    /// Stops syncing, waits for the background tasks to end (with telemetry on, after a
    /// last report, the request timeout at most), and returns the provider to
    /// `NOT_READY` with nothing served (spec 2.5.1, 2.5.2). Calling `initialize` on
    /// the provider again starts it anew.
    pub async fn shutdown(&self) {
        crate::sync::shutdown(&self.shared).await;
    }
}
