//! [`PennonProviderBuilder`]: keys, environment, sources and timings.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pennon_core::{Audience, PublicKey, TrustPolicy, DEFAULT_MAX_BYTES};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::config::{defaults, system_now, Clock, Config, SourceSpec};
use crate::report::TelemetryConfig;
use crate::telemetry::{ExposureConfig, ExposureListener};
use crate::{BuildError, Exposure, ExposureScope, PennonProvider};

/// The longest interval or timeout accepted: a year is "never" for a provider.
const MAX_SETTING: Duration = Duration::from_secs(365 * 86_400);

/// The largest exposure queue: its slots are allocated up front.
const MAX_EXPOSURES: usize = 1 << 20;

/// Configures a [`PennonProvider`]. Get one with [`PennonProvider::builder`].
///
/// Trusted keys, the environment and at least one source are required; everything else
/// has a default suited to a service polling a control plane.
#[must_use]
pub struct PennonProviderBuilder {
    keys: Vec<PublicKey>,
    environment: Option<String>,
    threshold: usize,
    audience: Option<Audience>,
    grace: Duration,
    max_bytes: usize,
    sources: Vec<SourceSpec>,
    urls: Vec<String>,
    notification_url: Option<String>,
    headers: Vec<(String, String)>,
    cache_dir: Option<PathBuf>,
    poll_interval: Duration,
    file_poll_interval: Duration,
    jitter: f64,
    backoff: (Duration, Duration),
    request_timeout: Duration,
    init_timeout: Duration,
    stale_after: Duration,
    stream_idle_timeout: Duration,
    exposure_capacity: usize,
    exposure_scope: ExposureScope,
    exposure_listener: Option<ExposureListener>,
    /// The control plane's base URL and the SDK key telemetry is posted with.
    telemetry: Option<(String, String)>,
    telemetry_interval: Option<Duration>,
    clock: Option<Clock>,
}

impl Default for PennonProviderBuilder {
    fn default() -> Self {
        PennonProviderBuilder {
            keys: Vec::new(),
            environment: None,
            threshold: 1,
            audience: Some(Audience::Server),
            grace: Duration::ZERO,
            max_bytes: DEFAULT_MAX_BYTES,
            sources: Vec::new(),
            urls: Vec::new(),
            notification_url: None,
            headers: Vec::new(),
            cache_dir: None,
            poll_interval: defaults::POLL_INTERVAL,
            file_poll_interval: defaults::FILE_POLL_INTERVAL,
            jitter: defaults::JITTER,
            backoff: (defaults::BACKOFF_INITIAL, defaults::BACKOFF_MAX),
            request_timeout: defaults::REQUEST_TIMEOUT,
            init_timeout: defaults::INIT_TIMEOUT,
            stale_after: defaults::STALE_AFTER,
            stream_idle_timeout: defaults::STREAM_IDLE_TIMEOUT,
            exposure_capacity: 0,
            exposure_scope: ExposureScope::Split,
            exposure_listener: None,
            telemetry: None,
            telemetry_interval: None,
            clock: None,
        }
    }
}

impl PennonProviderBuilder {
    /// Trusts snapshots signed by `key`. Required (at least one key).
    pub fn trusted_key(mut self, key: PublicKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Trusts every key given, for example the old and new key during a rotation.
    pub fn trusted_keys(mut self, keys: impl IntoIterator<Item = PublicKey>) -> Self {
        self.keys.extend(keys);
        self
    }

    /// The environment snapshots must be signed for. Required.
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// Requires valid signatures by this many distinct trusted keys (default 1).
    pub fn threshold(mut self, threshold: usize) -> Self {
        self.threshold = threshold;
        self
    }

    /// Accepts snapshots for `audience` only, or for either with `None`. The default,
    /// [`Audience::Server`], is what a service wants: a browser snapshot (client-visible
    /// flags only) would hide every server-only flag.
    pub fn audience(mut self, audience: Option<Audience>) -> Self {
        self.audience = audience;
        self
    }

    /// Accepts and serves snapshots up to `grace` past their `expires_at` (default 0).
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The largest envelope accepted, in bytes, from any source or the cache (default
    /// 16 MiB). HTTP bodies are read in chunks and abandoned past it.
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// A source: envelope bytes loaded once at initialization (bootstrap or tests).
    pub fn inline(mut self, envelope: impl Into<Vec<u8>>) -> Self {
        self.sources.push(SourceSpec::Inline(envelope.into().into()));
        self
    }

    /// A source: an envelope file (as written by `pennon sign`), polled for changes.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.push(SourceSpec::File(path.into()));
        self
    }

    /// A source: an HTTP(S) URL serving the envelope, polled with `If-None-Match`, or
    /// with `If-Modified-Since` where the host sends `Last-Modified` and no ETag (a
    /// static host, a bucket): either way an unchanged snapshot costs a 304, not its
    /// body. A host that sends neither is downloaded whole at every poll. Give several (the control plane, a CDN, a bucket) and each is polled; the newest
    /// verified version wins. A source behind the others is refused (logged once per
    /// version), asked conditionally from then on, and keeps nothing fresh: `STALE`
    /// comes when, for `stale_after`, no source has answered with the served version or
    /// a newer one.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.urls.push(url.into());
        self
    }

