//! Compiling conditions: each operator's value is checked and pre-parsed once.

use std::sync::Arc;

use smol_str::SmolStr;

use super::{At, Names};
use crate::condition::{Compare, Condition, Scalar, ScalarSet, StringSet, Test};
use crate::json::{Json, Reader};
use crate::model::{RawCondition, RawOp};
use crate::number::Number;
use crate::regex::Regex;
use crate::semver::Version;
use crate::snapshot::AttributePath;

const MAX_REGEX_BYTES: usize = 4_096;

pub(super) fn compile_conditions<'a>(raw: &[RawCondition<'a>], names: &Names<'a>) -> Result<Vec<Condition>, At> {
    let mut conditions = Vec::with_capacity(raw.len());
    for (i, condition) in raw.iter().enumerate() {
        conditions.push(compile_condition(condition, names).map_err(|e| e.within(&format!(".conditions[{i}]")))?);
    }
    Ok(conditions)
}

pub(super) fn attribute_path(name: &str) -> Result<AttributePath, At> {
    if name.is_empty() {
        return Err(At::new("", "an attribute name must not be empty"));
    }
    let segments = if name.contains('.') { name.split('.').map(Into::into).collect() } else { Vec::new() };
    Ok(AttributePath { name: super::name(name), segments })
}

fn compile_condition<'a>(raw: &RawCondition<'a>, names: &Names<'a>) -> Result<Condition, At> {
    use RawOp as Op;
    let is_segment_op = matches!(raw.op, Op::InSegment | Op::NotInSegment);
    let attribute = match (&raw.attribute, is_segment_op) {
        (Some(_), true) => return Err(At::new(".attribute", "segment conditions take no attribute")),
        (None, true) => None,
        (Some(name), false) => Some(attribute_path(name).map_err(|e| e.within(".attribute"))?),
        (None, false) => return Err(At::new(".attribute", "this operator needs an attribute")),
    };
    let takes_case = matches!(
        raw.op,
        Op::Equals | Op::NotEquals | Op::In | Op::NotIn | Op::Contains | Op::StartsWith | Op::EndsWith | Op::Matches
    );
    if raw.case_insensitive && !takes_case {
        return Err(At::new(".case_insensitive", "this operator does not compare text"));
    }
    let ci = raw.case_insensitive;
    let in_list = matches!(raw.op, Op::In | Op::NotIn);
    let parsed = match raw.value {
        Some(text) if !in_list => Some(read_value(text, names)?),
        _ => None,
    };
    let value = parsed.as_ref();
    let needs = |what: &str| At::new(".value", format!("this operator needs {what}"));
    let fold = |text: &str| -> Box<str> {
        if ci {
            text.to_lowercase().into()
        } else {
            text.into()
        }
    };

    let test = match raw.op {
        Op::Exists | Op::Missing => {
            if raw.value.is_some() {
                return Err(At::new(".value", "`exists` and `missing` take no value"));
            }
            if raw.op == Op::Exists {
                Test::Exists
            } else {
                Test::Missing
            }
        }
        Op::Equals | Op::NotEquals => {
            let scalar = value.and_then(|v| scalar(v, ci)).ok_or_else(|| needs("a string, number or bool"))?;
            Test::Equals { value: scalar, case_insensitive: ci }
        }
        Op::In | Op::NotIn => {
            let text = raw.value.ok_or_else(|| needs("an array of strings, numbers or bools"))?;
            Test::In { set: shared_set(text, ci, names)?, case_insensitive: ci }
        }
        Op::Contains | Op::StartsWith | Op::EndsWith => {
            let text = fold(value.and_then(Json::as_str).ok_or_else(|| needs("a string"))?);
            match raw.op {
                Op::Contains => Test::Contains { text, case_insensitive: ci },
                Op::StartsWith => Test::StartsWith { text, case_insensitive: ci },
                _ => Test::EndsWith { text, case_insensitive: ci },
            }
        }
        Op::Matches => {
            let pattern = value.and_then(Json::as_str).ok_or_else(|| needs("a regex string"))?;
            let json_text = raw.value.unwrap_or_default();
            Test::Matches(regex(pattern, json_text, ci, names)?)
        }
        Op::Lt | Op::Lte | Op::Gt | Op::Gte => {
            let number = value.and_then(number).ok_or_else(|| needs("a number"))?;
            Test::Numeric(compare_of(raw.op), number)
        }
        Op::SemverEq | Op::SemverLt | Op::SemverLte | Op::SemverGt | Op::SemverGte => {
            let text = value.and_then(Json::as_str).ok_or_else(|| needs("a semver string"))?;
            let version = Version::parse(text)
                .ok_or_else(|| At::new(".value", format!("`{text}` is not a semantic version like 1.2.3")))?;
            Test::Semver(compare_of(raw.op), Box::new(version))
        }
        Op::Before | Op::After => {
            let text = value.and_then(Json::as_str).ok_or_else(|| needs("an RFC 3339 time"))?;
            let at = crate::parse_rfc3339(text).map_err(|e| At::new(".value", e.to_string()))?;
            if raw.op == Op::Before {
                Test::Before(at)
            } else {
                Test::After(at)
            }
        }
        Op::InSegment | Op::NotInSegment => Test::InSegment(segment_refs(value, names)?),
    };
    let negative_op = matches!(raw.op, Op::NotEquals | Op::NotIn | Op::NotInSegment);
    Ok(Condition { attribute, test, invert: negative_op != raw.negate })
}

