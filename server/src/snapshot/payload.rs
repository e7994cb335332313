//! The payload of `docs/SPEC.md` section 3, built from an [`EnvState`], for server keys
//! (every flag) or client keys (client-visible flags only), and the mapping of the
//! core's compile errors back onto the request that caused them.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value as Json;

use super::EnvState;
use crate::error::ApiError;
use crate::model::{Condition, FlagConfig, Op, SdkKind, SegmentRule};

/// What a write changed, so that a compile failure can name the request's own field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Focus {
    /// Nothing in particular: report payload paths as they are.
    None,
    /// A flag's definition or its configuration.
    Flag(String),
    /// A segment.
    Segment(String),
}

impl Focus {
    /// The request field for a payload path, when the path is inside the focus.
    fn field(&self, path: &str) -> Option<String> {
        let prefix = match self {
            Focus::None => return None,
            Focus::Flag(key) => format!("flags[{}]", quote(key)),
            Focus::Segment(key) => format!("segments[{}]", quote(key)),
        };
        let rest = path.strip_prefix(&prefix)?;
        Some(rest.strip_prefix('.').unwrap_or(rest).to_owned())
    }
}

fn quote(key: &str) -> String {
    serde_json::to_string(key).unwrap_or_else(|_| format!("{key:?}"))
}

#[derive(Serialize)]
struct Payload<'a> {
    schema: u32,
    environment: &'a str,
    /// `server` or `client` (SPEC 3.1): servers refuse the browser payload of a version.
    audience: &'static str,
    version: u64,
    issued_at: String,
    expires_at: String,
    flags: BTreeMap<&'a str, PayloadFlag<'a>>,
    segments: BTreeMap<&'a str, PayloadSegment<'a>>,
}

#[derive(Serialize)]
struct PayloadFlag<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    variants: &'a BTreeMap<String, Json>,
    #[serde(flatten)]
    config: &'a FlagConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    temporary: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<&'a str>,
}

#[derive(Serialize)]
struct PayloadSegment<'a> {
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    included: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    excluded: &'a [String],
    #[serde(skip_serializing_if = "<[SegmentRule]>::is_empty")]
    rules: &'a [SegmentRule],
}

/// The header of a payload.
pub(crate) struct Header<'a> {
    pub(crate) environment: &'a str,
    pub(crate) version: u64,
    pub(crate) issued_at: i64,
    pub(crate) expires_at: i64,
}

/// Builds the payload bytes of `state` for `kind`, checking what the core cannot see:
/// that a client snapshot is self-contained.
pub(crate) fn build(
    header: &Header<'_>,
    state: &EnvState,
    defaults: &BTreeMap<String, FlagConfig>,
    kind: SdkKind,
    focus: &Focus,
) -> Result<Vec<u8>, ApiError> {
    let client = kind == SdkKind::Client;
    let mut flags = BTreeMap::new();
    for (flag, variants) in &state.flags {
        if client && !flag.client_visible {
            continue;
        }
        let config = state.configs.get(&flag.key).or_else(|| defaults.get(&flag.key));
        let Some(config) = config else { continue };
        if client {
            check_client_prerequisites(state, &flag.key, config, focus)?;
        }
        flags.insert(
            flag.key.as_str(),
            PayloadFlag {
                kind: flag.kind.as_str(),
                variants,
                config,
                description: flag.description.as_deref().filter(|_| !client),
                owner: flag.owner.as_deref().filter(|_| !client),
                tags: if client { &[] } else { &flag.tags },
                temporary: flag.temporary.then_some(true),
                expires_at: flag.expires_at.as_deref(),
            },
        );
    }
    let wanted: Option<BTreeSet<&str>> =
        client.then(|| referenced_segments(state, flags.values().map(|flag| flag.config)));
    let segments = state
        .segments
        .iter()
        .filter(|(key, _)| wanted.as_ref().is_none_or(|wanted| wanted.contains(key.as_str())))
        .map(|(key, s)| {
            (key.as_str(), PayloadSegment { included: &s.included, excluded: &s.excluded, rules: &s.rules })
        })
        .collect();
    let payload = Payload {
        schema: 1,
        environment: header.environment,
        audience: if client { "client" } else { "server" },
        version: header.version,
        issued_at: crate::clock::rfc3339(header.issued_at),
        expires_at: crate::clock::rfc3339(header.expires_at),
        flags,
        segments,
    };
    serde_json::to_vec(&payload).map_err(ApiError::internal)
}

