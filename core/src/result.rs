//! What an evaluation returns: OpenFeature's value, variant, reason and error code,
//! plus an explanation of why.

use std::fmt;

use serde_json::{json, Map, Value as Json};

use crate::snapshot::{FlagMetadata, FlagValue, MetadataValue, Rollout};
use crate::{AttributeValue, Attributes, ValueRef};

/// Why a value was served (OpenFeature's resolution reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The flag has nothing to decide: no prerequisites, targets or rules.
    Static,
    /// A target or a rule with a fixed variant matched.
    TargetingMatch,
    /// A rollout picked the variant.
    Split,
    /// Nothing matched, or a prerequisite failed: the default path was served.
    Default,
    /// The flag's kill switch is off.
    Disabled,
    /// Evaluation failed; see the error code.
    Error,
}

impl Reason {
    /// OpenFeature's name for the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Default => "DEFAULT",
            Reason::Disabled => "DISABLED",
            Reason::Error => "ERROR",
        }
    }
}

/// OpenFeature's error codes, as far as a pure engine can produce them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// No flag has this key.
    FlagNotFound,
    /// The caller asked for another type than the flag's.
    TypeMismatch,
    /// The evaluation context is malformed.
    ParseError,
    /// A rollout needs a bucketing value that the context lacks.
    TargetingKeyMissing,
    /// Anything else, such as a bucketing attribute of the wrong type.
    General,
}

impl ErrorCode {
    /// OpenFeature's name for the code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::FlagNotFound => "FLAG_NOT_FOUND",
            ErrorCode::TypeMismatch => "TYPE_MISMATCH",
            ErrorCode::ParseError => "PARSE_ERROR",
            ErrorCode::TargetingKeyMissing => "TARGETING_KEY_MISSING",
            ErrorCode::General => "GENERAL",
        }
    }
}

/// An evaluation error: the code, and a message naming the flag and the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// The OpenFeature code.
    pub code: ErrorCode,
    /// What went wrong, for logs and `errorDetails`.
    pub message: String,
}

/// What decided the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched<'s> {
    /// The kill switch was off.
    Disabled,
    /// This prerequisite flag did not serve the required variant.
    PrerequisiteFailed {
        /// The prerequisite's flag key.
        flag: &'s str,
    },
    /// The targeting key is listed in the flag's targets.
    Target,
    /// This rule matched.
    Rule {
        /// The rule's id.
        id: &'s str,
        /// Its position in the flag's rules.
        index: usize,
    },
    /// No target or rule matched.
    Fallthrough,
    /// Evaluation failed.
    Error,
}

impl Matched<'_> {
    /// The name used in JSON explanations.
    pub fn as_str(&self) -> &'static str {
        match self {
            Matched::Disabled => "disabled",
            Matched::PrerequisiteFailed { .. } => "prerequisite_failed",
            Matched::Target => "target",
            Matched::Rule { .. } => "rule",
            Matched::Fallthrough => "fallthrough",
            Matched::Error => "error",
        }
    }
}

/// Where a rollout placed the context (`docs/SPEC.md` section 5.6).
///
/// The salt and the attribute are read from the compiled rollout when asked for, so
/// that an evaluation carries one reference instead of two strings.
#[derive(Clone, Copy)]
pub struct Bucket<'s> {
    /// The position `x`, `0 <= x < total_weight`.
    pub value: u64,
    /// The total of the effective weights.
    pub total_weight: u64,
    rollout: &'s Rollout,
}

impl<'s> Bucket<'s> {
    pub(crate) fn new(value: u64, total_weight: u64, rollout: &'s Rollout) -> Bucket<'s> {
        Bucket { value, total_weight, rollout }
    }

    /// The salt hashed.
    #[inline]
    pub fn salt(&self) -> &'s str {
        &self.rollout.salt
    }

    /// The attribute whose value was hashed.
    #[inline]
    pub fn attribute(&self) -> &'s str {
        self.rollout.bucket_attribute()
    }

    /// The value `context` gave for [`Bucket::attribute`], as it was hashed: a string, or
    /// an integer's decimal form. Pass the context just evaluated.
    ///
    /// Exposures need it: a rollout by `company.id` is analysed per company, which the
    /// targeting key alone cannot join. Not kept in the evaluation, which borrows
    /// nothing from the context and allocates nothing on the common path.
    pub fn unit<A: Attributes + ?Sized>(&self, context: &A) -> Option<String> {
        let value = match &self.rollout.bucket_by {
            Some(path) => crate::eval::lookup(context, path),
            None => context.targeting_key(),
        };
        match value.as_ref().map(AttributeValue::view)? {
            ValueRef::String(text) => Some(text.to_owned()),
            ValueRef::Int(int) => Some(int.to_string()),
            _ => None,
        }
    }
}

