//! JavaScript in: contexts, times and options; refusals out as `Error`s with a `kind`.

use std::collections::BTreeMap;

use js_sys::{Array, Function, Object, Reflect, JSON};
use pennon_core::{Context, Value};
use wasm_bindgen::{JsCast, JsValue};

/// What every fallible export returns: a thrown `Error` on failure.
pub(crate) type JsResult<T> = Result<T, JsValue>;

/// Nesting deeper than this is refused, as `serde_json` refuses it on the fast path.
const MAX_DEPTH: usize = 128;

/// A JavaScript `Error` whose message starts with `kind` and which carries `kind`.
pub(crate) fn refusal(kind: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(&format!("{kind}: {message}"));
    error.set_name("PennonError");
    // Setting a property on a fresh Error cannot fail; ignore the impossible case.
    let _ = Reflect::set(&error, &JsValue::from_str("kind"), &JsValue::from_str(kind));
    error.into()
}

/// A core refusal as a thrown `Error` (`bad_signature: signature check failed: …`).
pub(crate) fn core_error(error: pennon_core::Error) -> JsValue {
    refusal(error.kind(), &error.to_string())
}

/// Unix milliseconds from a JavaScript number: finite, truncated toward zero.
pub(crate) fn to_millis(now: f64) -> JsResult<i64> {
    if now.is_finite() && now.abs() < 9.2e18 {
        #[allow(clippy::cast_possible_truncation)] // finite and within i64, checked above
        Ok(now.trunc() as i64)
    } else {
        Err(refusal("invalid_time", "`nowMs` must be a finite number of Unix milliseconds"))
    }
}

/// `JSON.stringify(value)`, or `None` when it throws (BigInt, cycles) or gives nothing.
pub(crate) fn stringify(value: &JsValue) -> Option<String> {
    JSON::stringify(value).ok().and_then(|text| text.as_string())
}

/// A context from a JavaScript object; `undefined` and `null` are the empty context.
///
/// The fast path is `JSON.stringify` and the core's JSON reader, so a JavaScript
/// number means what its JSON text means (an integral number inside the signed 64-bit
/// range is an integer). Objects holding a BigInt, which JSON cannot carry, take a walk
/// that applies the same rules and keeps BigInt integers exact.
pub(crate) fn context_of(context: &JsValue) -> JsResult<Context> {
    if context.is_undefined() || context.is_null() {
        return Ok(Context::default());
    }
    let value = match stringify(context) {
        Some(text) => return Context::from_json(&text).map_err(core_error),
        None => walk(context, 0).map_err(|message| refusal("invalid_context", &message))?,
    };
    Context::from_value(value.unwrap_or(Value::Null)).map_err(core_error)
}

/// One value, as `JSON.stringify` would write it; `None` for what it omits.
fn walk(value: &JsValue, depth: usize) -> Result<Option<Value>, String> {
    if depth > MAX_DEPTH {
        return Err(format!("the context nests deeper than {MAX_DEPTH} levels (or is cyclic)"));
    }
    if value.is_null() {
        return Ok(Some(Value::Null));
    }
    if value.is_undefined() || value.is_function() || value.is_symbol() {
        return Ok(None);
    }
    if let Some(flag) = value.as_bool() {
        return Ok(Some(Value::Bool(flag)));
    }
    if let Some(number) = value.as_f64() {
        return Ok(Some(number_value(number)));
    }
    if value.is_bigint() {
        return Ok(Some(bigint_value(value)));
    }
    if let Some(text) = value.as_string() {
        return Ok(Some(Value::String(text.into())));
    }
    let to_json = Reflect::get(value, &JsValue::from_str("toJSON")).unwrap_or(JsValue::UNDEFINED);
    if let Some(to_json) = to_json.dyn_ref::<Function>() {
        let converted = to_json.call0(value).map_err(|_| "a toJSON() method threw".to_owned())?;
        return walk(&converted, depth + 1);
    }
    if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        let mut items = Vec::with_capacity(array.length() as usize);
        for item in array.iter() {
            items.push(walk(&item, depth + 1)?.unwrap_or(Value::Null));
        }
        return Ok(Some(Value::List(items)));
    }
    let mut members = BTreeMap::new();
    for entry in Object::entries(value.unchecked_ref()).iter() {
        let entry: Array = entry.unchecked_into();
        let name = entry.get(0).as_string().unwrap_or_default();
        if let Some(member) = walk(&entry.get(1), depth + 1)? {
            members.insert(name.into_boxed_str(), member);
        }
    }
    Ok(Some(Value::Object(members)))
}

/// A JavaScript number as its JSON text reads: integral and strictly inside ±2^63 is
/// an integer; NaN and infinities are null, as `JSON.stringify` writes them.
fn number_value(number: f64) -> Value {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if !number.is_finite() {
        Value::Null
    } else if number.fract() == 0.0 && number.abs() < LIMIT {
        #[allow(clippy::cast_possible_truncation)] // integral and within i64, checked above
        Value::Int(number as i64)
    } else {
        Value::Float(number)
    }
}

/// A BigInt: exact inside the signed 64-bit range, else the nearest float (as JSON).
/// JavaScript's `Number(bigint)` rounds to nearest, ties to even, as a JSON reader
/// does, and leaves the module without a float parser of its own.
fn bigint_value(value: &JsValue) -> Value {
    if let Ok(int) = i64::try_from(value.clone()) {
        return Value::Int(int);
    }
    // `Number::new` is `Number(value)`, the rounding conversion; the `From` impls that
    // its deprecation points to take Rust numbers, not a BigInt.
    #[allow(deprecated)]
    let number = js_sys::Number::new(value);
    Value::Float(number.value_of())
}
