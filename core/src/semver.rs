//! Semantic Versioning 2.0.0: parse and compare by precedence.
//!
//! Hand-written (about a hundred lines) instead of a dependency, so that its rules are
//! exactly those of `docs/SPEC.md` section 5.4 on every target. Context values are
//! parsed on every evaluation, so parsing borrows, never allocates, and reads each byte
//! once.

use std::cmp::Ordering;

/// A version as compiled into a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    core: [u64; 3],
    /// The pre-release identifiers, dot-separated and validated; empty for a release.
    pre: Box<str>,
}

/// A version borrowed from a context value. Build metadata is validated, then
/// dropped: it has no precedence.
struct Borrowed<'a> {
    core: [u64; 3],
    pre: &'a str,
}

impl Version {
    /// Parses `MAJOR.MINOR.PATCH[-PRE][+BUILD]`, refusing leading zeros and a `v` prefix.
    pub(crate) fn parse(text: &str) -> Option<Version> {
        parse(text).map(|v| Version { core: v.core, pre: v.pre.into() })
    }

    /// Compares a context string with this version; `None` if it is not a version.
    pub(crate) fn compare_text(&self, text: &str) -> Option<Ordering> {
        let other = parse(text)?;
        Some(precedence(other.core, other.pre, self.core, &self.pre))
    }
}

/// One pass over the bytes, no searching or splitting: `compare_text` runs this on a
/// context value in every evaluation of a semver condition.
#[inline]
fn parse(text: &str) -> Option<Borrowed<'_>> {
    let bytes = text.as_bytes();
    let mut at = 0;
    let major = number(bytes, &mut at)?;
    let minor = dot(bytes, &mut at).and_then(|()| number(bytes, &mut at))?;
    let patch = dot(bytes, &mut at).and_then(|()| number(bytes, &mut at))?;
    let core = [major, minor, patch];
    let mut pre = "";
    if bytes.get(at) == Some(&b'-') {
        let start = at + 1;
        at = identifiers(bytes, start, true)?;
        pre = text.get(start..at)?;
    }
    if bytes.get(at) == Some(&b'+') {
        at = identifiers(bytes, at + 1, false)?;
    }
    (at == bytes.len()).then_some(Borrowed { core, pre })
}

/// Reads a numeric identifier at `at` and moves past it: ASCII digits, no leading
/// zero, at most `u64::MAX`.
#[inline(always)]
fn number(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let start = *at;
    let mut value = 0u64;
    while let Some(digit) = bytes.get(*at).map(|b| b.wrapping_sub(b'0')).filter(|d| *d < 10) {
        value = value.checked_mul(10)?.checked_add(u64::from(digit))?;
        *at += 1;
    }
    match *at - start {
        0 => None,
        1 => Some(value),
        _ => (bytes.get(start) != Some(&b'0')).then_some(value),
    }
}

/// Moves past a `.` at `at`; `None` if there is none.
#[inline(always)]
fn dot(bytes: &[u8], at: &mut usize) -> Option<()> {
    (bytes.get(*at) == Some(&b'.')).then(|| *at += 1)
}

