//! The tree compiled into a Thompson automaton, and the search that runs it.
//!
//! The search follows every state at once, one character at a time (no
//! backtracking), so its time is linear in the text for a given pattern: a pattern
//! from a snapshot cannot make an evaluation take exponential time.

use super::class;
use super::tree::{Look, Node, NodeId, Tree};
use super::RegexError;

/// The most states a pattern may compile to, on every target. `x{n,m}` repeats `x`'s
/// states `m` times, so this bounds what counted repetitions may build. `regex-lite`
/// bounded bytes of memory instead, a figure that differed between 32- and 64-bit
/// targets.
pub(super) const MAX_STATES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
enum State {
    /// A character in `ranges[from..to]`, then the next state.
    Set {
        from: usize,
        to: usize,
    },
    /// An assertion, then the next state.
    Look(Look),
    Split(usize, usize),
    Jump(usize),
    Match,
}

#[derive(Debug)]
pub(super) struct Program {
    states: Vec<State>,
    ranges: Vec<(u32, u32)>,
    /// Whether every match must start at the beginning of the text (`^`, `\A`).
    anchored: bool,
}

impl Program {
    pub(super) fn compile(tree: Tree) -> Result<Program, RegexError> {
        let mut compiler = Compiler { tree: &tree, states: Vec::new() };
        compiler.node(tree.root)?;
        compiler.emit(State::Match)?;
        let states = compiler.states;
        let anchored = matches!(states.first(), Some(State::Look(Look::Start)));
        Ok(Program { states, ranges: tree.ranges, anchored })
    }

    pub(super) fn states(&self) -> usize {
        self.states.len()
    }

    /// Whether the pattern matches anywhere in `text`.
    pub(super) fn is_match(&self, text: &str) -> bool {
        let bytes = text.as_bytes();
        let mut search =
            Search { program: self, bytes, listed: vec![0; self.states.len().div_ceil(64)], pending: Vec::new() };
        let mut current = Vec::new();
        let mut next = Vec::new();
        if search.add(0, 0, &mut current) {
            return true;
        }
        let mut at = 0;
        for c in text.chars() {
            let after = at + c.len_utf8();
            search.unlist(&current);
            for &id in &current {
                if let State::Set { from, to } = self.states[id] {
                    if class::holds(&self.ranges[from..to], u32::from(c)) && search.add(id + 1, after, &mut next) {
                        return true;
                    }
                }
            }
            if !self.anchored && search.add(0, after, &mut next) {
                return true;
            }
            if next.is_empty() && self.anchored {
                return false;
            }
            std::mem::swap(&mut current, &mut next);
            next.clear();
            at = after;
        }
        false
    }
}

struct Search<'a> {
    program: &'a Program,
    bytes: &'a [u8],
    /// Bit `id` set: state `id` is already in the list being built.
    listed: Vec<u64>,
    pending: Vec<usize>,
}

impl Search<'_> {
    /// Adds `id` and every state reachable from it without reading a character at
    /// byte `at`; whether that reaches the match.
    fn add(&mut self, id: usize, at: usize, list: &mut Vec<usize>) -> bool {
        self.pending.clear();
        self.pending.push(id);
        while let Some(id) = self.pending.pop() {
            let (word, bit) = (id / 64, 1u64 << (id % 64));
            if self.listed[word] & bit != 0 {
                continue;
            }
            self.listed[word] |= bit;
            list.push(id);
            match self.program.states[id] {
                State::Match => return true,
                State::Jump(to) => self.pending.push(to),
                State::Split(first, second) => {
                    self.pending.push(second);
                    self.pending.push(first);
                }
                State::Look(look) => {
                    if look.holds(self.bytes, at) {
                        self.pending.push(id + 1);
                    }
                }
                State::Set { .. } => {}
            }
        }
        false
    }

    fn unlist(&mut self, list: &[usize]) {
        for &id in list {
            self.listed[id / 64] &= !(1u64 << (id % 64));
        }
    }
}

struct Compiler<'t> {
    tree: &'t Tree,
    states: Vec<State>,
}

impl Compiler<'_> {
    fn emit(&mut self, state: State) -> Result<usize, RegexError> {
        if self.states.len() >= MAX_STATES {
            return Err(RegexError { at: 0, what: "pattern too large: more than 10,000 states once compiled" });
        }
        self.states.push(state);
        Ok(self.states.len() - 1)
    }

    /// Points the split at `at` (emitted as a placeholder) to `first` and `second`.
    fn patch(&mut self, at: usize, state: State) {
        self.states[at] = state;
    }

    /// Recursion is bounded by the tree's height, which the parser limits.
    fn node(&mut self, id: NodeId) -> Result<(), RegexError> {
        match self.tree.node(id) {
            Node::Empty => {}
            &Node::Set { from, to } => {
                self.emit(State::Set { from, to })?;
            }
            &Node::Look(look) => {
                self.emit(State::Look(look))?;
            }
            &Node::Capture(sub) => self.node(sub)?,
            Node::Concat(items) => {
                for &item in items {
                    self.node(item)?;
                }
            }
            Node::Alternation(branches) => {
                let mut jumps = Vec::new();
                for (i, &branch) in branches.iter().enumerate() {
                    if i + 1 == branches.len() {
                        self.node(branch)?;
                        break;
                    }
                    let split = self.emit(State::Jump(0))?;
                    self.node(branch)?;
                    jumps.push(self.emit(State::Jump(0))?);
                    self.patch(split, State::Split(split + 1, self.states.len()));
                }
                let end = self.states.len();
                for jump in jumps {
                    self.patch(jump, State::Jump(end));
                }
            }
            &Node::Repeat { sub, min, max } => self.repeat(sub, min, max)?,
        }
        Ok(())
    }

    fn repeat(&mut self, sub: NodeId, min: u32, max: Option<u32>) -> Result<(), RegexError> {
        // Repeating what compiles to nothing is nothing; skipping it also keeps
        // `(){4294967295}` from looping without ever reaching the state limit.
        if self.is_silent(sub) {
            return Ok(());
        }
        match max {
            None if min == 0 => {
                let split = self.emit(State::Jump(0))?;
                self.node(sub)?;
                self.emit(State::Jump(split))?;
                self.patch(split, State::Split(split + 1, self.states.len()));
            }
            None => {
                for _ in 1..min {
                    self.node(sub)?;
                }
                let start = self.states.len();
                self.node(sub)?;
                self.emit(State::Split(start, self.states.len() + 1))?;
            }
            Some(max) => {
                for _ in 0..min {
                    self.node(sub)?;
                }
                let mut splits = Vec::new();
                for _ in min..max {
                    splits.push(self.emit(State::Jump(0))?);
                    self.node(sub)?;
                }
                let end = self.states.len();
                for split in splits {
                    self.patch(split, State::Split(split + 1, end));
                }
            }
        }
        Ok(())
    }

    /// Whether `id` compiles to no state at all.
    fn is_silent(&self, id: NodeId) -> bool {
        match self.tree.node(id) {
            Node::Empty => true,
            Node::Set { .. } | Node::Look(_) | Node::Alternation(_) => false,
            &Node::Capture(sub) => self.is_silent(sub),
            &Node::Repeat { sub, max, .. } => max == Some(0) || self.is_silent(sub),
            Node::Concat(items) => items.iter().all(|&item| self.is_silent(item)),
        }
    }
}
