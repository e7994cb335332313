//! Object flag values kept as JSON text.

use super::{write_json_string, Json, Num, Reader};

/// An object flag's value (a JSON object or array) as its compact JSON text, written
/// as `serde_json::to_string` writes the same value: object members sorted by name,
/// strings escaped as serde_json escapes them, numbers in serde_json's forms.
///
/// Why text: a host hands object values out whole, and most hosts want text (the
/// WebAssembly module passes it on to `JSON.parse`). Held as a `serde_json::Value`, it
/// made every host carry serde_json's map and tree code, several kilobytes of the
/// module, to rebuild the same text on each evaluation. Rust callers who want a tree
/// call [`JsonText::to_value`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(Box<str>);

impl JsonText {
    /// The text of a value read from a payload.
    pub(crate) fn of(value: &Json<'_>) -> JsonText {
        let mut out = String::new();
        write(&mut out, value);
        JsonText(out.into())
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as a `serde_json::Value`, read with the payload's own number rules:
    /// integers exact within 64 bits, other numbers the nearest `f64`.
    pub fn to_value(&self) -> serde_json::Value {
        // The text was written from a value this reader accepted, at any depth the
        // limits allowed, so it reads back; `Null` is unreachable.
        Reader::new(&self.0, Reader::MAX_NESTING).value().map_or(serde_json::Value::Null, |value| value.to_serde())
    }
}

impl std::fmt::Display for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn write(out: &mut String, value: &Json<'_>) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(Num::PosInt(n)) => out.push_str(itoa::Buffer::new().format(*n)),
        Json::Number(Num::NegInt(n)) => out.push_str(itoa::Buffer::new().format(*n)),
        // The reader refuses numbers beyond the `f64` range: every float is finite.
        Json::Number(Num::Float(f)) => out.push_str(zmij::Buffer::new().format_finite(*f)),
        Json::String(text) => write_json_string(out, text),
        Json::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Json::Object(members) => {
            // serde_json's map is ordered by name; the reader keeps payload order.
            let mut sorted: Vec<&(_, Json<'_>)> = members.iter().collect();
            crate::sort::sort_by_name(&mut sorted, |member| &member.0);
            out.push('{');
            for (index, (name, item)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json_string(out, name);
                out.push(':');
                write(out, item);
            }
            out.push('}');
        }
    }
}