    /// A server-sent-events URL announcing new versions; an announcement makes every
    /// source fetch at once. The stream reconnects with backoff when it drops or goes
    /// quiet for longer than [`Self::stream_idle_timeout`]; the backoff starts over only
    /// after a connection stayed up (10 s), so a server that accepts and drops cannot
    /// make the sources fetch each second. A refusal's `Retry-After` (a 429 or 503 from
    /// a server at its stream cap) and the stream's `retry:` are waited out too, up to
    /// the backoff ceiling; the sources go on polling meanwhile. It must answer
    /// `text/event-stream`, and an event's data is at most 64 KiB.
    ///
    /// An event names a version as `{"version": N}`, `N`, or the first number of its
    /// text, an integer from 1 to 2^53 - 1 (`11.0` or `1e15` name none, and fetch as an
    /// event naming none does). A stream is a hint, so one that lies is bounded: when
    /// the fetch made for events does not deliver what they announced (the version the
    /// latest named, or for events naming none a new one), later events wait out a
    /// hold, from the initial backoff doubling up to [`Self::poll_interval`], and cost
    /// one fetch when it ends; a warning names the versions announced and served, once,
    /// until a fetch delivers an announced version again. A stream announcing versions
    /// never published costs at most one fetch per poll interval beside the polls.
    pub fn notification_url(mut self, url: impl Into<String>) -> Self {
        self.notification_url = Some(url.into());
        self
    }

    /// Sends this header with every HTTP request (for example an SDK key).
    pub fn http_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Keeps the last verified envelope in this directory, written atomically, and serves
    /// it (verified again) when no source answers at start: once every source has failed
    /// once, or at the init timeout if one hangs. What the cache serves is `STALE`, with
    /// the file and the sources' failures as its message, until a source answers. Any
    /// providers may share the
    /// directory: the file is named by environment and by what verifies it (keys,
    /// threshold, audience), and none writes a version over a newer verified one. After
    /// the trusted keys change, a start with no source answering also reads the files
    /// written under earlier keys, and serves the newest that verifies.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Time between HTTP polls after a success (default 30 s), shortened by jitter.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Time between checks of a file source (default 1 s).
    pub fn file_poll_interval(mut self, interval: Duration) -> Self {
        self.file_poll_interval = interval;
        self
    }

