//! Pennon's evaluation results → OpenFeature's `ResolutionDetails` and errors.

use open_feature::provider::ResolutionDetails;
use open_feature::{
    EvaluationError, EvaluationErrorCode, EvaluationReason, EvaluationResult, FlagMetadata, StructValue,
};
use pennon_core::{ErrorCode, Evaluation, FlagValue, Matched, Reason};

use crate::served::{keys, FlagEntry};

/// Reads a served value as the Rust type asked for.
pub(crate) type Extract<T> = fn(Served<'_>) -> Result<T, EvaluationError>;

/// A value an evaluation served, with the flag and variant that served it.
#[derive(Clone, Copy)]
pub(crate) struct Served<'e> {
    key: &'e str,
    value: &'e FlagValue,
    variant: &'e str,
    entry: Option<&'e FlagEntry>,
}

/// Maps an evaluation to what the SDK expects: details on success (spec 2.2.3 to
/// 2.2.6, 2.2.9), an error with a code and a message otherwise (spec 2.2.7).
pub(crate) fn resolution<T>(
    key: &str,
    entry: Option<&FlagEntry>,
    evaluation: Evaluation<'_>,
    extract: Extract<T>,
) -> EvaluationResult<ResolutionDetails<T>> {
    if let Some(error) = evaluation.error {
        return Err(EvaluationError { code: error_code(error.code, &error.message), message: Some(error.message) });
    }
    let (Some(value), Some(variant)) = (evaluation.value, evaluation.variant) else {
        let message = format!("flag `{key}`: the evaluation served no value");
        return Err(EvaluationError { code: EvaluationErrorCode::General(message.clone()), message: Some(message) });
    };
    let value = extract(Served { key, value, variant, entry })?;
    let metadata = match (entry, evaluation.explanation.matched) {
        (Some(entry), Matched::Rule { id, index }) => entry.rule_metadata(index, id),
        (Some(entry), _) => entry.metadata.clone(),
        (None, Matched::Rule { id, .. }) => FlagMetadata::default().with_value(keys::RULE_ID, id),
        (None, _) => FlagMetadata::default(),
    };
    Ok(ResolutionDetails {
        value,
        variant: Some(variant.to_owned()),
        reason: Some(reason(evaluation.reason)),
        flag_metadata: Some(metadata),
    })
}

/// The OpenFeature reason of a Pennon reason (the names are the same).
pub(crate) fn reason(reason: Reason) -> EvaluationReason {
    match reason {
        Reason::Static => EvaluationReason::Static,
        Reason::TargetingMatch => EvaluationReason::TargetingMatch,
        Reason::Split => EvaluationReason::Split,
        Reason::Default => EvaluationReason::Default,
        Reason::Disabled => EvaluationReason::Disabled,
        Reason::Error => EvaluationReason::Error,
    }
}

/// The OpenFeature code of a Pennon code. `GENERAL` carries its message, as the SDK's
/// `General(String)` asks.
pub(crate) fn error_code(code: ErrorCode, message: &str) -> EvaluationErrorCode {
    match code {
        ErrorCode::FlagNotFound => EvaluationErrorCode::FlagNotFound,
        ErrorCode::TypeMismatch => EvaluationErrorCode::TypeMismatch,
        ErrorCode::ParseError => EvaluationErrorCode::ParseError,
        ErrorCode::TargetingKeyMissing => EvaluationErrorCode::TargetingKeyMissing,
        ErrorCode::General => EvaluationErrorCode::General(message.to_owned()),
    }
}

fn mismatch(key: &str, value: &FlagValue) -> EvaluationError {
    let message = format!("flag `{key}` served {}, which does not match the type asked for", value.to_json());
    EvaluationError { code: EvaluationErrorCode::TypeMismatch, message: Some(message) }
}

pub(crate) fn bool_of(served: Served<'_>) -> Result<bool, EvaluationError> {
    match served.value {
        FlagValue::Bool(b) => Ok(*b),
        other => Err(mismatch(served.key, other)),
    }
}

