//! Evaluation (`docs/SPEC.md` section 5): a pure function of snapshot, context and
//! `now`. It reads only compiled data, so the common path parses and allocates nothing.
//!
//! The evaluator is generic over where attributes come from ([`Attributes`]): one code
//! path, monomorphised for [`Context`] and for each host's own context type.

pub(crate) mod bucket;
pub(crate) mod text;

use crate::condition::{Condition, Test};
use crate::result::{Bucket, ErrorCode, EvalError, Evaluation, Explanation, Matched, Reason};
use crate::snapshot::AttributePath;
use crate::snapshot::{Flag, Rollout, Serve};
use crate::{AttributeValue, Attributes, Context, FlagType, Snapshot, ValueRef};
use bucket::Weights;

impl Snapshot {
    /// Evaluates flag `key` for `context` at `now` (Unix milliseconds).
    ///
    /// ```
    /// # let key = pennon_core::SigningKey::from_seed([1; 32]);
    /// # let payload = br#"{"schema":1,"environment":"prod","version":3,
    /// #   "issued_at":"2026-01-01T00:00:00Z","expires_at":"2027-01-01T00:00:00Z",
    /// #   "flags":{"dark-mode":{"type":"boolean","enabled":true,
    /// #     "variants":{"on":true,"off":false},"off_variant":"off",
    /// #     "fallthrough":{"variant":"off"},
    /// #     "rules":[{"id":"staff","conditions":[{"attribute":"email","op":"ends_with","value":"@acme.com"}],
    /// #               "serve":{"variant":"on"}}]}}}"#;
    /// # let envelope = pennon_core::sign_envelope(payload, &[&key]).unwrap();
    /// use pennon_core::{Context, Loaded, Reason, TrustPolicy, Value};
    /// let policy = TrustPolicy::new("prod", vec![key.public_key().clone()]).unwrap();
    /// let now = pennon_core::parse_rfc3339("2026-06-01T00:00:00Z").unwrap();
    /// let Loaded::Updated(snapshot) = policy.load(&envelope, None, now).unwrap() else { unreachable!() };
    ///
    /// let ctx = Context::new(Some("u1")).with("email", Value::String("ann@acme.com".into()));
    /// let result = snapshot.evaluate("dark-mode", &ctx, now);
    /// assert_eq!(result.variant, Some("on"));
    /// assert_eq!(result.reason, Reason::TargetingMatch);
    /// ```
    // `inline` on the three `Context` entry points: a crate that evaluates `Context`s
    // itself (the wasm module does, through `evaluate_at`) then compiles one copy of the
    // evaluator for `Context`, not a second one here (6 KB raw in the module).
    #[inline]
    pub fn evaluate(&self, key: &str, context: &Context, now: i64) -> Evaluation<'_> {
        self.evaluate_with(key, None, context, now)
    }

    /// Like [`Snapshot::evaluate`], but a flag of another type is a `TYPE_MISMATCH`.
    #[inline]
    pub fn evaluate_as(&self, key: &str, expected: FlagType, context: &Context, now: i64) -> Evaluation<'_> {
        self.evaluate_with(key, Some(expected), context, now)
    }

    /// Evaluates flag `key` reading attributes straight from `attributes`, any
    /// [`Attributes`] source, so a host evaluates its own context type without building
    /// a [`Context`]. With `expected`, a flag of another type is a `TYPE_MISMATCH`.
    /// [`Snapshot::evaluate`] and [`Snapshot::evaluate_as`] are this with a [`Context`].
    ///
    /// Inlined into its callers so that the result is written once, in place.
    #[inline]
    pub fn evaluate_with<A: Attributes + ?Sized>(
        &self,
        key: &str,
        expected: Option<FlagType>,
        attributes: &A,
        now: i64,
    ) -> Evaluation<'_> {
        match self.index.get(key) {
            Some(&i) => Evaluator { snapshot: self, context: attributes, now }.checked(i, expected),
            None => self.not_found(key),
        }
    }

    /// Like [`Snapshot::evaluate_with`], for the flag at `position` in
    /// [`Snapshot::flag_keys`] order (see [`Snapshot::position`]); `None` past the end.
    /// A host that looks a flag up once per snapshot (the wasm module's JavaScript
    /// wrapper does) then skips passing and hashing the key on every evaluation.
    #[inline]
    pub fn evaluate_at<A: Attributes + ?Sized>(
        &self,
        position: usize,
        expected: Option<FlagType>,
        attributes: &A,
        now: i64,
    ) -> Option<Evaluation<'_>> {
        (position < self.flags.len())
            .then(|| Evaluator { snapshot: self, context: attributes, now }.checked(position, expected))
    }

    /// Evaluates every flag, in ascending key order.
    #[inline]
    pub fn evaluate_all<'s>(
        &'s self,
        context: &'s Context,
        now: i64,
    ) -> impl Iterator<Item = (&'s str, Evaluation<'s>)> + 's {
        let evaluator = Evaluator { snapshot: self, context, now };
        (0..self.flags.len()).map(move |i| (self.flags[i].key.as_ref(), evaluator.checked(i, None)))
    }

    #[cold]
    #[inline(never)]
    fn not_found(&self, key: &str) -> Evaluation<'_> {
        let message = format!("flag `{key}` is not in snapshot version {}", self.version);
        failure(self, None, ErrorCode::FlagNotFound, message)
    }
}

