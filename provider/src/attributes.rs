//! OpenFeature's `EvaluationContext` read in place by the core's evaluator: no
//! conversion, no allocation. How each field type reads is tabled at
//! [`crate::convert_context`]; [`FieldRef`] is that table, and `convert_context` builds
//! its owned [`Context`](pennon_core::Context) from the same views.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};

use open_feature::{EvaluationContext, EvaluationContextFieldValue as Field, EvaluationError, StructValue};
use pennon_core::{AttributeValue, Attributes, Value, ValueRef};
use time::{OffsetDateTime, UtcOffset};

use crate::context::{check_field, TARGETING_KEY};

/// An OpenFeature context as [`pennon_core::Attributes`]: evaluate it with
/// [`pennon_core::Snapshot::evaluate_with`].
///
/// ```
/// use open_feature::EvaluationContext;
/// use pennon_core::{AttributeValue, Attributes, ValueRef};
/// use pennon_provider::ContextAttributes;
///
/// let ctx = EvaluationContext::default().with_targeting_key("u1").with_custom_field("plan", "pro");
/// let attributes = ContextAttributes::new(&ctx).unwrap();
/// let plan = attributes.attribute("plan");
/// assert_eq!(plan.as_ref().map(AttributeValue::view), Some(ValueRef::String("pro")));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ContextAttributes<'a> {
    fields: &'a HashMap<String, Field>,
    targeting_key: Option<FieldRef<'a>>,
    problem: Option<&'static str>,
}

impl<'a> ContextAttributes<'a> {
    /// Checks that every field can be read, as [`crate::convert_context`] does: a
    /// struct of an unknown type, or a date-time RFC 3339 cannot write, is
    /// `INVALID_CONTEXT` naming the field, rather than a field silently ignored.
    pub fn new(context: &'a EvaluationContext) -> Result<ContextAttributes<'a>, EvaluationError> {
        ContextAttributes::reading(context, |_| true)
    }

    /// As [`ContextAttributes::new`], but an unreadable field fails only when `reads`
    /// says the flag being evaluated reads it: one it never reads cannot change its
    /// result (it reads as null if asked all the same).
    pub(crate) fn reading(
        context: &'a EvaluationContext,
        reads: impl Fn(&str) -> bool,
    ) -> Result<ContextAttributes<'a>, EvaluationError> {
        for (name, field) in &context.custom_fields {
            // Scalars are always readable: only date-times and structs are checked.
            let scalar = matches!(field, Field::Bool(_) | Field::Int(_) | Field::Float(_) | Field::String(_));
            if scalar || (name == TARGETING_KEY && context.targeting_key.is_some()) {
                continue;
            }
            // Asked only on failure, so a readable context costs no lookups.
            match check_field(name, field) {
                Err(error) if reads(name) => return Err(error),
                _ => {}
            }
        }
        let targeting_key = match &context.targeting_key {
            Some(key) => Some(FieldRef::String(key)),
            None => context.custom_fields.get(TARGETING_KEY).map(FieldRef::of_field),
        };
        let problem = targeting_key.and_then(|key| key_problem(key.view()));
        let targeting_key = targeting_key.filter(|key| key.view() != ValueRef::Null);
        Ok(ContextAttributes { fields: &context.custom_fields, targeting_key, problem })
    }

    /// The targeting key when it is a string, for telemetry.
    pub(crate) fn targeting_key_str(&self) -> Option<&str> {
        match self.targeting_key.as_ref().map(AttributeValue::view) {
            Some(ValueRef::String(key)) => Some(key),
            _ => None,
        }
    }
}

/// Past this many custom fields, [`Attributes::attribute`] hashes instead of scanning.
const SCAN_MAX: usize = 8;