pub(crate) fn int_of(served: Served<'_>) -> Result<i64, EvaluationError> {
    match served.value {
        FlagValue::Int(i) => Ok(*i),
        other => Err(mismatch(served.key, other)),
    }
}

/// A float flag's value, or an integer flag's when a float holds it exactly (within
/// ±2^53); a larger integer would be served rounded, so it is `TYPE_MISMATCH`.
pub(crate) fn float_of(served: Served<'_>) -> Result<f64, EvaluationError> {
    const EXACT: u64 = 1 << 53;
    match served.value {
        FlagValue::Float(f) => Ok(*f),
        #[allow(clippy::cast_precision_loss)] // exact within ±2^53, checked
        FlagValue::Int(i) if i.unsigned_abs() <= EXACT => Ok(*i as f64),
        FlagValue::Int(i) => {
            let message = format!(
                "flag `{}` served {i}, an integer a float cannot hold exactly (read it as an integer)",
                served.key
            );
            Err(EvaluationError { code: EvaluationErrorCode::TypeMismatch, message: Some(message) })
        }
        other => Err(mismatch(served.key, other)),
    }
}

pub(crate) fn string_of(served: Served<'_>) -> Result<String, EvaluationError> {
    match served.value {
        FlagValue::String(s) => Ok(s.to_string()),
        other => Err(mismatch(served.key, other)),
    }
}

/// An object flag's value as a `StructValue`.
///
/// OpenFeature's Rust `Value` has no null and `StructValue` holds only objects, so:
/// object members whose value is `null` are left out (reading them gives `None`, as
/// reading a null would in most code); a top-level array is `TYPE_MISMATCH`; a `null`
/// inside an array is `GENERAL`. Both errors say why. Use
/// [`crate::ProviderHandle::snapshot`] to read such values through `pennon-core`.
///
/// The snapshot holds object values as JSON text; each variant's struct is built on
/// its first use and kept with the flag's other per-version data ([`FlagEntry`]).
pub(crate) fn struct_of(served: Served<'_>) -> Result<StructValue, EvaluationError> {
    let convert = || struct_from(served.key, served.value);
    match served.entry {
        Some(entry) => entry.object_value(served.variant, convert),
        None => convert(),
    }
}

fn struct_from(key: &str, value: &FlagValue) -> Result<StructValue, EvaluationError> {
    match value {
        FlagValue::Object(json) => match json.to_value() {
            serde_json::Value::Object(map) => object(key, &map),
            _ => {
                let message = format!(
                    "flag `{key}` serves a JSON array; OpenFeature's Rust StructValue holds only objects \
                     (read it with pennon_core through ProviderHandle::snapshot)"
                );
                Err(EvaluationError { code: EvaluationErrorCode::TypeMismatch, message: Some(message) })
            }
        },
        other => Err(mismatch(key, other)),
    }
}

fn object(key: &str, map: &serde_json::Map<String, serde_json::Value>) -> Result<StructValue, EvaluationError> {
    let mut fields = std::collections::HashMap::with_capacity(map.len());
    for (name, value) in map {
        if !value.is_null() {
            fields.insert(name.clone(), json(key, value)?);
        }
    }
    Ok(StructValue { fields })
}

fn json(key: &str, value: &serde_json::Value) -> Result<open_feature::Value, EvaluationError> {
    Ok(match value {
        serde_json::Value::Bool(b) => open_feature::Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => open_feature::Value::Int(i),
            None => open_feature::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => open_feature::Value::String(s.clone()),
        serde_json::Value::Array(items) => {
            open_feature::Value::Array(items.iter().map(|item| json(key, item)).collect::<Result<_, _>>()?)
        }
        serde_json::Value::Object(map) => open_feature::Value::Struct(object(key, map)?),
        serde_json::Value::Null => {
            let message = format!(
                "flag `{key}` serves an array holding null, which OpenFeature's Rust Value cannot represent \
                 (read it with pennon_core through ProviderHandle::snapshot)"
            );
            return Err(EvaluationError {
                code: EvaluationErrorCode::General(message.clone()),
                message: Some(message),
            });
        }
    })
}
