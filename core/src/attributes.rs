//! What evaluation reads from a context: the [`Attributes`] trait.
//!
//! Evaluation needs a handful of attributes per flag, so it asks for them by name
//! rather than taking a [`Context`] built in full. A host that already holds its own
//! context (OpenFeature's `EvaluationContext`, a request's claims) implements the trait
//! over it and evaluates with [`crate::Snapshot::evaluate_with`], converting nothing.
//! [`Context`] implements it too: there is one evaluator, generic over where the
//! attributes come from, so every source follows `docs/SPEC.md` to the letter.

use crate::{Context, Value};

/// An evaluation context as evaluation reads it: a targeting key, and attributes
/// looked up by name.
///
/// The attribute named `targetingKey` is the targeting key: evaluation reads it through
/// [`Attributes::targeting_key`] and never asks [`Attributes::attribute`] for that name.
/// Dotted paths (`docs/SPEC.md` section 3.3) are resolved by evaluation: an exact
/// top-level name first, then [`AttributeValue::member`] segment by segment.
///
/// ```
/// use pennon_core::{AttributeValue, Attributes, Context, Value, ValueRef};
/// let ctx = Context::new(Some("u1")).with("plan", Value::String("pro".into()));
/// let plan = Attributes::attribute(&ctx, "plan");
/// assert_eq!(plan.as_ref().map(AttributeValue::view), Some(ValueRef::String("pro")));
/// ```
pub trait Attributes {
    /// A value borrowed from the context.
    type Value<'a>: AttributeValue
    where
        Self: 'a;

    /// The targeting key: a string, or null or absent for none. A key of another type
    /// should be reported by [`Attributes::problem`], as `docs/SPEC.md` section 5.1 asks.
    fn targeting_key(&self) -> Option<Self::Value<'_>>;

    /// The top-level attribute with exactly this name.
    fn attribute(&self, name: &str) -> Option<Self::Value<'_>>;

    /// Why this context cannot be evaluated, if it cannot: every evaluation then
    /// reports `PARSE_ERROR` with this message.
    fn problem(&self) -> Option<&str> {
        None
    }
}

/// One attribute value, borrowed: what a condition tests and a rollout hashes.
pub trait AttributeValue: Sized {
    /// The elements of an array.
    type Items: Iterator<Item = Self>;

    /// The value as the comparisons read it.
    fn view(&self) -> ValueRef<'_>;

    /// The elements when [`AttributeValue::view`] is [`ValueRef::List`]; otherwise empty.
    fn items(&self) -> Self::Items;

    /// The member `name` when [`AttributeValue::view`] is [`ValueRef::Object`].
    fn member(&self, name: &str) -> Option<Self>;
}

/// A borrowed attribute value, with the types of `docs/SPEC.md` section 5.1. Arrays and
/// objects are only marked: their contents are reached through [`AttributeValue`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// Present but unset: conditions treat it as missing.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer in the signed 64-bit range.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    String(&'a str),
    /// An array: a condition holds when it holds for any element.
    List,
    /// A nested object, reached with dotted paths.
    Object,
}

impl ValueRef<'_> {
    /// A short name of the value's type, for messages.
    pub fn type_name(self) -> &'static str {
        match self {
            ValueRef::Null => "null",
            ValueRef::Bool(_) => "a bool",
            ValueRef::Int(_) => "an integer",
            ValueRef::Float(_) => "a float",
            ValueRef::String(_) => "a string",
            ValueRef::List => "an array",
            ValueRef::Object => "an object",
        }
    }
}

impl Attributes for Context {
    type Value<'a> = &'a Value;

    // `inline(always)`: forwarders on the hot path, as cheap as the field accesses were.
    #[inline(always)]
    fn targeting_key(&self) -> Option<&Value> {
        self.targeting_key_value()
    }

    #[inline(always)]
    fn attribute(&self, name: &str) -> Option<&Value> {
        Context::attribute(self, name)
    }

    #[inline(always)]
    fn problem(&self) -> Option<&str> {
        Context::problem(self)
    }
}

impl<'a> AttributeValue for &'a Value {
    type Items = std::slice::Iter<'a, Value>;

    #[inline(always)]
    fn view(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::String(s) => ValueRef::String(s),
            Value::List(_) => ValueRef::List,
            Value::Object(_) => ValueRef::Object,
        }
    }

    #[inline(always)]
    fn items(&self) -> Self::Items {
        match self {
            Value::List(items) => items.iter(),
            _ => [].iter(),
        }
    }

    #[inline(always)]
    fn member(&self, name: &str) -> Option<&'a Value> {
        match self {
            Value::Object(members) => members.get(name),
            _ => None,
        }
    }
}