/// A `targetingKey` custom field that is not a string makes the context malformed,
/// with the message of `pennon_core::Context`.
fn key_problem(key: ValueRef<'_>) -> Option<&'static str> {
    Some(match key {
        ValueRef::Null | ValueRef::String(_) => return None,
        ValueRef::Bool(_) => "`targetingKey` must be a string, found a bool",
        ValueRef::Int(_) => "`targetingKey` must be a string, found an integer",
        ValueRef::Float(_) => "`targetingKey` must be a string, found a float",
        ValueRef::List => "`targetingKey` must be a string, found an array",
        ValueRef::Object => "`targetingKey` must be a string, found an object",
    })
}

impl Attributes for ContextAttributes<'_> {
    type Value<'v>
        = FieldRef<'v>
    where
        Self: 'v;

    #[inline]
    fn targeting_key(&self) -> Option<FieldRef<'_>> {
        self.targeting_key
    }

    /// Contexts of a few fields are scanned: comparing names (lengths first) costs less
    /// than the SipHash of the name that the SDK's `HashMap` computes.
    #[inline]
    fn attribute(&self, name: &str) -> Option<FieldRef<'_>> {
        let field = if self.fields.len() <= SCAN_MAX {
            self.fields.iter().find_map(|(key, field)| (key == name).then_some(field))
        } else {
            self.fields.get(name)
        };
        field.map(FieldRef::of_field)
    }

    fn problem(&self) -> Option<&str> {
        self.problem
    }
}

