//! The validated configuration the builder produces.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pennon_core::TrustPolicy;

/// A wall clock in Unix milliseconds.
pub(crate) type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Where snapshots come from.
#[derive(Debug, Clone)]
pub(crate) enum SourceSpec {
    /// Bytes given by the application, loaded once at initialization.
    Inline(Arc<[u8]>),
    /// A file, polled for changes.
    File(PathBuf),
    /// An HTTP(S) URL, polled with `If-None-Match`.
    Http(reqwest::Url),
}

/// Defaults, chosen for a service that polls a control plane or a CDN.
pub(crate) mod defaults {
    use std::time::Duration;

    pub(crate) const POLL_INTERVAL: Duration = Duration::from_secs(30);
    pub(crate) const FILE_POLL_INTERVAL: Duration = Duration::from_secs(1);
    pub(crate) const JITTER: f64 = 0.2;
    pub(crate) const BACKOFF_INITIAL: Duration = Duration::from_secs(1);
    pub(crate) const BACKOFF_MAX: Duration = Duration::from_secs(60);
    pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
    pub(crate) const INIT_TIMEOUT: Duration = Duration::from_secs(5);
    pub(crate) const STALE_AFTER: Duration = Duration::from_secs(300);
    pub(crate) const STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
    pub(crate) const TELEMETRY_INTERVAL: Duration = Duration::from_secs(60);
    /// The shortest telemetry interval: a fleet reporting more often would load the
    /// control plane for counts nobody reads by the second.
    pub(crate) const MIN_TELEMETRY_INTERVAL: Duration = Duration::from_secs(10);
}

/// Everything the provider runs with. Built once by the builder, then read-only.
pub(crate) struct Config {
    pub(crate) policy: TrustPolicy,
    pub(crate) environment: String,
    pub(crate) grace_ms: i64,
    pub(crate) max_bytes: usize,
    pub(crate) sources: Vec<SourceSpec>,
    pub(crate) notification_url: Option<reqwest::Url>,
    pub(crate) cache_dir: Option<PathBuf>,
    /// Names this policy's cache file: `cache::policy_tag`.
    pub(crate) cache_policy_tag: String,
    pub(crate) poll_interval: Duration,
    pub(crate) file_poll_interval: Duration,
    pub(crate) jitter: f64,
    pub(crate) backoff_initial: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) init_timeout: Duration,
    pub(crate) stale_after: Duration,
    pub(crate) stream_idle_timeout: Duration,
    /// The exposure queue's size, which exposures to record, and the host's listener.
    pub(crate) exposures: crate::telemetry::ExposureConfig,
    /// Where telemetry is posted; taken by the reporter when the provider is made.
    pub(crate) telemetry: Option<crate::report::TelemetryConfig>,
    pub(crate) clock: Clock,
    /// Fetches snapshots: the request timeout covers connect, headers and body.
    pub(crate) http: reqwest::Client,
    /// Holds the notification stream open: only connecting is timed, reads are
    /// watched by `stream_idle_timeout`.
    pub(crate) stream_http: reqwest::Client,
}

impl Config {
    /// The current time from the configured clock, Unix milliseconds.
    pub(crate) fn now(&self) -> i64 {
        (self.clock)()
    }
}

/// The system wall clock in Unix milliseconds (negative before 1970).
pub(crate) fn system_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}
