//! Background syncing: start-up, the source tasks, the status monitor and shutdown.
//!
//! Every task runs under the provider's cancellation token and is dropped at its next
//! `.await` when the provider is shut down or dropped, so no task outlives it.

mod announced;
mod backoff;
mod file;
mod http;
mod refusal;
mod sse;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::SourceSpec;
use crate::state::Shared;

pub(crate) use announced::Announced;
pub(crate) use backoff::{jittered, Backoff};
pub(crate) use http::describe;
pub(crate) use refusal::{describe_refusal, retry_after};

/// The status monitor looks again at least this often, so wall-clock jumps and an
/// injected clock are noticed.
const MAX_RECHECK: Duration = Duration::from_secs(1);

/// Starts syncing (once) and waits for the first snapshot, up to the init timeout.
pub(crate) async fn initialize(shared: &Arc<Shared>) {
    let deadline = Instant::now() + shared.config.init_timeout;
    // A shutdown while this runs ends the run: nothing below changes a later one.
    let epoch = shared.epoch();
    let Some(first_attempts) = start(shared, epoch).await else {
        // Already running: just wait for it.
        let mut state = shared.watch_state();
        let _ = tokio::time::timeout_at(deadline, state.wait_for(|s| s.version.is_some())).await;
        return;
    };
    wait_for_first(shared, first_attempts, deadline, epoch).await;
}

/// Stops every background task and waits for them (telemetry's last report included);
/// the provider is `NOT_READY` after.
pub(crate) async fn shutdown(shared: &Arc<Shared>) {
    stop(shared);
    let mut tasks = shared.tasks.subscribe();
    let _ = tasks.wait_for(|&alive| alive == 0).await;
    shared.reset();
}

/// Signals every background task to stop, without waiting.
pub(crate) fn stop(shared: &Shared) {
    let token = shared.workers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    if let Some(token) = token {
        token.cancel();
    }
}

/// Loads the cache and inline sources, then spawns the tasks. `None` if running already.
async fn start(shared: &Arc<Shared>, epoch: u64) -> Option<watch::Receiver<usize>> {
    let cancel = {
        let mut workers = shared.workers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if workers.is_some() {
            return None;
        }
        workers.insert(CancellationToken::new()).clone()
    };
    shared.begin_syncing();
    blocking(shared, move |shared| shared.load_cache(epoch)).await;
    for source in &shared.config.sources {
        if let SourceSpec::Inline(bytes) = source {
            let bytes = bytes.clone();
            blocking(shared, move |shared| {
                let _ = shared.offer_and_cache_in(epoch, "inline", &bytes);
            })
            .await;
        }
    }
    let remote = shared.config.sources.iter().filter(|s| !matches!(s, SourceSpec::Inline(_))).count();
    let (attempts, first_attempts) = watch::channel(remote);
    let attempts = Arc::new(attempts);
    for source in &shared.config.sources {
        let first = FirstAttempt(Some(attempts.clone()));
        match source {
            SourceSpec::Inline(_) => {}
            SourceSpec::File(path) => spawn(shared, &cancel, epoch, file::poll(shared.clone(), path.clone(), first)),
            SourceSpec::Http(url) => spawn(shared, &cancel, epoch, http::poll(shared.clone(), url.clone(), first)),
        }
    }
    if let Some(url) = &shared.config.notification_url {
        spawn(shared, &cancel, epoch, sse::listen(shared.clone(), url.clone()));
    }
    spawn(shared, &cancel, epoch, monitor(shared.clone()));
    if let Some(reporter) = &shared.reporter {
        reporter.open(shared.config.now()).await;
        // Not cut short by `cancel`: it sends a last report then, within the request timeout.
        let alive = TaskAlive::new(shared.clone(), &cancel, epoch);
        let report = crate::report::run(shared.clone(), cancel.clone());
        tokio::spawn(async move {
            let _alive = alive;
            report.await;
        });
    }
    Some(first_attempts)
}

