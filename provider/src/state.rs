//! Shared state: what is served, the status machine and its events, and the one place
//! where offered envelopes are verified and swapped in.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use pennon_core::{Held, Loaded, Snapshot};
use tokio::sync::{broadcast, watch, Notify};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::cache::Cache;
use crate::config::{Config, SourceSpec};
use crate::report::Reporter;
use crate::served::{changed_flags, Served};
use crate::telemetry::Telemetry;
use crate::{Offered, ProviderEvent, ProviderState, Status};

mod cache_start;

/// Events buffered per subscriber before the slowest one starts to lag.
const EVENT_CAPACITY: usize = 256;

/// Everything the provider, its handles and its background tasks share.
pub(crate) struct Shared {
    pub(crate) config: Config,
    /// The hot path: one atomic load per evaluation.
    pub(crate) served: ArcSwapOption<Served>,
    pub(crate) telemetry: Telemetry,
    /// Posts the telemetry to the control plane, when configured.
    pub(crate) reporter: Option<Reporter>,
    pub(crate) cache: Option<Cache>,
    sync: Mutex<SyncState>,
    /// Serializes loads, so each one checks rollback against what the last one served.
    /// Taken only on blocking threads.
    load: Mutex<()>,
    /// Bumped by `reset`: a load that started before a shutdown is discarded.
    epoch: AtomicU64,
    status: AtomicU8,
    state: watch::Sender<ProviderState>,
    events: broadcast::Sender<ProviderEvent>,
    /// The notification stream's announcements; pollers fetch when it changes.
    pub(crate) announce: watch::Sender<crate::sync::Announced>,
    /// Wakes the status monitor before its deadline.
    pub(crate) wake: Notify,
    /// Cancels the background tasks of the current run; `None` when not started.
    pub(crate) workers: Mutex<Option<CancellationToken>>,
    /// How many background tasks are alive.
    pub(crate) tasks: watch::Sender<usize>,
}

/// Sync bookkeeping. Locked by loads and status changes, never by evaluations.
#[derive(Default)]
struct SyncState {
    /// The verified last-known-good snapshot, not served until no source answers.
    fallback: Option<Arc<Snapshot>>,
    /// Rollback floor before anything is served: the cache's version.
    floor: Option<Held>,
    /// The version of a cache too old to serve: lower versions are rollbacks, and that
    /// version itself loads in full (SPEC 2.3 check 8, a minimum), so it is refused as
    /// expired rather than taken as what is held.
    min_version: u64,
    /// Since when syncing has failed without any success in between.
    failing_since: Option<Instant>,
    /// The latest failure of each failing source.
    problems: Vec<(Arc<str>, String)>,
    /// The failing sources whose last answer was 401 or 403: retrying does not mend a
    /// wrong or revoked key, so the start stops waiting and what is served is `STALE`.
    denied: Vec<Arc<str>>,
    /// The failing sources whose last snapshot was refused for what only a change of
    /// configuration mends (another environment or audience, a signer not trusted): a
    /// start with every source denied or here stops waiting, as for a 401.
    misconfigured: Vec<Arc<str>>,
    /// Whether what is served is the cache, promoted because no source answered: its
    /// age is unknown, so it is `STALE` until a source answers.
    from_cache: bool,
    /// Why the cache cannot help, for the initialization error.
    cache_problem: Option<String>,
    /// Whether this run read the cache: at start, or at an offer that came first.
    cache_read: bool,
    /// Set when this run's background tasks ended without a shutdown (their runtime
    /// shut down): nothing syncs or re-derives the status until the next start.
    syncing_lost: bool,
}

/// Refusals of a snapshot that only a change of configuration mends, on this side or the
/// source's: a start stops waiting on them. A bad signature or a malformed body may be
/// a corrupted copy, and an expired or older snapshot a cache catching up: those are
/// waited on.
const MISCONFIGURED: [&str; 3] = ["wrong_environment", "wrong_audience", "unknown_key"];

/// Why syncing stops without a shutdown, and the remedy.
const LOST: &str = "the tokio runtime that ran `initialize` shut down (or a sync task panicked); \
    initialize the provider again from a runtime that lives as long as it";

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn describe(version: Option<u64>) -> String {
    version.map_or_else(|| "nothing yet".to_owned(), |v| format!("version {v}"))
}

