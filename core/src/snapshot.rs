//! The compiled, immutable snapshot that evaluation reads.

use rustc_hash::{FxHashMap, FxHashSet};
use smol_str::SmolStr;

use crate::condition::Condition;
use crate::eval::bucket::SaltBlock;

/// The type of a flag's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagType {
    /// `true` or `false`.
    Boolean,
    /// A string.
    String,
    /// A signed 64-bit integer.
    Integer,
    /// A 64-bit float.
    Float,
    /// A JSON object or array.
    Object,
}

impl FlagType {
    /// The name used in payloads: `boolean`, `string`, `integer`, `float`, `object`.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagType::Boolean => "boolean",
            FlagType::String => "string",
            FlagType::Integer => "integer",
            FlagType::Float => "float",
            FlagType::Object => "object",
        }
    }

    /// Reads a payload type name.
    pub fn parse(name: &str) -> Option<FlagType> {
        Some(match name {
            "boolean" => FlagType::Boolean,
            "string" => FlagType::String,
            "integer" => FlagType::Integer,
            "float" => FlagType::Float,
            "object" => FlagType::Object,
            _ => return None,
        })
    }
}

/// A variant's value, already checked against the flag's type.
#[derive(Debug, Clone, PartialEq)]
pub enum FlagValue {
    /// A boolean flag's value.
    Bool(bool),
    /// A string flag's value.
    String(Box<str>),
    /// An integer flag's value.
    Int(i64),
    /// A float flag's value.
    Float(f64),
    /// An object flag's value: a JSON object or array, as its JSON text.
    Object(crate::JsonText),
}

impl FlagValue {
    /// The value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FlagValue::Bool(b) => (*b).into(),
            FlagValue::String(s) => s.as_ref().into(),
            FlagValue::Int(i) => (*i).into(),
            FlagValue::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
            FlagValue::Object(v) => v.to_value(),
        }
    }
}

/// A metadata value, as OpenFeature flag metadata allows.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataValue {
    /// A bool.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    String(Box<str>),
}

/// What a flag says about itself. None of it changes evaluation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlagMetadata {
    /// Free text.
    pub description: Option<Box<str>>,
    /// The owning team or person.
    pub owner: Option<Box<str>>,
    /// Labels.
    pub tags: Vec<Box<str>>,
    /// Whether the flag is meant to be removed once rolled out.
    pub temporary: Option<bool>,
    /// When the flag is due for removal, Unix milliseconds.
    pub expires_at: Option<i64>,
    /// The free-form metadata map, sorted by key.
    pub custom: Vec<(Box<str>, MetadataValue)>,
}

/// An attribute reference, pre-split so evaluation does no string work.
///
/// Names, keys and ids in compiled snapshots are [`SmolStr`]: most are short enough to
/// be stored inline, which saves an allocation each when a large snapshot loads.
#[derive(Debug, Clone)]
pub(crate) struct AttributePath {
    pub(crate) name: SmolStr,
    /// The dotted segments; empty when the name has no dot.
    pub(crate) segments: Vec<Box<str>>,
}

#[derive(Debug)]
pub(crate) struct Variant {
    pub(crate) name: SmolStr,
    pub(crate) value: FlagValue,
}

#[derive(Debug)]
pub(crate) enum Serve {
    Variant(usize),
    /// Boxed: most serves are fixed variants, and a rollout is five times their size.
    Rollout(Box<Rollout>),
}

#[derive(Debug)]
pub(crate) struct Rollout {
    pub(crate) variants: Vec<usize>,
    pub(crate) weights: WeightSet,
    pub(crate) bucket_by: Option<AttributePath>,
    /// The flag key unless the payload names another. Inline up to 23 bytes, so the
    /// common default costs no allocation.
    pub(crate) salt: SmolStr,
    /// The salt's part of the bucketing input, when a value can follow it in one block.
    pub(crate) salt_block: Option<SaltBlock>,
    pub(crate) schedule: Option<Schedule>,
}

impl Rollout {
    /// The attribute whose value is hashed.
    #[inline]
    pub(crate) fn bucket_attribute(&self) -> &str {
        self.bucket_by.as_ref().map_or("targetingKey", |path| &path.name)
    }
}

/// Weights with what evaluation would otherwise recompute on every call: their total
/// and the one variant that holds all of it, if one does.
#[derive(Debug)]
pub(crate) struct WeightSet {
    pub(crate) weights: Box<[u32]>,
    pub(crate) total: u64,
    pub(crate) sole: Option<usize>,
}

impl WeightSet {
    pub(crate) fn new(weights: Vec<u32>) -> WeightSet {
        let total = weights.iter().map(|&w| u64::from(w)).sum();
        let mut nonzero = weights.iter().enumerate().filter(|(_, &w)| w > 0).map(|(i, _)| i);
        let sole = match (nonzero.next(), nonzero.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        };
        WeightSet { weights: weights.into_boxed_slice(), total, sole }
    }
}

#[derive(Debug)]
pub(crate) enum Schedule {
    /// Ascending by time.
    Steps(Vec<(i64, WeightSet)>),
    Ramp {
        start: i64,
        end: i64,
        weights: WeightSet,
    },
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) id: SmolStr,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) serve: Serve,
}

#[derive(Debug)]
pub(crate) struct Prerequisite {
    pub(crate) flag: usize,
    pub(crate) variant: SmolStr,
}

