//! Shipping telemetry to the control plane: every interval, the evaluation counts,
//! not-found keys and exposures since the last accepted report are posted to
//! `POST /v1/telemetry/{env}` (docs/OPERATIONS.md, "Telemetry").
//!
//! Evaluations never wait on it: they add to atomics, which a report swaps to zero. One
//! post is in flight at most (the state's lock is held across it). Each batch has an
//! id; a failed post (network, timeout, 5xx, 429) is sent again unchanged, id and all,
//! before newer counts, and backs off: the server may have stored it, and answers a
//! repeat as a duplicate rather than counting it twice. A 4xx is logged once and its
//! batch dropped, since it would fail again.

mod answer;
mod batch;

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::Url;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::state::Shared;
use crate::sync::jittered;
use answer::Answer;
use batch::{Batch, Pending, Reporting};

/// What reports name as the SDK.
const SDK: &str = concat!("pennon-rust/", env!("CARGO_PKG_VERSION"));

/// Posts one report may make when there is more than one holds (over 10,000 counts, or
/// exposures still queued), before waiting for the next interval.
const MAX_POSTS: usize = 10;

/// The longest wait between reports after failures (or the interval, if longer).
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// Where and how often to report.
pub(crate) struct TelemetryConfig {
    /// `{base}/v1/telemetry/{env}`.
    pub(crate) url: Url,
    /// `Bearer <SDK key>`.
    pub(crate) authorization: HeaderValue,
    pub(crate) interval: Duration,
}

/// What [`crate::ProviderHandle::flush_telemetry`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportOutcome {
    /// The server accepted every batch sent.
    Accepted,
    /// Nothing was evaluated since the last report: nothing was sent.
    Empty,
    /// The post failed (network, timeout, 5xx, 429): the same batch is sent again
    /// first with the next report (the server tells a repeat of one it stored).
    Failed(String),
    /// The server refused the batch (a 4xx other than 429): it was dropped.
    Rejected(String),
    /// The server asked to wait (`Retry-After`) this much longer: nothing was sent.
    Deferred(Duration),
    /// No telemetry URL was configured.
    Disabled,
}

/// The sender's state: one per provider, kept across runs (a shutdown's undelivered
/// deltas go with the first report of the next run).
pub(crate) struct Reporter {
    config: TelemetryConfig,
    /// A random id per provider: how many instances report, not who uses them.
    instance: String,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    pending: Pending,
    /// The batch cut and not yet accepted or refused: sent again as it is.
    unsent: Option<Batch>,
    /// The exposure queue's drop count already added to `pending`.
    dropped_seen: u64,
    /// Failed posts in a row, for the backoff.
    failures: u32,
    /// The server's `Retry-After`: no post before it.
    not_before: Option<Instant>,
    /// The last problem logged: the same one again is logged at debug level only.
    problem: Option<String>,
    /// The last reason logged for exposures the control plane dropped.
    refusal: Option<String>,
}

impl Reporter {
    pub(crate) fn new(config: TelemetryConfig) -> Reporter {
        Reporter { config, instance: random_hex()[..16].to_owned(), state: tokio::sync::Mutex::default() }
    }

    /// Takes what was counted since the last report and posts it; the server's answer
    /// decides what happens to it. Waits for a post under way.
    pub(crate) async fn report(&self, shared: &Shared) -> ReportOutcome {
        let mut state = self.state.lock().await;
        self.report_locked(&mut state, shared).await
    }

