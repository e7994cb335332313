//! Structural limits (`docs/SPEC.md` section 3.4): a signed payload is trusted to be
//! honest, not to be small, so sizes are bounded before anything is compiled.

use crate::json::quote;
use crate::model::{RawCondition, RawFlag, RawSegment};
use crate::Error;

/// Bounds on the shape of a payload. [`Limits::default`] is what the vectors use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// JSON nesting depth of the payload; at most 512 takes effect (readers recurse per level).
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
    /// Flags and segments one evaluation of a flag can visit, through prerequisites and
    /// segment references, each counted once per path to it. A depth limit alone does
    /// not bound that: eight flags each requiring the same eight, eight levels down, is
    /// 8^8 visits, seconds for one evaluation from a 50 KB snapshot.
    pub max_steps: usize,
    /// Automaton states of a snapshot's regexes, each distinct pattern (and case mode)
    /// counted once. One pattern is bounded by itself (SPEC 5.4: 10,000 states), but
    /// not how many there are: without this, 1 MB of `"a{9999}"` conditions compiles to
    /// gigabytes in the control plane and in every SDK.
    pub max_regex_states: usize,
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
            max_steps: 100_000,
            max_regex_states: 200_000,
        }
    }
}

fn at_most(what: &'static str, path: impl FnOnce() -> String, found: usize, limit: usize) -> Result<(), Error> {
    if found > limit {
        return Err(Error::LimitExceeded { what, path: path(), limit, found });
    }
    Ok(())
}

/// The number of flags and of segments.
pub(crate) fn check_counts(flags: usize, segments: usize, limits: &Limits) -> Result<(), Error> {
    at_most("the number of flags", || "flags".into(), flags, limits.max_flags)?;
    at_most("the number of segments", || "segments".into(), segments, limits.max_segments)
}

pub(crate) fn check_flag(key: &str, flag: &RawFlag<'_>, limits: &Limits) -> Result<(), Error> {
    let at = || format!("flags[{}]", quote(key));
    at_most("the number of variants", || format!("{}.variants", at()), flag.variants.len(), limits.max_variants)?;
    at_most("the number of rules", || format!("{}.rules", at()), flag.rules.len(), limits.max_rules)?;
    for (i, target) in flag.targets.iter().enumerate() {
        let path = || format!("{}.targets[{i}].keys", at());
        at_most("the number of keys", path, target.keys.len(), limits.max_list)?;
    }
    for (i, rule) in flag.rules.iter().enumerate() {
        check_conditions(&rule.conditions, limits, || format!("{}.rules[{i}]", at()))?;
    }
    Ok(())
}

pub(crate) fn check_segment(key: &str, segment: &RawSegment<'_>, limits: &Limits) -> Result<(), Error> {
    let at = || format!("segments[{}]", quote(key));
    at_most("the number of keys", || format!("{}.included", at()), segment.included.len(), limits.max_list)?;
    at_most("the number of keys", || format!("{}.excluded", at()), segment.excluded.len(), limits.max_list)?;
    at_most("the number of rules", || format!("{}.rules", at()), segment.rules.len(), limits.max_rules)?;
    for (i, rule) in segment.rules.iter().enumerate() {
        check_conditions(&rule.conditions, limits, || format!("{}.rules[{i}]", at()))?;
    }
    Ok(())
}

fn check_conditions(conditions: &[RawCondition<'_>], limits: &Limits, at: impl Fn() -> String) -> Result<(), Error> {
    let path = || format!("{}.conditions", at());
    at_most("the number of conditions", path, conditions.len(), limits.max_conditions)?;
    for (j, condition) in conditions.iter().enumerate() {
        let path = || format!("{}.conditions[{j}].value", at());
        at_most("the number of values", path, condition.value_items, limits.max_list)?;
    }
    Ok(())
}
