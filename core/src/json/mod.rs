//! JSON for signed payloads and envelopes: a strict borrowing reader, and the few
//! value shapes a payload holds where any JSON is allowed (variant values and condition
//! values).

mod reader;
mod text;

use std::borrow::Cow;

#[cfg(target_arch = "wasm32")]
pub(crate) use reader::Member;
pub(crate) use reader::{unknown_member, Reader};
pub use text::JsonText;

/// A malformed document: where (a JSON path, filled in as the error travels outward)
/// and what was wrong. Boxed, so that the `Result`s the reader returns for every token
/// stay one word wide on the success path.
#[derive(Debug)]
pub(crate) struct JsonError(Box<Detail>);

#[derive(Debug)]
pub(crate) struct Detail {
    pub(crate) path: String,
    pub(crate) message: String,
}

impl JsonError {
    #[cold]
    pub(crate) fn new(message: impl Into<String>) -> JsonError {
        JsonError(Box::new(Detail { path: String::new(), message: message.into() }))
    }

    /// Puts `prefix` in front of the path.
    #[cold]
    pub(crate) fn within(mut self, prefix: &str) -> JsonError {
        self.0.path.insert_str(0, prefix);
        self
    }

    /// Puts `[index]` in front of the path.
    #[cold]
    #[inline(never)]
    pub(crate) fn within_item(self, index: usize) -> JsonError {
        self.within(&format!("[{index}]"))
    }

    /// Puts `["key"]` in front of the path.
    #[cold]
    #[inline(never)]
    pub(crate) fn within_key(self, key: &str) -> JsonError {
        self.within(&format!("[{}]", quote(key)))
    }

    /// Puts `.name` in front of the path.
    #[cold]
    #[inline(never)]
    pub(crate) fn within_member(self, name: &str) -> JsonError {
        self.within(&format!(".{name}"))
    }

    #[cfg(test)]
    pub(crate) fn message(&self) -> &str {
        &self.0.message
    }

    pub(crate) fn into_parts(self) -> (String, String) {
        (self.0.path, self.0.message)
    }

    /// `flags["a"].rules[0]: message`, or the bare message at the top level.
    pub(crate) fn describe(&self) -> String {
        let Detail { path, message } = &*self.0;
        match path.strip_prefix('.') {
            _ if path.is_empty() => message.clone(),
            Some(path) => format!("{path}: {message}"),
            None => format!("{path}: {message}"),
        }
    }
}

/// A JSON number as serde_json reads it: integers stay exact when they fit 64 bits,
/// everything else is the nearest `f64` (and `-0` is the float `-0.0`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    PosInt(u64),
    NegInt(i64),
    Float(f64),
}

impl Num {
    pub(crate) fn as_i64(self) -> Option<i64> {
        match self {
            Num::PosInt(n) => i64::try_from(n).ok(),
            Num::NegInt(n) => Some(n),
            Num::Float(_) => None,
        }
    }

    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Num::PosInt(n) => n as f64,
            Num::NegInt(n) => n as f64,
            Num::Float(f) => f,
        }
    }

    fn to_serde(self) -> serde_json::Value {
        match self {
            Num::PosInt(n) => n.into(),
            Num::NegInt(n) => n.into(),
            Num::Float(f) => serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into),
        }
    }
}

/// Any JSON value, borrowed from the payload. Objects keep member order and have no
/// duplicate names.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    Number(Num),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl Json<'_> {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    pub(crate) fn as_array(&self) -> Option<&[Self]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// As a `serde_json::Value`, for object flags, whose values are handed out whole.
    pub(crate) fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value as V;
        match self {
            Json::Null => V::Null,
            Json::Bool(b) => V::Bool(*b),
            Json::Number(n) => n.to_serde(),
            Json::String(s) => V::String(s.to_string()),
            Json::Array(items) => V::Array(items.iter().map(Json::to_serde).collect()),
            Json::Object(members) => {
                // Inserted one by one: collecting would add a sort and a bulk build of
                // the map to the WebAssembly module, for the same map.
                let mut map = serde_json::Map::new();
                for (name, value) in members {
                    map.insert(name.to_string(), value.to_serde());
                }
                V::Object(map)
            }
        }
    }
}

