//! A flag's configuration in one environment: the flag fields of the snapshot payload
//! (`docs/SPEC.md` section 3.2) that may differ between environments.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The longest rule id or rollout `bucket_by`, in bytes. SDKs send both back with
/// every exposure, and the telemetry endpoint takes what the API takes.
pub const MAX_RULE_TEXT: usize = 1024;

fn is_false(value: &bool) -> bool {
    !*value
}

/// `GET`/`PUT /api/v1/environments/{env}/flags/{key}`: the kill switch, targets,
/// rules, prerequisites and fallthrough of one flag in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagConfig {
    /// The kill switch: when `false`, everyone gets `off_variant`.
    pub enabled: bool,
    /// Served when disabled or when a prerequisite fails.
    pub off_variant: String,
    /// Served when no target or rule matches.
    pub fallthrough: Serve,
    /// Individual targeting keys pinned to variants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    /// Ordered rules; the first whose conditions all hold decides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// Flags that must serve a given variant first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prerequisites: Vec<Prerequisite>,
    /// Returned with every evaluation as is: strings, numbers or booleans.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, Json>,
}

/// What to serve: exactly one of a fixed variant or a rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Serve {
    /// A fixed variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// A weighted split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
}

impl Serve {
    /// Serves `variant` to everyone.
    pub fn variant(variant: &str) -> Serve {
        Serve { variant: Some(variant.to_owned()), rollout: None }
    }
}

/// A weighted split of users between variants (`docs/SPEC.md` section 5.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// Variants and their integer weights.
    pub variants: Vec<WeightedVariant>,
    /// The attribute to bucket by; default the targeting key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_by: Option<String>,
    /// The hashing salt; default the flag key. Flags sharing a salt form a layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// Weights that change over time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
}

/// One variant of a rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightedVariant {
    /// The variant.
    pub variant: String,
    /// Its weight, `0..=4294967295`.
    pub weight: u32,
}

/// Exactly one of stepped or ramped weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Weights that switch at given times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<Step>>,
    /// Weights that move linearly from the rollout's own to `weights`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp: Option<Ramp>,
}

/// One step of a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// From when, RFC 3339.
    pub at: String,
    /// One weight per rollout variant.
    pub weights: Vec<u32>,
}

/// A linear ramp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ramp {
    /// Start, RFC 3339.
    pub start: String,
    /// End, RFC 3339.
    pub end: String,
    /// Target weights, one per rollout variant.
    pub weights: Vec<u32>,
}

/// Targeting keys served one variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The variant.
    pub variant: String,
    /// The targeting keys.
    pub keys: Vec<String>,
}

/// A targeting rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique within the flag.
    pub id: String,
    /// All must hold; none means always.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// What the rule serves.
    pub serve: Serve,
}

/// A condition on the evaluation context (`docs/SPEC.md` section 5.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The attribute path; absent for segment operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// The operator.
    pub op: Op,
    /// The operand; absent for `exists` and `missing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Json>,
    /// Compare lower-cased (string operators only).
    #[serde(default, skip_serializing_if = "is_false")]
    pub case_insensitive: bool,
    /// Invert the outcome.
    #[serde(default, skip_serializing_if = "is_false")]
    pub negate: bool,
}

/// The condition operators of `docs/SPEC.md` section 3.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Op {
    Equals,
    NotEquals,
    In,
    NotIn,
    Contains,
    StartsWith,
    EndsWith,
    Matches,
    Lt,
    Lte,
    Gt,
    Gte,
    SemverEq,
    SemverLt,
    SemverLte,
    SemverGt,
    SemverGte,
    Before,
    After,
    Exists,
    Missing,
    InSegment,
    NotInSegment,
}

/// A flag that must serve `variant` before this one is evaluated further.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prerequisite {
    /// The other flag.
    pub flag: String,
    /// The variant it must serve.
    pub variant: String,
}

/// `POST /api/v1/environments/{env}/flags/{key}/toggle`: sets the kill switch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toggle {
    /// On or off.
    pub enabled: bool,
}

/// `POST /api/v1/environments/{env}/flags/{key}/rollout`: makes the fallthrough a
/// two-way split, `percent` of users on `variant` and the rest on `otherwise`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutRequest {
    /// 0 to 100, at most three decimals (weights are out of 100,000).
    pub percent: f64,
    /// The variant rolled out; default for boolean flags: the one whose value is `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Everyone else's variant; default for boolean flags: the one whose value is `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<String>,
}