    /// Shortens every wait by a random fraction up to `fraction` (0 to 1, default 0.2),
    /// so a fleet does not poll in lockstep.
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction;
        self
    }

    /// Exponential backoff after failures: `initial`, doubling, capped at `max`
    /// (defaults 1 s and 60 s), with jitter.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = (initial, max);
        self
    }

    /// Timeout of one snapshot request, body included (default 10 s); also the connect
    /// timeout of the notification stream.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long `initialize` waits for a first snapshot (default 5 s). When every source
    /// answers 401 or 403, or offers a snapshot for another environment or audience or
    /// signed by no trusted key, and no cache can serve, it ends at once in `ERROR`:
    /// waiting mends neither a key nor a setting. A bad signature or malformed body (a
    /// corrupted copy), or an expired or older snapshot (a cache catching up), is waited
    /// on. Syncing goes on either way.
    pub fn init_timeout(mut self, timeout: Duration) -> Self {
        self.init_timeout = timeout;
        self
    }

    /// Reports `STALE` once syncing has failed for this long (default 5 min), or at once
    /// when every failing source answers 401 or 403 (a revoked or wrong key). The time
    /// counts from the first failed fetch: the next poll, or at once when a notification
    /// stream that was open cannot reopen.
    pub fn stale_after(mut self, after: Duration) -> Self {
        self.stale_after = after;
        self
    }

    /// Reconnects a notification stream silent for this long (default 90 s). Servers
    /// send heartbeats more often than that.
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = timeout;
        self
    }

    /// Queues up to `capacity` exposures (evaluations in [`Self::exposures`]' scope) for
    /// the telemetry reports and [`crate::ProviderHandle::drain_exposures`]; beyond it
    /// they are dropped and counted. Default 0: no queue. The queue is lock-free and
    /// allocated whole at build, about 140 bytes a slot (14 MB for 100,000); at most
    /// 1,048,576.
    pub fn exposure_queue(mut self, capacity: usize) -> Self {
        self.exposure_capacity = capacity;
        self
    }

    /// Which evaluations are exposures, for the queue and [`Self::on_exposure`] alike:
    /// [`ExposureScope::Split`] (the default), those a rollout decided, or
    /// [`ExposureScope::All`], every one that served a variant. Counts are kept for
    /// every evaluation either way.
    pub fn exposures(mut self, scope: ExposureScope) -> Self {
        self.exposure_scope = scope;
        self
    }

    /// Calls `listener` with every exposure (in [`Self::exposures`]' scope), the record
    /// the queue holds, whether or not a queue is set: send exposures to your analytics
    /// pipeline here while the telemetry reports send them to the control plane too
    /// (draining the queue would split them with the reports).
    ///
    /// It runs inline, on the thread evaluating, possibly on many at once: keep it
    /// quick and non-blocking (push to a channel or a buffer your own task ships). A
    /// panic in it is caught, logged once (the process's panic hook still prints each,
    /// as for any panic), and the evaluation returns its value as usual; in a build
    /// with `panic = "abort"` a panic aborts, as anywhere. GrowthBook's
    /// `trackingCallback` is the peer; Unleash emits `impression` events for flags
    /// with `impressionData` on.
    ///
    /// ```no_run
    /// # fn demo(key: pennon_provider::PublicKey) -> Result<(), pennon_provider::BuildError> {
    /// use pennon_provider::{Exposure, PennonProvider};
    ///
    /// // Bounded: a warehouse that falls behind loses exposures, not memory.
    /// let (to_warehouse, _shipped_by_your_task) = std::sync::mpsc::sync_channel::<Exposure>(10_000);
    /// let provider = PennonProvider::builder()
    ///     .trusted_key(key)
    ///     .environment("production")
    ///     .url("https://flags.example.com/v1/snapshots/production")
    ///     .exposure_queue(10_000) // for the control plane's reports
    ///     .telemetry("https://flags.example.com", "pns_...")
    ///     .on_exposure(move |exposure| {
    ///         let _ = to_warehouse.try_send(exposure.clone());
    ///     })
    ///     .build()?;
    /// # let _ = provider; Ok(()) }
    /// ```
    pub fn on_exposure(mut self, listener: impl Fn(&Exposure) + Send + Sync + 'static) -> Self {
        self.exposure_listener = Some(Arc::new(listener));
        self
    }

    /// Posts evaluation telemetry to the control plane at `base_url` (as
    /// `https://flags.example.com`: the reports go to `{base_url}/v1/telemetry/{env}`),
    /// with `sdk_key` (the server or client key of the environment) as its bearer token.
    /// Off by default: snapshots may come from a CDN or a file, so where to report
    /// cannot be guessed.
    ///
    /// Every [`Self::telemetry_interval`], a background task takes the evaluation counts
    /// per flag and variant, the not-found keys, the exposures queued (with
    /// [`Self::exposure_queue`]; [`Self::on_exposure`] gets them too) and how many the
    /// queue dropped, all since the last
    /// report the server accepted, and posts them; evaluations never wait on it. Each
    /// report is a batch with a random id: a post that fails (network, timeout, 5xx,
    /// 429) is sent again unchanged before newer counts (the server may have stored it,
    /// and counts a repeated id once; after a day it is sent afresh with newer counts),
    /// and backs off (doubling the interval, up to 10 minutes, and never sooner than a
    /// `Retry-After`);
    /// a 4xx is logged once with the server's message and that report dropped. At
    /// shutdown a last report is sent, within the request timeout. The task takes the
    /// counts and exposures itself: a host that also calls
    /// [`crate::ProviderHandle::take_evaluation_counts`] or
    /// [`crate::ProviderHandle::drain_exposures`] splits them with it
    /// ([`Self::on_exposure`] gets every exposure beside the reports).
    pub fn telemetry(mut self, base_url: impl Into<String>, sdk_key: impl Into<String>) -> Self {
        self.telemetry = Some((base_url.into(), sdk_key.into()));
        self
    }

    /// Time between telemetry reports (default 60 s, at least 10 s), shortened by jitter.
    pub fn telemetry_interval(mut self, interval: Duration) -> Self {
        self.telemetry_interval = Some(interval);
        self
    }

    /// The wall clock, in Unix milliseconds, used for evaluation, expiry and staleness
    /// (default: the system clock). For tests and hosts with their own time source.
    pub fn clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Checks the configuration and builds the provider. Nothing runs until
    /// `initialize` (which `OpenFeature::set_provider` calls).
    pub fn build(self) -> Result<PennonProvider, BuildError> {
        let environment = self.environment.ok_or(BuildError::MissingEnvironment)?;
        if self.keys.is_empty() {
            return Err(BuildError::MissingKeys);
        }
        let grace_ms = i64::try_from(self.grace.as_millis()).unwrap_or(i64::MAX);
        let cache_policy_tag = crate::cache::policy_tag(&self.keys, self.threshold, self.audience);
        let policy = TrustPolicy::new(environment.clone(), self.keys)
            .and_then(|policy| policy.with_threshold(self.threshold))
            .map_err(BuildError::Policy)?
            .with_max_bytes(self.max_bytes)
            .with_audience(self.audience)
            .with_grace_ms(grace_ms);
        let mut sources = self.sources;
        for url in &self.urls {
            sources.push(SourceSpec::Http(parse_url(url)?));
        }
        if sources.is_empty() {
            return Err(BuildError::NoSource);
        }
        let notification_url = self.notification_url.as_deref().map(parse_url).transpose()?;
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(BuildError::InvalidSetting(format!("jitter must be 0 to 1, not {}", self.jitter)));
        }
        let positive = [
            ("poll_interval", self.poll_interval),
            ("file_poll_interval", self.file_poll_interval),
            ("backoff initial", self.backoff.0),
            ("request_timeout", self.request_timeout),
            ("stream_idle_timeout", self.stream_idle_timeout),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, value)| value.is_zero()) {
            return Err(BuildError::InvalidSetting(format!("{name} must be longer than zero")));
        }
        // Deadlines and jittered delays are computed from these: past this they would
        // overflow `Instant` or `Duration` arithmetic instead of meaning "never".
        let bounded = [
            ("poll_interval", self.poll_interval),
            ("file_poll_interval", self.file_poll_interval),
            ("backoff initial", self.backoff.0),
            ("backoff max", self.backoff.1),
            ("request_timeout", self.request_timeout),
            ("stream_idle_timeout", self.stream_idle_timeout),
            ("init_timeout", self.init_timeout),
            ("stale_after", self.stale_after),
        ];
        if let Some((name, value)) = bounded.iter().find(|(_, value)| *value > MAX_SETTING) {
            return Err(BuildError::InvalidSetting(format!(
                "{name} must be at most {} days, not {} s",
                MAX_SETTING.as_secs() / 86_400,
                value.as_secs()
            )));
        }
        // Every snapshot would be refused as too large, or the cache written to the
        // process's working directory under a name that says nothing.
        if self.max_bytes == 0 {
            return Err(BuildError::InvalidSetting("max_bytes must be above zero".into()));
        }
        if self.cache_dir.as_ref().is_some_and(|dir| dir.as_os_str().is_empty()) {
            return Err(BuildError::InvalidSetting("cache_dir is empty: give a directory, or no cache_dir".into()));
        }
        if self.backoff.1 < self.backoff.0 {
            return Err(BuildError::InvalidSetting("backoff max must not be below backoff initial".into()));
        }
        if self.exposure_capacity > MAX_EXPOSURES {
            return Err(BuildError::InvalidSetting(format!(
                "exposure_queue must be at most {MAX_EXPOSURES} (every slot is allocated at build), not {}",
                self.exposure_capacity
            )));
        }
        let telemetry = telemetry_config(self.telemetry, self.telemetry_interval, &environment)?;
        let headers = header_map(&self.headers)?;
        let user_agent = concat!("pennon-provider/", env!("CARGO_PKG_VERSION"));
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .default_headers(headers.clone())
            .connect_timeout(self.request_timeout)
            .timeout(self.request_timeout)
            .build()
            .map_err(BuildError::Http)?;
        let stream_http = reqwest::Client::builder()
            .user_agent(user_agent)
            .default_headers(headers)
            .connect_timeout(self.request_timeout)
            .build()
            .map_err(BuildError::Http)?;
        let config = Config {
            policy,
            environment,
            grace_ms,
            max_bytes: self.max_bytes,
            sources,
            notification_url,
            cache_dir: self.cache_dir,
            cache_policy_tag,
            poll_interval: self.poll_interval,
            file_poll_interval: self.file_poll_interval,
            jitter: self.jitter,
            backoff_initial: self.backoff.0,
            backoff_max: self.backoff.1,
            request_timeout: self.request_timeout,
            init_timeout: self.init_timeout,
            stale_after: self.stale_after,
            stream_idle_timeout: self.stream_idle_timeout,
            exposures: ExposureConfig {
                capacity: self.exposure_capacity,
                scope: self.exposure_scope,
                listener: self.exposure_listener,
            },
            telemetry,
            clock: self.clock.unwrap_or_else(|| Arc::new(system_now)),
            http,
            stream_http,
        };
        Ok(PennonProvider::from_config(config))
    }
}

