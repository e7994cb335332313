//! The payload as signed: serde mirrors of `docs/SPEC.md` section 3, before compiling.
//!
//! Every struct refuses unknown members and every map refuses duplicate keys, so two
//! parsers can never read one signed payload two ways.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// The members checked before the full parse: they decide whether parsing is worth it.
#[derive(Deserialize)]
pub(crate) struct RawHeader {
    pub(crate) schema: u64,
    pub(crate) environment: String,
    pub(crate) version: u64,
    pub(crate) issued_at: String,
    pub(crate) expires_at: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPayload {
    #[allow(dead_code)]
    pub(crate) schema: u64,
    pub(crate) environment: String,
    pub(crate) version: u64,
    pub(crate) issued_at: String,
    pub(crate) expires_at: String,
    #[serde(deserialize_with = "unique_map")]
    pub(crate) flags: BTreeMap<String, Fingerprinted<RawFlag>>,
    #[serde(default, deserialize_with = "unique_map")]
    pub(crate) segments: BTreeMap<String, Fingerprinted<RawSegment>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawFlagType {
    Boolean,
    String,
    Integer,
    Float,
    Object,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFlag {
    #[serde(rename = "type")]
    pub(crate) kind: RawFlagType,
    pub(crate) enabled: bool,
    #[serde(deserialize_with = "unique_map")]
    pub(crate) variants: BTreeMap<String, StrictJson>,
    pub(crate) off_variant: String,
    pub(crate) fallthrough: RawServe,
    #[serde(default)]
    pub(crate) targets: Vec<RawTarget>,
    #[serde(default)]
    pub(crate) rules: Vec<RawRule>,
    #[serde(default)]
    pub(crate) prerequisites: Vec<RawPrerequisite>,
    pub(crate) description: Option<String>,
    pub(crate) owner: Option<String>,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    pub(crate) temporary: Option<bool>,
    pub(crate) expires_at: Option<String>,
    #[serde(default, deserialize_with = "unique_map")]
    pub(crate) metadata: BTreeMap<String, RawMetadataValue>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub(crate) enum RawMetadataValue {
    Bool(bool),
    Number(serde_json::Number),
    String(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTarget {
    pub(crate) variant: String,
    pub(crate) keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServe {
    pub(crate) variant: Option<String>,
    pub(crate) rollout: Option<RawRollout>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) conditions: Vec<RawCondition>,
    pub(crate) serve: RawServe,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSegmentRule {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) conditions: Vec<RawCondition>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawOp {
    Equals,
    NotEquals,
    In,
    NotIn,
    Contains,
    StartsWith,
    EndsWith,
    Matches,
    Lt,
    Lte,
    Gt,
    Gte,
    SemverEq,
    SemverLt,
    SemverLte,
    SemverGt,
    SemverGte,
    Before,
    After,
    Exists,
    Missing,
    InSegment,
    NotInSegment,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCondition {
    pub(crate) attribute: Option<String>,
    pub(crate) op: RawOp,
    pub(crate) value: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) case_insensitive: bool,
    #[serde(default)]
    pub(crate) negate: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrerequisite {
    pub(crate) flag: String,
    pub(crate) variant: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRollout {
    pub(crate) variants: Vec<RawWeightedVariant>,
    pub(crate) bucket_by: Option<String>,
    pub(crate) salt: Option<String>,
    pub(crate) schedule: Option<RawSchedule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWeightedVariant {
    pub(crate) variant: String,
    pub(crate) weight: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSchedule {
    pub(crate) steps: Option<Vec<RawStep>>,
    pub(crate) ramp: Option<RawRamp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub(crate) at: String,
    pub(crate) weights: Vec<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRamp {
    pub(crate) start: String,
    pub(crate) end: String,
    pub(crate) weights: Vec<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSegment {
    #[serde(default)]
    pub(crate) included: Vec<String>,
    #[serde(default)]
    pub(crate) excluded: Vec<String>,
    #[serde(default)]
    pub(crate) rules: Vec<RawSegmentRule>,
}

/// A parsed value plus a fingerprint of its exact JSON text, so that a host can tell
/// which flags a new snapshot changed without comparing compiled structures.
pub(crate) struct Fingerprinted<T> {
    pub(crate) value: T,
    pub(crate) fingerprint: u64,
}

impl<T> std::ops::Deref for Fingerprinted<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Fingerprinted<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Fingerprinted<T>, D::Error> {
        use std::hash::{Hash, Hasher};
        // Borrowed: payloads are parsed from byte slices, so the flag's text is not copied.
        let raw: &'de serde_json::value::RawValue = Deserialize::deserialize(deserializer)?;
        let mut hasher = rustc_hash::FxHasher::default();
        raw.get().hash(&mut hasher);
        let value = serde_json::from_str(raw.get()).map_err(de::Error::custom)?;
        Ok(Fingerprinted { value, fingerprint: hasher.finish() })
    }
}

/// A JSON value whose objects, at any depth, have no duplicate keys.
pub(crate) struct StrictJson(pub(crate) serde_json::Value);

impl<'de> Deserialize<'de> for StrictJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StrictJson, D::Error> {
        deserializer.deserialize_any(StrictJsonVisitor).map(StrictJson)
    }
}

struct StrictJsonVisitor;

impl<'de> Visitor<'de> for StrictJsonVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<serde_json::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<serde_json::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictJson(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<serde_json::Value, A::Error> {
        let mut members = serde_json::Map::new();
        while let Some((name, StrictJson(value))) = map.next_entry::<String, StrictJson>()? {
            if members.contains_key(&name) {
                return Err(de::Error::custom(format!("duplicate key `{name}`")));
            }
            members.insert(name, value);
        }
        Ok(serde_json::Value::Object(members))
    }
}

/// Deserializes a JSON object into a map, refusing duplicate keys (serde's default
/// silently keeps the last one).
pub(crate) fn unique_map<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct UniqueMapVisitor<V>(PhantomData<V>);

    impl<'de, V: Deserialize<'de>> Visitor<'de> for UniqueMapVisitor<V> {
        type Value = BTreeMap<String, V>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(de::Error::custom(format!("duplicate key `{key}`")));
                }
                let value = map.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }

    deserializer.deserialize_map(UniqueMapVisitor(PhantomData))
}