fn compare_of(op: RawOp) -> Compare {
    match op {
        RawOp::Lt | RawOp::SemverLt => Compare::Lt,
        RawOp::Lte | RawOp::SemverLte => Compare::Lte,
        RawOp::Gt | RawOp::SemverGt => Compare::Gt,
        RawOp::Gte | RawOp::SemverGte => Compare::Gte,
        _ => Compare::Eq,
    }
}

fn number(value: &Json<'_>) -> Option<Number> {
    let Json::Number(n) = value else { return None };
    Some(n.as_i64().map_or(Number::Float(n.as_f64()), Number::Int))
}

fn scalar(value: &Json<'_>, ci: bool) -> Option<Scalar> {
    match value {
        Json::String(s) if ci => Some(Scalar::String(s.to_lowercase().into())),
        Json::String(s) => Some(Scalar::String(s.as_ref().into())),
        Json::Bool(b) => Some(Scalar::Bool(*b)),
        Json::Number(_) => number(value).map(Scalar::Number),
        _ => None,
    }
}

/// Reads a condition value whose syntax the payload reader already checked.
fn read_value<'a>(text: &'a str, names: &Names<'_>) -> Result<Json<'a>, At> {
    Reader::new(text, names.max_depth).value().map_err(|e| At::malformed(e.within(".value")))
}

/// An `in` list, compiled once per distinct text and case mode, then shared.
fn shared_set<'a>(text: &'a str, ci: bool, names: &Names<'a>) -> Result<Arc<ScalarSet>, At> {
    if let Some(set) = names.in_lists.borrow().get(&(text, ci)) {
        return Ok(Arc::clone(set));
    }
    let items = read_value(text, names)?;
    let items = items
        .as_array()
        .ok_or_else(|| At::new(".value", "this operator needs an array of strings, numbers or bools"))?;
    let set = Arc::new(scalar_set(items, ci)?);
    names.in_lists.borrow_mut().insert((text, ci), Arc::clone(&set));
    Ok(set)
}

fn scalar_set(items: &[Json<'_>], ci: bool) -> Result<ScalarSet, At> {
    let mut strings = Vec::new();
    let mut set = ScalarSet {
        strings: StringSet::Sorted(Box::default()),
        ints: Default::default(),
        floats: Vec::new(),
        bools: [false; 2],
    };
    for (i, item) in items.iter().enumerate() {
        if let Json::String(text) = item {
            strings.push(if ci { SmolStr::new(text.to_lowercase()) } else { SmolStr::new(text) });
            continue;
        }
        match scalar(item, ci) {
            Some(Scalar::String(s)) => strings.push(SmolStr::new(s)),
            Some(Scalar::Bool(b)) => set.bools[usize::from(b)] = true,
            Some(Scalar::Number(n)) => match (n.as_exact_int(), n) {
                (Some(int), _) => {
                    set.ints.insert(int.cast_unsigned());
                }
                (None, Number::Float(f)) => set.floats.push(f),
                (None, Number::Int(int)) => {
                    set.ints.insert(int.cast_unsigned());
                }
            },
            None => return Err(At::new(format!(".value[{i}]"), "must be a string, number or bool")),
        }
    }
    set.strings = StringSet::new(strings);
    Ok(set)
}

/// The compiled `pattern`, shared with every earlier condition whose value has the same
/// JSON text (`json_text`).
fn regex<'a>(pattern: &str, json_text: &'a str, ci: bool, names: &Names<'a>) -> Result<Arc<Regex>, At> {
    if let Some(known) = names.regexes.borrow().get(&(json_text, ci)) {
        return Ok(known.clone());
    }
    if pattern.len() > MAX_REGEX_BYTES {
        return Err(At::new(".value", format!("a regex may be at most {MAX_REGEX_BYTES} bytes")));
    }
    let regex = Regex::new(pattern, ci).map_err(|e| At::new(".value", format!("invalid regex: {e}")))?;
    let states = names.regex_states.get() + regex.states();
    if states > names.max_regex_states {
        return Err(At::new(
            ".value",
            format!(
                "the snapshot's distinct regexes compile to {states} automaton states with this one, more than \
                 the limit of {}",
                names.max_regex_states
            ),
        ));
    }
    names.regex_states.set(states);
    let regex = Arc::new(regex);
    names.regexes.borrow_mut().insert((json_text, ci), regex.clone());
    Ok(regex)
}

fn segment_refs(value: Option<&Json<'_>>, names: &Names<'_>) -> Result<Vec<usize>, At> {
    let keys: Vec<&str> = match value {
        Some(Json::String(key)) => vec![key],
        Some(Json::Array(items)) if !items.is_empty() => items
            .iter()
            .map(Json::as_str)
            .collect::<Option<_>>()
            .ok_or_else(|| At::new(".value", "segment keys must be strings"))?,
        _ => return Err(At::new(".value", "needs a segment key or a non-empty array of segment keys")),
    };
    keys.iter().map(|key| names.segment(key).ok_or_else(|| At::new(".value", format!("no segment `{key}`")))).collect()
}