/// Errors are rare: kept out of line, so the hot paths stay small.
#[cold]
#[inline(never)]
fn failure<'s>(snapshot: &'s Snapshot, flag: Option<&'s Flag>, code: ErrorCode, message: String) -> Evaluation<'s> {
    Evaluation {
        value: None,
        variant: None,
        reason: Reason::Error,
        error: Some(Box::new(EvalError { code, message })),
        explanation: Explanation {
            snapshot_version: snapshot.version,
            matched: Matched::Error,
            segment: None,
            bucket: None,
        },
        metadata: flag.map(Flag::metadata),
    }
}

struct Evaluator<'s, 'c, A: ?Sized> {
    snapshot: &'s Snapshot,
    context: &'c A,
    now: i64,
}

// How the code is cut into functions matters for speed: an `Evaluation` is built in
// exactly one place per outcome, directly in the caller's result slot. The inlined
// helpers below take the explanation's parts as arguments rather than a built
// `Explanation`, which would be stored to memory by one function and reloaded, in
// wider pieces, by the next (a store-forwarding stall measured at several ns).
impl<'s, 'c, A: Attributes + ?Sized> Evaluator<'s, 'c, A> {
    /// Steps 2 and 3 of the order, then the flag itself.
    #[inline]
    fn checked(&self, index: usize, expected: Option<FlagType>) -> Evaluation<'s> {
        let flag = &self.snapshot.flags[index];
        if expected.is_some_and(|expected| expected != flag.kind) || self.context.problem().is_some() {
            return self.refused(flag, expected);
        }
        self.flag(flag)
    }

    #[cold]
    #[inline(never)]
    fn refused(&self, flag: &'s Flag, expected: Option<FlagType>) -> Evaluation<'s> {
        if let Some(expected) = expected.filter(|&expected| expected != flag.kind) {
            let message = format!("flag `{}` is {}, not {}", flag.key, flag.kind.as_str(), expected.as_str());
            return failure(self.snapshot, Some(flag), ErrorCode::TypeMismatch, message);
        }
        let problem = self.context.problem().unwrap_or_default();
        let message = format!("cannot evaluate flag `{}`: {problem}", flag.key);
        failure(self.snapshot, Some(flag), ErrorCode::ParseError, message)
    }

    #[inline(always)]
    fn served(
        &self,
        flag: &'s Flag,
        variant: usize,
        reason: Reason,
        matched: Matched<'s>,
        segment: Option<&'s str>,
        bucket: Option<Bucket<'s>>,
    ) -> Evaluation<'s> {
        let variant = &flag.variants[variant];
        Evaluation {
            value: Some(&variant.value),
            variant: Some(&variant.name),
            reason,
            error: None,
            explanation: Explanation { snapshot_version: self.snapshot.version, matched, segment, bucket },
            metadata: Some(flag.metadata()),
        }
    }

    fn flag(&self, flag: &'s Flag) -> Evaluation<'s> {
        if !flag.enabled {
            return self.outcome(flag, flag.off_variant, Reason::Disabled, Matched::Disabled);
        }
        if !flag.prerequisites.is_empty() {
            if let Some(refusal) = self.prerequisites(flag) {
                return refusal;
            }
        }
        if !flag.targets.is_empty() {
            let key = self.context.targeting_key();
            if let Some(ValueRef::String(key)) = key.as_ref().map(AttributeValue::view) {
                if let Some(&variant) = flag.targets.get(key) {
                    return self.outcome(flag, variant, Reason::TargetingMatch, Matched::Target);
                }
            }
        }
        for (index, rule) in flag.rules.iter().enumerate() {
            let mut segment = None;
            if rule.conditions.iter().all(|condition| self.holds(condition, &mut segment)) {
                return self.serve_rule(flag, index, segment);
            }
        }
        let fixed_reason = if flag.is_static() { Reason::Static } else { Reason::Default };
        self.serve(flag, &flag.fallthrough, fixed_reason, None, None)
    }

    /// The outcome when a prerequisite fails or errs; `None` when all hold.
    #[inline(never)]
    fn prerequisites(&self, flag: &'s Flag) -> Option<Evaluation<'s>> {
        for prerequisite in &flag.prerequisites {
            let required = &self.snapshot.flags[prerequisite.flag];
            let outcome = self.flag(required);
            if let Some(error) = outcome.error {
                let message = format!("prerequisite `{}` of flag `{}`: {}", required.key, flag.key, error.message);
                return Some(failure(self.snapshot, Some(flag), error.code, message));
            }
            if outcome.variant != Some(&*prerequisite.variant) {
                let matched = Matched::PrerequisiteFailed { flag: &required.key };
                return Some(self.served(flag, flag.off_variant, Reason::Default, matched, None, None));
            }
        }
        None
    }

    /// A fixed variant for a reason other than the flag's serve: out of line, like
    /// [`Evaluator::serve_rule`], so that `flag` builds one kind of outcome inline. When
    /// LLVM merged several, the `Matched` went through a stack slot and was reloaded
    /// before its store had landed, a store-forwarding stall of about 2 ns.
    #[inline(never)]
    fn outcome(&self, flag: &'s Flag, variant: usize, reason: Reason, matched: Matched<'s>) -> Evaluation<'s> {
        self.served(flag, variant, reason, matched, None, None)
    }

    /// A rule matched: out of line, see [`Evaluator::outcome`].
    #[inline(never)]
    fn serve_rule(&self, flag: &'s Flag, index: usize, segment: Option<&'s str>) -> Evaluation<'s> {
        self.serve(flag, &flag.rules[index].serve, Reason::TargetingMatch, Some(index), segment)
    }

    /// What decided a serve: the rule at `rule`, or the fallthrough. Serves pass the rule
    /// index, not a built `Matched`, which at 32 bytes would be passed through memory.
    #[inline(always)]
    fn rule_or_fallthrough(flag: &'s Flag, rule: Option<usize>) -> Matched<'s> {
        match rule.and_then(|index| Some((index, flag.rules.get(index)?))) {
            Some((index, rule)) => Matched::Rule { id: &rule.id, index },
            None => Matched::Fallthrough,
        }
    }

    #[inline(always)]
    fn serve(
        &self,
        flag: &'s Flag,
        serve: &'s Serve,
        fixed: Reason,
        rule: Option<usize>,
        segment: Option<&'s str>,
    ) -> Evaluation<'s> {
        match serve {
            Serve::Variant(variant) => {
                self.served(flag, *variant, fixed, Self::rule_or_fallthrough(flag, rule), segment, None)
            }
            Serve::Rollout(rollout) => self.rollout(flag, rollout, rule, segment),
        }
    }

    fn rollout(
        &self,
        flag: &'s Flag,
        rollout: &'s Rollout,
        rule: Option<usize>,
        segment: Option<&'s str>,
    ) -> Evaluation<'s> {
        let weights = Weights::at(rollout, self.now);
        if let Some(only) = weights.sole_variant() {
            let matched = Self::rule_or_fallthrough(flag, rule);
            return self.served(flag, rollout.variants[only], Reason::Split, matched, segment, None);
        }
        let value = match &rollout.bucket_by {
            Some(path) => self.lookup(path),
            None => self.context.targeting_key(),
        };
        let view = value.as_ref().map(AttributeValue::view);
        let mut digits = [0u8; 20];
        let bytes = match view {
            Some(ValueRef::String(text)) => text.as_bytes(),
            Some(ValueRef::Int(int)) => bucket::decimal(int, &mut digits),
            _ => return self.unbucketable(flag, rollout.bucket_attribute(), view),
        };
        let total = weights.total();
        let hash = rollout.salt_block.as_ref().and_then(|block| block.hash(bytes));
        let hash = hash.unwrap_or_else(|| bucket::bucket_hash(&rollout.salt, bytes));
        let position = bucket::bucket_position(hash, total);
        let Some(chosen) = weights.pick(position) else {
            let message = format!("flag `{}`: bucket {position} of {total} fell outside the weights", flag.key);
            return failure(self.snapshot, Some(flag), ErrorCode::General, message);
        };
        let bucket = Bucket::new(position, total, rollout);
        let matched = Self::rule_or_fallthrough(flag, rule);
        self.served(flag, rollout.variants[chosen], Reason::Split, matched, segment, Some(bucket))
    }

    /// The failure of a rollout whose bucketing value is missing or of the wrong type.
    #[cold]
    #[inline(never)]
    fn unbucketable(&self, flag: &'s Flag, attribute: &str, value: Option<ValueRef<'_>>) -> Evaluation<'s> {
        match value {
            None | Some(ValueRef::Null) => {
                let message = format!("flag `{}` splits by `{attribute}`, which the context lacks", flag.key);
                failure(self.snapshot, Some(flag), ErrorCode::TargetingKeyMissing, message)
            }
            Some(other) => {
                let message = format!(
                    "flag `{}` splits by `{attribute}`, which must be a string or an integer, not {}",
                    flag.key,
                    other.type_name()
                );
                failure(self.snapshot, Some(flag), ErrorCode::General, message)
            }
        }
    }

    fn holds(&self, condition: &'s Condition, segment_hit: &mut Option<&'s str>) -> bool {
        if let Test::InSegment(segments) = &condition.test {
            let found = segments.iter().find(|&&segment| self.in_segment(segment));
            if let (Some(&segment), false) = (found, condition.invert) {
                segment_hit.get_or_insert(&self.snapshot.segments[segment].key);
            }
            return found.is_some() != condition.invert;
        }
        // One lookup, so that it is inlined here. `matches!`, not `!= ValueRef::Null`:
        // the derived `PartialEq` may be a call.
        let present = condition.attribute.as_ref().and_then(|path| self.lookup(path));
        let present = present.filter(|value| !matches!(value.view(), ValueRef::Null));
        match &condition.test {
            Test::Exists => present.is_some() != condition.invert,
            Test::Missing => present.is_none() != condition.invert,
            test => {
                let outcome = match present {
                    None => None,
                    Some(value) if matches!(value.view(), ValueRef::List) => {
                        any_of(value.items().map(|item| test.test_value(item)))
                    }
                    Some(value) => test.test_value(value),
                };
                // Not comparable never holds, whatever the inversion says.
                outcome.is_some_and(|holds| holds != condition.invert)
            }
        }
    }

    /// Recursion through nested segments is bounded: compile proved the graph acyclic and
    /// at most `max_chain` deep.
    fn in_segment(&self, index: usize) -> bool {
        let segment = &self.snapshot.segments[index];
        // Without key lists the key is not read at all, as `Snapshot::attributes_read` says.
        if !segment.excluded.is_empty() || !segment.included.is_empty() {
            let key = self.context.targeting_key();
            if let Some(ValueRef::String(key)) = key.as_ref().map(AttributeValue::view) {
                if segment.excluded.contains(key) {
                    return false;
                }
                if segment.included.contains(key) {
                    return true;
                }
            }
        }
        let mut ignored = None;
        segment.rules.iter().any(|rule| rule.conditions.iter().all(|condition| self.holds(condition, &mut ignored)))
    }

    /// Looks up an attribute path (`docs/SPEC.md` section 3.3).
    #[inline(always)]
    fn lookup(&self, path: &AttributePath) -> Option<A::Value<'c>> {
        lookup(self.context, path)
    }
}