impl<'a> Reader<'a> {
    /// Reads a number with serde_json's exactness rules (see [`Num`]).
    pub(crate) fn number(&mut self) -> Result<Num, JsonError> {
        let (text, integer) = self.number_text()?;
        if integer {
            match text.strip_prefix('-') {
                None => {
                    if let Some(n) = reader::digits_value(text) {
                        return Ok(Num::PosInt(n));
                    }
                }
                // `-0` is the float `-0.0`, as serde_json reads it.
                Some(magnitude) => {
                    if let Some(n) = reader::digits_value(magnitude).filter(|&n| n != 0 && n <= 1 << 63) {
                        return Ok(Num::NegInt(0i64.wrapping_sub_unsigned(n)));
                    }
                }
            }
        }
        match crate::decimal::parse_f64(text) {
            Some(f) if f.is_finite() => Ok(Num::Float(f)),
            _ => Err(JsonError::new(format!("number `{}` is out of range", crate::shown::shown(text)))),
        }
    }

    /// Reads any value, refusing duplicate member names at every depth.
    pub(crate) fn value(&mut self) -> Result<Json<'a>, JsonError> {
        match self.peek() {
            Some(b'{') => {
                let mut members: Vec<(Cow<'a, str>, Json<'a>)> = Vec::new();
                self.object(|reader, name| {
                    if members.iter().any(|(seen, _)| *seen == name) {
                        return Err(JsonError::new(format!("duplicate key `{}`", crate::shown::shown(&name))));
                    }
                    let value = reader.value().map_err(|e| e.within_key(&name))?;
                    members.push((name, value));
                    Ok(())
                })?;
                Ok(Json::Object(members))
            }
            Some(b'[') => {
                let mut items = Vec::new();
                self.array(|reader, i| {
                    items.push(reader.value().map_err(|e| e.within_item(i))?);
                    Ok(())
                })?;
                Ok(Json::Array(items))
            }
            Some(b'"') => self.string().map(Json::String),
            Some(b't' | b'f') => self.bool().map(Json::Bool),
            Some(b'-' | b'0'..=b'9') => self.number().map(Json::Number),
            Some(b'n') => self.null().map(|_| Json::Null),
            _ => Err(self.error("expected a JSON value")),
        }
    }
}

/// A key as a JSON string literal, for paths like `flags["new-checkout"]`.
pub(crate) fn quote(key: &str) -> String {
    let mut text = String::with_capacity(key.len() + 2);
    write_json_string(&mut text, key);
    text
}

/// Appends `text` as a JSON string literal, escaped exactly as `serde_json` escapes it
/// (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other control characters as `\u00xx`), so
/// a host that writes result JSON by hand (the WebAssembly module does) writes the very
/// text of [`crate::Evaluation::to_json`]. Runs without escapes are copied whole. Not
/// inlined: it is called from many places.
#[inline(never)]
pub fn write_json_string(out: &mut String, text: &str) {
    out.push('"');
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..at]);
        if escape.is_empty() {
            out.push_str("\\u00");
            write_hex(out, &[byte]);
        } else {
            out.push_str(escape);
        }
        start = at + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// Appends `bytes` as lowercase hex: key ids, payload digests, `\u00xx` escapes. Written