/// A client-visible flag may depend only on client-visible flags: the client snapshot
/// holds nothing else.
fn check_client_prerequisites(state: &EnvState, key: &str, config: &FlagConfig, focus: &Focus) -> Result<(), ApiError> {
    for (i, prerequisite) in config.prerequisites.iter().enumerate() {
        let visible = state.flags.iter().any(|(flag, _)| flag.key == prerequisite.flag && flag.client_visible);
        if visible || !state.flags.iter().any(|(flag, _)| flag.key == prerequisite.flag) {
            continue; // an unknown flag is the compile step's to report
        }
        let message = format!(
            "flag `{key}` is client-visible but its prerequisite `{}` is not: make `{}` client-visible too, \
             or remove the prerequisite",
            prerequisite.flag, prerequisite.flag
        );
        let field = match focus {
            Focus::Flag(f) if f == key => format!("prerequisites[{i}].flag"),
            Focus::Flag(f) if *f == prerequisite.flag => "client_visible".to_owned(),
            _ => format!("flags[{}].prerequisites[{i}].flag", quote(key)),
        };
        return Err(ApiError::invalid(field, message));
    }
    Ok(())
}

/// The segments the given flags use, directly or through other segments.
fn referenced_segments<'s>(state: &'s EnvState, configs: impl Iterator<Item = &'s FlagConfig>) -> BTreeSet<&'s str> {
    let mut pending: Vec<String> = Vec::new();
    for config in configs {
        for rule in &config.rules {
            pending.extend(segment_names(&rule.conditions));
        }
    }
    let mut found = BTreeSet::new();
    while let Some(name) = pending.pop() {
        let Some((key, segment)) = state.segments.get_key_value(&name) else { continue };
        if found.insert(key.as_str()) {
            for rule in &segment.rules {
                pending.extend(segment_names(&rule.conditions));
            }
        }
    }
    found
}

/// The segments `in_segment` and `not_in_segment` conditions name.
pub(crate) fn segment_names(conditions: &[Condition]) -> Vec<String> {
    let mut names = Vec::new();
    for condition in conditions.iter().filter(|c| matches!(c.op, Op::InSegment | Op::NotInSegment)) {
        match &condition.value {
            Some(Json::String(name)) => names.push(name.clone()),
            Some(Json::Array(items)) => names.extend(items.iter().filter_map(Json::as_str).map(str::to_owned)),
            _ => {}
        }
    }
    names
}

/// Compiles `payload` with the core, as every client will, and maps a refusal onto
/// the request: 422 with the field in the request and the path in the payload.
pub(crate) fn check(payload: &[u8], kind: SdkKind, focus: &Focus) -> Result<(), ApiError> {
    let Err(error) = pennon_core::compile_payload(payload, &pennon_core::Limits::default()) else { return Ok(()) };
    let (path, message) = match &error {
        pennon_core::Error::InvalidSnapshot { path, message } => (Some(path.clone()), message.clone()),
        pennon_core::Error::LimitExceeded { path, .. } => (Some(path.clone()), error.to_string()),
        other => (None, other.to_string()),
    };
    let mut api = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error.kind(), message);
    if kind == SdkKind::Client {
        api.message = format!("the client snapshot (client-visible flags only) would be refused: {}", api.message);
    }
    api.field = path.as_deref().and_then(|p| focus.field(p)).filter(|f| !f.is_empty());
    api.path = path;
    Err(api)
}
