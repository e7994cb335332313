//! The parsed pattern: an arena of nodes, shaped as `regex-lite` shapes its own tree,
//! because that shape decides which patterns are nested too deeply.

/// A node's position in [`Tree::nodes`].
pub(super) type NodeId = usize;

/// Zero-width assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Look {
    /// `^` (`\A`): the start.
    Start,
    /// `$` (`\z`): the end.
    End,
    /// `(?m)^`: the start or after `\n`.
    StartLf,
    /// `(?m)$`: the end or before `\n`.
    EndLf,
    /// `(?mR)^`: the start, after `\n`, or after a `\r` not followed by `\n`.
    StartCrlf,
    /// `(?mR)$`: the end, before `\r`, or before a `\n` not preceded by `\r`.
    EndCrlf,
    /// `\b`: an ASCII word character on exactly one side.
    Word,
    /// `\B`
    NotWord,
    /// `\<`, `\b{start}`
    WordStart,
    /// `\>`, `\b{end}`
    WordEnd,
    /// `\b{start-half}`: no word character before.
    WordStartHalf,
    /// `\b{end-half}`: no word character after.
    WordEndHalf,
}

impl Look {
    /// Whether the assertion holds at byte `at`, a character boundary of `text`.
    pub(super) fn holds(self, text: &[u8], at: usize) -> bool {
        let before = at.checked_sub(1).and_then(|i| text.get(i)).copied();
        let after = text.get(at).copied();
        let word = |byte: Option<u8>| byte.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        match self {
            Look::Start => before.is_none(),
            Look::End => after.is_none(),
            Look::StartLf => matches!(before, None | Some(b'\n')),
            Look::EndLf => matches!(after, None | Some(b'\n')),
            Look::StartCrlf => match before {
                None | Some(b'\n') => true,
                Some(b'\r') => after != Some(b'\n'),
                Some(_) => false,
            },
            Look::EndCrlf => match after {
                None | Some(b'\r') => true,
                Some(b'\n') => before != Some(b'\r'),
                Some(_) => false,
            },
            Look::Word => word(before) != word(after),
            Look::NotWord => word(before) == word(after),
            Look::WordStart => !word(before) && word(after),
            Look::WordEnd => word(before) && !word(after),
            Look::WordStartHalf => !word(before),
            Look::WordEndHalf => !word(after),
        }
    }
}

#[derive(Debug)]
pub(super) enum Node {
    Empty,
    /// A character from the set `Tree::ranges[from..to]`.
    Set {
        from: usize,
        to: usize,
    },
    Look(Look),
    Repeat {
        sub: NodeId,
        min: u32,
        max: Option<u32>,
    },
    /// A capture group: it matches what `sub` does, and counts toward the height.
    Capture(NodeId),
    Concat(Vec<NodeId>),
    Alternation(Vec<NodeId>),
}

#[derive(Debug, Default)]
pub(super) struct Tree {
    /// Each node with its height: 0 for a leaf, one more than its tallest child.
    nodes: Vec<(Node, u32)>,
    /// Every set's ranges, end to end.
    pub(super) ranges: Vec<(u32, u32)>,
    pub(super) root: NodeId,
}

/// Building, with `regex-lite`'s simplifications: a sequence or alternation of one is
/// that one, `x{1}` is `x`, `x{0}` is empty.
impl Tree {
    pub(super) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id].0
    }

    pub(super) fn height(&self, id: NodeId) -> u32 {
        self.nodes[id].1
    }

    fn push(&mut self, node: Node) -> NodeId {
        let children: &[NodeId] = match &node {
            Node::Repeat { sub, .. } | Node::Capture(sub) => std::slice::from_ref(sub),
            Node::Concat(items) | Node::Alternation(items) => items,
            Node::Empty | Node::Set { .. } | Node::Look(_) => &[],
        };
        let height = children.iter().map(|&child| self.height(child) + 1).max().unwrap_or(0);
        self.nodes.push((node, height));
        self.nodes.len() - 1
    }

    pub(super) fn set(&mut self, ranges: Vec<(u32, u32)>) -> NodeId {
        let from = self.ranges.len();
        self.ranges.extend(ranges);
        self.push(Node::Set { from, to: self.ranges.len() })
    }

    pub(super) fn look(&mut self, look: Look) -> NodeId {
        self.push(Node::Look(look))
    }

    pub(super) fn repeat(&mut self, sub: NodeId, min: u32, max: Option<u32>) -> NodeId {
        match (min, max) {
            (0, Some(0)) => self.push(Node::Empty),
            (1, Some(1)) => sub,
            _ => self.push(Node::Repeat { sub, min, max }),
        }
    }

    pub(super) fn capture(&mut self, sub: NodeId) -> NodeId {
        self.push(Node::Capture(sub))
    }

    pub(super) fn concat(&mut self, mut items: Vec<NodeId>) -> NodeId {
        match items.len() {
            0 => self.push(Node::Empty),
            1 => items.pop().unwrap_or_default(),
            _ => self.push(Node::Concat(items)),
        }
    }

    pub(super) fn alternation(&mut self, mut branches: Vec<NodeId>) -> NodeId {
        if branches.len() == 1 {
            return branches.pop().unwrap_or_default();
        }
        self.push(Node::Alternation(branches))
    }
}