/// Reads dot-separated identifiers from `start`; returns where they end (at a byte
/// that is neither an identifier byte nor a dot). Every identifier must be non-empty;
/// pre-release identifiers that are all digits must also be valid numbers.
fn identifiers(bytes: &[u8], start: usize, pre_release: bool) -> Option<usize> {
    let mut at = start;
    loop {
        let rest = bytes.get(at..)?;
        let length = rest.iter().take_while(|&&b| is_ident_byte(b)).count();
        let id = rest.get(..length)?;
        if id.is_empty() || (pre_release && is_numeric(id) && numeric(id).is_none()) {
            return None;
        }
        at += length;
        if bytes.get(at) != Some(&b'.') {
            return Some(at);
        }
        at += 1;
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// A numeric identifier: ASCII digits, no leading zero, at most `u64::MAX`.
fn numeric(digits: &[u8]) -> Option<u64> {
    match digits {
        [] => None,
        [b'0', _, ..] => None,
        _ => digits.iter().try_fold(0u64, |n, &b| {
            let digit = b.checked_sub(b'0').filter(|d| *d < 10)?;
            n.checked_mul(10)?.checked_add(u64::from(digit))
        }),
    }
}

fn is_numeric(id: &[u8]) -> bool {
    id.iter().all(u8::is_ascii_digit)
}

/// SemVer precedence: cores first; a release outranks its pre-releases; pre-releases
/// compare identifier by identifier, numbers below words, a longer list above its prefix.
fn precedence(core: [u64; 3], pre: &str, other_core: [u64; 3], other_pre: &str) -> Ordering {
    core.cmp(&other_core).then_with(|| match (pre.is_empty(), other_pre.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => {
            let (mut left, mut right) = (pre.split('.'), other_pre.split('.'));
            loop {
                match (left.next(), right.next()) {
                    (None, None) => return Ordering::Equal,
                    (None, Some(_)) => return Ordering::Less,
                    (Some(_), None) => return Ordering::Greater,
                    (Some(a), Some(b)) => match compare_identifiers(a, b) {
                        Ordering::Equal => {}
                        unequal => return unequal,
                    },
                }
            }
        }
    })
}

fn compare_identifiers(a: &str, b: &str) -> Ordering {
    match (is_numeric(a.as_bytes()), is_numeric(b.as_bytes())) {
        // Valid numeric identifiers have no leading zeros: longer means larger.
        (true, true) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.as_bytes().cmp(b.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// The parser this module had before the single-pass one, kept as the definition
    /// the new one must agree with on every input.
    fn reference(text: &str) -> Option<([u64; 3], &str)> {
        fn parse_numeric(part: &str) -> Option<u64> {
            let leading_zero = part.len() > 1 && part.starts_with('0');
            if part.is_empty() || leading_zero || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        }
        let valid_identifier = |id: &str| {
            !id.is_empty()
                && id.bytes().all(super::is_ident_byte)
                && (!id.bytes().all(|b| b.is_ascii_digit()) || parse_numeric(id).is_some())
        };
        let (rest, build) = match text.split_once('+') {
            Some((rest, build)) => (rest, Some(build)),
            None => (text, None),
        };
        if let Some(build) = build {
            if !build.split('.').all(|id| !id.is_empty() && id.bytes().all(super::is_ident_byte)) {
                return None;
            }
        }
        let (core, pre) = rest.split_once('-').unwrap_or((rest, ""));
        if rest.contains('-') && !pre.split('.').all(valid_identifier) {
            return None;
        }
        let mut numbers = core.split('.');
        let mut parsed = [0u64; 3];
        for slot in &mut parsed {
            *slot = parse_numeric(numbers.next()?)?;
        }
        if numbers.next().is_some() {
            return None;
        }
        Some((parsed, pre))
    }

    fn check(text: &str) -> Result<(), TestCaseError> {
        let parsed = super::parse(text).map(|v| (v.core, v.pre));
        prop_assert_eq!(parsed, reference(text), "{:?}", text);
        Ok(())
    }

    #[test]
    fn edge_cases_agree_with_the_reference() -> Result<(), TestCaseError> {
        let cases = [
            "1.2.3",
            "0.0.0",
            "1.2.3-0",
            "1.2.3-01",
            "1.2.3-0a",
            "1.0.0-alpha..1",
            "1.0.0-",
            "1.0.0+",
            "1.0.0-+b",
            "1.0.0+a+b",
            "1.0.0+a.-",
            "1.0.0--",
            "1.0.0-a-b.c+d-e",
            "18446744073709551615.0.0",
            "18446744073709551616.0.0",
            "1.0.0-18446744073709551616",
            "1.0.0+18446744073709551616",
            "1.0.0-00a",
            "v1.2.3",
            "01.2.3",
            "1.2",
            "1.2.3.4",
            " 1.2.3",
            "1.2.3 ",
            "",
            "1..3",
            "1.2.3-é",
            "١.2.3",
        ];
        for case in cases {
            check(case)?;
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn parse_agrees_with_the_reference(text in "[0-9a.+-]{0,14}") {
            check(&text)?;
        }

        #[test]
        fn versions_agree_with_the_reference(text in "(0|[1-9][0-9]{0,2}|0[0-9])\\.[0-9]{1,2}\\.[0-9]{1,2}(-[0-9a-z.-]{0,6})?(\\+[0-9a-z.-]{0,5})?") {
            check(&text)?;
        }
    }
}
