//! The fast result path. Building a plain object through JSON costs a string crossing
//! and a `JSON.parse` per call, several times the evaluation itself; so common results
//! (no error, a boolean, string or number value) are written as numbers into a
//! per-engine scratch buffer that the package's `Engine` wrapper reads through a
//! `Float64Array`. Strings are passed as their address and length in the snapshot:
//! they live as long as the snapshot, so the wrapper decodes each once and caches it
//! until the next load. Everything else returns `false` and takes the JSON path.

use pennon_core::{Evaluation, FlagValue, Matched, Reason};

/// Number of `f64` slots; the layout is documented on [`pack`].
pub(crate) const SLOTS: usize = 24;

const MAX_SAFE: i64 = (1 << 53) - 1;

/// Address of a snapshot string, for the wrapper's cache.
fn addr(text: &str) -> f64 {
    text.as_ptr() as usize as f64
}

fn put(out: &mut [f64; SLOTS], at: usize, text: Option<&str>) {
    out[at] = text.map_or(0.0, addr);
    out[at + 1] = text.map_or(0.0, |t| t.len() as f64);
}

/// Writes `evaluation` into `out`; `false` when it needs the JSON path.
///
/// Layout: 0 reason, 1 matched, 2 value kind (1 false, 2 true, 3 number, 4 string),
/// 3-4 number or string address/length, 5-6 variant, 7 metadata address (0: none),
/// 8-9 rule id, 10 rule index (-1: none), 11-12 segment, 13-14 prerequisite,
/// 15 bucket position, 16 total weight (0: no bucket), 17-18 salt, 19-20 bucket
/// attribute, 21 snapshot version. Strings are address/length pairs (0/0: none).
pub(crate) fn pack(out: &mut [f64; SLOTS], evaluation: &Evaluation<'_>) -> bool {
    if evaluation.error.is_some() {
        return false;
    }
    match evaluation.value {
        Some(FlagValue::Bool(b)) => out[2] = if *b { 2.0 } else { 1.0 },
        Some(FlagValue::Int(i)) if (-MAX_SAFE..=MAX_SAFE).contains(i) => (out[2], out[3]) = (3.0, *i as f64),
        Some(FlagValue::Float(f)) if f.is_finite() => (out[2], out[3]) = (3.0, *f),
        Some(FlagValue::String(s)) => (out[2], out[3], out[4]) = (4.0, addr(s), s.len() as f64),
        _ => return false,
    }
    let Some(variant) = evaluation.variant else { return false };
    let e = &evaluation.explanation;
    out[0] = reason_code(evaluation.reason);
    out[1] = matched_code(&e.matched);
    put(out, 5, Some(variant));
    out[7] = evaluation.metadata.map_or(0.0, |m| std::ptr::from_ref(m) as usize as f64);
    let (rule, index, prerequisite) = match e.matched {
        Matched::Rule { id, index } => (Some(id), index as f64, None),
        Matched::PrerequisiteFailed { flag } => (None, -1.0, Some(flag)),
        _ => (None, -1.0, None),
    };
    put(out, 8, rule);
    out[10] = index;
    put(out, 11, e.segment);
    put(out, 13, prerequisite);
    out[15] = e.bucket.map_or(0.0, |b| b.value as f64);
    out[16] = e.bucket.map_or(0.0, |b| b.total_weight as f64);
    put(out, 17, e.bucket.map(|b| b.salt()));
    put(out, 19, e.bucket.map(|b| b.attribute()));
    out[21] = e.snapshot_version as f64;
    true
}

/// Index into the wrapper's `REASONS` table.
fn reason_code(reason: Reason) -> f64 {
    match reason {
        Reason::Static => 0.0,
        Reason::TargetingMatch => 1.0,
        Reason::Split => 2.0,
        Reason::Default => 3.0,
        Reason::Disabled => 4.0,
        Reason::Error => 5.0,
    }
}

/// Index into the wrapper's `MATCHED` table.
fn matched_code(matched: &Matched<'_>) -> f64 {
    match matched {
        Matched::Disabled => 0.0,
        Matched::PrerequisiteFailed { .. } => 1.0,
        Matched::Target => 2.0,
        Matched::Rule { .. } => 3.0,
        Matched::Fallthrough => 4.0,
        Matched::Error => 5.0,
    }
}
