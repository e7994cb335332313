//! The pattern parser: `regex-lite` 0.1's syntax, rule for rule, into a [`Tree`].
//!
//! Where the two could differ, this follows `regex-lite`, quirks included, so that a
//! pattern means what it meant before Pennon had its own engine; `differential.rs`
//! checks that against `regex-lite` itself. Only the result matters here (is the
//! pattern valid, what does it match), so capture groups and greediness are checked
//! for syntax and then dropped.

mod bracket;
mod escape;

use super::class::Ranges;
use super::tree::{Look, NodeId, Tree};
use super::RegexError;

/// Groups nested deeper than this, and trees taller than this, are refused
/// (`regex-lite`'s default nest limit).
const NEST_LIMIT: u32 = 50;

#[derive(Clone, Copy, Default)]
struct Flags {
    case_insensitive: bool,
    multi_line: bool,
    dot_matches_new_line: bool,
    crlf: bool,
    verbose: bool,
}

/// What one escape or class item stands for, before it becomes a node or joins a set.
enum Item {
    Char(char),
    Set(Ranges),
    Look(Look),
}

pub(super) fn parse(pattern: &str, case_insensitive: bool) -> Result<Tree, RegexError> {
    let mut parser = Parser {
        pattern,
        pos: 0,
        flags: Flags { case_insensitive, ..Flags::default() },
        depth: 0,
        names: Vec::new(),
        tree: Tree::default(),
    };
    let root = parser.alternation()?;
    if parser.tree.height(root) > NEST_LIMIT {
        return Err(RegexError { at: 0, what: "nested too deeply" });
    }
    parser.tree.root = root;
    Ok(parser.tree)
}

struct Parser<'p> {
    pattern: &'p str,
    /// Byte offset of the current character.
    pos: usize,
    flags: Flags,
    depth: u32,
    /// Capture group names so far, sorted, to refuse a repeated one.
    names: Vec<&'p str>,
    tree: Tree,
}

/// Moving through the pattern.
impl<'p> Parser<'p> {
    fn current(&self) -> Option<char> {
        self.pattern[self.pos..].chars().next()
    }

    fn is(&self, c: char) -> bool {
        self.current() == Some(c)
    }

    fn done(&self) -> bool {
        self.pos >= self.pattern.len()
    }

    fn error(&self, what: &'static str) -> RegexError {
        RegexError { at: self.pos, what }
    }

    /// Steps over the current character; whether another one follows.
    fn bump(&mut self) -> bool {
        if let Some(c) = self.current() {
            self.pos += c.len_utf8();
        }
        !self.done()
    }

    fn bump_if(&mut self, prefix: &str) -> bool {
        let found = self.pattern[self.pos..].starts_with(prefix);
        if found {
            self.pos += prefix.len();
        }
        found
    }

