//! What `pennon serve` is told: [`Config`], with the defaults a first run uses.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use pennon_core::PublicKey;

/// The control plane's settings. [`Config::new`] gives the defaults of
/// `pennon serve` with no arguments.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the SQLite database and a generated signing key live.
    pub data_dir: PathBuf,
    /// `sqlite:PATH` or `postgres://...`; default an SQLite file in the data directory.
    pub database_url: Option<String>,
    /// The address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// The base URL printed and used in links; default `http://` and the bound address.
    pub public_url: Option<String>,
    /// Private key files to sign with (`--signing-key`, repeatable).
    pub signing_key_files: Vec<PathBuf>,
    /// Private keys as text (`PENNON_SIGNING_KEY`), separated by commas or whitespace.
    pub signing_key_text: Option<String>,
    /// More public keys to publish at `/v1/keys` (a key being rotated in or out).
    pub published_keys: Vec<PublicKey>,
    /// How long a snapshot is valid (`expires_at - issued_at`).
    pub snapshot_ttl: Duration,
    /// Re-sign an unchanged environment when its snapshot expires within this.
    pub resign_before: Duration,
    /// How often to look for snapshots to re-sign.
    pub resign_interval: Duration,
    /// Interval between heartbeats on `/v1/stream/{env}`.
    pub heartbeat: Duration,
    /// How long a connection may take to send a request head, or stay idle between
    /// requests, before it is closed. Streams are not cut by it.
    pub head_timeout: Duration,
    /// How long a request body may take to arrive, from when the handler starts reading
    /// it (after the caller is authenticated); slower ones are answered 408.
    pub body_timeout: Duration,
    /// Most event streams open at once on this instance, all keys together.
    pub max_streams: usize,
    /// Most event streams open at once on this instance with one SDK key.
    pub max_streams_per_key: usize,
    /// How often an instance re-reads versions from the database, in case a
    /// notification was lost (PostgreSQL only).
    pub poll_interval: Duration,
    /// Export every published snapshot to this directory.
    pub export_dir: Option<PathBuf>,
    /// Which published snapshots the database keeps.
    pub retention: Retention,
    /// Largest request body accepted, bytes.
    pub max_body_bytes: usize,
    /// Create the default environments and the first admin token on an empty database.
    pub bootstrap: bool,
    /// Start even though no signing key signed an environment's latest snapshot: a
    /// deliberate switch without overlap (a compromised key), clients told first.
    pub replace_signing_key: bool,
    /// Telemetry reports each SDK key may post a minute, in bursts of as many; more are
    /// answered 429 with `Retry-After` (at least 1).
    pub telemetry_per_minute: u32,
    /// Exposures kept per environment, the newest (0 keeps none).
    pub exposures_kept: u32,
    /// How long an exposure is kept at most.
    pub exposures_max_age: Duration,
}

impl Config {
    /// The defaults: data in `./pennon-data`, listening on `127.0.0.1:8080`, snapshots
    /// valid 7 days and re-signed 1 day before they expire, telemetry at 6,000 reports a
    /// minute per SDK key, the newest 10,000 exposures per environment kept for 7 days.
    pub fn new() -> Config {
        Config {
            data_dir: PathBuf::from("pennon-data"),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            signing_key_files: Vec::new(),
            signing_key_text: None,
            published_keys: Vec::new(),
            snapshot_ttl: Duration::from_secs(7 * 86_400),
            resign_before: Duration::from_secs(86_400),
            resign_interval: Duration::from_secs(60),
            heartbeat: Duration::from_secs(15),
            head_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(60),
            max_streams: 10_000,
            max_streams_per_key: 2_000,
            poll_interval: Duration::from_secs(5),
            export_dir: None,
            retention: Retention::default(),
            max_body_bytes: 1024 * 1024,
            bootstrap: true,
            replace_signing_key: false,
            telemetry_per_minute: 6_000,
            exposures_kept: 10_000,
            exposures_max_age: Duration::from_secs(7 * 86_400),
        }
    }

