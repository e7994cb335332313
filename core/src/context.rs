//! The evaluation context: who is asking, in a form built once and read many times.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::eval::text::same;
use crate::Error;

/// A context attribute value. Integers stay exact; see `docs/SPEC.md` section 5.1.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON null: an attribute that is present but unset; conditions treat it as missing.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer in the signed 64-bit range.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    String(Box<str>),
    /// An array; conditions hold when they hold for any element.
    List(Vec<Value>),
    /// A nested object, reached with dotted attribute paths.
    Object(BTreeMap<Box<str>, Value>),
}

/// An evaluation context: an optional targeting key plus attributes.
///
/// Build it once and evaluate many flags with it: nothing is converted per evaluation.
///
/// ```
/// use pennon_core::{Context, Value};
/// let ctx = Context::new(Some("user-1")).with("plan", Value::String("pro".into()));
/// assert_eq!(ctx.targeting_key(), Some("user-1"));
/// let parsed = Context::from_json(r#"{"targetingKey": "user-1", "plan": "pro"}"#).unwrap();
/// assert_eq!(parsed, ctx);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Context {
    /// Always a [`Value::String`]: kept as a value so conditions can address it.
    targeting_key: Option<Value>,
    attributes: Attributes,
    problem: Option<Box<str>>,
}

/// Top-level attributes by name. Most contexts hold a handful, looked up once per
/// condition, so up to [`Attributes::FEW_MAX`] they are a vector scanned in insertion
/// order: comparing lengths first, a lookup is about one string comparison, where a
/// `BTreeMap` compared against each key on the way down. Larger contexts are a
/// `BTreeMap` all the same: nested objects already are one, so its code is in the
/// WebAssembly module anyway, where a hash map added 0.7 KB for a few comparisons
/// saved.
#[derive(Debug, Clone)]
enum Attributes {
    Few(Vec<(Box<str>, Value)>),
    Many(BTreeMap<Box<str>, Value>),
}

impl Default for Attributes {
    fn default() -> Attributes {
        Attributes::Few(Vec::new())
    }
}

impl Attributes {
    /// Past this many attributes, a scan costs more than a tree.
    const FEW_MAX: usize = 16;