/// Waits for a source to serve; once every source has tried once in vain, serves the
/// cache; at the deadline, serves the cache or reports `ERROR`.
async fn wait_for_first(
    shared: &Arc<Shared>,
    mut first_attempts: watch::Receiver<usize>,
    deadline: Instant,
    epoch: u64,
) {
    let mut state = shared.watch_state();
    tokio::select! {
        _ = state.wait_for(|s| s.version.is_some()) => return,
        _ = first_attempts.wait_for(|&pending| pending == 0) => {}
        () = tokio::time::sleep_until(deadline) => {}
    }
    if shared.served_version().is_some() || shared.promote_fallback(epoch, "no source answered") {
        return;
    }
    // A 401 or 403, or a snapshot for other settings, from every source: waiting out
    // the timeout would not mend the key or the configuration.
    if shared.no_wait_mends() {
        shared.fail_initialization(epoch, false);
        return;
    }
    let _ = tokio::time::timeout_at(deadline, state.wait_for(|s| s.version.is_some())).await;
    if shared.served_version().is_none() && !shared.promote_fallback(epoch, "no source answered in time") {
        shared.fail_initialization(epoch, true);
    }
}

/// Re-derives the status at each deadline (expiry, stale-after) or when woken.
async fn monitor(shared: Arc<Shared>) {
    loop {
        let wait = shared.refresh().map_or(MAX_RECHECK, |deadline| {
            deadline.saturating_duration_since(std::time::Instant::now()).min(MAX_RECHECK)
        });
        tokio::select! {
            () = shared.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Runs `work` on the blocking pool: verification and compilation are CPU-bound and
/// the cache write does file I/O.
pub(crate) async fn blocking<T: Send + 'static>(
    shared: &Arc<Shared>,
    work: impl FnOnce(&Shared) -> T + Send + 'static,
) -> Option<T> {
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || work(&shared)).await.ok()
}

/// Spawns a background task of run `epoch` that ends when `cancel` fires, counted in
/// `shared.tasks`.
fn spawn(
    shared: &Arc<Shared>,
    cancel: &CancellationToken,
    epoch: u64,
    task: impl Future<Output = ()> + Send + 'static,
) {
    let cancel = cancel.clone();
    let alive = TaskAlive::new(shared.clone(), &cancel, epoch);
    tokio::spawn(async move {
        let _alive = alive;
        tokio::select! {
            () = cancel.cancelled() => {}
            () = task => {}
        }
    });
}

/// Counts a live task; dropped when the task ends or is cancelled.
///
/// The tasks of a run end only when it is cancelled. One that ends otherwise was
/// dropped with the tokio runtime it ran on (or panicked): then syncing has stopped,
/// and the provider says so (STALE) instead of reading READY while nothing updates it.
struct TaskAlive {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    epoch: u64,
}

impl TaskAlive {
    fn new(shared: Arc<Shared>, cancel: &CancellationToken, epoch: u64) -> TaskAlive {
        shared.tasks.send_modify(|alive| *alive += 1);
        TaskAlive { shared, cancel: cancel.clone(), epoch }
    }
}

impl Drop for TaskAlive {
    fn drop(&mut self) {
        if !self.cancel.is_cancelled() {
            // The rest of the run cannot sync alone (the monitor may be gone): stop it all.
            self.cancel.cancel();
            self.shared.syncing_lost(self.epoch);
        }
        self.shared.tasks.send_modify(|alive| *alive = alive.saturating_sub(1));
    }
}

/// Reports, once, that a source has finished its first attempt (success or not).
pub(crate) struct FirstAttempt(Option<Arc<watch::Sender<usize>>>);

impl FirstAttempt {
    pub(crate) fn done(&mut self) {
        if let Some(attempts) = self.0.take() {
            attempts.send_modify(|pending| *pending = pending.saturating_sub(1));
        }
    }
}

impl Drop for FirstAttempt {
    fn drop(&mut self) {
        self.done();
    }
}
