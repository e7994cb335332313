//! The stale-flag report (`GET /api/v1/reports/stale-flags`): temporary flags that are
//! due for removal, each with why, since when and what to do.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::FlagType;

/// The report: its settings, the environments it covers, and the flags it found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleReport {
    /// When the report was made, RFC 3339.
    pub generated_at: String,
    /// How long an environment must have served one variant to count as settled.
    pub settled_days: u32,
    /// How long a temporary flag without `expires_at` may live.
    pub lifetime_days: u32,
    /// How long no evaluation may be reported where SDKs report telemetry for `unused`.
    pub unused_days: u32,
    /// The environments the report looked at: all of them, or the one asked for.
    pub environments: Vec<String>,
    /// The stale flags, stale longest first (then by key).
    pub flags: Vec<StaleFlag>,
}

/// One temporary flag due for removal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleFlag {
    /// The flag key.
    pub key: String,
    /// Its owner, if it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: FlagType,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// When it should be gone, as its definition says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The earliest `since` of its reasons, RFC 3339.
    pub stale_since: String,
    /// Why it is reported, oldest first: one or more.
    pub reasons: Vec<StaleReason>,
    /// What it serves in each environment the report covers.
    pub environments: Vec<EnvServing>,
    /// What to do about it.
    pub action: String,
}

/// Why a flag is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaleKind {
    /// Its `expires_at` has passed.
    Expired,
    /// It has no `expires_at` and is older than the lifetime.
    PastLifetime,
    /// Every environment has served the same value to everyone for the settled period.
    Settled,
    /// Every environment has served one value to everyone for the settled period, but
    /// not the same value in all of them.
    Diverged,
    /// No environment's configuration was changed since the flag was created, and the
    /// settled period has passed: it serves its off value everywhere.
    NeverConfigured,
    /// No evaluations were reported for the unused period in the environments where
    /// SDKs report telemetry, nor any elsewhere.
    Unused,
}

impl StaleKind {
    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            StaleKind::Expired => "expired",
            StaleKind::PastLifetime => "past_lifetime",
            StaleKind::Settled => "settled",
            StaleKind::Diverged => "diverged",
            StaleKind::NeverConfigured => "never_configured",
            StaleKind::Unused => "unused",
        }
    }
}

/// One reason, with the time it has held since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleReason {
    /// Which reason.
    pub reason: StaleKind,
    /// Since when it holds, RFC 3339: the expiry, the end of the lifetime, or when the
    /// environments last began serving what they serve.
    pub since: String,
    /// The reason in words.
    pub message: String,
}

/// What a flag serves in one environment, as the core evaluates its configuration
/// there: one variant to every context since a time, or, in `varies`, why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvServing {
    /// The environment.
    pub environment: String,
    /// The variant every context gets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Json>,
    /// Since when every context gets it, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Why the flag cannot be shown to serve one variant here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub varies: Option<String>,
    /// When SDKs that report telemetry last evaluated it here, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated: Option<String>,
}
