//! `pennon serve`: runs the control plane until Ctrl-C or SIGTERM.
//!
//! A first run with no arguments creates `./pennon-data` with an SQLite database and a
//! signing key, the environments `development`, `staging` and `production`, an admin
//! token and an SDK key (both printed once), and prints where everything is served.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use pennon_server::{format_duration, parse_duration, parse_keep, Config, Retention, Running};

use super::{inputs, print_line, Failure};

/// Where the server keeps its data: `pennon serve` and `pennon admin-token` find the
/// database alike.
#[derive(Debug, clap::Args)]
pub(crate) struct Place {
    /// Where the SQLite database and a generated signing key live.
    #[arg(long, env = "PENNON_DATA_DIR", value_name = "DIR", default_value = "pennon-data")]
    pub(crate) data_dir: PathBuf,
    /// `sqlite:PATH` or `postgres://USER:PASSWORD@HOST/DB`. Default: SQLite in the data directory.
    /// One `pennon serve` per SQLite file (a second is refused); any number on PostgreSQL.
    #[arg(long, env = "PENNON_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub(crate) database_url: Option<String>,
}

impl Place {
    /// The database URL in force.
    pub(crate) fn database_url(&self) -> String {
        Config { data_dir: self.data_dir.clone(), database_url: self.database_url.clone(), ..Config::new() }
            .database_url()
    }
}

/// Arguments of `pennon serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Where the data is.
    #[command(flatten)]
    pub(crate) place: Place,
    /// The address to listen on.
    #[arg(long, env = "PENNON_LISTEN", value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// The public base URL, if the server sits behind a proxy.
    #[arg(long, env = "PENNON_PUBLIC_URL", value_name = "URL")]
    pub(crate) public_url: Option<String>,
    /// A private key file to sign snapshots with; repeat to sign with two keys during a
    /// rotation. Default: `PENNON_SIGNING_KEY`, else DATA_DIR/signing.key (created on the
    /// first start; later starts without it are refused).
    #[arg(long = "signing-key", value_name = "PRIVATE_KEY_FILE")]
    pub(crate) signing_keys: Vec<PathBuf>,
    /// Start although none of the signing keys signed the environments' latest
    /// snapshots (refused otherwise: clients pinned to the old key would refuse every
    /// update). For a switch without overlap, after clients trust the new key.
    #[arg(long)]
    pub(crate) replace_signing_key: bool,
    /// A further public key to publish at /v1/keys (`ed25519:...` or a `.pub` file): the
    /// next key before it signs, or the previous one after it stopped.
    #[arg(long = "publish-key", value_name = "PUBLIC_KEY_OR_FILE")]
    pub(crate) publish_keys: Vec<String>,
    /// How long each snapshot is valid.
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration)]
    pub(crate) snapshot_ttl: Duration,
    /// Re-sign an unchanged environment when its snapshot expires within this.
    #[arg(long, value_name = "DURATION", default_value = "1d", value_parser = parse_duration)]
    pub(crate) resign_before: Duration,
    /// How often to look for snapshots to re-sign (and to sweep for snapshot retention),
    /// at least 1s.
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = parse_duration)]
    pub(crate) resign_interval: Duration,
    /// Interval of heartbeats on /v1/stream, 1s to 60s.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub(crate) heartbeat: Duration,
    /// Closes a connection that takes longer to send a request head, or stays idle
    /// between requests longer (streams are not cut), 1s to 5m.
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = parse_duration)]
    pub(crate) head_timeout: Duration,
    /// Answers 408 and closes the connection when a request body has not all arrived
    /// this long after the server started reading it, 1s to 1h.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub(crate) body_timeout: Duration,
    /// Most event streams open at once on this instance; beyond it a stream is refused
    /// (503) and its SDK polls. Lowered at start to fit the open-file limit.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub(crate) max_streams: usize,
    /// Most event streams open at once with one SDK key on this instance; beyond it a
    /// stream is refused (429) and its SDK polls.
    #[arg(long, value_name = "N", default_value_t = 2_000)]
    pub(crate) max_streams_per_key: usize,
    /// How often to re-read versions from PostgreSQL, in case a notification was lost.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub(crate) poll_interval: Duration,
    /// Keep this many published versions per environment and audience (server, client),
    /// the newest always among them, or `all`. Rollback and GET by version reach only
    /// these.
    #[arg(long, env = "PENNON_SNAPSHOT_KEEP", value_name = "N|all", default_value = "100", value_parser = Keep::parse)]
    pub(crate) snapshot_keep: Keep,
    /// Also delete versions issued longer ago than this (the newest is always kept).
    /// Default: no age limit.
    #[arg(long, env = "PENNON_SNAPSHOT_MAX_AGE", value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) snapshot_max_age: Option<Duration>,
    /// Also write every published snapshot under this directory (for a CDN or bucket).
    #[arg(long, env = "PENNON_EXPORT_DIR", value_name = "DIR")]
    pub(crate) export_dir: Option<PathBuf>,
    /// Largest request body accepted, in bytes (at least 4096: below that even a flag
    /// definition or a telemetry report would be refused with 413).
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(MIN_BODY..=u32::MAX as u64))]
    pub(crate) max_body: u64,
    /// Telemetry reports each SDK key may post a minute (in bursts of as many); more
    /// are answered 429 with Retry-After, and SDKs send their counts later.
    #[arg(long, value_name = "N", default_value_t = 6_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub(crate) telemetry_rate: u32,
    /// Exposures kept per environment, the newest (0 keeps none).
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub(crate) exposures_kept: u32,
    /// How long an exposure is kept at most (they hold targeting keys: user ids).
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration)]
    pub(crate) exposures_max_age: Duration,
    /// Log level: error, warn, info, debug or trace.
    #[arg(long, env = "PENNON_LOG", value_name = "LEVEL", default_value = "info")]
    pub(crate) log: tracing::Level,
}