fn parse_url(text: &str) -> Result<reqwest::Url, BuildError> {
    let invalid = |reason: String| BuildError::InvalidUrl { url: text.to_owned(), reason };
    let url = reqwest::Url::parse(text).map_err(|e| invalid(e.to_string()))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(invalid(format!("the scheme must be http or https, not {other}"))),
    }
}

/// Where and how often to report, checked: a base URL of the control plane (not an
/// endpoint under it), a key that makes a header, an interval of 10 s or more.
fn telemetry_config(
    given: Option<(String, String)>,
    interval: Option<Duration>,
    environment: &str,
) -> Result<Option<TelemetryConfig>, BuildError> {
    let Some((base, key)) = given else {
        return match interval {
            Some(_) => Err(BuildError::InvalidSetting(
                "telemetry_interval is set, but telemetry is off: call `telemetry(base_url, sdk_key)`".into(),
            )),
            None => Ok(None),
        };
    };
    let mut url = parse_url(&base)?;
    let invalid = |reason: &str| BuildError::InvalidUrl { url: base.clone(), reason: reason.to_owned() };
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("the telemetry base URL takes no query or fragment"));
    }
    if url.path().contains("/v1/") {
        return Err(invalid(
            "give the control plane's base URL (`https://flags.example.com`); reports go to `{base}/v1/telemetry/{env}`",
        ));
    }
    url.path_segments_mut().map_err(|()| invalid("it cannot take a path"))?.pop_if_empty().extend([
        "v1",
        "telemetry",
        environment,
    ]);
    if key.trim().is_empty() {
        return Err(BuildError::InvalidSetting("the telemetry SDK key is empty".into()));
    }
    let mut authorization = HeaderValue::from_str(&format!("Bearer {key}"))
        .map_err(|e| BuildError::InvalidSetting(format!("the telemetry SDK key cannot be sent in a header: {e}")))?;
    authorization.set_sensitive(true);
    let interval = interval.unwrap_or(defaults::TELEMETRY_INTERVAL);
    if !(defaults::MIN_TELEMETRY_INTERVAL..=MAX_SETTING).contains(&interval) {
        return Err(BuildError::InvalidSetting(format!(
            "telemetry_interval must be 10 s to {} days, not {interval:?}",
            MAX_SETTING.as_secs() / 86_400
        )));
    }
    Ok(Some(TelemetryConfig { url, authorization, interval }))
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, BuildError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let invalid = |reason: String| BuildError::InvalidHeader { name: name.clone(), reason };
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|e| invalid(e.to_string()))?;
        let mut value = HeaderValue::from_str(value).map_err(|e| invalid(e.to_string()))?;
        value.set_sensitive(true);
        map.append(header, value);
    }
    Ok(map)
}
