//! Which context attributes a flag can read, so a host can convert only those.
//!
//! A JavaScript host pays for every attribute it copies into the module, and most
//! contexts carry many more attributes than any one flag reads. The set is a property
//! of the compiled flag (its targets, rules, segments, rollouts and prerequisites), so
//! it is found by walking them once, never by evaluating.

use crate::condition::{Condition, Test};
use crate::snapshot::{AttributePath, Serve};
use crate::Snapshot;

/// The name under which the targeting key is listed.
const TARGETING_KEY: &str = "targetingKey";

impl Snapshot {
    /// The top-level context names that evaluating the flag at `position` (see
    /// [`Snapshot::position`]) can read, sorted and without repeats; `targetingKey`
    /// stands for the targeting key. `None` past the end.
    ///
    /// Evaluation with any context agrees with evaluation with the same context
    /// stripped to these names: the list covers every branch, not just the one a given
    /// context takes. A dotted path lists its exact name and its first segment, the two
    /// top-level names it can be found under.
    ///
    /// ```
    /// # let key = pennon_core::SigningKey::from_seed([1; 32]);
    /// # let payload = br#"{"schema":1,"environment":"prod","version":3,
    /// #   "issued_at":"2026-01-01T00:00:00Z","expires_at":"2027-01-01T00:00:00Z",
    /// #   "flags":{"dark-mode":{"type":"boolean","enabled":true,
    /// #     "variants":{"on":true,"off":false},"off_variant":"off",
    /// #     "fallthrough":{"rollout":{"variants":[{"variant":"on","weight":1},{"variant":"off","weight":1}]}},
    /// #     "rules":[{"id":"staff","conditions":[{"attribute":"user.email","op":"ends_with","value":"@acme.com"}],
    /// #               "serve":{"variant":"on"}}]}}}"#;
    /// # let envelope = pennon_core::sign_envelope(payload, &[&key]).unwrap();
    /// # let policy = pennon_core::TrustPolicy::new("prod", vec![key.public_key().clone()]).unwrap();
    /// # let now = pennon_core::parse_rfc3339("2026-06-01T00:00:00Z").unwrap();
    /// # let pennon_core::Loaded::Updated(snapshot) = policy.load(&envelope, None, now).unwrap() else { unreachable!() };
    /// let position = snapshot.position("dark-mode").unwrap();
    /// assert_eq!(snapshot.attributes_read(position).unwrap(), ["targetingKey", "user", "user.email"]);
    /// ```
    pub fn attributes_read(&self, position: usize) -> Option<Vec<&str>> {
        if position >= self.flags.len() {
            return None;
        }
        let mut walk = Walk {
            snapshot: self,
            names: Vec::new(),
            flags_seen: vec![false; self.flags.len()],
            segments_seen: vec![false; self.segments.len()],
        };
        walk.flag(position);
        crate::sort::sort_by_name(&mut walk.names, |name| name);
        walk.names.dedup();
        Some(walk.names)
    }
}

/// A walk over a flag and everything it reaches; each flag and segment is visited once
/// (both graphs are acyclic, but may share nodes).
struct Walk<'s> {
    snapshot: &'s Snapshot,
    names: Vec<&'s str>,
    flags_seen: Vec<bool>,
    segments_seen: Vec<bool>,
}

impl<'s> Walk<'s> {
    fn flag(&mut self, index: usize) {
        if std::mem::replace(&mut self.flags_seen[index], true) {
            return;
        }
        let snapshot = self.snapshot;
        let flag = &snapshot.flags[index];
        for prerequisite in &flag.prerequisites {
            self.flag(prerequisite.flag);
        }
        if !flag.targets.is_empty() {
            self.names.push(TARGETING_KEY);
        }
        for rule in &flag.rules {
            self.conditions(&rule.conditions);
            self.serve(&rule.serve);
        }
        self.serve(&flag.fallthrough);
    }

    fn serve(&mut self, serve: &'s Serve) {
        if let Serve::Rollout(rollout) = serve {
            match &rollout.bucket_by {
                Some(path) => self.path(path),
                None => self.names.push(TARGETING_KEY),
            }
        }
    }

    fn conditions(&mut self, conditions: &'s [Condition]) {
        for condition in conditions {
            if let Some(path) = &condition.attribute {
                self.path(path);
            }
            if let Test::InSegment(segments) = &condition.test {
                for &segment in segments {
                    self.segment(segment);
                }
            }
        }
    }

    fn segment(&mut self, index: usize) {
        if std::mem::replace(&mut self.segments_seen[index], true) {
            return;
        }
        let segment = &self.snapshot.segments[index];
        if !segment.included.is_empty() || !segment.excluded.is_empty() {
            self.names.push(TARGETING_KEY);
        }
        for rule in &segment.rules {
            self.conditions(&rule.conditions);
        }
    }

    /// Mirrors `Evaluator::lookup`: the targeting key, or the exact name and then the
    /// dotted path's first segment (a path never goes through the targeting key).
    fn path(&mut self, path: &'s AttributePath) {
        self.names.push(&path.name);
        if let Some(first) = path.segments.first() {
            if &**first != TARGETING_KEY {
                self.names.push(first);
            }
        }
    }
}