/// `--snapshot-keep`: a number of versions, or `None` for `all`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keep(Option<u64>);

impl Keep {
    fn parse(text: &str) -> Result<Keep, String> {
        parse_keep(text).map(Keep)
    }
}

impl Args {
    fn config(&self) -> Result<Config, Failure> {
        let published_keys =
            self.publish_keys.iter().map(|k| inputs::read_trusted_key(k)).collect::<Result<Vec<_>, _>>()?;
        Ok(Config {
            data_dir: self.place.data_dir.clone(),
            database_url: self.place.database_url.clone(),
            listen: self.listen,
            public_url: self.public_url.clone(),
            signing_key_files: self.signing_keys.clone(),
            signing_key_text: std::env::var("PENNON_SIGNING_KEY").ok(),
            published_keys,
            snapshot_ttl: self.snapshot_ttl,
            resign_before: self.resign_before,
            resign_interval: self.resign_interval,
            heartbeat: self.heartbeat,
            head_timeout: self.head_timeout,
            body_timeout: self.body_timeout,
            max_streams: self.max_streams,
            max_streams_per_key: self.max_streams_per_key,
            poll_interval: self.poll_interval,
            export_dir: self.export_dir.clone(),
            retention: Retention { keep: self.snapshot_keep.0, max_age: self.snapshot_max_age },
            max_body_bytes: usize::try_from(self.max_body).unwrap_or(usize::MAX),
            bootstrap: true,
            replace_signing_key: self.replace_signing_key,
            telemetry_per_minute: self.telemetry_rate,
            exposures_kept: self.exposures_kept,
            exposures_max_age: self.exposures_max_age,
        })
    }
}

/// The least `--max-body`: every write would otherwise be refused with 413.
const MIN_BODY: u64 = 4096;

/// Refuses intervals that would spin or starve (a zero period, and heartbeats so far
/// apart that clients, the Rust provider waiting 90 s by default, take a live stream
/// for a dead one) and caps of no streams at all.
fn check_intervals(args: &Args) -> Result<(), String> {
    let second = Duration::from_secs(1);
    if !(second..=Duration::from_secs(60)).contains(&args.heartbeat) {
        return Err(format!("--heartbeat must be 1s to 60s, not {}", format_duration(args.heartbeat)));
    }
    if !(second..=Duration::from_secs(300)).contains(&args.head_timeout) {
        return Err(format!("--head-timeout must be 1s to 5m, not {}", format_duration(args.head_timeout)));
    }
    if !(second..=Duration::from_secs(3600)).contains(&args.body_timeout) {
        return Err(format!("--body-timeout must be 1s to 1h, not {}", format_duration(args.body_timeout)));
    }
    for (name, cap) in [("--max-streams", args.max_streams), ("--max-streams-per-key", args.max_streams_per_key)] {
        if cap == 0 {
            return Err(format!("{name} must be at least 1"));
        }
    }
    if args.snapshot_max_age.is_some_and(|age| age.is_zero()) {
        return Err(
            "--snapshot-max-age must be longer than 0 (to keep only the newest version, use --snapshot-keep 1)".into(),
        );
    }
    for (name, interval) in [
        ("--poll-interval", args.poll_interval),
        ("--resign-interval", args.resign_interval),
        ("--exposures-max-age", args.exposures_max_age),
    ] {
        if interval < second {
            return Err(format!("{name} must be at least 1s, not {}", format_duration(interval)));
        }
    }
    Ok(())
}