    /// In verbose mode (`x`), steps over white space and `#` comments.
    fn bump_space(&mut self) {
        if !self.flags.verbose {
            return;
        }
        while let Some(c) = self.current() {
            if c.is_whitespace() {
                self.bump();
            } else if c == '#' {
                while let Some(c) = self.current() {
                    self.bump();
                    if c == '\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    fn bump_and_bump_space(&mut self) -> bool {
        if !self.bump() {
            return false;
        }
        self.bump_space();
        !self.done()
    }

    fn peek(&self) -> Option<char> {
        let mut rest = self.pattern[self.pos..].chars();
        rest.next()?;
        rest.next()
    }
}

/// The grammar.
impl<'p> Parser<'p> {
    /// Branches separated by `|`, up to a `)` or the end.
    fn alternation(&mut self) -> Result<NodeId, RegexError> {
        let depth = self.depth;
        if depth > NEST_LIMIT {
            return Err(self.error("groups nested too deeply"));
        }
        self.depth += 1;
        let mut branches = Vec::new();
        let mut sequence = Vec::new();
        loop {
            self.bump_space();
            let Some(c) = self.current() else { break };
            match c {
                '(' => {
                    let outer = self.flags;
                    if let Some(group) = self.group()? {
                        sequence.push(group);
                        self.flags = outer;
                    }
                    if !self.is(')') {
                        return Err(self.error("unclosed group: `(` without `)`"));
                    }
                    self.bump();
                }
                ')' if depth == 0 => return Err(self.error("`)` without `(`")),
                ')' => break,
                '|' => {
                    branches.push(self.tree.concat(std::mem::take(&mut sequence)));
                    self.bump();
                }
                '[' => {
                    let set = self.class()?;
                    sequence.push(self.tree.set(set));
                }
                '?' | '*' | '+' => self.repetition(&mut sequence, c)?,
                '{' => self.counted_repetition(&mut sequence)?,
                _ => {
                    let node = self.primitive()?;
                    sequence.push(node);
                }
            }
        }
        self.depth -= 1;
        branches.push(self.tree.concat(sequence));
        Ok(self.tree.alternation(branches))
    }

    fn primitive(&mut self) -> Result<NodeId, RegexError> {
        let c = self.current().unwrap_or_default();
        self.bump();
        Ok(match c {
            '\\' => {
                let item = self.escape()?;
                self.item_node(item)
            }
            '.' => {
                let dot: &[(u32, u32)] = if self.flags.dot_matches_new_line {
                    &[(0, char::MAX as u32)]
                } else if self.flags.crlf {
                    &[(0, 9), (11, 12), (14, char::MAX as u32)]
                } else {
                    &[(0, 9), (11, char::MAX as u32)]
                };
                self.tree.set(dot.to_vec())
            }
            '^' => self.tree.look(match (self.flags.multi_line, self.flags.crlf) {
                (false, _) => Look::Start,
                (true, false) => Look::StartLf,
                (true, true) => Look::StartCrlf,
            }),
            '$' => self.tree.look(match (self.flags.multi_line, self.flags.crlf) {
                (false, _) => Look::End,
                (true, false) => Look::EndLf,
                (true, true) => Look::EndCrlf,
            }),
            c => {
                let item = self.literal(c);
                self.item_node(item)
            }
        })
    }

    fn item_node(&mut self, item: Item) -> NodeId {
        match item {
            Item::Char(c) => self.tree.set(vec![(u32::from(c), u32::from(c))]),
            Item::Set(set) => self.tree.set(set),
            Item::Look(look) => self.tree.look(look),
        }
    }

    /// A literal character: with `i`, an ASCII letter stands for both its cases.
    fn literal(&self, c: char) -> Item {
        if self.flags.case_insensitive && c.is_ascii_alphabetic() {
            let (lower, upper) = (u32::from(c.to_ascii_lowercase()), u32::from(c.to_ascii_uppercase()));
            return Item::Set(vec![(upper, upper), (lower, lower)]);
        }
        Item::Char(c)
    }

    /// `?`, `*` or `+` (and a lazy `?`) applied to the last item.
    fn repetition(&mut self, sequence: &mut Vec<NodeId>, op: char) -> Result<(), RegexError> {
        let Some(sub) = sequence.pop() else {
            return Err(self.error("repetition operator with nothing to repeat"));
        };
        let (min, max) = match op {
            '?' => (0, Some(1)),
            '*' => (0, None),
            _ => (1, None),
        };
        if self.bump() && self.is('?') {
            self.bump();
        }
        sequence.push(self.tree.repeat(sub, min, max));
        Ok(())
    }

    /// `{n}`, `{n,}` or `{n,m}` (and a lazy `?`) applied to the last item.
    fn counted_repetition(&mut self, sequence: &mut Vec<NodeId>) -> Result<(), RegexError> {
        let Some(sub) = sequence.pop() else {
            return Err(self.error("counted repetition with nothing to repeat"));
        };
        let unclosed = "unclosed counted repetition `{`";
        if !self.bump_and_bump_space() {
            return Err(self.error(unclosed));
        }
        let min = self.decimal()?;
        let mut max = Some(min);
        if self.done() {
            return Err(self.error(unclosed));
        }
        if self.is(',') {
            if !self.bump_and_bump_space() {
                return Err(self.error(unclosed));
            }
            max = if self.is('}') { None } else { Some(self.decimal()?) };
            if self.done() {
                return Err(self.error(unclosed));
            }
        }
        if !self.is('}') {
            return Err(self.error("counted repetition must be `{n}`, `{n,}` or `{n,m}`"));
        }
        if self.bump_and_bump_space() && self.is('?') {
            self.bump();
        }
        if max.is_some_and(|max| max < min) {
            return Err(self.error("counted repetition `{n,m}` with m < n"));
        }
        sequence.push(self.tree.repeat(sub, min, max));
        Ok(())
    }

    /// A decimal `u32`, white space around it allowed.
    fn decimal(&mut self) -> Result<u32, RegexError> {
        while self.current().is_some_and(char::is_whitespace) {
            self.bump();
        }
        let mut value = None::<u32>;
        while let Some(digit) = self.current().and_then(|c| c.to_digit(10)) {
            let next = value.unwrap_or(0).checked_mul(10).and_then(|v| v.checked_add(digit));
            value = Some(next.ok_or_else(|| self.error("repetition count above 4294967295"))?);
            self.bump_and_bump_space();
        }
        while self.current().is_some_and(char::is_whitespace) {
            self.bump_and_bump_space();
        }
        value.ok_or_else(|| self.error("counted repetition needs a number"))
    }

    /// At `(`: a group, or `None` for a flag directive such as `(?i)`.
    fn group(&mut self) -> Result<Option<NodeId>, RegexError> {
        self.bump_and_bump_space();
        if self.bump_if("?=") || self.bump_if("?!") || self.bump_if("?<=") || self.bump_if("?<!") {
            return Err(self.error("look-around is not supported"));
        }
        if self.bump_if("?P<") || self.bump_if("?<") {
            self.capture_name()?;
        } else if self.bump_if("?") {
            if self.done() {
                return Err(self.error("unclosed group: `(?` without `)`"));
            }
            let start = self.pos;
            self.flags = self.flag_changes()?;
            if self.is(')') {
                if self.pos == start {
                    return Err(self.error("empty flag group `(?)`"));
                }
                return Ok(None);
            }
            // At `:`: flags for the group only, which captures nothing.
            self.bump();
            return self.alternation().map(Some);
        }
        let inner = self.alternation()?;
        Ok(Some(self.tree.capture(inner)))
    }

    /// After `(?<` or `(?P<`: a name of letters, digits, `_`, `.`, `[` and `]`,
    /// starting with a letter or `_`, used once.
    fn capture_name(&mut self) -> Result<(), RegexError> {
        if self.done() {
            return Err(self.error("unclosed group name"));
        }
        let start = self.pos;
        while let Some(c) = self.current().filter(|&c| c != '>') {
            let valid = c == '_'
                || if self.pos == start {
                    c.is_alphabetic()
                } else {
                    matches!(c, '.' | '[' | ']') || c.is_alphanumeric()
                };
            if !valid {
                return Err(self.error("invalid character in a group name"));
            }
            self.bump();
        }
        if self.done() {
            return Err(self.error("unclosed group name"));
        }
        let name = &self.pattern[start..self.pos];
        self.bump();
        if name.is_empty() {
            return Err(self.error("empty group name"));
        }
        match self.names.binary_search(&name) {
            Ok(_) => Err(self.error("repeated group name")),
            Err(at) => {
                self.names.insert(at, name);
                Ok(())
            }
        }
    }

    /// `i`, `m`, `s`, `R`, `U`, `x` and `u` set, or cleared after one `-`, up to `:` or `)`.
    fn flag_changes(&mut self) -> Result<Flags, RegexError> {
        let mut flags = self.flags;
        let mut clearing = false;
        let mut last_was_dash = false;
        let mut seen = 0u128;
        loop {
            let Some(c) = self.current() else {
                return Err(self.error("unclosed flag group"));
            };
            if c == ':' || c == ')' {
                break;
            }
            if c == '-' {
                if clearing {
                    return Err(self.error("more than one `-` in a flag group"));
                }
                clearing = true;
                last_was_dash = true;
            } else {
                last_was_dash = false;
                let on = !clearing;
                match c {
                    'i' => flags.case_insensitive = on,
                    'm' => flags.multi_line = on,
                    's' => flags.dot_matches_new_line = on,
                    'R' => flags.crlf = on,
                    'x' => flags.verbose = on,
                    // Greediness does not change whether a pattern matches; `u` is a
                    // no-op kept for the `regex` crate's patterns.
                    'U' | 'u' => {}
                    _ => return Err(self.error("unknown flag")),
                }
                let bit = 1u128 << (u32::from(c) & 127);
                if seen & bit != 0 {
                    return Err(self.error("repeated flag"));
                }
                seen |= bit;
            }
            if !self.bump() {
                return Err(self.error("unclosed flag group"));
            }
        }
        if last_was_dash {
            return Err(self.error("flag group ends with `-`"));
        }
        Ok(flags)
    }
}
