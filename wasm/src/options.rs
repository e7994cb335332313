//! `new Engine(options)`: the options object read member by member through `Reflect`,
//! with the checks a strict JSON schema would make (no unknown members, integers where
//! counts and versions go), and no serde in the module for one small object.

use js_sys::{Array, Object, Reflect};
use pennon_core::Held;
use wasm_bindgen::{JsCast, JsValue};

use crate::convert::{refusal, JsResult};

/// The engine options (`EngineOptions` in the TypeScript types).
pub(crate) struct Options {
    pub(crate) keys: Vec<String>,
    pub(crate) environment: String,
    pub(crate) threshold: Option<usize>,
    pub(crate) grace_ms: Option<i64>,
    pub(crate) max_bytes: Option<usize>,
    pub(crate) min_version: Option<u64>,
    pub(crate) held: Option<Held>,
}

const MEMBERS: [&str; 7] = ["keys", "environment", "threshold", "graceMs", "maxBytes", "minVersion", "held"];

/// 2^63 and 2^64, the exclusive bounds of the integers these options take.
const I64_END: f64 = 9_223_372_036_854_775_808.0;
const U64_END: f64 = 18_446_744_073_709_551_616.0;
/// One past `usize::MAX` (2^32 in wasm32).
const USIZE_END: f64 = usize::MAX as f64 + 1.0;

fn invalid(message: &str) -> JsValue {
    refusal("invalid_options", &format!("engine options: {message}"))
}

impl Options {
    /// Reads `{keys, environment, threshold?, graceMs?, maxBytes?, minVersion?, held?}`;
    /// a member that is `undefined` or `null` is absent, as in its JSON text.
    #[allow(clippy::cast_possible_truncation)] // `integer` checked each range
    pub(crate) fn read(options: &JsValue) -> JsResult<Options> {
        let object = as_object(options, "expected an object")?;
        check_members(object, &MEMBERS)?;
        let keys = get(object, "keys")?.ok_or_else(|| invalid("missing member `keys`"))?;
        let keys = strings(&keys, "`keys` must be an array of strings")?;
        let environment = get(object, "environment")?.ok_or_else(|| invalid("missing member `environment`"))?;
        let environment = environment.as_string().ok_or_else(|| invalid("`environment` must be a string"))?;
        Ok(Options {
            keys,
            environment,
            threshold: integer(object, "threshold", 0.0, USIZE_END)?.map(|n| n as usize),
            grace_ms: integer(object, "graceMs", -I64_END, I64_END)?.map(|n| n as i64),
            max_bytes: integer(object, "maxBytes", 0.0, USIZE_END)?.map(|n| n as usize),
            min_version: integer(object, "minVersion", 0.0, U64_END)?.map(|n| n as u64),
            held: get(object, "held")?.map(|held| held_of(&held)).transpose()?,
        })
    }
}

fn as_object<'a>(value: &'a JsValue, message: &str) -> JsResult<&'a Object> {
    if value.is_object() && !Array::is_array(value) {
        Ok(value.unchecked_ref())
    } else {
        Err(invalid(message))
    }
}

/// Refuses a member that is not one of `allowed` (a misspelt option would be ignored).
fn check_members(object: &Object, allowed: &[&str]) -> JsResult<()> {
    for name in Object::keys(object).iter() {
        let name = name.as_string().unwrap_or_default();
        let present = !Reflect::get(object, &JsValue::from_str(&name))?.is_undefined();
        if present && !allowed.contains(&name.as_str()) {
            return Err(invalid(&format!("unknown member `{name}`, expected one of {}", allowed.join(", "))));
        }
    }
    Ok(())
}

/// A member's value; `None` when it is `undefined` or `null`.
fn get(object: &Object, name: &str) -> JsResult<Option<JsValue>> {
    let value = Reflect::get(object, &JsValue::from_str(name))?;
    Ok((!value.is_undefined() && !value.is_null()).then_some(value))
}

fn strings(value: &JsValue, message: &str) -> JsResult<Vec<String>> {
    if !Array::is_array(value) {
        return Err(invalid(message));
    }
    let array: &Array = value.unchecked_ref();
    array.iter().map(|item| item.as_string().ok_or_else(|| invalid(message))).collect()
}

/// An integral number in `start..end`, as an `f64` that converts exactly. The message
/// names no bounds: formatting floats would bring float printing into the module.
fn integer(object: &Object, name: &str, start: f64, end: f64) -> JsResult<Option<f64>> {
    let Some(value) = get(object, name)? else { return Ok(None) };
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= start && n < end => Ok(Some(n)),
        _ => Err(invalid(&format!("`{name}` must be a whole number in range"))),
    }
}

/// `held: {version, payloadSha256}`: a snapshot the host already serves.
fn held_of(value: &JsValue) -> JsResult<Held> {
    let object = as_object(value, "`held` must be an object")?;
    check_members(object, &["version", "payloadSha256"])?;
    #[allow(clippy::cast_possible_truncation)] // integral and below 2^64, checked
    let version =
        integer(object, "version", 0.0, U64_END)?.ok_or_else(|| invalid("missing member `held.version`"))? as u64;
    let hex = get(object, "payloadSha256")?.and_then(|hex| hex.as_string()).unwrap_or_default();
    let hex = hex.as_bytes();
    let mut sha = [0u8; 32];
    let ok = hex.len() == 64
        && sha.iter_mut().zip(hex.chunks(2)).all(|(byte, pair)| {
            let digits = std::str::from_utf8(pair).ok().and_then(|p| u8::from_str_radix(p, 16).ok());
            digits.map(|d| *byte = d).is_some()
        });
    if !ok {
        return Err(invalid("held.payloadSha256 must be 64 hex digits"));
    }
    Ok(Held { version, payload_sha256: sha })
}
