//! Structural limits (`docs/SPEC.md` section 3.4): a signed payload is trusted to be
//! honest, not to be small, so sizes are bounded before anything is compiled.

use crate::model::{RawCondition, RawPayload};
use crate::Error;

/// Bounds on the shape of a payload. [`Limits::default`] is what the vectors use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// JSON nesting depth of the payload.
    pub max_depth: usize,
    /// Flags in one snapshot.
    pub max_flags: usize,
    /// Segments in one snapshot.
    pub max_segments: usize,
    /// Rules in one flag or segment.
    pub max_rules: usize,
    /// Conditions in one rule.
    pub max_conditions: usize,
    /// Entries in one list: target keys, segment inclusions and exclusions, `in` values.
    pub max_list: usize,
    /// Variants of one flag.
    pub max_variants: usize,
    /// Depth of prerequisite chains and of segment references.
    pub max_chain: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 64,
            max_flags: 100_000,
            max_segments: 10_000,
            max_rules: 1_000,
            max_conditions: 64,
            max_list: 1_000_000,
            max_variants: 1_000,
            max_chain: 32,
        }
    }
}

/// Refuses JSON nested deeper than `max`, scanning bytes before any parser recurses.
pub(crate) fn check_depth(bytes: &[u8], max: usize) -> Result<(), Error> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(Error::MalformedPayload(format!("JSON nesting is deeper than the limit of {max}")));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn at_most(what: &'static str, path: impl FnOnce() -> String, found: usize, limit: usize) -> Result<(), Error> {
    if found > limit {
        return Err(Error::LimitExceeded { what, path: path(), limit, found });
    }
    Ok(())
}

pub(crate) fn check(raw: &RawPayload, limits: &Limits) -> Result<(), Error> {
    at_most("the number of flags", || "flags".into(), raw.flags.len(), limits.max_flags)?;
    at_most("the number of segments", || "segments".into(), raw.segments.len(), limits.max_segments)?;
    for (key, flag) in &raw.flags {
        let at = || format!("flags[{}]", crate::compile::quote(key));
        at_most("the number of variants", || format!("{}.variants", at()), flag.variants.len(), limits.max_variants)?;
        at_most("the number of rules", || format!("{}.rules", at()), flag.rules.len(), limits.max_rules)?;
        for (i, target) in flag.targets.iter().enumerate() {
            let path = || format!("{}.targets[{i}].keys", at());
            at_most("the number of keys", path, target.keys.len(), limits.max_list)?;
        }
        for (i, rule) in flag.rules.iter().enumerate() {
            check_conditions(&rule.conditions, limits, || format!("{}.rules[{i}]", at()))?;
        }
    }
    for (key, segment) in &raw.segments {
        let at = || format!("segments[{}]", crate::compile::quote(key));
        at_most("the number of keys", || format!("{}.included", at()), segment.included.len(), limits.max_list)?;
        at_most("the number of keys", || format!("{}.excluded", at()), segment.excluded.len(), limits.max_list)?;
        at_most("the number of rules", || format!("{}.rules", at()), segment.rules.len(), limits.max_rules)?;
        for (i, rule) in segment.rules.iter().enumerate() {
            check_conditions(&rule.conditions, limits, || format!("{}.rules[{i}]", at()))?;
        }
    }
    Ok(())
}

fn check_conditions(conditions: &[RawCondition], limits: &Limits, at: impl Fn() -> String) -> Result<(), Error> {
    let path = || format!("{}.conditions", at());
    at_most("the number of conditions", path, conditions.len(), limits.max_conditions)?;
    for (j, condition) in conditions.iter().enumerate() {
        if let Some(serde_json::Value::Array(items)) = &condition.value {
            let path = || format!("{}.conditions[{j}].value", at());
            at_most("the number of values", path, items.len(), limits.max_list)?;
        }
    }
    Ok(())
}
