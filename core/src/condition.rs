//! Compiled conditions and how one context value is tested against them.

use std::sync::Arc;

use rustc_hash::FxHashSet;
use smol_str::SmolStr;

use crate::eval::text;
use crate::number::Number;
use crate::regex::Regex;
use crate::semver::Version;
use crate::snapshot::AttributePath;
use crate::{AttributeValue, ValueRef};

#[derive(Debug)]
pub(crate) struct Condition {
    /// `None` for segment tests, which read the whole context.
    pub(crate) attribute: Option<AttributePath>,
    pub(crate) test: Test,
    /// The operator's own `not_` plus `negate`, folded into one flip.
    pub(crate) invert: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compare {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Compare {
    fn accepts(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        matches!(
            (self, ordering),
            (Compare::Eq, Equal)
                | (Compare::Lt, Less)
                | (Compare::Lte, Less | Equal)
                | (Compare::Gt, Greater)
                | (Compare::Gte, Greater | Equal)
        )
    }
}

#[derive(Debug)]
pub(crate) enum Scalar {
    String(Box<str>),
    Number(Number),
    Bool(bool),
}

/// Strings of an `in` list. Lists of a few entries are a slice scanned in order.
/// Longer ones are hashed, which measured ten times faster than a binary search by
/// `str::cmp` on a 20-country list; when every entry is at most 7 bytes (country
/// codes, plan names), each is packed into a `u64` with its length, so a lookup
/// hashes and compares one integer instead of a string.
#[derive(Debug)]
pub(crate) enum StringSet {
    Sorted(Box<[SmolStr]>),
    Packed(FxHashSet<u64>),
    Hashed(FxHashSet<SmolStr>),
}

impl StringSet {
    /// Lists longer than this are hashed.
    const SORTED_MAX: usize = 4;

    pub(crate) fn new(mut items: Vec<SmolStr>) -> StringSet {
        if items.len() > StringSet::SORTED_MAX {
            let packed: Option<FxHashSet<u64>> = items.iter().map(|item| pack(item.as_bytes())).collect();
            return match packed {
                Some(packed) => StringSet::Packed(packed),
                None => StringSet::Hashed(items.into_iter().collect()),
            };
        }
        crate::sort::sort_by_name(&mut items, SmolStr::as_str);
        items.dedup();
        StringSet::Sorted(items.into_boxed_slice())
    }

    pub(crate) fn contains(&self, text: &str) -> bool {
        match self {
            StringSet::Sorted(items) => items.iter().any(|item| text::same(item.as_bytes(), text.as_bytes())),
            StringSet::Packed(items) => pack(text.as_bytes()).is_some_and(|key| items.contains(&key)),
            StringSet::Hashed(items) => items.contains(text),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            StringSet::Sorted(items) => items.is_empty(),
            StringSet::Packed(items) => items.is_empty(),
            StringSet::Hashed(items) => items.is_empty(),
        }
    }
}

/// Up to 7 bytes, little-endian, with the length in the top byte: distinct strings
/// give distinct keys (`"A"` and `"A\0"` differ by length). `None` when longer.
fn pack(bytes: &[u8]) -> Option<u64> {
    if bytes.len() > 7 {
        return None;
    }
    let mut key = (bytes.len() as u64) << 56;
    for (i, &byte) in bytes.iter().enumerate() {
        key |= u64::from(byte) << (8 * i);
    }
    Some(key)
}

/// An `in` list, split by kind so that a 100,000-entry list is one hash lookup.
#[derive(Debug)]
pub(crate) struct ScalarSet {
    pub(crate) strings: StringSet,
    /// The integers as their bit patterns (`i64::cast_unsigned`): the same set type as
    /// packed strings, so the module holds one copy of its hash table code.
    pub(crate) ints: FxHashSet<u64>,
    pub(crate) floats: Vec<f64>,
    pub(crate) bools: [bool; 2],
}

#[derive(Debug)]
pub(crate) enum Test {
    /// String values of a case-insensitive test are stored lower-cased.
    Equals {
        value: Scalar,
        case_insensitive: bool,
    },
    In {
        /// Shared by every condition with the same list text (see `compile::Names`).
        set: Arc<ScalarSet>,
        case_insensitive: bool,
    },
    Contains {
        text: Box<str>,
        case_insensitive: bool,
    },
    StartsWith {
        text: Box<str>,
        case_insensitive: bool,
    },
    EndsWith {
        text: Box<str>,
        case_insensitive: bool,
    },
    Matches(Arc<Regex>),
    Numeric(Compare, Number),
    Semver(Compare, Box<Version>),
    Before(i64),
    After(i64),
    Exists,
    Missing,
    InSegment(Vec<usize>),
}

impl Test {
    /// Tests one value. `None` means the value is not comparable: wrong type or null.
    ///
    /// Generic, so that the view is made here, in registers: a [`ValueRef`] passed in
    /// would go through memory (three words), measured ~10 ns slower on case (c).
    pub(crate) fn test_value<V: AttributeValue>(&self, value: V) -> Option<bool> {
        let value = value.view();
        match self {
            Test::Equals { value: expected, case_insensitive } => equals(expected, value, *case_insensitive),
            Test::In { set, case_insensitive } => contained(set, value, *case_insensitive),
            Test::Contains { text, case_insensitive } => {
                with_text(value, *case_insensitive, |s| s.contains(text.as_ref()))
            }
            Test::StartsWith { text, case_insensitive } => with_text(value, *case_insensitive, |s| {
                s.as_bytes().get(..text.len()).is_some_and(|start| text::same(start, text.as_bytes()))
            }),
            Test::EndsWith { text, case_insensitive } => {
                with_text(value, *case_insensitive, |s| text::ends_with(s.as_bytes(), text.as_bytes()))
            }
            Test::Matches(regex) => as_str(value).map(|s| regex.is_match(s)),
            Test::Numeric(compare, expected) => {
                as_number(value).and_then(|n| n.compare(*expected)).map(|o| compare.accepts(o))
            }
            Test::Semver(compare, expected) => expected.compare_text(as_str(value)?).map(|o| compare.accepts(o)),
            Test::Before(at) => as_millis(value).map(|t| t < *at),
            Test::After(at) => as_millis(value).map(|t| t > *at),
            // Presence and segment tests never reach a single value.
            Test::Exists | Test::Missing | Test::InSegment(_) => None,
        }
    }
}

fn as_str(value: ValueRef<'_>) -> Option<&str> {
    match value {
        ValueRef::String(s) => Some(s),
        _ => None,
    }
}

fn as_number(value: ValueRef<'_>) -> Option<Number> {
    match value {
        ValueRef::Int(i) => Some(Number::Int(i)),
        ValueRef::Float(f) if !f.is_nan() => Some(Number::Float(f)),
        _ => None,
    }
}

/// The first and last millisecond of years 0000 to 9999 (UTC), what RFC 3339 names.
/// Seconds outside them are not comparable (SPEC 5.4): milliseconds given where seconds
/// belong (JavaScript's `Date.now()`) would otherwise be a date thousands of years
/// ahead, after every flag's date.
const FIRST_MILLIS: i64 = -62_167_219_200_000;
const LAST_MILLIS: i64 = 253_402_300_799_999;

/// An RFC 3339 string, or seconds since the epoch, as Unix milliseconds.
fn as_millis(value: ValueRef<'_>) -> Option<i64> {
    let millis = match value {
        ValueRef::String(s) => return crate::time::parse_rfc3339(s).ok(),
        ValueRef::Int(seconds) => seconds.checked_mul(1_000)?,
        ValueRef::Float(seconds) => {
            let millis = (seconds * 1_000.0).trunc();
            if !(millis.is_finite() && (-9.2e18..9.2e18).contains(&millis)) {
                return None;
            }
            #[allow(clippy::cast_possible_truncation)]
            let millis = millis as i64;
            millis
        }
        _ => return None,
    };
    (FIRST_MILLIS..=LAST_MILLIS).contains(&millis).then_some(millis)
}

fn with_text(value: ValueRef<'_>, case_insensitive: bool, test: impl Fn(&str) -> bool) -> Option<bool> {
    let text = as_str(value)?;
    Some(if case_insensitive { test(&text.to_lowercase()) } else { test(text) })
}

// `equals` and `contained` are inlined into `test_value`, as they were when it read a
// `&Value`: called, the `ValueRef` argument goes through memory (~4 ns on case (c)).
#[inline(always)]
fn equals(expected: &Scalar, value: ValueRef<'_>, case_insensitive: bool) -> Option<bool> {
    match (expected, value) {
        (Scalar::String(e), ValueRef::String(s)) if case_insensitive => Some(s.to_lowercase() == e.as_ref()),
        (Scalar::String(e), ValueRef::String(s)) => Some(text::same(e.as_bytes(), s.as_bytes())),
        (Scalar::Bool(e), ValueRef::Bool(b)) => Some(*e == b),
        (Scalar::Number(e), _) => as_number(value).and_then(|n| n.compare(*e)).map(|o| o == std::cmp::Ordering::Equal),
        _ => None,
    }
}

#[inline(always)]
fn contained(set: &ScalarSet, value: ValueRef<'_>, case_insensitive: bool) -> Option<bool> {
    match value {
        ValueRef::String(_) if set.strings.is_empty() => None,
        ValueRef::String(s) if case_insensitive => Some(set.strings.contains(s.to_lowercase().as_str())),
        ValueRef::String(s) => Some(set.strings.contains(s)),
        ValueRef::Bool(_) if set.bools == [false, false] => None,
        ValueRef::Bool(b) => Some(set.bools[usize::from(b)]),
        ValueRef::Int(_) | ValueRef::Float(_) if set.ints.is_empty() && set.floats.is_empty() => None,
        ValueRef::Int(_) | ValueRef::Float(_) => {
            let number = as_number(value)?;
            if let Some(int) = number.as_exact_int() {
                return Some(set.ints.contains(&int.cast_unsigned()));
            }
            Some(set.floats.iter().any(|f| number.compare(Number::Float(*f)) == Some(std::cmp::Ordering::Equal)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::StringSet;
    use proptest::prelude::*;
    use smol_str::SmolStr;

    proptest! {
        /// Every representation (scanned, packed, hashed) answers as the list would.
        /// The alphabet includes NUL, which packing must tell from padding.
        #[test]
        fn string_sets_contain_what_the_list_contains(
            items in proptest::collection::vec("[ab\\x00]{0,9}", 0..12),
            probe in "[ab\\x00]{0,9}",
        ) {
            let set = StringSet::new(items.iter().map(SmolStr::new).collect());
            prop_assert_eq!(set.contains(&probe), items.contains(&probe));
            for item in &items {
                prop_assert!(set.contains(item));
            }
        }
    }
}
