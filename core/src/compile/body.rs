//! Compiling flags as the reader hands them over, so a large payload is never held
//! as raw structures: each flag is checked against the limits and compiled while its
//! text is still in cache, then its raw form is dropped.
//!
//! What a flag refers to may come later in the payload: other flags (prerequisites)
//! are resolved in [`Compiler::finish`], and a flag with segment conditions waits
//! until the segments are read. Errors keep `docs/SPEC.md` 2.3's order: the first
//! limit error (step 11) wins over the first compile error (step 12), and the caller
//! reports shape errors (step 10) before either.

use super::{chains, compile_segment, flag::compile_flag, quote, At, Names};
use crate::model::{Body, Header, Keyed, RawFlag, RawOp, RawPrerequisite, RawSegment, Text};
use smol_str::SmolStr;

use crate::snapshot::{Flag, Prerequisite};
use crate::{Error, Limits, Snapshot};

pub(crate) struct Compiler<'a> {
    names: Names<'a>,
    limits: Limits,
    /// Every flag key in payload order, for the duplicate check.
    keys: Vec<Text<'a>>,
    /// Compiled flags, in payload order.
    flags: Vec<Flag>,
    /// The prerequisites of flags that have any, by name, for [`resolve_prerequisites`].
    prerequisites: Vec<(SmolStr, Vec<RawPrerequisite<'a>>)>,
    /// Flags with segment conditions, read before the segments.
    waiting: Vec<Keyed<'a, RawFlag<'a>>>,
    segments: Option<Vec<Keyed<'a, RawSegment<'a>>>>,
    /// The first limit error, else the first compile error.
    error: Option<Error>,
}

impl<'a> Compiler<'a> {
    pub(crate) fn new(limits: &Limits) -> Compiler<'a> {
        Compiler {
            names: Names {
                segments: Vec::new(),
                in_lists: Default::default(),
                regexes: Default::default(),
                regex_states: Default::default(),
                max_regex_states: limits.max_regex_states,
                max_depth: limits.max_depth,
            },
            limits: limits.clone(),
            keys: Vec::new(),
            flags: Vec::new(),
            prerequisites: Vec::new(),
            waiting: Vec::new(),
            segments: None,
            error: None,
        }
    }

    /// Keeps `error` if it outranks the one held: limit errors outrank compile errors.
    fn note(&mut self, error: Error) {
        let is_limit = |e: &Error| matches!(e, Error::LimitExceeded { .. });
        match &self.error {
            Some(held) if is_limit(held) || !is_limit(&error) => {}
            _ => self.error = Some(error),
        }
    }

    fn compile(&mut self, key: &str, mut raw: RawFlag<'a>, fingerprint: u64) {
        let prerequisites = std::mem::take(&mut raw.prerequisites);
        match compile_flag(key, &raw, fingerprint, &self.names) {
            Ok(flag) => {
                if !prerequisites.is_empty() {
                    self.prerequisites.push((flag.key.clone(), prerequisites));
                }
                self.flags.push(flag);
            }
            Err(at) => self.note(at.within(&format!("flags[{}]", quote(key))).into_error()),
        }
    }

    /// Resolves what waited, checks the whole, and builds the snapshot.
    pub(crate) fn finish(mut self, header: &Header<'_>, payload_sha256: [u8; 32]) -> Result<Snapshot, Error> {
        crate::model::sort_unique(&mut self.keys, |key| key)
            .map_err(|e| crate::verify::malformed(e.within("flags")))?;
        let raw_segments = self.segments.take().unwrap_or_default();
        crate::limits::check_counts(self.keys.len(), raw_segments.len(), &self.limits)?;
        for entry in &raw_segments {
            crate::limits::check_segment(&entry.key, &entry.value, &self.limits)?;
        }
        let compile_error = match self.error.take() {
            Some(error @ Error::LimitExceeded { .. }) => return Err(error),
            other => other,
        };
        for entry in std::mem::take(&mut self.waiting) {
            crate::limits::check_flag(&entry.key, &entry.value, &self.limits)?;
            if compile_error.is_none() {
                self.compile(&entry.key, entry.value, entry.fingerprint);
            }
        }
        if let Some(error) = compile_error.or_else(|| self.error.take()) {
            return Err(error);
        }
        let segments = raw_segments
            .iter()
            .map(|entry| {
                compile_segment(&entry.key, &entry.value, entry.fingerprint, &self.names)
                    .map_err(|e| e.within(&format!("segments[{}]", quote(&entry.key))))
            })
            .collect::<Result<Vec<_>, At>>()
            .map_err(At::into_error)?;
        let mut flags = self.flags;
        // Growth by doubling leaves up to half the capacity unused, for as long as the
        // snapshot is served.
        flags.shrink_to_fit();
        if !flags.windows(2).all(|pair| pair[0].key < pair[1].key) {
            crate::sort::sort_by_name(&mut flags, |flag| &flag.key);
        }
        resolve_prerequisites(&mut flags, self.prerequisites)?;
        chains::check_segments(&segments, self.limits.max_chain).map_err(At::into_error)?;
        chains::check_prerequisites(&flags, self.limits.max_chain).map_err(At::into_error)?;
        chains::check_steps(&flags, &segments, self.limits.max_steps).map_err(At::into_error)?;
        mark_time_dependent(&mut flags);
        let time = |text: &str, path: &str| crate::parse_rfc3339(text).map_err(|e| At::new(path, e.to_string()));
        let issued_at = time(&header.issued_at, "issued_at").map_err(At::into_error)?;
        let expires_at = time(&header.expires_at, "expires_at").map_err(At::into_error)?;
        if expires_at <= issued_at {
            return Err(At::new("expires_at", "must be later than issued_at").into_error());
        }
        if header.environment.is_empty() || header.environment.len() > 128 {
            return Err(At::new("environment", "must be 1 to 128 bytes").into_error());
        }
        let index = flags.iter().enumerate().map(|(i, flag)| (flag.key.clone(), i)).collect();
        Ok(Snapshot {
            version: header.version,
            environment: header.environment.as_ref().into(),
            audience: header.audience,
            issued_at,
            expires_at,
            payload_sha256,
            flags,
            index,
            segments,
        })
    }
}

