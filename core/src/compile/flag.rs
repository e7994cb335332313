//! Compiling one flag: variants, targets, rules, prerequisites and metadata.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use smol_str::SmolStr;

use super::condition::compile_conditions;
use super::rollout::compile_rollout;
use super::{At, Names};
use crate::model::{RawFlag, RawFlagType, RawMetadataValue, RawServe};
use crate::snapshot::{Flag, FlagMetadata, FlagType, FlagValue, MetadataValue, Prerequisite, Rule, Serve, Variant};

const MAX_KEY_BYTES: usize = 256;

/// Variant name to index, for resolving references within a flag.
pub(super) type VariantIndex<'a> = BTreeMap<&'a str, usize>;

pub(super) fn compile_flag(key: &str, raw: &RawFlag, fingerprint: u64, names: &Names<'_>) -> Result<Flag, At> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(At::new("", format!("a flag key must be 1 to {MAX_KEY_BYTES} bytes")));
    }
    let kind = flag_type(raw.kind);
    if raw.variants.is_empty() {
        return Err(At::new(".variants", "a flag needs at least one variant"));
    }
    let variants = raw
        .variants
        .iter()
        .map(|(name, value)| {
            let value = flag_value(kind, &value.0).ok_or_else(|| {
                At::new(format!(".variants[{}]", super::quote(name)), format!("is not a {} value", kind.as_str()))
            })?;
            Ok(Variant { name: name.as_str().into(), value })
        })
        .collect::<Result<Vec<_>, At>>()?;
    let index: VariantIndex<'_> = raw.variants.keys().enumerate().map(|(i, name)| (name.as_str(), i)).collect();
    let off_variant = lookup_variant(&index, &raw.off_variant).map_err(|e| e.within(".off_variant"))?;
    let fallthrough = compile_serve(key, &raw.fallthrough, &index).map_err(|e| e.within(".fallthrough"))?;
    let targets = compile_targets(raw, &index)?;

    let mut rule_ids = BTreeMap::new();
    let mut rules = Vec::with_capacity(raw.rules.len());
    for (i, rule) in raw.rules.iter().enumerate() {
        let at = format!(".rules[{i}]");
        if rule_ids.insert(rule.id.as_str(), i).is_some() {
            return Err(At::new(format!("{at}.id"), format!("rule id `{}` repeats", rule.id)));
        }
        let conditions = compile_conditions(&rule.conditions, names).map_err(|e| e.within(&at))?;
        let serve = compile_serve(key, &rule.serve, &index).map_err(|e| e.within(&format!("{at}.serve")))?;
        rules.push(Rule { id: rule.id.as_str().into(), conditions, serve });
    }

    let prerequisites = raw
        .prerequisites
        .iter()
        .enumerate()
        .map(|(i, prerequisite)| {
            let at = format!(".prerequisites[{i}]");
            let &flag = names
                .flags
                .get(prerequisite.flag.as_str())
                .ok_or_else(|| At::new(format!("{at}.flag"), format!("no flag `{}`", prerequisite.flag)))?;
            let has_variant = names
                .payload
                .flags
                .get(&prerequisite.flag)
                .is_some_and(|other| other.variants.contains_key(&prerequisite.variant));
            if !has_variant {
                let message = format!("flag `{}` has no variant `{}`", prerequisite.flag, prerequisite.variant);
                return Err(At::new(format!("{at}.variant"), message));
            }
            Ok(Prerequisite { flag, variant: prerequisite.variant.as_str().into() })
        })
        .collect::<Result<Vec<_>, At>>()?;

    Ok(Flag {
        key: key.into(),
        kind,
        enabled: raw.enabled,
        variants,
        off_variant,
        fallthrough,
        targets,
        rules,
        prerequisites,
        metadata: compile_metadata(raw)?,
        fingerprint,
    })
}

pub(super) fn lookup_variant(index: &VariantIndex<'_>, name: &str) -> Result<usize, At> {
    index.get(name).copied().ok_or_else(|| At::new("", format!("no variant `{name}` in this flag")))
}

fn compile_serve(flag_key: &str, raw: &RawServe, index: &VariantIndex<'_>) -> Result<Serve, At> {
    match (&raw.variant, &raw.rollout) {
        (Some(variant), None) => Ok(Serve::Variant(lookup_variant(index, variant).map_err(|e| e.within(".variant"))?)),
        (None, Some(rollout)) => {
            Ok(Serve::Rollout(Box::new(compile_rollout(flag_key, rollout, index).map_err(|e| e.within(".rollout"))?)))
        }
        _ => Err(At::new("", "a serve needs exactly one of `variant` and `rollout`")),
    }
}

fn compile_targets(raw: &RawFlag, index: &VariantIndex<'_>) -> Result<FxHashMap<SmolStr, usize>, At> {
    let total = raw.targets.iter().map(|t| t.keys.len()).sum();
    let mut targets = FxHashMap::with_capacity_and_hasher(total, Default::default());
    for (i, target) in raw.targets.iter().enumerate() {
        let variant =
            lookup_variant(index, &target.variant).map_err(|e| e.within(&format!(".targets[{i}].variant")))?;
        for key in &target.keys {
            if targets.insert(SmolStr::new(key), variant).is_some() {
                return Err(At::new(
                    format!(".targets[{i}].keys"),
                    format!("targeting key `{key}` is listed more than once"),
                ));
            }
        }
    }
    Ok(targets)
}

fn compile_metadata(raw: &RawFlag) -> Result<Option<Box<FlagMetadata>>, At> {
    let expires_at = match &raw.expires_at {
        Some(text) => Some(crate::parse_rfc3339(text).map_err(|e| At::new(".expires_at", e.to_string()))?),
        None => None,
    };
    let custom = raw
        .metadata
        .iter()
        .map(|(key, value)| {
            let value = match value {
                RawMetadataValue::Bool(b) => MetadataValue::Bool(*b),
                RawMetadataValue::String(s) => MetadataValue::String(s.as_str().into()),
                RawMetadataValue::Number(n) => match n.as_i64() {
                    Some(i) => MetadataValue::Int(i),
                    None => MetadataValue::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
            };
            (key.as_str().into(), value)
        })
        .collect();
    let metadata = FlagMetadata {
        description: raw.description.as_deref().map(Into::into),
        owner: raw.owner.as_deref().map(Into::into),
        tags: raw.tags.iter().map(|t| t.as_str().into()).collect(),
        temporary: raw.temporary,
        expires_at,
        custom,
    };
    Ok((metadata != FlagMetadata::default()).then(|| Box::new(metadata)))
}

fn flag_type(raw: RawFlagType) -> FlagType {
    match raw {
        RawFlagType::Boolean => FlagType::Boolean,
        RawFlagType::String => FlagType::String,
        RawFlagType::Integer => FlagType::Integer,
        RawFlagType::Float => FlagType::Float,
        RawFlagType::Object => FlagType::Object,
    }
}

fn flag_value(kind: FlagType, value: &serde_json::Value) -> Option<FlagValue> {
    use serde_json::Value as J;
    match (kind, value) {
        (FlagType::Boolean, J::Bool(b)) => Some(FlagValue::Bool(*b)),
        (FlagType::String, J::String(s)) => Some(FlagValue::String(s.as_str().into())),
        (FlagType::Integer, J::Number(n)) => n.as_i64().map(FlagValue::Int),
        (FlagType::Float, J::Number(n)) => n.as_f64().map(FlagValue::Float),
        (FlagType::Object, J::Object(_) | J::Array(_)) => Some(FlagValue::Object(value.clone())),
        _ => None,
    }
}
