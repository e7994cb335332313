//! Results out, the general path: OFREP-style JSON text (`Evaluation::to_json`, the
//! same text natively and in wasm) that `JSON.parse` turns into plain objects in one
//! call. Common results take the faster path of `packed.rs`.

use js_sys::{Reflect, JSON};
use pennon_core::{Context, Evaluation, FlagValue, Snapshot};
use wasm_bindgen::{JsCast, JsValue};

use crate::any::AnyContext;
use crate::convert::{refusal, JsResult};
use crate::types::{FlagType, Resolution};

/// Largest integer a JavaScript number holds exactly: 2^53 - 1.
const MAX_SAFE: i64 = (1 << 53) - 1;

/// Evaluates one flag, as the requested type when one is given.
pub(crate) fn evaluate<'s>(
    snapshot: &'s Snapshot,
    key: &str,
    context: &Context,
    now: i64,
    expected: Option<FlagType>,
) -> JsResult<Evaluation<'s>> {
    let expected = expected.map(FlagType::to_core).transpose()?;
    Ok(snapshot.evaluate_with(key, expected, &AnyContext::Full(context), now))
}

/// One result as JSON text: exactly the text of [`Evaluation::to_json`] (see
/// `write.rs`), the form every runtime compares byte for byte.
pub fn resolution_text(key: &str, evaluation: &Evaluation<'_>) -> String {
    let mut text = String::with_capacity(256);
    crate::write::resolution(&mut text, key, evaluation);
    text
}

/// Every flag's result as a JSON array, in ascending key order.
pub fn resolutions_text(snapshot: &Snapshot, context: &Context, now: i64) -> String {
    let mut text = String::with_capacity(256 * snapshot.len() + 2);
    text.push('[');
    let context = AnyContext::Full(context);
    let evaluations = (0..).map_while(|position| snapshot.evaluate_at(position, None, &context, now));
    for (index, (key, evaluation)) in snapshot.flag_keys().zip(evaluations).enumerate() {
        if index > 0 {
            text.push(',');
        }
        crate::write::resolution(&mut text, key, &evaluation);
    }
    text.push(']');
    text
}

/// An integer flag value beyond ±(2^53 - 1), which `JSON.parse` would round.
fn unsafe_int(evaluation: &Evaluation<'_>) -> Option<i64> {
    match evaluation.value {
        Some(FlagValue::Int(int)) if !(-MAX_SAFE..=MAX_SAFE).contains(int) => Some(*int),
        _ => None,
    }
}

fn parse(text: &str) -> JsResult<JsValue> {
    // The text is JSON written by `write.rs`, so this cannot fail; map it anyway.
    JSON::parse(text).map_err(|_| refusal("internal", "result JSON did not parse"))
}

/// Replaces a parsed result's `value` with the exact BigInt.
fn set_big(result: &JsValue, int: i64) -> JsResult<()> {
    Reflect::set(result, &JsValue::from_str("value"), &JsValue::from(int)).map(drop)
}

/// One flag's result as a plain object.
pub(crate) fn one(
    snapshot: &Snapshot,
    key: &str,
    context: &Context,
    now: i64,
    expected: Option<FlagType>,
) -> JsResult<Resolution> {
    let evaluation = evaluate(snapshot, key, context, now, expected)?;
    let result = parse(&resolution_text(key, &evaluation))?;
    if let Some(int) = unsafe_int(&evaluation) {
        set_big(&result, int)?;
    }
    Ok(result.unchecked_into())
}