#[derive(Debug)]
pub(crate) struct Flag {
    pub(crate) key: SmolStr,
    pub(crate) kind: FlagType,
    pub(crate) enabled: bool,
    pub(crate) variants: Vec<Variant>,
    pub(crate) off_variant: usize,
    pub(crate) fallthrough: Serve,
    pub(crate) targets: FxHashMap<SmolStr, usize>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) prerequisites: Vec<Prerequisite>,
    /// `None` for the many flags that describe nothing.
    pub(crate) metadata: Option<Box<FlagMetadata>>,
    /// Hash of the flag's JSON text, for change detection.
    pub(crate) fingerprint: u64,
    /// Whether evaluating it reads `now`: it, or a flag it requires, has a scheduled
    /// rollout. Set by [`crate::compile`] once prerequisites are resolved.
    pub(crate) uses_time: bool,
}

/// What flags without metadata share.
static NO_METADATA: FlagMetadata = FlagMetadata {
    description: None,
    owner: None,
    tags: Vec::new(),
    temporary: None,
    expires_at: None,
    custom: Vec::new(),
};

impl Flag {
    pub(crate) fn metadata(&self) -> &FlagMetadata {
        self.metadata.as_deref().unwrap_or(&NO_METADATA)
    }

    /// Whether its own serves have a scheduled rollout.
    pub(crate) fn has_schedule(&self) -> bool {
        let scheduled = |serve: &Serve| matches!(serve, Serve::Rollout(rollout) if rollout.schedule.is_some());
        scheduled(&self.fallthrough) || self.rules.iter().any(|rule| scheduled(&rule.serve))
    }

    /// A flag with nothing to decide serves its fallthrough as `STATIC`.
    pub(crate) fn is_static(&self) -> bool {
        self.prerequisites.is_empty() && self.targets.is_empty() && self.rules.is_empty()
    }
}

#[derive(Debug)]
pub(crate) struct SegmentRule {
    pub(crate) conditions: Vec<Condition>,
}

#[derive(Debug)]
pub(crate) struct Segment {
    pub(crate) key: SmolStr,
    pub(crate) included: FxHashSet<SmolStr>,
    pub(crate) excluded: FxHashSet<SmolStr>,
    pub(crate) rules: Vec<SegmentRule>,
    /// Hash of the segment's JSON text, for change detection.
    pub(crate) fingerprint: u64,
}

/// A verified, compiled snapshot: immutable, cheap to share behind an `Arc`.
///
/// Get one from [`crate::TrustPolicy::load`]; evaluate with [`Snapshot::evaluate`].
#[derive(Debug)]
pub struct Snapshot {
    pub(crate) version: u64,
    pub(crate) environment: Box<str>,
    pub(crate) audience: crate::Audience,
    pub(crate) issued_at: i64,
    pub(crate) expires_at: i64,
    pub(crate) payload_sha256: [u8; 32],
    pub(crate) flags: Vec<Flag>,
    pub(crate) index: FxHashMap<SmolStr, usize>,
    pub(crate) segments: Vec<Segment>,
}

impl Snapshot {
    /// The publish version.
    pub fn version(&self) -> u64 {
        self.version
    }
    /// The environment it is for.
    pub fn environment(&self) -> &str {
        &self.environment
    }
    /// Who it is for (SPEC 3.1): a host that accepts either can tell a browser that took
    /// a server snapshot, which holds every server-only flag, rule and segment list.
    pub fn audience(&self) -> crate::Audience {
        self.audience
    }
    /// When it was signed, Unix milliseconds.
    pub fn issued_at(&self) -> i64 {
        self.issued_at
    }
    /// When it goes stale, Unix milliseconds.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }
    /// SHA-256 of the exact payload bytes: the snapshot's identity, fit for an ETag.
    pub fn payload_sha256(&self) -> [u8; 32] {
        self.payload_sha256
    }
    /// What a client holds, for the rollback check of the next load.
    pub fn held(&self) -> crate::Held {
        crate::Held { version: self.version, payload_sha256: self.payload_sha256 }
    }
    /// Flag keys in ascending order.
    pub fn flag_keys(&self) -> impl Iterator<Item = &str> {
        self.flags.iter().map(|flag| flag.key.as_ref())
    }
    /// Where flag `key` is in [`Snapshot::flag_keys`] order, for
    /// [`Snapshot::evaluate_at`].
    pub fn position(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }
    /// The number of flags.
    pub fn len(&self) -> usize {
        self.flags.len()
    }
    /// Whether the snapshot has no flags.
    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }
    /// A flag's type, if the flag exists.
    pub fn flag_type(&self, key: &str) -> Option<FlagType> {
        self.flag(key).map(|flag| flag.kind)
    }
    /// A flag's descriptive metadata, if the flag exists.
    pub fn flag_metadata(&self, key: &str) -> Option<&FlagMetadata> {
        self.flag(key).map(Flag::metadata)
    }
    /// The names of a flag's variants, in ascending order.
    pub fn variant_names(&self, key: &str) -> Option<impl Iterator<Item = &str>> {
        self.flag(key).map(|flag| flag.variants.iter().map(|v| v.name.as_ref()))
    }
    /// The ids of a flag's rules, in evaluation order: the index of an id is the
    /// `index` of [`crate::Matched::Rule`], so hosts can prepare per-rule data.
    pub fn rule_ids(&self, key: &str) -> Option<impl Iterator<Item = &str>> {
        self.flag(key).map(|flag| flag.rules.iter().map(|rule| rule.id.as_str()))
    }
    /// Whether evaluating `key` depends on `now`: the flag, or a flag it requires, has
    /// a scheduled rollout. Every other flag gives the same result at any `now`, so a
    /// host whose clock is costly to read can skip reading it (Pennon's provider does:
    /// a wall-clock read costs about as much as a simple evaluation). `false` for a
    /// flag that does not exist.
    pub fn uses_time(&self, key: &str) -> bool {
        self.flag(key).is_some_and(|flag| flag.uses_time)
    }
    pub(crate) fn flag(&self, key: &str) -> Option<&Flag> {
        self.index.get(key).map(|&i| &self.flags[i])
    }
}
