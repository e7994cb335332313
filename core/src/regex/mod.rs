//! Pennon's own regex engine for the `matches` operator.
//!
//! The syntax is `regex-lite` 0.1's (docs/SPEC.md, section 5.4), which Pennon used
//! until this engine replaced it: a snapshot's patterns keep their meaning, and
//! `differential.rs` compares the two on generated patterns and texts. Owning it
//! brings three things: `matches` needs only "is there a match", so there are no
//! capture slots, match positions or cache pools, and the WebAssembly module is
//! ~17 KB smaller gzipped; the size limit counts states, the same on every target,
//! where `regex-lite` counted bytes of memory, which differ between 32- and 64-bit
//! targets; and an error says where in the pattern it is.

mod class;
mod parse;
mod program;
mod tree;

use std::fmt;

use program::Program;

/// A compiled pattern. Searching is linear in the text: no backtracking.
#[derive(Debug)]
pub(crate) struct Regex {
    program: Program,
}

impl Regex {
    /// Compiles `pattern`; `case_insensitive` is as if it started with `(?i)`.
    pub(crate) fn new(pattern: &str, case_insensitive: bool) -> Result<Regex, RegexError> {
        let tree = parse::parse(pattern, case_insensitive)?;
        Ok(Regex { program: Program::compile(tree)? })
    }

    /// The automaton's size, for the snapshot's budget (`Limits::max_regex_states`).
    pub(crate) fn states(&self) -> usize {
        self.program.states()
    }

    /// Whether the pattern matches anywhere in `text` (an unanchored search).
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.program.is_match(text)
    }
}

/// Why a pattern was refused, and at which byte of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegexError {
    at: usize,
    what: &'static str,
}

impl fmt::Display for RegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.what, self.at)
    }
}

#[cfg(test)]
mod differential;
#[cfg(test)]
mod tests;