/// Starts the server, prints where it is, and serves until told to stop.
pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    let mut config = args.config()?;
    if args.resign_before >= args.snapshot_ttl {
        return Err(Failure::Usage("--resign-before must be shorter than --snapshot-ttl".into()));
    }
    check_intervals(args).map_err(Failure::Usage)?;
    tracing_subscriber::fmt()
        .with_max_level(args.log)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
    let open_files = raise_open_file_limit();
    fit_streams_to(open_files, &mut config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let stop = stop_signal();
        let database = config.database_url();
        let running = pennon_server::start(config).await.map_err(Failure::Usage)?;
        banner(&running, &database)?;
        // Not cut quietly as a command's output is: the banner alone shows a first run's
        // admin token, which nothing can show again.
        if super::stdout_closed() {
            let lost = if running.first_run.is_some() {
                "; the first run's admin token is lost with it: `pennon admin-token` (with this --data-dir or \
                 --database-url) makes a new one"
            } else {
                ""
            };
            return Err(Failure::Usage(format!(
                "cannot write the startup banner (and any first-run admin token) to standard output: it is closed{lost}"
            )));
        }
        running.serve_until(stop).await.map_err(|e| Failure::Usage(format!("server: {e}")))
    })
}

/// Every stream and connection holds a file descriptor, and the usual soft limit
/// (1,024 under systemd) is far below the hard one: raised to it, as Go servers do
/// (flagd, Flipt), so a few hundred idle streams cannot stop the server accepting.
/// Returns the limit in force, if it can be read.
fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            tracing::debug!("open file limit: {limit}");
            Some(limit)
        }
        Err(e) => {
            tracing::warn!("cannot raise the open file limit: {e}; it stays as it was");
            rlimit::getrlimit(rlimit::Resource::NOFILE).ok().map(|(soft, _)| soft)
        }
    }
}

/// Lowers `--max-streams` to what the open-file limit leaves after a reserve for
/// everything else (the database pool, snapshot polls, the admin API, export files):
/// a cap the process cannot reach before running out of descriptors protects nothing.
fn fit_streams_to(open_files: Option<u64>, config: &mut Config) {
    let Some(limit) = open_files else { return };
    let reserve = (limit / 2).min(1024);
    let fits = usize::try_from(limit - reserve).unwrap_or(usize::MAX).max(1);
    if config.max_streams > fits {
        tracing::warn!(
            "--max-streams {} is more than the open-file limit of {limit} leaves for streams after {reserve} \
             for everything else; streams are capped at {fits} (raise the hard limit, LimitNOFILE=, for more)",
            config.max_streams
        );
        config.max_streams = fits;
    }
}

/// SIGTERM or SIGINT, listened for from this call on: one sent as soon as the banner
/// is out (a supervisor stopping what it just started) is a clean stop, not the
/// default action's immediate exit. Call it inside the runtime.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).ok();
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    async move {
        tokio::select! {
            () = received(terminate.as_mut()) => {}
            () = received(interrupt.as_mut()) => {}
        }
        super::note("stopping");
    }
}

/// The next delivery of `signal`; never, if it could not be listened for.
async fn received(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}

fn banner(running: &Running, database: &str) -> Result<(), Failure> {
    let url = &running.base_url;
    let mut lines = vec![format!("Pennon control plane {}", env!("CARGO_PKG_VERSION"))];
    lines.push(format!("  database:     {}", redact(database)));
    for key in &running.keys.public_keys {
        lines.push(format!("  signing key:  {} (key id {})", key.to_text(), key.key_id()));
    }
    match &running.keys.generated {
        Some(path) => lines.push(format!(
            "                generated {} (keep it secret; clients trust the public key above)",
            path.display()
        )),
        None => lines.push(format!("                from {}", running.keys.source)),
    }
    if let Some(first) = &running.first_run {
        lines.push(String::new());
        lines.push(format!(
            "First run: created environments {} (production is protected: changes need an approved change request).",
            first.environments.join(", ")
        ));
        lines.push(format!("  admin token: {}", first.admin_token));
        lines.push(format!("  {} server SDK key: {}", first.sdk_key_env, first.sdk_key));
        lines.push("  Both are shown only now; the database keeps only their hashes.".into());
        lines.push(format!("  Try: export PENNON_URL={url} PENNON_TOKEN={}", first.admin_token));
        lines.push("       pennon flags create new-checkout --type boolean".into());
        lines.push(format!(
            "       curl -H 'Authorization: Bearer {}' {url}/v1/snapshots/{}",
            first.sdk_key, first.sdk_key_env
        ));
    }
    lines.push(String::new());
    lines.push(format!("  admin API:    {url}/api/v1   (OpenAPI: {url}/openapi.json)"));
    lines.push(format!(
        "  pennon CLI:   PENNON_URL={url}   (the base URL, without /api/v1; PENNON_TOKEN holds an API token)"
    ));
    lines.push(format!("  snapshots:    {url}/v1/snapshots/{{env}}   (SDK key; ETag and If-None-Match)"));
    lines.push(format!("  stream:       {url}/v1/stream/{{env}}      (server-sent events)"));
    lines.push(format!("  public keys:  {url}/v1/keys"));
    lines.push(format!("listening on {} (Ctrl-C to stop)", running.addr));
    print_line(&lines.join("\n"))
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = url[scheme + 3..at].split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
