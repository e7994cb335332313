//! Compiling one flag: variants, targets, rules, prerequisites and metadata.

use rustc_hash::FxHashMap;
use smol_str::SmolStr;

use super::condition::compile_conditions;
use super::rollout::compile_rollout;
use super::{At, Names};
use crate::json::Json;
use crate::model::{RawFlag, RawMetadataValue, RawServe, Text};
use crate::snapshot::{Flag, FlagMetadata, FlagType, FlagValue, MetadataValue, Rule, Serve, Variant};

const MAX_KEY_BYTES: usize = 256;

/// Variant name to index, for resolving references within a flag: the flag's
/// variants, which the reader sorted by name, searched without building a map.
pub(super) struct VariantIndex<'r>(&'r [(Text<'r>, Json<'r>)]);

impl VariantIndex<'_> {
    fn position(&self, name: &str) -> Option<usize> {
        self.0.binary_search_by(|(variant, _)| (**variant).cmp(name)).ok()
    }
}

pub(super) fn compile_flag<'a>(key: &str, raw: &RawFlag<'a>, fingerprint: u64, names: &Names<'a>) -> Result<Flag, At> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(At::new("", format!("a flag key must be 1 to {MAX_KEY_BYTES} bytes")));
    }
    let kind = raw.kind;
    if raw.variants.is_empty() {
        return Err(At::new(".variants", "a flag needs at least one variant"));
    }
    let mut variants = Vec::with_capacity(raw.variants.len());
    for (name, value) in &raw.variants {
        let value = flag_value(kind, value).ok_or_else(|| {
            At::new(format!(".variants[{}]", super::quote(name)), format!("is not {}", value_of(kind)))
        })?;
        variants.push(Variant { name: super::name(name), value });
    }
    let index = VariantIndex(&raw.variants);
    let off_variant = lookup_variant(&index, &raw.off_variant).map_err(|e| e.within(".off_variant"))?;
    let fallthrough = compile_serve(key, &raw.fallthrough, &index).map_err(|e| e.within(".fallthrough"))?;
    let targets = compile_targets(raw, &index)?;

    let mut rules = Vec::with_capacity(raw.rules.len());
    for (i, rule) in raw.rules.iter().enumerate() {
        let at = || format!(".rules[{i}]");
        if raw.rules[..i].iter().any(|earlier| earlier.id == rule.id) {
            return Err(At::new(format!("{}.id", at()), format!("rule id `{}` repeats", rule.id)));
        }
        let conditions = compile_conditions(&rule.conditions, names).map_err(|e| e.within(&at()))?;
        let serve = compile_serve(key, &rule.serve, &index).map_err(|e| e.within(&format!("{}.serve", at())))?;
        rules.push(Rule { id: super::name(&rule.id), conditions, serve });
    }

    // Other flags may come later in the payload: `compile::body` resolves these.
    let prerequisites = Vec::new();

    Ok(Flag {
        key: super::name(key),
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
        uses_time: false,
    })
}

pub(super) fn lookup_variant(index: &VariantIndex<'_>, name: &str) -> Result<usize, At> {
    index.position(name).ok_or_else(|| At::new("", format!("no variant `{name}` in this flag")))
}

fn compile_serve(flag_key: &str, raw: &RawServe<'_>, index: &VariantIndex<'_>) -> Result<Serve, At> {
    match (&raw.variant, &raw.rollout) {
        (Some(variant), None) => Ok(Serve::Variant(lookup_variant(index, variant).map_err(|e| e.within(".variant"))?)),
        (None, Some(rollout)) => {
            Ok(Serve::Rollout(Box::new(compile_rollout(flag_key, rollout, index).map_err(|e| e.within(".rollout"))?)))
        }
        _ => Err(At::new("", "a serve needs exactly one of `variant` and `rollout`")),
    }
}

fn compile_targets(raw: &RawFlag<'_>, index: &VariantIndex<'_>) -> Result<FxHashMap<SmolStr, usize>, At> {
    let total = raw.targets.iter().map(|t| t.keys.len()).sum();
    let mut targets = FxHashMap::with_capacity_and_hasher(total, Default::default());
    for (i, target) in raw.targets.iter().enumerate() {
        let variant =
            lookup_variant(index, &target.variant).map_err(|e| e.within(&format!(".targets[{i}].variant")))?;
        for key in &target.keys {
            if targets.insert(super::name(key), variant).is_some() {
                return Err(At::new(
                    format!(".targets[{i}].keys"),
                    format!("targeting key `{key}` is listed more than once"),
                ));
            }
        }
    }
    Ok(targets)
}

fn compile_metadata(raw: &RawFlag<'_>) -> Result<Option<Box<FlagMetadata>>, At> {
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
                RawMetadataValue::String(s) => MetadataValue::String(s.as_ref().into()),
                RawMetadataValue::Number(n) => match n.as_i64() {
                    Some(i) => MetadataValue::Int(i),
                    None => MetadataValue::Float(n.as_f64()),
                },
            };
            (key.as_ref().into(), value)
        })
        .collect();
    let metadata = FlagMetadata {
        description: raw.description.as_deref().map(Into::into),
        owner: raw.owner.as_deref().map(Into::into),
        tags: raw.tags.iter().map(|t| t.as_ref().into()).collect(),
        temporary: raw.temporary,
        expires_at,
        custom,
    };
    Ok((metadata != FlagMetadata::default()).then(|| Box::new(metadata)))
}

fn flag_value(kind: FlagType, value: &Json<'_>) -> Option<FlagValue> {
    match (kind, value) {
        (FlagType::Boolean, Json::Bool(b)) => Some(FlagValue::Bool(*b)),
        (FlagType::String, Json::String(s)) => Some(FlagValue::String(s.as_ref().into())),
        (FlagType::Integer, Json::Number(n)) => n.as_i64().map(FlagValue::Int),
        (FlagType::Float, Json::Number(n)) => Some(FlagValue::Float(n.as_f64())),
        (FlagType::Object, Json::Object(_) | Json::Array(_)) => Some(FlagValue::Object(crate::JsonText::of(value))),
        _ => None,
    }
}

/// What a variant of a `kind` flag must be, with its article.
fn value_of(kind: FlagType) -> &'static str {
    match kind {
        FlagType::Boolean => "a boolean",
        FlagType::String => "a string",
        FlagType::Integer => "a signed 64-bit integer",
        FlagType::Float => "a number",
        FlagType::Object => "a JSON object or array",
    }
}
