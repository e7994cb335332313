//! Prerequisites and segment references must form shallow acyclic graphs, so that
//! evaluation recurses a bounded number of times and never loops.

use super::{quote, At};
use crate::condition::Test;
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
    let children = |i: usize| {
        segments[i]
            .rules
            .iter()
            .flat_map(|rule| &rule.conditions)
            .flat_map(|condition| match &condition.test {
                Test::InSegment(targets) => targets.clone(),
                _ => Vec::new(),
            })
            .collect::<Vec<_>>()
    };
    check_graph(segments.len(), &children, max_chain).map_err(|failure| {
        let names: Vec<&str> = failure.chain.iter().map(|&i| segments[i].key.as_ref()).collect();
        let first = names.first().copied().unwrap_or_default();
        At::new(format!("segments[{}].rules", quote(first)), failure.describe("segment reference", &names))
    })
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
