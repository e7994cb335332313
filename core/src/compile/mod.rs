//! Compiling a verified payload into a [`Snapshot`] (`docs/SPEC.md` section 4).
//!
//! Everything that can be decided once is decided here, so that evaluation parses
//! nothing: key lists become hash sets, regexes, semvers and times are parsed, and
//! prerequisite and segment graphs are proven acyclic and shallow.

mod chains;
mod condition;
mod flag;
mod rollout;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use smol_str::SmolStr;

use crate::model::{RawPayload, RawSegment};
use crate::snapshot::{Segment, SegmentRule};
use crate::{Error, Limits, Snapshot};

/// A compile failure: where (relative to the caller) and why.
#[derive(Debug)]
pub(crate) struct At {
    path: String,
    message: String,
}

impl At {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> At {
        At { path: path.into(), message: message.into() }
    }

    /// Puts `prefix` in front of the path, as the failure travels outward.
    pub(crate) fn within(mut self, prefix: &str) -> At {
        self.path.insert_str(0, prefix);
        self
    }

    fn into_error(self) -> Error {
        Error::InvalidSnapshot { path: self.path, message: self.message }
    }
}

/// A key as a JSON string literal, for paths like `flags["new-checkout"]`.
pub(crate) fn quote(key: &str) -> String {
    serde_json::to_string(key).unwrap_or_else(|_| format!("{key:?}"))
}

/// What compiling a flag needs to know about the rest of the payload.
pub(crate) struct Names<'a> {
    pub(crate) flags: &'a FxHashMap<&'a str, usize>,
    pub(crate) segments: &'a FxHashMap<&'a str, usize>,
    pub(crate) payload: &'a RawPayload,
}

/// Parses and compiles a payload that is already trusted, without an envelope.
///
/// This is for publishers: the control plane compiles what it is about to sign with
/// the same code that clients run, so it can never publish a snapshot clients refuse.
/// Clients load envelopes with [`crate::TrustPolicy::load`] instead.
pub fn compile_payload(payload: &[u8], limits: &Limits) -> Result<Snapshot, Error> {
    crate::limits::check_depth(payload, limits.max_depth)?;
    let raw: RawPayload = serde_json::from_slice(payload).map_err(|e| Error::MalformedPayload(e.to_string()))?;
    if raw.schema != 1 {
        return Err(Error::UnsupportedSchema { found: raw.schema });
    }
    if raw.version == 0 || raw.version > crate::verify::MAX_VERSION {
        return Err(Error::MalformedPayload(format!("`version` must be 1 to {}", crate::verify::MAX_VERSION)));
    }
    crate::limits::check(&raw, limits)?;
    compile(raw, Sha256::digest(payload).into(), limits)
}

pub(crate) fn compile(raw: RawPayload, payload_sha256: [u8; 32], limits: &Limits) -> Result<Snapshot, Error> {
    let issued_at = parse_time(&raw.issued_at, "issued_at")?;
    let expires_at = parse_time(&raw.expires_at, "expires_at")?;
    if expires_at <= issued_at {
        return Err(At::new("expires_at", "must be later than issued_at").into_error());
    }
    if raw.environment.is_empty() || raw.environment.len() > 128 {
        return Err(At::new("environment", "must be 1 to 128 bytes").into_error());
    }
    let flag_names: FxHashMap<&str, usize> = raw.flags.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let segment_names: FxHashMap<&str, usize> = raw.segments.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let names = Names { flags: &flag_names, segments: &segment_names, payload: &raw };

    let segments = raw
        .segments
        .iter()
        .map(|(key, segment)| {
            compile_segment(key, segment, segment.fingerprint, &names)
                .map_err(|e| e.within(&format!("segments[{}]", quote(key))))
        })
        .collect::<Result<Vec<_>, At>>()
        .map_err(At::into_error)?;
    // Sized up front: collecting a `Result` cannot, and would leave up to half unused.
    let mut flags = Vec::with_capacity(raw.flags.len());
    for (key, flag) in &raw.flags {
        let compiled = flag::compile_flag(key, flag, flag.fingerprint, &names)
            .map_err(|e| e.within(&format!("flags[{}]", quote(key))).into_error())?;
        flags.push(compiled);
    }
    chains::check_segments(&segments, limits.max_chain).map_err(At::into_error)?;
    chains::check_prerequisites(&flags, limits.max_chain).map_err(At::into_error)?;

    let index = flags.iter().enumerate().map(|(i, flag)| (flag.key.clone(), i)).collect();
    Ok(Snapshot {
        version: raw.version,
        environment: raw.environment.into(),
        issued_at,
        expires_at,
        payload_sha256,
        flags,
        index,
        segments,
    })
}

fn parse_time(text: &str, path: &str) -> Result<i64, Error> {
    crate::parse_rfc3339(text).map_err(|e| At::new(path, e.to_string()).into_error())
}

fn compile_segment(key: &str, raw: &RawSegment, fingerprint: u64, names: &Names<'_>) -> Result<Segment, At> {
    let mut seen = BTreeMap::new();
    let mut rules = Vec::with_capacity(raw.rules.len());
    for (i, rule) in raw.rules.iter().enumerate() {
        if seen.insert(rule.id.as_str(), i).is_some() {
            return Err(At::new(format!(".rules[{i}].id"), format!("rule id `{}` repeats", rule.id)));
        }
        let conditions =
            condition::compile_conditions(&rule.conditions, names).map_err(|e| e.within(&format!(".rules[{i}]")))?;
        rules.push(SegmentRule { conditions });
    }
    Ok(Segment {
        key: key.into(),
        included: raw.included.iter().map(SmolStr::new).collect(),
        excluded: raw.excluded.iter().map(SmolStr::new).collect(),
        rules,
        fingerprint,
    })
}
