//! Compiling a verified payload into a [`Snapshot`] (`docs/SPEC.md` section 4).
//!
//! Everything that can be decided once is decided here, so that evaluation parses
//! nothing: key lists become hash sets, regexes, semvers and times are parsed, and
//! prerequisite and segment graphs are proven acyclic and shallow.

mod body;
mod chains;
mod condition;
mod flag;
mod rollout;

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use smol_str::SmolStr;

use crate::condition::ScalarSet;
use crate::regex::Regex;
pub(crate) use body::Compiler;

use crate::model::{parse_payload, RawSegment, Text};
use crate::snapshot::{Segment, SegmentRule};
use crate::verify::malformed;
use crate::{Error, Limits, Snapshot};

/// A compile failure: where (relative to the caller) and why.
#[derive(Debug)]
pub(crate) struct At {
    path: String,
    message: String,
    /// A shape error found late (in a condition value, read lazily): `malformed_payload`.
    malformed: bool,
}

impl At {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> At {
        At { path: path.into(), message: message.into(), malformed: false }
    }

    pub(crate) fn malformed(error: crate::json::JsonError) -> At {
        let (path, message) = error.into_parts();
        At { path, message, malformed: true }
    }

    /// Puts `prefix` in front of the path, as the failure travels outward.
    pub(crate) fn within(mut self, prefix: &str) -> At {
        self.path.insert_str(0, prefix);
        self
    }

    fn into_error(self) -> Error {
        if self.malformed {
            return Error::MalformedPayload(format!("{}: {}", self.path, self.message));
        }
        Error::InvalidSnapshot { path: self.path, message: self.message }
    }
}

pub(crate) use crate::json::quote;

/// What compiling a flag needs to know beyond the flag.
pub(crate) struct Names<'a> {
    /// Segment keys, sorted: a segment's index is its position.
    pub(crate) segments: Vec<Text<'a>>,
    /// `in` lists compiled so far, by their exact JSON text and case mode: payloads
    /// repeat the same lists (countries, beta testers) across many flags, and a snapshot
    /// then holds each once.
    pub(crate) in_lists: RefCell<FxHashMap<(&'a str, bool), Arc<ScalarSet>>>,
    /// Regexes compiled so far, by the JSON text of the pattern and case mode: a
    /// snapshot holds each once, and counts its states once against `max_regex_states`.
    pub(crate) regexes: RefCell<FxHashMap<(&'a str, bool), Arc<Regex>>>,
    /// States of the regexes compiled so far.
    pub(crate) regex_states: Cell<usize>,
    pub(crate) max_regex_states: usize,
    /// The depth limit, for reading condition values.
    pub(crate) max_depth: usize,
}

impl Names<'_> {
    pub(crate) fn segment(&self, key: &str) -> Option<usize> {
        self.segments.binary_search_by(|known| (**known).cmp(key)).ok()
    }
}

/// Parses and compiles a payload that is already trusted, without an envelope.
///
/// This is for publishers: the control plane compiles what it is about to sign with
/// the same code that clients run, so it can never publish a snapshot clients refuse.
/// Clients load envelopes with [`crate::TrustPolicy::load`] instead.
pub fn compile_payload(payload: &[u8], limits: &Limits) -> Result<Snapshot, Error> {
    let text = crate::verify::payload_text(payload)?;
    let mut compiler = Compiler::new(limits);
    let parsed = parse_payload(text, limits.max_depth, &mut compiler).map_err(malformed)?;
    if parsed.header.schema != 1 {
        return Err(Error::UnsupportedSchema { found: parsed.header.schema });
    }
    crate::verify::check_version(parsed.header.version)?;
    if let Some(error) = parsed.shape_error {
        return Err(malformed(error));
    }
    compiler.finish(&parsed.header, crate::sha256::digest(&[payload]))
}

fn compile_segment<'a>(key: &str, raw: &RawSegment<'a>, fingerprint: u64, names: &Names<'a>) -> Result<Segment, At> {
    let mut rules = Vec::with_capacity(raw.rules.len());
    for (i, rule) in raw.rules.iter().enumerate() {
        if raw.rules[..i].iter().any(|earlier| earlier.id == rule.id) {
            return Err(At::new(format!(".rules[{i}].id"), format!("rule id `{}` repeats", rule.id)));
        }
        let conditions =
            condition::compile_conditions(&rule.conditions, names).map_err(|e| e.within(&format!(".rules[{i}]")))?;
        rules.push(SegmentRule { conditions });
    }
    Ok(Segment {
        key: key.into(),
        included: raw.included.iter().map(|key| name(key)).collect(),
        excluded: raw.excluded.iter().map(|key| name(key)).collect(),
        rules,
        fingerprint,
    })
}

/// `text` as a `SmolStr`. Names that fit inline (nearly all) are copied by a loop the
/// compiler unrolls, not by `SmolStr::new`'s call to `memcpy` (3% of a 10,000-flag
/// load in perf).
pub(super) fn name(text: &str) -> SmolStr {
    const INLINE: usize = 23;
    if text.len() <= INLINE {
        SmolStr::new_inline(text)
    } else {
        SmolStr::new(text)
    }
}
