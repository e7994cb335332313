//! One context type for both sources the module evaluates: a [`Context`] (prepared,
//! or read from JSON text) and a flat object written into memory ([`FlatContext`]).
//!
//! Evaluation is generic over where attributes come from, so each source type used to
//! compile its own copy of the core's evaluator into the module. Behind this enum there
//! is one copy, 3 KB less of the gzipped module, for a branch per attribute read.

use pennon_core::{AttributeValue, Attributes, Context, Value, ValueRef};

use crate::flat::{FlatContext, FlatValue};

/// A context of either source.
pub(crate) enum AnyContext<'a> {
    Full(&'a Context),
    Flat(&'a FlatContext<'a>),
}

/// An attribute value of either source.
#[derive(Clone, Copy)]
pub(crate) enum AnyValue<'a> {
    Full(&'a Value),
    Flat(FlatValue<'a>),
}

impl Attributes for AnyContext<'_> {
    type Value<'v>
        = AnyValue<'v>
    where
        Self: 'v;

    #[inline(always)]
    fn targeting_key(&self) -> Option<AnyValue<'_>> {
        match self {
            AnyContext::Full(context) => Attributes::targeting_key(*context).map(AnyValue::Full),
            AnyContext::Flat(context) => Attributes::targeting_key(*context).map(AnyValue::Flat),
        }
    }

    #[inline(always)]
    fn attribute(&self, name: &str) -> Option<AnyValue<'_>> {
        match self {
            AnyContext::Full(context) => Attributes::attribute(*context, name).map(AnyValue::Full),
            AnyContext::Flat(context) => Attributes::attribute(*context, name).map(AnyValue::Flat),
        }
    }

    #[inline(always)]
    fn problem(&self) -> Option<&str> {
        match self {
            AnyContext::Full(context) => Attributes::problem(*context),
            AnyContext::Flat(context) => Attributes::problem(*context),
        }
    }
}

/// The elements of an array value; a flat value is never an array.
pub(crate) enum AnyItems<'a> {
    Full(std::slice::Iter<'a, Value>),
    Flat,
}

impl<'a> Iterator for AnyItems<'a> {
    type Item = AnyValue<'a>;

    #[inline(always)]
    fn next(&mut self) -> Option<AnyValue<'a>> {
        match self {
            AnyItems::Full(items) => items.next().map(AnyValue::Full),
            AnyItems::Flat => None,
        }
    }
}

impl<'a> AttributeValue for AnyValue<'a> {
    type Items = AnyItems<'a>;

    #[inline(always)]
    fn view(&self) -> ValueRef<'_> {
        match self {
            AnyValue::Full(value) => value.view(),
            AnyValue::Flat(value) => value.view(),
        }
    }

    #[inline(always)]
    fn items(&self) -> AnyItems<'a> {
        match self {
            AnyValue::Full(value) => AnyItems::Full(value.items()),
            AnyValue::Flat(_) => AnyItems::Flat,
        }
    }

    #[inline(always)]
    fn member(&self, name: &str) -> Option<AnyValue<'a>> {
        match self {
            AnyValue::Full(value) => value.member(name).map(AnyValue::Full),
            AnyValue::Flat(_) => None,
        }
    }
}
