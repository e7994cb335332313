//! Prerequisites and segment references must form shallow acyclic graphs, so that
//! evaluation recurses a bounded number of times and never loops, and must not fan out
//! so far that one evaluation visits more than a bounded number of flags and segments.

use super::{quote, At};
use crate::condition::{Condition, Test};
use crate::snapshot::{Flag, Segment};

pub(super) fn check_prerequisites(flags: &[Flag], max_chain: usize) -> Result<(), At> {
    let children = |i: usize| flags[i].prerequisites.iter().map(|p| p.flag).collect::<Vec<_>>();
    check_graph(flags.len(), &children, max_chain).map_err(|failure| {
        let names: Vec<&str> = failure.chain.iter().map(|&i| flags[i].key.as_ref()).collect();
        let first = names.first().copied().unwrap_or_default();
        At::new(format!("flags[{}].prerequisites", quote(first)), failure.describe("prerequisite", &names))
    })
}

pub(super) fn check_segments(segments: &[Segment], max_chain: usize) -> Result<(), At> {
    let children = |i: usize| segment_references(segments[i].rules.iter().flat_map(|rule| &rule.conditions)).collect();
    check_graph(segments.len(), &children, max_chain).map_err(|failure| {
        let names: Vec<&str> = failure.chain.iter().map(|&i| segments[i].key.as_ref()).collect();
        let first = names.first().copied().unwrap_or_default();
        At::new(format!("segments[{}].rules", quote(first)), failure.describe("segment reference", &names))
    })
}

/// Refuses a flag whose evaluation can visit more than `max_steps` flags and segments:
/// itself, its prerequisites and theirs, and the segments its rules and theirs name,
/// nested ones included, each counted once per path to it (as evaluation visits them).
/// Run after both graphs are known to be acyclic and at most `max_chain` deep.
pub(super) fn check_steps(flags: &[Flag], segments: &[Segment], max_steps: usize) -> Result<(), At> {
    let mut steps =
        Steps { flags, segments, flag_steps: vec![None; flags.len()], segment_steps: vec![None; segments.len()] };
    for (index, flag) in flags.iter().enumerate() {
        let found = steps.flag(index);
        if found > max_steps as u64 {
            return Err(At::new(
                format!("flags[{}]", quote(&flag.key)),
                format!(
                    "one evaluation can visit {found} flags and segments through its prerequisites and segment \
                     references (each once per path to it), more than the limit of {max_steps}"
                ),
            ));
        }
    }
    Ok(())
}

/// Visits per flag and per segment, each worked out once.
struct Steps<'a> {
    flags: &'a [Flag],
    segments: &'a [Segment],
    flag_steps: Vec<Option<u64>>,
    segment_steps: Vec<Option<u64>>,
}

impl Steps<'_> {
    fn flag(&mut self, index: usize) -> u64 {
        if let Some(known) = self.flag_steps[index] {
            return known;
        }
        let flags = self.flags;
        let flag = &flags[index];
        let mut total = 1u64;
        for prerequisite in &flag.prerequisites {
            total = total.saturating_add(self.flag(prerequisite.flag));
        }
        for segment in segment_references(flag.rules.iter().flat_map(|rule| &rule.conditions)) {
            total = total.saturating_add(self.segment(segment));
        }
        self.flag_steps[index] = Some(total);
        total
    }

    fn segment(&mut self, index: usize) -> u64 {
        if let Some(known) = self.segment_steps[index] {
            return known;
        }
        let segments = self.segments;
        let mut total = 1u64;
        for segment in segment_references(segments[index].rules.iter().flat_map(|rule| &rule.conditions)) {
            total = total.saturating_add(self.segment(segment));
        }
        self.segment_steps[index] = Some(total);
        total
    }
}

/// The segments that `conditions` name (`in_segment` and `not_in_segment`), in order.
fn segment_references<'a>(conditions: impl Iterator<Item = &'a Condition> + 'a) -> impl Iterator<Item = usize> + 'a {
    conditions
        .flat_map(|condition| match &condition.test {
            Test::InSegment(targets) => targets.as_slice(),
            _ => &[],
        })
        .copied()
}

struct Failure {
    chain: Vec<usize>,
    cycle: bool,
    max_chain: usize,
}

impl Failure {
    fn describe(&self, what: &str, names: &[&str]) -> String {
        let chain = names.join(" -> ");
        if self.cycle {
            format!("{what} cycle: {chain}")
        } else {
            format!("{what} chain deeper than {}: {chain} -> ...", self.max_chain)
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mark {
    New,
    OnPath,
    Done,
}

fn check_graph(count: usize, children: &dyn Fn(usize) -> Vec<usize>, max_chain: usize) -> Result<(), Failure> {
    let mut marks = vec![Mark::New; count];
    let mut heights = vec![0usize; count];
    let mut path = Vec::new();
    for start in 0..count {
        visit(start, children, max_chain, &mut marks, &mut heights, &mut path)?;
    }
    Ok(())
}

/// Depth-first search; `path` never grows past `max_chain + 1`, so recursion is bounded.
fn visit(
    node: usize,
    children: &dyn Fn(usize) -> Vec<usize>,
    max_chain: usize,
    marks: &mut [Mark],
    heights: &mut [usize],
    path: &mut Vec<usize>,
) -> Result<usize, Failure> {
    match marks[node] {
        Mark::Done if path.len() + heights[node] <= max_chain => return Ok(heights[node]),
        Mark::Done => {}
        Mark::OnPath => {
            let from = path.iter().position(|&n| n == node).unwrap_or(0);
            let mut chain = path[from..].to_vec();
            chain.push(node);
            return Err(Failure { chain, cycle: true, max_chain });
        }
        Mark::New => {}
    }
    if path.len() > max_chain || marks[node] == Mark::Done {
        let mut chain = path.clone();
        chain.push(node);
        return Err(Failure { chain, cycle: false, max_chain });
    }
    marks[node] = Mark::OnPath;
    path.push(node);
    let mut height = 0;
    for child in children(node) {
        height = height.max(visit(child, children, max_chain, marks, heights, path)? + 1);
    }
    path.pop();
    marks[node] = Mark::Done;
    heights[node] = height;
    Ok(height)
}
