//! What SDK telemetry shows: evaluations per flag (`GET /api/v1/reports/usage`), keys
//! code asks for that no flag has (`GET /api/v1/reports/not-found`) and exposures for
//! spot checks (`GET /api/v1/exposures`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SdkKind;

/// How long each point of a usage series covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// An hour (UTC).
    Hour,
    /// A day (UTC).
    Day,
}

impl Granularity {
    /// Its length in milliseconds.
    pub fn millis(self) -> i64 {
        match self {
            Granularity::Hour => 3_600_000,
            Granularity::Day => 86_400_000,
        }
    }
}

/// Evaluations reported per environment and flag over a time range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageReport {
    /// When the report was made, RFC 3339.
    pub generated_at: String,
    /// The range's start (rounded down to the hour) and end, RFC 3339.
    pub since: String,
    /// The range's end.
    pub until: String,
    /// How long each point of the series covers.
    pub granularity: Granularity,
    /// Hourly counts from before this are no longer kept, RFC 3339.
    pub kept_since: String,
    /// Each environment covered.
    pub environments: Vec<EnvUsage>,
}

/// One environment's usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvUsage {
    /// The environment.
    pub environment: String,
    /// The SDKs that report here, most recent first; empty when none does.
    pub sdks: Vec<SdkReporting>,
    /// Every flag (or the one asked for), by key.
    pub flags: Vec<FlagUsage>,
}

/// An SDK that reports in an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SdkReporting {
    /// Its name and version as it reports them; `null` gathers names past the 64 kept.
    pub sdk: Option<String>,
    /// The kind of SDK key it reports with.
    pub kind: SdkKind,
    /// Its first report kept, RFC 3339.
    pub first_report: String,
    /// Its last report.
    pub last_report: String,
    /// Reports since the first.
    pub reports: u64,
    /// Instances (by their `instance` id) that reported in the last 24 hours.
    pub instances: u64,
    /// Exposures its instances' queues dropped, since the first report.
    pub exposures_dropped: u64,
}

/// One flag's evaluations in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagUsage {
    /// The flag key.
    pub flag: String,
    /// Evaluations in the range, whatever their outcome.
    pub evaluations: u64,
    /// Of those, per variant served.
    pub variants: BTreeMap<String, u64>,
    /// Of those, how many ended in an error.
    pub errors: u64,
    /// Of those, how many served a variant the flag does not define now (SDKs on a
    /// snapshot from before it changed).
    pub unknown_variants: u64,
    /// When it was last evaluated, as far as reports tell, RFC 3339 (also before the
    /// range); absent if it never was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Which SDKs evaluated it, each with its last time, most recent first.
    pub sdks: Vec<SdkSeen>,
    /// Evaluations per hour or day, oldest first; points without any are left out.
    pub series: Vec<UsagePoint>,
}

/// When one SDK last evaluated a flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SdkSeen {
    /// Its name and version; `null` for names past the 64 kept.
    pub sdk: Option<String>,
    /// RFC 3339.
    pub last_seen: String,
}

/// Evaluations in one hour or day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsagePoint {
    /// The start of the hour or day, RFC 3339.
    pub start: String,
    /// Every outcome.
    pub evaluations: u64,
    /// Per variant served.
    pub variants: BTreeMap<String, u64>,
    /// Ended in an error.
    pub errors: u64,
    /// Served a variant the flag does not define now.
    pub unknown_variants: u64,
}

/// Keys code asks for that the environment has no flag of: a typo, or a flag deleted
/// while code still evaluates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotFoundReport {
    /// When the report was made, RFC 3339.
    pub generated_at: String,
    /// How many distinct keys each environment keeps; evaluations of more are
    /// gathered under `flag: null`.
    pub keys_kept: u32,
    /// Each environment covered.
    pub environments: Vec<EnvNotFound>,
}

/// One environment's unknown keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvNotFound {
    /// The environment.
    pub environment: String,
    /// Most recently asked for first; the entry of `flag: null` last.
    pub keys: Vec<NotFoundKey>,
}

/// Evaluations of one unknown key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotFoundKey {
    /// The key as code asked for it; `null` gathers keys past the bound and those the
    /// SDKs summed without a key.
    pub flag: Option<String>,
    /// Evaluations since `first_seen`.
    pub evaluations: u64,
    /// Of them, those reported with a client key (browsers).
    #[serde(default)]
    pub client_evaluations: u64,
    /// RFC 3339.
    pub first_seen: String,
    /// RFC 3339.
    pub last_seen: String,
    /// Whether a flag of this key exists now: created since, SDKs on a snapshot older
    /// than it, or, for client keys, a flag that is not client-visible.
    pub exists: bool,
    /// Whether that flag is client-visible; absent when none exists. With
    /// `client_evaluations`, `false` explains them: client snapshots leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_visible: Option<bool>,
}

/// A page of exposures, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExposureList {
    /// The exposures.
    pub exposures: Vec<ExposureEntry>,
    /// Pass as `before_id` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before_id: Option<i64>,
}

/// One exposure as an SDK reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExposureEntry {
    /// Its id (newer ones are larger).
    pub id: i64,
    /// The environment.
    pub environment: String,
    /// The flag.
    pub flag: String,
    /// The variant served.
    pub variant: String,
    /// Why (`SPLIT`, `TARGETING_MATCH`, ...).
    pub reason: String,
    /// The rule that served it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// The context's targeting key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targeting_key: Option<String>,
    /// The attribute a rollout bucketed by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_attribute: Option<String>,
    /// Its value as hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_value: Option<String>,
    /// The snapshot version evaluated.
    pub snapshot_version: u64,
    /// When it was evaluated (the SDK's clock), RFC 3339.
    pub timestamp: String,
    /// When the server received it, RFC 3339.
    pub received_at: String,
    /// The SDK that reported it; `null` for names past the 64 kept.
    pub sdk: Option<String>,
    /// The instance that reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}