impl PartialEq for Bucket<'_> {
    fn eq(&self, other: &Self) -> bool {
        (self.value, self.total_weight, self.salt(), self.attribute())
            == (other.value, other.total_weight, other.salt(), other.attribute())
    }
}

impl Eq for Bucket<'_> {}

impl fmt::Debug for Bucket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bucket")
            .field("value", &self.value)
            .field("total_weight", &self.total_weight)
            .field("salt", &self.salt())
            .field("attribute", &self.attribute())
            .finish()
    }
}

/// Why this outcome, in terms a person can check against the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explanation<'s> {
    /// The version of the snapshot evaluated.
    pub snapshot_version: u64,
    /// What decided.
    pub matched: Matched<'s>,
    /// The first segment an `in_segment` condition of the matching rule found.
    pub segment: Option<&'s str>,
    /// The rollout position, when a rollout hashed.
    pub bucket: Option<Bucket<'s>>,
}

/// The outcome of evaluating one flag. Borrowed from the snapshot: no allocation unless
/// there is an error.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation<'s> {
    /// The served value; `None` on error.
    pub value: Option<&'s FlagValue>,
    /// The served variant's name; `None` on error.
    pub variant: Option<&'s str>,
    /// Why.
    pub reason: Reason,
    /// Set when `reason` is [`Reason::Error`]. Boxed: errors are rare, and a smaller
    /// `Evaluation` is cheaper to return on the common path.
    pub error: Option<Box<EvalError>>,
    /// What decided, in detail.
    pub explanation: Explanation<'s>,
    /// The flag's descriptive metadata, when the flag exists.
    pub metadata: Option<&'s FlagMetadata>,
}

// Every evaluation returns this by value. Up to 128 bytes it is moved with a few vector
// instructions; beyond, with a `memcpy` call, measured at several ns of an evaluation
// that takes about 15. Hence the boxed error and the bucket's reference to its rollout.
const _: () = assert!(std::mem::size_of::<Evaluation<'static>>() <= 128);

impl Evaluation<'_> {
    /// The result as OFREP JSON (`key`, `value`, `variant`, `reason`, `errorCode`,
    /// `errorDetails`, `metadata`) plus `explanation`.
    pub fn to_json(&self, key: &str) -> Json {
        let mut out = Map::new();
        out.insert("key".into(), key.into());
        if let (Some(value), Some(variant)) = (self.value, self.variant) {
            out.insert("value".into(), value.to_json());
            out.insert("variant".into(), variant.into());
        }
        out.insert("reason".into(), self.reason.as_str().into());
        if let Some(error) = &self.error {
            out.insert("errorCode".into(), error.code.as_str().into());
            out.insert("errorDetails".into(), error.message.as_str().into());
        }
        out.insert("metadata".into(), Json::Object(self.metadata.map(metadata_json).unwrap_or_default()));
        out.insert("explanation".into(), explanation_json(&self.explanation));
        Json::Object(out)
    }
}

fn metadata_json(metadata: &FlagMetadata) -> Map<String, Json> {
    let mut out = Map::new();
    for (key, value) in &metadata.custom {
        let value = match value {
            MetadataValue::Bool(b) => Json::from(*b),
            MetadataValue::Int(i) => Json::from(*i),
            MetadataValue::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            MetadataValue::String(s) => Json::from(s.as_ref()),
        };
        out.insert(key.to_string(), value);
    }
    if let Some(description) = &metadata.description {
        out.insert("description".into(), description.as_ref().into());
    }
    if let Some(owner) = &metadata.owner {
        out.insert("owner".into(), owner.as_ref().into());
    }
    if !metadata.tags.is_empty() {
        out.insert("tags".into(), metadata.tags.join(",").into());
    }
    if let Some(temporary) = metadata.temporary {
        out.insert("temporary".into(), temporary.into());
    }
    if let Some(expires_at) = metadata.expires_at {
        out.insert("expiresAt".into(), crate::format_rfc3339(expires_at).into());
    }
    out
}

fn explanation_json(explanation: &Explanation<'_>) -> Json {
    let mut out = Map::new();
    out.insert("snapshotVersion".into(), explanation.snapshot_version.into());
    out.insert("matched".into(), explanation.matched.as_str().into());
    match explanation.matched {
        Matched::Rule { id, index } => {
            out.insert("ruleId".into(), id.into());
            out.insert("ruleIndex".into(), index.into());
        }
        Matched::PrerequisiteFailed { flag } => {
            out.insert("prerequisite".into(), flag.into());
        }
        _ => {}
    }
    if let Some(segment) = explanation.segment {
        out.insert("segment".into(), segment.into());
    }
    if let Some(bucket) = explanation.bucket {
        out.insert(
            "bucket".into(),
            json!({
                "value": bucket.value,
                "totalWeight": bucket.total_weight,
                "salt": bucket.salt(),
                "attribute": bucket.attribute(),
            }),
        );
    }
    Json::Object(out)
}
