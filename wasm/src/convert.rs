//! JavaScript in: contexts, times and options; refusals out as `Error`s with a `kind`.

use js_sys::Reflect;
use pennon_core::Context;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

/// What every fallible export returns: a thrown `Error` on failure.
pub(crate) type JsResult<T> = Result<T, JsValue>;

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

#[wasm_bindgen(raw_module = "../context-json.js")]
extern "C" {
    /// The package's `contextJson` (`bindings/src/context-json.ts`): `JSON.stringify`'s
    /// text, with BigInts written as exact integers. Imported from JavaScript, where
    /// walking an object is short, rather than walked here through `Reflect`.
    #[wasm_bindgen(js_name = contextJsonForModule, catch)]
    fn context_json(context: &JsValue) -> Result<Option<String>, JsValue>;
}

/// A context from a JavaScript object; `undefined` and `null` are the empty context.
///
/// The object is written as JSON text in JavaScript and read by the core's JSON reader,
/// so a JavaScript number means what its JSON text means (an integral number inside the
/// signed 64-bit range is an integer), and a BigInt is an exact integer.
pub(crate) fn context_of(context: &JsValue) -> JsResult<Context> {
    if context.is_undefined() || context.is_null() {
        return Ok(Context::default());
    }
    match context_json(context) {
        Ok(Some(text)) => Context::from_json(&text).map_err(core_error),
        Ok(None) => Err(refusal("invalid_context", "the context must be a JSON object")),
        // The reason is the runtime's own message, which names the property that
        // closes a cycle, or the error a getter or `toJSON()` threw.
        Err(reason) => Err(refusal(
            "invalid_context",
            &format!("the context cannot be written as JSON: {}", reason.as_string().unwrap_or_default()),
        )),
    }
}