    async fn report_locked(&self, state: &mut State, shared: &Shared) -> ReportOutcome {
        if let Some(wait) = state.not_before.map(|at| at.saturating_duration_since(Instant::now())) {
            if !wait.is_zero() {
                return ReportOutcome::Deferred(wait);
            }
            state.not_before = None;
        }
        let end_ms = shared.config.now();
        let telemetry = &shared.telemetry;
        state.pending.add_counts(telemetry.counts(true));
        let dropped = telemetry.exposures_dropped();
        state.pending.add_dropped(dropped.saturating_sub(state.dropped_seen));
        state.dropped_seen = dropped;
        let who = Reporting { sdk: SDK, instance: &self.instance, snapshot_version: shared.served_version() };
        let mut outcome = ReportOutcome::Empty;
        for _ in 0..MAX_POSTS {
            if let Some(stale) = state.unsent.take_if(|batch| batch.expired(end_ms)) {
                state.pending.restore(stale);
            }
            // A batch not yet accepted goes first, unchanged (it may have been stored);
            // it is held in the state while posted, so a post cut off (a shutdown's
            // deadline) leaves it to be sent again too.
            if state.unsent.is_none() {
                state.pending.add_exposures(telemetry.drain_exposures(state.pending.exposure_room()));
                if state.pending.is_empty() {
                    // A window with nothing in it ends here: the next starts now.
                    state.pending.start_ms = Some(end_ms);
                    break;
                }
                state.unsent = Some(state.pending.batch(end_ms, &random_hex(), &who));
            }
            let Some(batch) = &state.unsent else { break };
            let (body, window_end) = (batch.body(), batch.end_ms());
            let answer = answer::post(
                &shared.config.http,
                &self.config.url,
                &self.config.authorization,
                body,
                shared.config.request_timeout,
            )
            .await;
            match answer {
                Answer::Accepted { duplicate, refused } => {
                    debug!(url = %self.config.url, window_end, duplicate, "telemetry report accepted");
                    state.unsent = None;
                    self.answered(state);
                    // The SDK leaves out what it knows the control plane would drop: a
                    // newer control plane may drop more. Said once per reason.
                    if refused.is_some() && refused != state.refusal {
                        warn!(url = %self.config.url, "telemetry: {}", refused.as_deref().unwrap_or_default());
                        state.refusal = refused;
                    }
                    outcome = ReportOutcome::Accepted;
                }
                Answer::Failed { reason, retry_after } => {
                    state.failures = state.failures.saturating_add(1);
                    state.not_before = retry_after.map(|wait| Instant::now() + wait);
                    self.log_problem(state, &format!("{reason}; the report is sent again with the next"));
                    return ReportOutcome::Failed(reason);
                }
                Answer::Rejected { reason } => {
                    state.unsent = None;
                    self.log_problem(state, &format!("{reason}; the report is dropped (it would fail again)"));
                    state.failures = 0;
                    return ReportOutcome::Rejected(reason);
                }
            }
            if state.pending.is_empty() && !telemetry.has_exposures() {
                break;
            }
        }
        outcome
    }

    /// The server took a report: failures are over.
    fn answered(&self, state: &mut State) {
        state.failures = 0;
        if let Some(problem) = state.problem.take() {
            info!(url = %self.config.url, "telemetry reports are accepted again (they had failed: {problem})");
        }
    }

    fn log_problem(&self, state: &mut State, problem: &str) {
        let url = &self.config.url;
        if state.problem.as_deref() == Some(problem) {
            debug!(url = %url, "telemetry report to {url} failed again: {problem}");
        } else {
            warn!(url = %url, "telemetry report to {url} failed: {problem}");
            state.problem = Some(problem.to_owned());
        }
    }

    /// The wait before the next report: the interval (jittered), longer after failures,
    /// and at least what the server asked for.
    async fn next_delay(&self, jitter: f64) -> Duration {
        let state = self.state.lock().await;
        let interval = self.config.interval;
        // After failures: the interval doubled per failure after the first, capped.
        let doublings = state.failures.saturating_sub(1).min(16);
        let delay = interval.saturating_mul(1 << doublings).min(MAX_BACKOFF.max(interval));
        let delay = jittered(delay, jitter);
        let asked = state.not_before.map_or(Duration::ZERO, |at| at.saturating_duration_since(Instant::now()));
        delay.max(asked)
    }

    /// Starts the window of a run that holds nothing yet.
    pub(crate) async fn open(&self, now_ms: i64) {
        let mut state = self.state.lock().await;
        if state.pending.is_empty() {
            state.pending.start_ms = Some(now_ms);
        }
    }
}

/// Reports every interval (the window opened with [`Reporter::open`]) until `cancel`, then once more, within the request timeout
/// (a post under way then is part of that last report).
pub(crate) async fn run(shared: Arc<Shared>, cancel: CancellationToken) {
    let Some(reporter) = shared.reporter.as_ref() else { return };
    let mut under_way = None;
    loop {
        let delay = reporter.next_delay(shared.config.jitter).await;
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(delay) => {}
        }
        let mut report = Box::pin(async {
            // A flush under way is as good as a report now.
            if let Ok(mut state) = reporter.state.try_lock() {
                reporter.report_locked(&mut state, &shared).await;
            }
        });
        tokio::select! {
            () = &mut report => {}
            () = cancel.cancelled() => {
                under_way = Some(report);
                break;
            }
        }
    }
    let closing = async {
        if let Some(report) = under_way {
            report.await;
        }
        match reporter.report(&shared).await {
            ReportOutcome::Failed(reason) | ReportOutcome::Rejected(reason) => {
                warn!(url = %reporter.config.url, "the last telemetry report before shutdown failed: {reason}");
            }
            _ => {}
        }
    };
    let timeout = shared.config.request_timeout;
    if tokio::time::timeout(timeout, closing).await.is_err() {
        warn!(url = %reporter.config.url, "the last telemetry report before shutdown did not finish within {timeout:?}");
    }
}

/// 32 random hex digits (128 bits): an instance's id (the first 16) or a batch's. Not
/// secret, only distinct: std's random hasher keys (random per process, then stepped
/// per hasher), over the time and a counter.
fn random_hex() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    use std::sync::atomic::{AtomicU64, Ordering};
    static MADE: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let made = MADE.fetch_add(1, Ordering::Relaxed);
    let half = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(nanos);
        hasher.write_u64(made);
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(), half())
}
