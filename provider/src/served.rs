//! What evaluations read: a snapshot plus per-flag data prepared once per swap.

use std::sync::{Arc, OnceLock};

use open_feature::{EvaluationError, FlagMetadata, FlagMetadataValue, StructValue};
use pennon_core::{FlagType, MetadataValue, Snapshot};
use rustc_hash::FxHashMap;

use crate::telemetry::{FlagCounterSet, Telemetry};

/// A served snapshot version. Swapped whole behind an `ArcSwap`, so everything an
/// evaluation reads comes from one version.
pub(crate) struct Served {
    pub(crate) snapshot: Arc<Snapshot>,
    pub(crate) flags: FxHashMap<Box<str>, FlagEntry>,
}

/// Per-flag data built at swap time so evaluations do no string work beyond what the
/// OpenFeature types force.
pub(crate) struct FlagEntry {
    /// Snapshot version (also as `version`), environment, `flagSetId` and the flag's own metadata. Cloned
    /// into every result (the SDK's `FlagMetadata` is an owned map).
    pub(crate) metadata: FlagMetadata,
    /// The same plus `ruleId`, per rule: cloned whole, a result skips hashing and
    /// inserting the rule id (~13 ns). Built on a rule's first match, so rules that
    /// never match cost one empty slot.
    rules: Box<[OnceLock<FlagMetadata>]>,
    /// Evaluation counters, shared across versions.
    pub(crate) counters: FlagCounterSet,
    /// Whether its result depends on the time ([`Snapshot::uses_time`]).
    pub(crate) uses_time: bool,
    /// An object flag's values as OpenFeature structs, by variant name, each built on
    /// first use: the snapshot keeps them as JSON text. Empty for other flags.
    objects: Box<[(Box<str>, OnceLock<ObjectValue>)]>,
    /// The top-level context names the flag can read ([`Snapshot::attributes_read`]): a
    /// field Pennon cannot read fails only the flags that read it, as in the npm providers.
    /// Listed when first asked, which only a context with such a field does.
    reads: OnceLock<Box<[Box<str>]>>,
}

/// An object variant as OpenFeature reads it, or why it cannot be read.
type ObjectValue = Result<StructValue, EvaluationError>;

impl FlagEntry {
    /// Variant `variant`'s struct, built by `convert` the first time it is asked for.
    pub(crate) fn object_value(&self, variant: &str, convert: impl FnOnce() -> ObjectValue) -> ObjectValue {
        match self.objects.iter().find(|(name, _)| **name == *variant) {
            Some((_, slot)) => slot.get_or_init(convert).clone(),
            None => convert(),
        }
    }

    /// Whether evaluating flag `key` of `snapshot` (this entry's) can read the top-level
    /// context field `name`.
    pub(crate) fn reads(&self, snapshot: &Snapshot, key: &str, name: &str) -> bool {
        let reads = self.reads.get_or_init(|| {
            let names = snapshot.position(key).and_then(|position| snapshot.attributes_read(position));
            names.into_iter().flatten().map(Box::from).collect()
        });
        reads.iter().any(|read| **read == *name)
    }

    /// The metadata of a result that rule `index` (with id `id`) decided.
    pub(crate) fn rule_metadata(&self, index: usize, id: &str) -> FlagMetadata {
        match self.rules.get(index) {
            Some(slot) => slot.get_or_init(|| self.metadata.clone().with_value(keys::RULE_ID, id)).clone(),
            None => self.metadata.clone().with_value(keys::RULE_ID, id),
        }
    }
}

impl Served {
    pub(crate) fn new(snapshot: Arc<Snapshot>, telemetry: &Telemetry) -> Served {
        let mut flags = FxHashMap::default();
        for key in snapshot.flag_keys() {
            let names = snapshot.variant_names(key).into_iter().flatten();
            let counters = telemetry.counters_for(key, names);
            let rules = snapshot.rule_ids(key).into_iter().flatten().map(|_| OnceLock::new()).collect();
            let uses_time = snapshot.uses_time(key);
            let objects = match snapshot.flag_type(key) {
                Some(FlagType::Object) => snapshot
                    .variant_names(key)
                    .into_iter()
                    .flatten()
                    .map(|name| (name.into(), OnceLock::new()))
                    .collect(),
                _ => Box::default(),
            };
            let metadata = metadata(&snapshot, key);
            let reads = OnceLock::new();
            flags.insert(key.into(), FlagEntry { metadata, rules, counters, uses_time, objects, reads });
        }
        Served { snapshot, flags }
    }
}

/// Metadata keys the provider sets; a flag's own metadata cannot override them.
pub(crate) mod keys {
    /// The served snapshot version (integer).
    pub(crate) const SNAPSHOT_VERSION: &str = "snapshotVersion";
    /// The snapshot's environment.
    pub(crate) const ENVIRONMENT: &str = "environment";
    /// OpenFeature's flag set id: the environment, one snapshot per environment.
    pub(crate) const FLAG_SET_ID: &str = "flagSetId";
    /// The id of the rule that matched, when one did.
    pub(crate) const RULE_ID: &str = "ruleId";
    /// OpenFeature's version of the flag set (a string): the snapshot version, which
    /// telemetry hooks report as `feature_flag.version`.
    pub(crate) const VERSION: &str = "version";
}

fn metadata(snapshot: &Snapshot, key: &str) -> FlagMetadata {
    let mut out = FlagMetadata::default();
    if let Some(meta) = snapshot.flag_metadata(key) {
        for (name, value) in &meta.custom {
            let value = match value {
                MetadataValue::Bool(b) => FlagMetadataValue::Bool(*b),
                MetadataValue::Int(i) => FlagMetadataValue::Int(*i),
                MetadataValue::Float(f) => FlagMetadataValue::Float(*f),
                MetadataValue::String(s) => FlagMetadataValue::String(s.to_string()),
            };
            out.add_value(name.as_ref(), value);
        }
        // The same names as the core's OFREP-style JSON (`Evaluation::to_json`).
        if let Some(description) = &meta.description {
            out.add_value("description", description.as_ref());
        }
        if let Some(owner) = &meta.owner {
            out.add_value("owner", owner.as_ref());
        }
        if !meta.tags.is_empty() {
            out.add_value("tags", meta.tags.join(","));
        }
        if let Some(temporary) = meta.temporary {
            out.add_value("temporary", temporary);
        }
        if let Some(expires_at) = meta.expires_at {
            out.add_value("expiresAt", pennon_core::format_rfc3339(expires_at));
        }
    }
    // Versions are at most 2^53 - 1 (SPEC 3.1), so they fit an i64.
    out.add_value(keys::SNAPSHOT_VERSION, i64::try_from(snapshot.version()).unwrap_or(i64::MAX));
    out.add_value(keys::ENVIRONMENT, snapshot.environment());
    out.add_value(keys::FLAG_SET_ID, snapshot.environment());
    out.add_value(keys::VERSION, snapshot.version().to_string());
    out
}

/// Flags whose evaluation may differ between `old` and `new`, ascending: every flag
/// when nothing was served before.
pub(crate) fn changed_flags(old: Option<&Snapshot>, new: &Snapshot) -> Vec<String> {
    match old {
        Some(old) => new.changed_flags(old),
        None => new.flag_keys().map(str::to_owned).collect(),
    }
}