impl Shared {
    pub(crate) fn new(mut config: Config) -> Shared {
        let reporter = config.telemetry.take().map(Reporter::new);
        let cache = config.cache_dir.clone().map(|dir| Cache::new(dir, &config.environment, &config.cache_policy_tag));
        let telemetry = Telemetry::new(&config.exposures, config.clock.clone());
        let initial = ProviderState { status: Status::NotReady, version: None, message: None };
        Shared {
            config,
            served: ArcSwapOption::empty(),
            telemetry,
            reporter,
            cache,
            sync: Mutex::default(),
            load: Mutex::new(()),
            epoch: AtomicU64::new(0),
            status: AtomicU8::new(Status::NotReady.to_u8()),
            state: watch::channel(initial).0,
            events: broadcast::channel(EVENT_CAPACITY).0,
            announce: watch::channel(crate::sync::Announced::default()).0,
            wake: Notify::new(),
            workers: Mutex::new(None),
            tasks: watch::channel(0).0,
        }
    }

    pub(crate) fn cache_file(&self) -> Option<std::path::PathBuf> {
        self.cache.as_ref().map(|cache| cache.path().to_owned())
    }

    pub(crate) fn served_version(&self) -> Option<u64> {
        self.served.load().as_ref().map(|served| served.snapshot.version())
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<ProviderEvent> {
        self.events.subscribe()
    }

    pub(crate) fn watch_state(&self) -> watch::Receiver<ProviderState> {
        self.state.subscribe()
    }

    /// The status; a snapshot that expired since the last check reads as `Stale` at once.
    pub(crate) fn status(&self) -> Status {
        let status = Status::from_u8(self.status.load(Ordering::Acquire));
        if status == Status::Ready {
            if let Some(served) = self.served.load().as_ref() {
                if self.config.now() > served.snapshot.expires_at().saturating_add(self.config.grace_ms) {
                    self.wake.notify_one();
                    return Status::Stale;
                }
            }
        }
        status
    }

    /// Which run of the provider this is: bumped by every shutdown. Work begun in one
    /// run (a start, a fetch, a queued offer) changes nothing in a later one.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Verifies `envelope` from `source` and serves it if it is newer, in run `epoch`
    /// (read by the caller before waiting for another load: an offer queued behind one
    /// when the provider shuts down is discarded, not served). Blocking (CPU).
    ///
    /// Loads are serialized by `load`, and verification and compilation run outside the
    /// `sync` lock, which async code takes: a large snapshot never stalls a runtime
    /// thread. `served` is only replaced under `sync`.
    pub(crate) fn offer_in(&self, epoch: u64, source: &str, envelope: &[u8]) -> Result<Offered, pennon_core::Error> {
        // An offer through the handle may come before `initialize`: the cache's version
        // is the rollback floor for it too.
        self.load_cache(epoch);
        let _load = lock(&self.load);
        let served = self.served.load_full();
        let (floor, min_version) = {
            let sync = lock(&self.sync);
            (sync.floor, sync.min_version)
        };
        let held = served.as_ref().map(|served| served.snapshot.held()).or(floor);
        let now = self.config.now();
        let loaded = match held {
            Some(_) => self.config.policy.load(envelope, held, now),
            None => self.config.policy.load_fresh(envelope, min_version, now).map(Loaded::Updated),
        };
        let served_version = served.as_ref().map(|served| served.snapshot.version());
        let prepared = match loaded {
            Ok(Loaded::Updated(snapshot)) => {
                let snapshot = Arc::new(snapshot);
                let changed_flags = changed_flags(served.as_ref().map(|served| served.snapshot.as_ref()), &snapshot);
                Ok(Some((Arc::new(Served::new(snapshot, &self.telemetry)), changed_flags)))
            }
            Ok(Loaded::Unchanged) => Ok(None),
            Err(error) => Err(error),
        };
        let mut sync = lock(&self.sync);
        if self.epoch.load(Ordering::Acquire) != epoch {
            // Shut down meanwhile: whatever this was, it is no longer wanted.
            return Ok(Offered::Unchanged { version: held.map_or(0, |held| held.version) });
        }
        let outcome = match prepared {
            Ok(Some((next, changed_flags))) => {
                // Not `served_version`: the cache may have been promoted meanwhile.
                let old_version = self.served_version();
                let new_version = next.snapshot.version();
                self.served.store(Some(next));
                sync.fallback = None;
                info!(
                    source,
                    version = new_version,
                    old_version,
                    changed = changed_flags.len(),
                    "serving snapshot version {new_version} from {source} (was {})",
                    describe(old_version)
                );
                self.emit(ProviderEvent::ConfigurationChanged { changed_flags, old_version, new_version });
                Offered::Updated { old_version, new_version }
            }
            Ok(None) => {
                let version = held.map_or(0, |held| held.version);
                if self.served.load().is_none() {
                    self.serve_fallback(&mut sync, &format!("{source} offers the same version"));
                }
                debug!(source, version, "{source} offers version {version} again: unchanged");
                Offered::Unchanged { version }
            }
            Err(error) => {
                let news = note_failure(&mut sync, source, refusal_reason(&error), false);
                if MISCONFIGURED.contains(&error.kind()) {
                    sync.misconfigured.push(source.into());
                }
                if news {
                    let behind = if error.kind() == "rollback" {
                        " (a mirror or cache that has not caught up, or a replay of an old snapshot)"
                    } else {
                        ""
                    };
                    warn!(source, reason = %error, kind = error.kind(), served_version,
                        "refused snapshot from {source}: {error}{behind}; still serving {}", describe(served_version));
                } else {
                    debug!(source, reason = %error, kind = error.kind(), served_version, "refused again: {error}");
                }
                self.refresh_locked(&mut sync);
                return Err(error);
            }
        };
        note_success(&mut sync, source);
        self.refresh_locked(&mut sync);
        Ok(outcome)
    }

    /// [`Shared::offer_in`] in the current run, then writes an accepted update to the
    /// cache. Blocking.
    pub(crate) fn offer_and_cache(&self, source: &str, envelope: &[u8]) -> Result<Offered, pennon_core::Error> {
        self.offer_and_cache_in(self.epoch(), source, envelope)
    }

    /// [`Shared::offer_and_cache`] in run `epoch`.
    pub(crate) fn offer_and_cache_in(
        &self,
        epoch: u64,
        source: &str,
        envelope: &[u8],
    ) -> Result<Offered, pennon_core::Error> {
        let outcome = self.offer_in(epoch, source, envelope)?;
        if let (Offered::Updated { new_version, .. }, Some(cache)) = (&outcome, &self.cache) {
            // Expired or not: a verified newer file is the floor of the next start.
            let verified_version = |bytes: &[u8]| self.config.policy.held_of(bytes).ok().map(|held| held.version);
            match cache.store(*new_version, envelope, self.config.max_bytes, verified_version) {
                Ok(true) => debug!(version = new_version, "wrote last-known-good cache {}", cache.path().display()),
                Ok(false) => {}
                Err(e) => warn!(source, version = new_version, reason = %e,
                    "cannot write last-known-good cache {}: {e}; serving version {new_version} without it",
                    cache.path().display()),
            }
        }
        Ok(outcome)
    }

    /// A source answered without a new snapshot (HTTP 304, an unchanged file).
    pub(crate) fn record_success(&self, source: &str) {
        let mut sync = lock(&self.sync);
        note_success(&mut sync, source);
        self.refresh_locked(&mut sync);
    }

    /// A source could not be read. Logs it and counts towards `STALE`.
    /// A failure repeating the source's previous one is logged at debug level only.
    pub(crate) fn record_failure(&self, source: &str, reason: String) {
        self.note(source, reason, false);
    }

    /// A source answered 401 or 403: [`Shared::record_failure`], and until it answers
    /// otherwise, no wait or retry is expected to mend it.
    pub(crate) fn record_denial(&self, source: &str, reason: String) {
        self.note(source, reason, true);
    }

    /// Whether every source's last answer is one no wait mends: a 401 or 403, or a
    /// snapshot refused as [`MISCONFIGURED`].
    pub(crate) fn no_wait_mends(&self) -> bool {
        let sync = lock(&self.sync);
        let sources = self.remote_sources();
        sources > 0 && sync.denied.len() + sync.misconfigured.len() >= sources
    }

    /// How many sources are files or URLs: those that can fail or deny.
    fn remote_sources(&self) -> usize {
        self.config.sources.iter().filter(|source| !matches!(source, SourceSpec::Inline(_))).count()
    }

    /// Whether every file and URL source's last answer was a 401 or 403 (a file never
    /// denies): one source still syncing keeps the provider as fresh as it is.
    fn denied_everywhere(&self, sync: &SyncState) -> bool {
        let sources = self.remote_sources();
        sources > 0 && sync.denied.len() >= sources
    }

    fn note(&self, source: &str, reason: String, denied: bool) {
        let served_version = self.served_version();
        let mut sync = lock(&self.sync);
        if note_failure(&mut sync, source, reason.clone(), denied) {
            warn!(source, reason = %reason, served_version,
                "sync from {source} failed: {reason}; still serving {}", describe(served_version));
        } else {
            debug!(source, reason = %reason, served_version, "sync from {source} failed again: {reason}");
        }
        self.refresh_locked(&mut sync);
    }

    /// Serves the verified cache if nothing is served yet, in run `epoch`. Returns
    /// whether it did.
    pub(crate) fn promote_fallback(&self, epoch: u64, why: &str) -> bool {
        let mut sync = lock(&self.sync);
        if self.epoch() != epoch || self.served.load().is_some() {
            return false;
        }
        sync.from_cache = sync.fallback.is_some();
        self.serve_fallback(&mut sync, why)
    }

    /// The cache file, as logs and messages show it.
    fn cache_shown(&self) -> String {
        self.cache.as_ref().map(|cache| cache.path().display().to_string()).unwrap_or_default()
    }

    fn serve_fallback(&self, sync: &mut SyncState, why: &str) -> bool {
        let Some(snapshot) = sync.fallback.take() else { return false };
        let version = snapshot.version();
        let changed_flags = snapshot.flag_keys().map(str::to_owned).collect();
        self.served.store(Some(Arc::new(Served::new(snapshot, &self.telemetry))));
        let path = self.cache_shown();
        info!(source = %path, version, "serving last-known-good cache {path}, version {version}: {why}");
        self.emit(ProviderEvent::ConfigurationChanged { changed_flags, old_version: None, new_version: version });
        self.refresh_locked(sync);
        true
    }

    /// Initialization of run `epoch` found nothing to serve: `ERROR`, with what every
    /// source said. Nothing, if the provider shut down meanwhile or something is served.
    /// `waited`: whether the init timeout ran out (else every source denied access).
    pub(crate) fn fail_initialization(&self, epoch: u64, waited: bool) {
        let sync = lock(&self.sync);
        if self.epoch() != epoch || self.served.load().is_some() {
            return;
        }
        let mut reasons: Vec<String> = sync.problems.iter().map(|(source, why)| format!("{source}: {why}")).collect();
        if reasons.is_empty() {
            reasons.push("no source answered".to_owned());
        }
        reasons.extend(sync.cache_problem.clone());
        let timeout = self.config.init_timeout;
        let message = if waited {
            format!("no snapshot could be loaded within {timeout:?}: {}", reasons.join("; "))
        } else {
            let why = if sync.misconfigured.is_empty() {
                "every source refuses the credentials sent"
            } else {
                "every source refuses the credentials sent or offers a snapshot these settings refuse"
            };
            format!("no snapshot could be loaded: {why}: {}", reasons.join("; "))
        };
        error!(reason = %message, "provider initialization failed: {message}; syncing goes on");
        self.transition(Status::Error, Some(message), None);
    }

    /// A start (of a run, or again after syncing was lost) syncs anew.
    pub(crate) fn begin_syncing(&self) {
        lock(&self.sync).syncing_lost = false;
    }

    /// Run `epoch`'s background tasks ended without a shutdown: the tokio runtime that
    /// ran `initialize` shut down (or a task panicked). The snapshot served stays, but
    /// `STALE`, or `ERROR` if there is none, until `initialize` runs again (which
    /// starts syncing on the runtime that calls it).
    pub(crate) fn syncing_lost(&self, epoch: u64) {
        let mut sync = lock(&self.sync);
        if self.epoch() != epoch || sync.syncing_lost {
            return;
        }
        sync.syncing_lost = true;
        // The run's token, cancelled by the caller: a later `initialize` starts anew.
        let mut workers = lock(&self.workers);
        if workers.as_ref().is_some_and(CancellationToken::is_cancelled) {
            *workers = None;
        }
        drop(workers);
        if self.served.load().is_none() && !self.serve_fallback(&mut sync, "syncing stopped") {
            let message = format!("nothing is served and syncing stopped: {LOST}");
            error!(reason = %message, "provider failed: {message}");
            self.transition(Status::Error, Some(message), None);
            return;
        }
        self.refresh_locked(&mut sync);
    }

    /// Back to `NOT_READY` with nothing served (after shutdown, spec 2.5.2).
    pub(crate) fn reset(&self) {
        let mut sync = lock(&self.sync);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        *sync = SyncState::default();
        self.served.store(None);
        self.transition(Status::NotReady, None, None);
    }

    /// Re-derives the status (expiry, failing sync); returns when to look again.
    pub(crate) fn refresh(&self) -> Option<Instant> {
        let mut sync = lock(&self.sync);
        self.refresh_locked(&mut sync)
    }

    fn refresh_locked(&self, sync: &mut SyncState) -> Option<Instant> {
        let served = self.served.load();
        let served = served.as_ref()?;
        let snapshot = &served.snapshot;
        let now = self.config.now();
        let expiry = snapshot.expires_at().saturating_add(self.config.grace_ms);
        let version = snapshot.version();
        if now > expiry {
            let grace = self.config.grace_ms / 1000;
            let expired = pennon_core::format_rfc3339(snapshot.expires_at());
            let reason = format!("snapshot version {version} expired at {expired} (grace {grace} s)");
            self.transition(Status::Stale, Some(reason), Some(version));
            return None;
        }
        let until_expiry = Duration::from_millis(u64::try_from(expiry - now).unwrap_or(u64::MAX).saturating_add(1));
        let expiry_deadline = Instant::now().checked_add(until_expiry);
        let stale_after = self.config.stale_after;
        if sync.syncing_lost {
            let reason = format!("syncing stopped, serving version {version}: {LOST}");
            self.transition(Status::Stale, Some(reason), Some(version));
            return expiry_deadline;
        }
        if self.denied_everywhere(sync) {
            let last = problems(sync);
            let reason = format!("every source refuses the credentials sent, serving version {version}; {last}");
            self.transition(Status::Stale, Some(reason), Some(version));
            return expiry_deadline;
        }
        if sync.from_cache {
            let path = self.cache_shown();
            let last = problems(sync);
            let reason = format!(
                "serving version {version} from the last-known-good cache {path}: no source has answered since the start; {last}"
            );
            self.transition(Status::Stale, Some(reason), Some(version));
            return expiry_deadline;
        }
        match sync.failing_since {
            Some(since) if since.elapsed() >= stale_after => {
                let last = problems(sync);
                let reason =
                    format!("syncing has failed for longer than {stale_after:?}, serving version {version}; {last}");
                self.transition(Status::Stale, Some(reason), Some(version));
                expiry_deadline
            }
            failing => {
                self.transition(Status::Ready, None, Some(version));
                let stale_deadline = failing.and_then(|since| since.checked_add(stale_after));
                match (expiry_deadline, stale_deadline) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }
    }

    fn transition(&self, next: Status, message: Option<String>, version: Option<u64>) {
        let previous = Status::from_u8(self.status.swap(next.to_u8(), Ordering::AcqRel));
        let state = ProviderState { status: next, version, message: message.clone() };
        self.state.send_if_modified(|current| {
            let changed = *current != state;
            *current = state;
            changed
        });
        if previous == next {
            return;
        }
        match (previous, next) {
            (_, Status::Stale) => {
                let reason = message.unwrap_or_default();
                warn!(reason = %reason, served_version = version, "provider is STALE: {reason}");
                self.emit(ProviderEvent::Stale { reason });
            }
            (Status::Stale | Status::Error, Status::Ready) => {
                let version = version.unwrap_or_default();
                info!(version, "provider recovered: READY, serving version {version}");
                self.emit(ProviderEvent::Recovered { version });
            }
            (_, Status::Error) => self.emit(ProviderEvent::Error { message: message.unwrap_or_default() }),
            _ => {}
        }
    }

    fn emit(&self, event: ProviderEvent) {
        // No subscriber is not an error.
        let _ = self.events.send(event);
    }
}

/// A source's problem when what it offered was refused; a source that offers the same
/// refused snapshot again has the same problem, logged once.
pub(crate) fn refusal_reason(error: &pennon_core::Error) -> String {
    format!("snapshot refused: {error}")
}

/// Each failing source's latest failure, as `source: why; ...`.
fn problems(sync: &SyncState) -> String {
    sync.problems.iter().map(|(source, why)| format!("{source}: {why}")).collect::<Vec<_>>().join("; ")
}

fn note_success(sync: &mut SyncState, source: &str) {
    sync.failing_since = None;
    sync.from_cache = false;
    // Its failure was logged: so is its end, or a reader of the log would think it lasts.
    if let Some((_, problem)) = sync.problems.iter().find(|(known, _)| **known == *source) {
        info!(source, "{source} answers again (it had failed: {problem})");
    }
    sync.problems.retain(|(known, _)| **known != *source);
    sync.denied.retain(|known| **known != *source);
    sync.misconfigured.retain(|known| **known != *source);
}

/// Records a failure, `denied` when it was a 401 or 403; returns whether it is news
/// (not the source's previous failure).
fn note_failure(sync: &mut SyncState, source: &str, reason: String, denied: bool) -> bool {
    sync.failing_since.get_or_insert_with(Instant::now);
    sync.denied.retain(|known| **known != *source);
    sync.misconfigured.retain(|known| **known != *source);
    if denied {
        sync.denied.push(source.into());
    }
    match sync.problems.iter_mut().find(|(known, _)| **known == *source) {
        Some(problem) if problem.1 == reason => false,
        Some(problem) => {
            problem.1 = reason;
            true
        }
        None => {
            sync.problems.push((source.into(), reason));
            true
        }
    }
}