/// One value of an OpenFeature context, borrowed. Scalars are read out when the view
/// is made; a `DateTime` is written as RFC 3339 into an inline buffer; arrays and
/// objects stay references to whatever type the `Struct` field holds.
#[derive(Debug, Clone, Copy)]
pub enum FieldRef<'a> {
    /// A JSON null (only `serde_json::Value` and `pennon_core::Value` have one).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    String(&'a str),
    /// A date-time, as RFC 3339 text in UTC with milliseconds ([`Rfc3339Text`]).
    DateTime(Rfc3339Text),
    /// `Vec<EvaluationContextFieldValue>`.
    Fields(&'a [Field]),
    /// `HashMap<String, EvaluationContextFieldValue>`.
    FieldMap(&'a HashMap<String, Field>),
    /// `BTreeMap<String, EvaluationContextFieldValue>`.
    FieldTree(&'a BTreeMap<String, Field>),
    /// `open_feature::Value::Array`.
    Values(&'a [open_feature::Value]),
    /// `open_feature::StructValue`.
    Struct(&'a StructValue),
    /// A JSON array.
    Json(&'a [serde_json::Value]),
    /// A JSON object.
    JsonMap(&'a serde_json::Map<String, serde_json::Value>),
    /// `pennon_core::Value::List`.
    Core(&'a [Value]),
    /// `pennon_core::Value::Object`.
    CoreMap(&'a BTreeMap<Box<str>, Value>),
    /// A `Struct` of a type Pennon cannot read, or a date-time outside years 0 to 9999.
    /// [`ContextAttributes::new`] refuses contexts holding one, so evaluation never
    /// sees it; it reads as null.
    Unreadable,
}

impl<'a> FieldRef<'a> {
    /// A float; NaN and the infinities read as null, as JSON (SPEC 5.1) and the npm
    /// providers have them, so they target and bucket alike in every client.
    #[inline]
    fn float(f: f64) -> FieldRef<'a> {
        if f.is_finite() {
            FieldRef::Float(f)
        } else {
            FieldRef::Null
        }
    }

    /// A custom field.
    #[inline]
    pub fn of_field(field: &'a Field) -> FieldRef<'a> {
        match field {
            Field::Bool(b) => FieldRef::Bool(*b),
            Field::Int(i) => FieldRef::Int(*i),
            Field::Float(f) => FieldRef::float(*f),
            Field::String(s) => FieldRef::String(s),
            Field::DateTime(time) => Rfc3339Text::new(time).map_or(FieldRef::Unreadable, FieldRef::DateTime),
            Field::Struct(any) => FieldRef::of_struct(any.as_ref()),
        }
    }

    /// What a `Struct` field holds, for the types listed at [`crate::convert_context`].
    pub fn of_struct(any: &'a (dyn Any + Send + Sync)) -> FieldRef<'a> {
        if let Some(value) = any.downcast_ref::<StructValue>() {
            return FieldRef::Struct(value);
        }
        if let Some(value) = any.downcast_ref::<open_feature::Value>() {
            return FieldRef::of_value(value);
        }
        if let Some(value) = any.downcast_ref::<serde_json::Value>() {
            return FieldRef::of_json(value);
        }
        if let Some(map) = any.downcast_ref::<serde_json::Map<String, serde_json::Value>>() {
            return FieldRef::JsonMap(map);
        }
        if let Some(value) = any.downcast_ref::<Value>() {
            return FieldRef::of_core(value);
        }
        if let Some(map) = any.downcast_ref::<HashMap<String, Field>>() {
            return FieldRef::FieldMap(map);
        }
        if let Some(map) = any.downcast_ref::<BTreeMap<String, Field>>() {
            return FieldRef::FieldTree(map);
        }
        if let Some(items) = any.downcast_ref::<Vec<Field>>() {
            return FieldRef::Fields(items);
        }
        FieldRef::Unreadable
    }

    /// An `open_feature::Value`.
    pub fn of_value(value: &'a open_feature::Value) -> FieldRef<'a> {
        match value {
            open_feature::Value::Bool(b) => FieldRef::Bool(*b),
            open_feature::Value::Int(i) => FieldRef::Int(*i),
            open_feature::Value::Float(f) => FieldRef::float(*f),
            open_feature::Value::String(s) => FieldRef::String(s),
            open_feature::Value::Array(items) => FieldRef::Values(items),
            open_feature::Value::Struct(value) => FieldRef::Struct(value),
        }
    }

    /// A JSON value. Numbers read as `docs/SPEC.md` section 5.1 says: integers in the
    /// i64 range stay integers, every other number is a float.
    pub fn of_json(value: &'a serde_json::Value) -> FieldRef<'a> {
        match value {
            serde_json::Value::Null => FieldRef::Null,
            serde_json::Value::Bool(b) => FieldRef::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => FieldRef::Int(i),
                None => FieldRef::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => FieldRef::String(s),
            serde_json::Value::Array(items) => FieldRef::Json(items),
            serde_json::Value::Object(map) => FieldRef::JsonMap(map),
        }
    }

    /// A `pennon_core::Value`, as is.
    pub fn of_core(value: &'a Value) -> FieldRef<'a> {
        match value {
            Value::Null => FieldRef::Null,
            Value::Bool(b) => FieldRef::Bool(*b),
            Value::Int(i) => FieldRef::Int(*i),
            Value::Float(f) => FieldRef::float(*f),
            Value::String(s) => FieldRef::String(s),
            Value::List(items) => FieldRef::Core(items),
            Value::Object(members) => FieldRef::CoreMap(members),
        }
    }

    /// The owned value, for [`crate::convert_context`].
    pub(crate) fn to_value(self) -> Value {
        fn object<'m>(members: impl Iterator<Item = (&'m str, FieldRef<'m>)>) -> Value {
            Value::Object(members.map(|(name, value)| (name.into(), value.to_value())).collect())
        }
        match self {
            FieldRef::Struct(value) => object(value.fields.iter().map(|(k, v)| (k.as_str(), FieldRef::of_value(v)))),
            FieldRef::JsonMap(map) => object(map.iter().map(|(k, v)| (k.as_str(), FieldRef::of_json(v)))),
            FieldRef::CoreMap(map) => Value::Object(map.clone()),
            FieldRef::FieldMap(map) => object(map.iter().map(|(k, v)| (k.as_str(), FieldRef::of_field(v)))),
            FieldRef::FieldTree(map) => object(map.iter().map(|(k, v)| (k.as_str(), FieldRef::of_field(v)))),
            list if list.view() == ValueRef::List => Value::List(list.items().map(FieldRef::to_value).collect()),
            scalar => match scalar.view() {
                ValueRef::Bool(b) => Value::Bool(b),
                ValueRef::Int(i) => Value::Int(i),
                ValueRef::Float(f) => Value::Float(f),
                ValueRef::String(s) => Value::String(s.into()),
                ValueRef::Null | ValueRef::List | ValueRef::Object => Value::Null,
            },
        }
    }
}

impl<'a> AttributeValue for FieldRef<'a> {
    type Items = Items<'a>;

    #[inline]
    fn view(&self) -> ValueRef<'_> {
        match self {
            FieldRef::Null | FieldRef::Unreadable => ValueRef::Null,
            FieldRef::Bool(b) => ValueRef::Bool(*b),
            FieldRef::Int(i) => ValueRef::Int(*i),
            FieldRef::Float(f) => ValueRef::Float(*f),
            FieldRef::String(s) => ValueRef::String(s),
            FieldRef::DateTime(text) => ValueRef::String(text.as_str()),
            FieldRef::Fields(_) | FieldRef::Values(_) | FieldRef::Json(_) | FieldRef::Core(_) => ValueRef::List,
            FieldRef::FieldMap(_)
            | FieldRef::FieldTree(_)
            | FieldRef::Struct(_)
            | FieldRef::JsonMap(_)
            | FieldRef::CoreMap(_) => ValueRef::Object,
        }
    }

    fn items(&self) -> Items<'a> {
        match *self {
            FieldRef::Fields(items) => Items::Fields(items.iter()),
            FieldRef::Values(items) => Items::Values(items.iter()),
            FieldRef::Json(items) => Items::Json(items.iter()),
            FieldRef::Core(items) => Items::Core(items.iter()),
            _ => Items::Fields([].iter()),
        }
    }

    fn member(&self, name: &str) -> Option<FieldRef<'a>> {
        match *self {
            FieldRef::FieldMap(map) => map.get(name).map(FieldRef::of_field),
            FieldRef::FieldTree(map) => map.get(name).map(FieldRef::of_field),
            FieldRef::Struct(value) => value.fields.get(name).map(FieldRef::of_value),
            FieldRef::JsonMap(map) => map.get(name).map(FieldRef::of_json),
            FieldRef::CoreMap(map) => map.get(name).map(FieldRef::of_core),
            _ => None,
        }
    }
}

/// The elements of an array held in a `Struct` field.
#[derive(Debug, Clone)]
pub enum Items<'a> {
    /// Of a `Vec<EvaluationContextFieldValue>`.
    Fields(std::slice::Iter<'a, Field>),
    /// Of an `open_feature::Value::Array`.
    Values(std::slice::Iter<'a, open_feature::Value>),
    /// Of a JSON array.
    Json(std::slice::Iter<'a, serde_json::Value>),
    /// Of a `pennon_core::Value::List`.
    Core(std::slice::Iter<'a, Value>),
}

impl<'a> Iterator for Items<'a> {
    type Item = FieldRef<'a>;

    fn next(&mut self) -> Option<FieldRef<'a>> {
        match self {
            Items::Fields(items) => items.next().map(FieldRef::of_field),
            Items::Values(items) => items.next().map(FieldRef::of_value),
            Items::Json(items) => items.next().map(FieldRef::of_json),
            Items::Core(items) => items.next().map(FieldRef::of_core),
        }
    }
}

/// A date-time as JavaScript's `Date.prototype.toISOString` writes it, in UTC with
/// milliseconds (`2025-06-01T10:00:00.000Z`): the npm providers pass a `Date` so, and
/// the same instant must read as the same text in every client, or `equals`,
/// `starts_with` and bucketing on it would differ (SPEC 5.1). Inline: reading one
/// allocates nothing.
#[derive(Clone, Copy)]
pub struct Rfc3339Text {
    bytes: [u8; Rfc3339Text::LEN],
}

impl Rfc3339Text {
    const LEN: usize = 24;

    /// `None` for an instant outside years 0 to 9999 in UTC, which RFC 3339 cannot write.
    pub fn new(time: &OffsetDateTime) -> Option<Rfc3339Text> {
        let utc = time.checked_to_offset(UtcOffset::UTC)?;
        let year = u32::try_from(utc.year()).ok().filter(|year| *year <= 9999)?;
        let fields = [
            (year, 4, b'-'),
            (u32::from(u8::from(utc.month())), 2, b'-'),
            (u32::from(utc.day()), 2, b'T'),
            (u32::from(utc.hour()), 2, b':'),
            (u32::from(utc.minute()), 2, b':'),
            (u32::from(utc.second()), 2, b'.'),
            (u32::from(utc.millisecond()), 3, b'Z'),
        ];
        let mut bytes = [0; Rfc3339Text::LEN];
        let mut at = 0;
        for (value, width, after) in fields {
            let mut rest = value;
            for slot in bytes[at..at + width].iter_mut().rev() {
                *slot = b'0' + u8::try_from(rest % 10).ok()?;
                rest /= 10;
            }
            bytes[at + width] = after;
            at += width + 1;
        }
        Some(Rfc3339Text { bytes })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes).unwrap_or_default()
    }
}

impl std::fmt::Debug for Rfc3339Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether [`Rfc3339Text`] can write `time` (years 0 to 9999 in UTC).
pub(crate) fn writable(time: &OffsetDateTime) -> bool {
    Rfc3339Text::new(time).is_some()
}