    /// Whether anything is kept in the data directory: the default SQLite database, or
    /// a signing key generated there when none is configured. PostgreSQL with a key
    /// given elsewhere needs no directory, and none is made.
    pub fn uses_data_dir(&self) -> bool {
        self.database_url.is_none() || (self.signing_key_files.is_empty() && self.signing_key_text.is_none())
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("pennon.db").display()),
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

/// Which published snapshots are kept, per environment and audience (server, client).
/// The newest is always kept; older ones are deleted at the next publish of their
/// environment, or by the sweep every `resign_interval`. See docs/OPERATIONS.md,
/// *Snapshot retention*.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Keep the newest this many versions (at least 1); `None` keeps every version.
    pub keep: Option<u64>,
    /// Also delete versions issued longer ago than this, however few are left.
    pub max_age: Option<Duration>,
}

impl Retention {
    /// The default: the newest 100 versions, whatever their age.
    pub const DEFAULT_KEEP: u64 = 100;

    /// Keeps every version, as releases before retention did.
    pub fn keep_all() -> Retention {
        Retention { keep: None, max_age: None }
    }

    /// Whether this policy ever deletes anything.
    pub fn prunes(&self) -> bool {
        self.keep.is_some() || self.max_age.is_some()
    }

    /// The policy in words, for messages: `the newest 100 versions issued in the last 30d,
    /// and always the newest one`.
    pub fn describe(&self) -> String {
        match (self.keep, self.max_age) {
            (Some(1), _) => "only the newest version".to_owned(),
            (Some(n), None) => format!("the newest {n} versions"),
            (None, None) => "every version".to_owned(),
            (keep, Some(age)) => {
                let which = keep.map_or("the versions".to_owned(), |n| format!("the newest {n} versions"));
                format!("{which} issued in the last {}, and always the newest one", format_duration(age))
            }
        }
    }
}

impl Default for Retention {
    fn default() -> Retention {
        Retention { keep: Some(Retention::DEFAULT_KEEP), max_age: None }
    }
}

/// A duration in the largest unit that divides it (`30d`, `2m`, `1500ms`, `0s`), as
/// [`parse_duration`] reads it: messages show a setting as it would be written.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(pennon_server::format_duration(Duration::from_secs(120)), "2m");
/// assert_eq!(pennon_server::format_duration(Duration::from_millis(1500)), "1500ms");
/// assert_eq!(pennon_server::format_duration(Duration::ZERO), "0s");
/// ```
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        return "0s".to_owned();
    }
    for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if millis >= size && millis.is_multiple_of(size) {
            return format!("{}{unit}", millis / size);
        }
    }
    format!("{millis}ms")
}

/// Reads `--snapshot-keep`: a number of versions (at least 1) or `all`.
///
/// ```
/// assert_eq!(pennon_server::parse_keep("100"), Ok(Some(100)));
/// assert_eq!(pennon_server::parse_keep("all"), Ok(None));
/// assert!(pennon_server::parse_keep("0").is_err());
/// ```
pub fn parse_keep(text: &str) -> Result<Option<u64>, String> {
    match text.trim() {
        "all" => Ok(None),
        number => match number.parse::<u64>() {
            Ok(0) => Err("`0`: the newest version is always kept; use 1 to keep only it, or `all`".to_owned()),
            Ok(n) => Ok(Some(n)),
            Err(_) => Err(format!("`{number}`: expected a number of versions (at least 1) or `all`")),
        },
    }
}

/// Reads a duration such as `7d`, `24h`, `30m`, `15s` or `250ms`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(pennon_server::parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
/// assert_eq!(pennon_server::parse_duration("250ms"), Ok(Duration::from_millis(250)));
/// assert!(pennon_server::parse_duration("7").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let amount: u64 = digits.parse().map_err(|_| format!("`{text}`: expected a number and a unit, such as 7d"))?;
    let millis = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{text}`: the unit must be ms, s, m, h or d")),
    };
    amount.checked_mul(millis).map(Duration::from_millis).ok_or_else(|| format!("`{text}` is too long"))
}
