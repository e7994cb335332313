//! OpenFeature's `EvaluationContext` as Pennon reads it: the table is at [`convert_context`].

use open_feature::{EvaluationContext, EvaluationContextFieldValue as Field, EvaluationError, EvaluationErrorCode};
use pennon_core::Context;

use crate::attributes::{writable, ContextAttributes, FieldRef};

/// The custom field that stands for the targeting key when `targeting_key` is unset.
pub(crate) const TARGETING_KEY: &str = "targetingKey";

/// Converts an OpenFeature context into a Pennon context, faithfully. Fails with
/// `INVALID_CONTEXT` on a field it cannot read.
///
/// How Pennon reads OpenFeature's `EvaluationContext`, field type by field type, in
/// place through [`ContextAttributes`] when evaluating or copied here into an owned
/// [`Context`] (both read through the same views):
///
/// | OpenFeature field | Pennon value |
/// |---|---|
/// | `targeting_key` | the targeting key |
/// | `Bool`, `Int`, `Float`, `String` | the same |
/// | `DateTime` | RFC 3339 text in UTC with milliseconds, `2025-06-01T10:00:00.000Z`, as the npm providers pass a JavaScript `Date` (`before`/`after` compare it as a time) |
/// | `Struct` holding `open_feature::StructValue` or `open_feature::Value` | nested object / array / scalar |
/// | `Struct` holding `serde_json::Value` or `serde_json::Map` | the same JSON, `null` included |
/// | `Struct` holding `pennon_core::Value` | as is |
/// | `Struct` holding `HashMap`/`BTreeMap<String, EvaluationContextFieldValue>` or `Vec<EvaluationContextFieldValue>` | nested object / array, converted recursively |
///
/// A `Struct` of any other type cannot be read (the SDK stores it as `dyn Any`): a flag
/// that reads the field fails with `INVALID_CONTEXT` naming it, rather than silently
/// evaluating without it. Flags that never read it are unaffected, as in the npm
/// providers. A custom field named `targetingKey` is the targeting key
/// unless `targeting_key` is set, which wins; a non-string one makes the context
/// malformed (`PARSE_ERROR`, as `docs/SPEC.md` section 5.1 says).
///
/// Evaluation does not need it: the provider reads the context in place through
/// [`ContextAttributes`], the same views this conversion copies.
pub fn convert_context(context: &EvaluationContext) -> Result<Context, EvaluationError> {
    ContextAttributes::new(context)?;
    let mut out = Context::new(context.targeting_key.as_deref());
    for (name, field) in &context.custom_fields {
        if name == TARGETING_KEY && context.targeting_key.is_some() {
            continue;
        }
        out.insert(name, FieldRef::of_field(field).to_value());
    }
    Ok(out)
}

/// Checks that a custom field can be read, nested fields included.
pub(crate) fn check_field(name: &str, field: &Field) -> Result<(), EvaluationError> {
    check(&Path::Field(name), field)
}

/// Where a value sits, for error messages; formatted only when one is reported.
enum Path<'a> {
    Field(&'a str),
    Item(&'a Path<'a>, usize),
    Member(&'a Path<'a>, &'a str),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Field(name) => f.write_str(name),
            Path::Item(parent, index) => write!(f, "{parent}[{index}]"),
            Path::Member(parent, key) => write!(f, "{parent}.{key}"),
        }
    }
}

/// Only date-times and structs can be unreadable; only maps and vectors of fields hold
/// more fields (every other struct type holds plain values).
fn check(name: &Path<'_>, field: &Field) -> Result<(), EvaluationError> {
    match field {
        Field::DateTime(time) if !writable(time) => {
            Err(invalid(format!("context field `{name}`: the date-time is outside years 0 to 9999 in UTC")))
        }
        Field::DateTime(_) => Ok(()),
        Field::Struct(any) => match FieldRef::of_struct(any.as_ref()) {
            FieldRef::Unreadable => Err(invalid(format!(
                "context field `{name}` holds a struct of a type Pennon cannot read; use open_feature::StructValue, \
                 open_feature::Value, serde_json::Value, pennon_core::Value, or a map or Vec of EvaluationContextFieldValue"
            ))),
            FieldRef::FieldMap(map) => members(name, map.iter()),
            FieldRef::FieldTree(map) => members(name, map.iter()),
            FieldRef::Fields(items) => {
                items.iter().enumerate().try_for_each(|(i, item)| check(&Path::Item(name, i), item))
            }
            _ => Ok(()),
        },
        Field::Bool(_) | Field::Int(_) | Field::Float(_) | Field::String(_) => Ok(()),
    }
}

fn members<'a>(
    name: &Path<'_>,
    mut members: impl Iterator<Item = (&'a String, &'a Field)>,
) -> Result<(), EvaluationError> {
    members.try_for_each(|(key, field)| check(&Path::Member(name, key), field))
}

fn invalid(message: String) -> EvaluationError {
    EvaluationError { code: EvaluationErrorCode::InvalidContext, message: Some(message) }
}