/// Looks up an attribute path (`docs/SPEC.md` section 3.3): `targetingKey`, then an
/// exact top-level name, then the dotted segments through nested objects.
#[inline(always)]
pub(crate) fn lookup<'c, A: Attributes + ?Sized>(context: &'c A, path: &AttributePath) -> Option<A::Value<'c>> {
    if &*path.name == "targetingKey" {
        return context.targeting_key();
    }
    match context.attribute(&path.name) {
        Some(value) => Some(value),
        None if path.segments.is_empty() => None,
        None => nested(context, &path.segments),
    }
}

/// A dotted path. `targetingKey` is not an attribute, so no path goes through it.
#[inline(never)]
fn nested<'c, A: Attributes + ?Sized>(context: &'c A, segments: &[Box<str>]) -> Option<A::Value<'c>> {
    let (first, rest) = segments.split_first()?;
    if &**first == "targetingKey" {
        return None;
    }
    let mut current = context.attribute(first)?;
    for segment in rest {
        current = current.member(segment)?;
    }
    Some(current)
}

/// Any-of over an array attribute: true if any element holds, false if some element
/// was comparable, `None` if none was.
fn any_of(outcomes: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut comparable = false;
    for outcome in outcomes {
        match outcome {
            Some(true) => return Some(true),
            Some(false) => comparable = true,
            None => {}
        }
    }
    comparable.then_some(false)
}
