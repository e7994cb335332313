//! Semantic Versioning 2.0.0: parse and compare by precedence.
//!
//! Hand-written (about a hundred lines) instead of a dependency, so that its rules are
//! exactly those of `docs/SPEC.md` section 5.4 on every target. Context values are
//! parsed on every evaluation, so parsing borrows and never allocates.

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

fn parse(text: &str) -> Option<Borrowed<'_>> {
    let (rest, build) = match text.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (text, None),
    };
    if let Some(build) = build {
        if !build.split('.').all(|id| !id.is_empty() && id.bytes().all(is_ident_byte)) {
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
    Some(Borrowed { core: parsed, pre })
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

fn parse_numeric(part: &str) -> Option<u64> {
    let leading_zero = part.len() > 1 && part.starts_with('0');
    if part.is_empty() || leading_zero || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

fn is_numeric(id: &str) -> bool {
    id.bytes().all(|b| b.is_ascii_digit())
}

fn valid_identifier(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(is_ident_byte) && (!is_numeric(id) || parse_numeric(id).is_some())
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
    match (is_numeric(a), is_numeric(b)) {
        // Valid numeric identifiers have no leading zeros: longer means larger.
        (true, true) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.as_bytes().cmp(b.as_bytes()),
    }
}