impl<'a> Body<'a> for Compiler<'a> {
    fn flag(&mut self, key: Text<'a>, raw: RawFlag<'a>, fingerprint: u64) {
        self.keys.push(key.clone());
        if self.keys.len() > self.limits.max_flags {
            return; // `finish` reports the count.
        }
        if matches!(self.error, Some(Error::LimitExceeded { .. })) {
            return;
        }
        if let Err(error) = crate::limits::check_flag(&key, &raw, &self.limits) {
            return self.note(error);
        }
        if self.segments.is_none() && uses_segments(&raw) {
            self.waiting.push(Keyed { key, value: raw, fingerprint });
        } else if self.error.is_none() {
            self.compile(&key, raw, fingerprint);
        }
    }

    fn segments(&mut self, segments: Vec<Keyed<'a, RawSegment<'a>>>) {
        self.names.segments = segments.iter().map(|entry| entry.key.clone()).collect();
        self.segments = Some(segments);
    }
}

fn uses_segments(raw: &RawFlag<'_>) -> bool {
    let segment_op = |op: RawOp| matches!(op, RawOp::InSegment | RawOp::NotInSegment);
    raw.rules.iter().flat_map(|rule| &rule.conditions).any(|condition| segment_op(condition.op))
}

/// Sets [`Flag::uses_time`]: a flag uses time if it has a schedule or requires a flag
/// that uses time. Prerequisites are acyclic by now, so each pass settles at least one
/// more link of every chain, and the loop ends.
fn mark_time_dependent(flags: &mut [Flag]) {
    for flag in flags.iter_mut() {
        flag.uses_time = flag.has_schedule();
    }
    let mut changed = true;
    while changed {
        changed = false;
        for i in 0..flags.len() {
            if !flags[i].uses_time
                && flags[i].prerequisites.iter().any(|p| flags.get(p.flag).is_some_and(|f| f.uses_time))
            {
                flags[i].uses_time = true;
                changed = true;
            }
        }
    }
}

/// Turns prerequisite names into indices of `flags`, which are sorted by key.
fn resolve_prerequisites(flags: &mut [Flag], pending: Vec<(SmolStr, Vec<RawPrerequisite<'_>>)>) -> Result<(), Error> {
    let position = |flags: &[Flag], key: &str| flags.binary_search_by(|flag| (*flag.key).cmp(key)).ok();
    for (key, raw) in pending {
        let mut prerequisites = Vec::with_capacity(raw.len());
        for (j, prerequisite) in raw.iter().enumerate() {
            let at = || format!("flags[{}].prerequisites[{j}]", quote(&key));
            let Some(flag) = position(flags, &prerequisite.flag) else {
                return Err(At::new(format!("{}.flag", at()), format!("no flag `{}`", prerequisite.flag)).into_error());
            };
            if !flags[flag].variants.iter().any(|v| *v.name == *prerequisite.variant) {
                let message = format!("flag `{}` has no variant `{}`", prerequisite.flag, prerequisite.variant);
                return Err(At::new(format!("{}.variant", at()), message).into_error());
            }
            prerequisites.push(Prerequisite { flag, variant: prerequisite.variant.as_ref().into() });
        }
        if let Some(owner) = position(flags, &key) {
            flags[owner].prerequisites = prerequisites;
        }
    }
    Ok(())
}
