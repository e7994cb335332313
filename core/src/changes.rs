//! Which flags a new snapshot changes: what hosts report as OpenFeature's
//! `flagsChanged` when they swap snapshots.

use crate::condition::{Condition, Test};
use crate::snapshot::Rule;
use crate::Snapshot;

impl Snapshot {
    /// Keys of the flags whose evaluation may differ from `previous`, sorted: flags
    /// added, removed or edited, and flags whose segments or prerequisites changed.
    ///
    /// A flag counts as edited when its JSON text differs, so re-signing identical
    /// content reports nothing.
    pub fn changed_flags(&self, previous: &Snapshot) -> Vec<String> {
        let mut diff = Diff {
            current: self,
            previous,
            flags: vec![None; self.flags.len()],
            segments: vec![None; self.segments.len()],
        };
        let mut changed: Vec<String> =
            (0..self.flags.len()).filter(|&i| diff.flag_changed(i)).map(|i| self.flags[i].key.to_string()).collect();
        changed.extend(previous.flag_keys().filter(|key| self.flag(key).is_none()).map(str::to_owned));
        crate::sort::sort_by_name(&mut changed, |key| key);
        changed
    }
}

/// Memoised comparison; recursion depth is bounded because compile proved
/// prerequisite and segment chains acyclic and shallow.
struct Diff<'a> {
    current: &'a Snapshot,
    previous: &'a Snapshot,
    flags: Vec<Option<bool>>,
    segments: Vec<Option<bool>>,
}

impl Diff<'_> {
    fn flag_changed(&mut self, index: usize) -> bool {
        if let Some(known) = self.flags[index] {
            return known;
        }
        let flag = &self.current.flags[index];
        let edited = self.previous.flag(&flag.key).is_none_or(|before| before.fingerprint != flag.fingerprint);
        let changed = edited
            || self.rules_changed(&flag.rules)
            || flag.prerequisites.iter().any(|prerequisite| self.flag_changed(prerequisite.flag));
        self.flags[index] = Some(changed);
        changed
    }

    fn rules_changed(&mut self, rules: &[Rule]) -> bool {
        rules.iter().flat_map(|rule| &rule.conditions).any(|condition| self.references_changed(condition))
    }

    fn references_changed(&mut self, condition: &Condition) -> bool {
        match &condition.test {
            Test::InSegment(targets) => targets.iter().any(|&segment| self.segment_changed(segment)),
            _ => false,
        }
    }

    fn segment_changed(&mut self, index: usize) -> bool {
        if let Some(known) = self.segments[index] {
            return known;
        }
        let segment = &self.current.segments[index];
        // Segments are sorted by key (a segment's index is its position), so the previous
        // one is found by binary search, without building a map.
        let before = self.previous.segments.binary_search_by(|s| s.key.as_str().cmp(&segment.key));
        let edited = !before.is_ok_and(|i| self.previous.segments[i].fingerprint == segment.fingerprint);
        let changed = edited
            || segment
                .rules
                .iter()
                .flat_map(|rule| &rule.conditions)
                .any(|condition| self.references_changed(condition));
        self.segments[index] = Some(changed);
        changed
    }
}