    #[inline]
    fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Attributes::Few(entries) => {
                entries.iter().find(|(key, _)| same(key.as_bytes(), name.as_bytes())).map(|(_, value)| value)
            }
            Attributes::Many(map) => Attributes::searched(map, name),
        }
    }

    #[inline(never)]
    fn searched<'a>(map: &'a BTreeMap<Box<str>, Value>, name: &str) -> Option<&'a Value> {
        map.get(name)
    }

    fn insert(&mut self, name: &str, value: Value) {
        match self {
            Attributes::Few(entries) => {
                if let Some(entry) = entries.iter_mut().find(|(key, _)| same(key.as_bytes(), name.as_bytes())) {
                    entry.1 = value;
                } else if entries.len() < Attributes::FEW_MAX {
                    entries.push((name.into(), value));
                } else {
                    let mut map = BTreeMap::new();
                    for (key, value) in entries.drain(..) {
                        map.insert(key, value);
                    }
                    map.insert(name.into(), value);
                    *self = Attributes::Many(map);
                }
            }
            Attributes::Many(map) => {
                map.insert(name.into(), value);
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Attributes::Few(entries) => entries.len(),
            Attributes::Many(map) => map.len(),
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = (&str, &Value)> + '_> {
        match self {
            Attributes::Few(entries) => Box::new(entries.iter().map(|(key, value)| (&**key, value))),
            Attributes::Many(map) => Box::new(map.iter().map(|(key, value)| (&**key, value))),
        }
    }
}

/// Equal as maps: the order attributes were added in does not matter.
impl PartialEq for Attributes {
    fn eq(&self, other: &Attributes) -> bool {
        self.len() == other.len() && self.iter().all(|(key, value)| other.get(key) == Some(value))
    }
}

impl Context {
    /// A context with this targeting key and no attributes.
    pub fn new(targeting_key: Option<&str>) -> Context {
        Context { targeting_key: targeting_key.map(|key| Value::String(key.into())), ..Context::default() }
    }

    /// Adds or replaces an attribute. The name `targetingKey` is the targeting key.
    #[must_use]
    pub fn with(mut self, name: &str, value: Value) -> Context {
        self.insert(name, value);
        self
    }

    /// Adds or replaces an attribute in place.
    pub fn insert(&mut self, name: &str, value: Value) {
        if name == "targetingKey" {
            match value {
                key @ Value::String(_) => self.targeting_key = Some(key),
                Value::Null => self.targeting_key = None,
                other => {
                    self.problem = Some(format!("`targetingKey` must be a string, found {}", other.type_name()).into());
                }
            }
        } else {
            self.attributes.insert(name, value);
        }
    }

    /// Reads an OFREP-style JSON object: `targetingKey` plus attributes.
    ///
    /// Text that is not a JSON object is an `Err`. A `targetingKey` that is not a string
    /// is kept as a problem: every evaluation with this context then reports
    /// `PARSE_ERROR`, as OpenFeature expects for a malformed context.
    pub fn from_json(text: &str) -> Result<Context, Error> {
        crate::context_json::read_context(text)
    }

    /// Builds a context from an already parsed [`Value::Object`].
    pub fn from_value(value: Value) -> Result<Context, Error> {
        let Value::Object(members) = value else {
            return Err(Error::InvalidContext(format!("expected a JSON object, found {}", value.type_name())));
        };
        let mut context = Context::default();
        for (name, value) in members {
            context.insert(&name, value);
        }
        Ok(context)
    }

    /// Whether an attribute (not the targeting key) of this name is set.
    pub(crate) fn has_attribute(&self, name: &str) -> bool {
        self.attributes.get(name).is_some()
    }

    /// The targeting key, if any.
    pub fn targeting_key(&self) -> Option<&str> {
        match &self.targeting_key {
            Some(Value::String(key)) => Some(key),
            _ => None,
        }
    }

    /// The targeting key as a value, as [`crate::Attributes`] hands it to evaluation.
    #[inline(always)]
    pub(crate) fn targeting_key_value(&self) -> Option<&Value> {
        self.targeting_key.as_ref()
    }

    /// Why this context cannot be evaluated, if it cannot.
    #[inline(always)]
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// A top-level attribute by exact name.
    #[inline(always)]
    pub fn attribute(&self, name: &str) -> Option<&Value> {
        self.attributes.get(name)
    }
}

impl Value {
    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a bool",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::String(_) => "a string",
            Value::List(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.into()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v.into()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = BTreeMap::new();
        while let Some((name, value)) = map.next_entry::<String, Value>()? {
            if members.insert(name.clone().into_boxed_str(), value).is_some() {
                return Err(de::Error::custom(format!("duplicate member `{name}`")));
            }
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::{Context, Value};

    /// Past `FEW_MAX` attributes, in a tree: every name is found, a repeated name
    /// replaces its value, and the order of insertion does not matter.
    #[test]
    fn many_attributes_are_found_and_replaced() {
        let names: Vec<String> = (0..40).map(|i| format!("attr-{:02}", (i * 17) % 40)).collect();
        let mut forward = Context::new(Some("k"));
        let mut backward = Context::new(Some("k"));
        for (i, name) in names.iter().enumerate() {
            forward.insert(name, Value::Int(i as i64));
        }
        for (i, name) in names.iter().enumerate().rev() {
            backward.insert(name, Value::Int(i as i64));
        }
        assert_eq!(forward, backward);
        for (i, name) in names.iter().enumerate() {
            assert_eq!(forward.attribute(name), Some(&Value::Int(i as i64)), "{name}");
        }
        assert_eq!(forward.attribute("attr-40"), None);
        forward.insert("attr-05", Value::Bool(true));
        assert_eq!(forward.attribute("attr-05"), Some(&Value::Bool(true)));
        assert_ne!(forward, backward);
    }
}
