//! OpenFeature's `EvaluationContext` → Pennon's [`Context`], field type by field type.
//!
//! | OpenFeature field | Pennon value |
//! |---|---|
//! | `targeting_key` | the targeting key |
//! | `Bool`, `Int`, `Float`, `String` | the same |
//! | `DateTime` | an RFC 3339 string, offset kept (`before`/`after` compare it as a time) |
//! | `Struct` holding `open_feature::StructValue` or `open_feature::Value` | nested object / array / scalar |
//! | `Struct` holding `serde_json::Value` or `serde_json::Map` | the same JSON, `null` included |
//! | `Struct` holding `pennon_core::Value` | as is |
//! | `Struct` holding `HashMap`/`BTreeMap<String, EvaluationContextFieldValue>` or `Vec<EvaluationContextFieldValue>` | nested object / array, converted recursively |
//!
//! A `Struct` of any other type cannot be read (the SDK stores it as `dyn Any`), and the
//! evaluation fails with `INVALID_CONTEXT` naming the field, rather than silently
//! evaluating without it. A custom field named `targetingKey` is the targeting key
//! unless `targeting_key` is set, which wins; a non-string one makes the context
//! malformed (`PARSE_ERROR`, as `docs/SPEC.md` section 5.1 says).

use std::any::Any;
use std::collections::{BTreeMap, HashMap};

use open_feature::{EvaluationContext, EvaluationContextFieldValue, EvaluationError, EvaluationErrorCode, StructValue};
use pennon_core::{Context, Value};
use time::format_description::well_known::Rfc3339;

/// Converts an OpenFeature context into a Pennon context, faithfully (see the table in
/// this module's source docs). Fails with `INVALID_CONTEXT` on a field it cannot read.
pub fn convert_context(context: &EvaluationContext) -> Result<Context, EvaluationError> {
    let mut out = Context::new(context.targeting_key.as_deref());
    for (name, field) in &context.custom_fields {
        if name == "targetingKey" && context.targeting_key.is_some() {
            continue;
        }
        out.insert(name, field_value(&Path::Field(name), field)?);
    }
    Ok(out)
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

fn field_value(name: &Path<'_>, field: &EvaluationContextFieldValue) -> Result<Value, EvaluationError> {
    Ok(match field {
        EvaluationContextFieldValue::Bool(b) => Value::Bool(*b),
        EvaluationContextFieldValue::Int(i) => Value::Int(*i),
        EvaluationContextFieldValue::Float(f) => Value::Float(*f),
        EvaluationContextFieldValue::String(s) => Value::String(s.as_str().into()),
        EvaluationContextFieldValue::DateTime(time) => {
            let text = time.format(&Rfc3339).map_err(|e| {
                invalid(format!("context field `{name}`: the date-time cannot be written as RFC 3339: {e}"))
            })?;
            Value::String(text.into())
        }
        EvaluationContextFieldValue::Struct(any) => struct_value(name, any.as_ref())?,
    })
}

fn struct_value(name: &Path<'_>, any: &(dyn Any + Send + Sync)) -> Result<Value, EvaluationError> {
    if let Some(value) = any.downcast_ref::<StructValue>() {
        return Ok(of_struct(value));
    }
    if let Some(value) = any.downcast_ref::<open_feature::Value>() {
        return Ok(of_value(value));
    }
    if let Some(value) = any.downcast_ref::<serde_json::Value>() {
        return Ok(of_json(value));
    }
    if let Some(map) = any.downcast_ref::<serde_json::Map<String, serde_json::Value>>() {
        return Ok(Value::Object(map.iter().map(|(k, v)| (k.as_str().into(), of_json(v))).collect()));
    }
    if let Some(value) = any.downcast_ref::<Value>() {
        return Ok(value.clone());
    }
    if let Some(map) = any.downcast_ref::<HashMap<String, EvaluationContextFieldValue>>() {
        return fields(name, map.iter());
    }
    if let Some(map) = any.downcast_ref::<BTreeMap<String, EvaluationContextFieldValue>>() {
        return fields(name, map.iter());
    }
    if let Some(items) = any.downcast_ref::<Vec<EvaluationContextFieldValue>>() {
        let items = items.iter().enumerate().map(|(i, item)| field_value(&Path::Item(name, i), item));
        return Ok(Value::List(items.collect::<Result<_, _>>()?));
    }
    Err(invalid(format!(
        "context field `{name}` holds a struct of a type Pennon cannot read; use open_feature::StructValue, \
         open_feature::Value, serde_json::Value, pennon_core::Value, or a map or Vec of EvaluationContextFieldValue"
    )))
}

fn fields<'a>(
    name: &Path<'_>,
    members: impl Iterator<Item = (&'a String, &'a EvaluationContextFieldValue)>,
) -> Result<Value, EvaluationError> {
    let mut object = BTreeMap::new();
    for (key, field) in members {
        object.insert(key.as_str().into(), field_value(&Path::Member(name, key), field)?);
    }
    Ok(Value::Object(object))
}

fn of_struct(value: &StructValue) -> Value {
    Value::Object(value.fields.iter().map(|(k, v)| (k.as_str().into(), of_value(v))).collect())
}

fn of_value(value: &open_feature::Value) -> Value {
    match value {
        open_feature::Value::Bool(b) => Value::Bool(*b),
        open_feature::Value::Int(i) => Value::Int(*i),
        open_feature::Value::Float(f) => Value::Float(*f),
        open_feature::Value::String(s) => Value::String(s.as_str().into()),
        open_feature::Value::Array(items) => Value::List(items.iter().map(of_value).collect()),
        open_feature::Value::Struct(value) => of_struct(value),
    }
}

/// JSON numbers as `docs/SPEC.md` section 5.1 reads them: integers in the i64 range
/// stay integers, every other number is a float.
fn of_json(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(s.as_str().into()),
        serde_json::Value::Array(items) => Value::List(items.iter().map(of_json).collect()),
        serde_json::Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.as_str().into(), of_json(v))).collect())
        }
    }
}

fn invalid(message: String) -> EvaluationError {
    EvaluationError { code: EvaluationErrorCode::InvalidContext, message: Some(message) }
}
