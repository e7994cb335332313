//! The API's resources as JSON: what clients send and receive.
//!
//! Every input type refuses unknown members, so a misspelt field is an error that names
//! it rather than a silently ignored setting. The per-environment flag configuration
//! ([`FlagConfig`]) and segments ([`Segment`]) mirror the snapshot payload of
//! `docs/SPEC.md` section 3 member for member: the server copies them into the payload,
//! and `pennon_core::compile_payload` decides whether they are valid.

mod access;
mod audit;
mod change;
mod config;
mod env;
mod flag;
mod json;
mod names;
mod report;
mod segment;
mod text;
mod usage;

pub use access::{NewSdkKey, NewToken, Role, SdkKey, SdkKind, Token, API_TOKEN_PREFIX};
pub use audit::{AuditEntry, ListChange, AUDIT_ACTIONS, AUDIT_RESOURCE_TYPES};
pub use change::{ChangeRequest, ChangeStatus, Operation};
pub use config::{
    Condition, FlagConfig, Op, Prerequisite, Ramp, Rollout, RolloutRequest, Rule, Schedule, Serve, Step, Target,
    Toggle, WeightedVariant, MAX_RULE_TEXT,
};
pub use env::{EnvPatch, Environment, NewEnvironment};
pub use flag::{Flag, FlagType};
pub use json::{parse_json, Duplicate, JsonInputError};
pub use names::{check_name, same_name};
pub use report::{EnvServing, StaleFlag, StaleKind, StaleReason, StaleReport};
pub use segment::{Segment, SegmentRule};
pub use text::{check_label, check_prose, escaped, json_escaped, json_kind};
pub use usage::{
    EnvNotFound, EnvUsage, ExposureEntry, ExposureList, FlagUsage, Granularity, NotFoundKey, NotFoundReport,
    SdkReporting, SdkSeen, UsagePoint, UsageReport,
};

/// Longest key (flag, segment, environment) the API accepts.
pub const MAX_KEY_LEN: usize = 128;

/// Checks a flag, segment or environment key: 1 to 128 characters from `A-Z a-z 0-9 .
/// _ -`, not starting with `.` or `-`. The snapshot format allows any string; the API
/// restricts keys so that they are safe in URLs, file names and shells.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(format!("must be 1 to {MAX_KEY_LEN} characters long"));
    }
    if key.starts_with(['.', '-']) {
        return Err("must not start with `.` or `-`".into());
    }
    match key.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        Some(c) => Err(format!("contains {c:?}; use only letters, digits, `.`, `_` and `-`")),
        None => Ok(()),
    }
}