/// out, as `format!("{b:02x}")` per byte would keep `core::fmt`'s hex formatting in
/// the WebAssembly module.
pub fn write_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        let mut out = String::new();
        write_hex(&mut out, &[0x00, 0x0f, 0xa5, 0xff]);
        assert_eq!(out, "000fa5ff");
    }

    proptest::proptest! {
        #[test]
        fn quote_writes_what_serde_json_writes(key in "\\PC*|[\\x00-\\x20\"\\\\a]{0,8}") {
            proptest::prop_assert_eq!(quote(&key), serde_json::to_string(&key).unwrap());
        }
    }

    /// Every number form reads as serde_json reads it.
    #[test]
    fn numbers_match_serde_json() {
        let texts = [
            "0",
            "-0",
            "-0.0",
            "7",
            "-7",
            "1e-400",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "1E2",
            "1.5e+3",
            "123456789012345678901234567890",
            "0.1e1",
            "2.2250738585072011e-308",
            "9007199254740993",
        ];
        for text in texts {
            let ours = Reader::new(text, 4).value().unwrap().to_serde();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
            assert_eq!(ours.as_f64().map(f64::to_bits), theirs.as_f64().map(f64::to_bits), "{text}");
        }
        for out_of_range in ["1e400", "-1e400"] {
            assert!(Reader::new(out_of_range, 4).value().is_err());
            assert!(serde_json::from_str::<serde_json::Value>(out_of_range).is_err());
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]

        /// On JSON-ish text, this reader and serde_json agree on what is JSON and on
        /// what it means (where no object repeats a key, which serde_json allows).
        #[test]
        fn agrees_with_serde_json(text in r#"[\[\]{}",:0-9.eE+\- \\u/abfnrtlsu\x01é]{0,24}"#) {
            agree_with_serde_json(&text)?;
        }
    }

    /// Both accept `text` or both refuse it, and accepted, they read the same value;
    /// this reader alone refuses repeated keys.
    fn agree_with_serde_json(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let mut reader = Reader::new(text, 64);
        let ours = reader.value().and_then(|value| reader.finish().map(|()| value));
        let theirs = serde_json::from_str::<serde_json::Value>(text);
        match (&ours, &theirs) {
            (Ok(value), Ok(expected)) => {
                proptest::prop_assert_eq!(&value.to_serde(), expected);
                let text = JsonText::of(value);
                proptest::prop_assert_eq!(text.as_str(), serde_json::to_string(expected).unwrap());
                proptest::prop_assert_eq!(&text.to_value(), expected);
            }
            (Err(error), Ok(_)) => proptest::prop_assert!(error.message().contains("duplicate"), "{text:?}: {error:?}"),
            (Ok(_), Err(error)) => proptest::prop_assert!(false, "{text:?} accepted, serde_json: {error}"),
            (Err(_), Err(_)) => {}
        }
        Ok(())
    }

    /// JSON texts with every token kind, nested, sometimes with one byte changed.
    fn json_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,5})?([eE][+-]?[0-9]{1,3})?",
            r#""([a-z ]|\\[nt"\\/bfr]|\\u[0-9a-fA-F]{4}|\\ud83d\\ude00|é){0,6}""#,
        ];
        let text = leaf.prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(|items| format!("[{}]", items.join(","))),
                proptest::collection::vec(("[a-c]{1,2}", inner), 0..5).prop_map(|members| {
                    let members: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
                    format!("{{{}}}", members.join(", "))
                }),
            ]
        });
        (text, proptest::option::of((any::<usize>(), "[\\[\\]{}\",:0-9.eE\\-\\\\ u]"))).prop_map(
            |(mut text, change)| {
                if let Some((at, replacement)) = change {
                    let at = at % (text.len() + 1);
                    if text.is_char_boundary(at) {
                        let end = (at + 1..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(at);
                        text.replace_range(at..end, &replacement);
                    }
                }
                text
            },
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(10_000))]

        /// The same on structured JSON, intact or with one byte changed.
        #[test]
        fn agrees_with_serde_json_on_structured_text(text in json_text()) {
            agree_with_serde_json(&text)?;
        }
    }

    #[test]
    fn values_refuse_duplicates_and_say_where() {
        let error = Reader::new(r#"{"a": [1, {"b": 1, "b": 2}]}"#, 8).value().unwrap_err();
        assert_eq!(error.describe(), r#"["a"][1]: duplicate key `b`"#);
        let value = Reader::new(r#"{"z": null, "a": [true, "x"]}"#, 8).value().unwrap();
        assert_eq!(value.to_serde(), serde_json::json!({"z": null, "a": [true, "x"]}));
    }
}
