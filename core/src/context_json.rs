//! `Context::from_json` over the core's own JSON reader, so that reading a context
//! needs no serde_json (which the wasm module would otherwise carry for this alone).
//! It reads what serde_json reads into a [`Value`] and means the same by it: integers
//! that fit 64 signed bits are exact, other numbers are the nearest float, a repeated
//! member name is an error, and nesting stops where serde_json's does.

use std::collections::BTreeMap;

use crate::context::Value;
use crate::json::{JsonError, Num, Reader};
use crate::{Context, Error};

/// The nesting serde_json allows (its recursion limit of 128 refuses the 128th level),
/// which contexts have always been held to.
const MAX_DEPTH: usize = 127;

/// Reads one JSON value, refusing trailing text.
pub(crate) fn read_value(text: &str) -> Result<Value, String> {
    let mut reader = Reader::new(text, MAX_DEPTH);
    value(&mut reader).and_then(|value| reader.finish().map(|()| value)).map_err(|error| error.describe())
}

/// Reads a context: a JSON object read member by member into the [`Context`], with no
/// intermediate map (which took about a tenth of a wasm evaluation with a fresh context
/// object). Anything but an object takes [`read_value`], for the same errors.
pub(crate) fn read_context(text: &str) -> Result<Context, Error> {
    let mut reader = Reader::new(text, MAX_DEPTH);
    if reader.peek() != Some(b'{') {
        return Context::from_value(read_value(text).map_err(Error::InvalidContext)?);
    }
    let mut context = Context::default();
    let mut targeting_key_seen = false;
    let members = reader.object(|reader, name| {
        let member = value(reader)?;
        let repeated = if &*name == "targetingKey" {
            std::mem::replace(&mut targeting_key_seen, true)
        } else {
            context.has_attribute(&name)
        };
        if repeated {
            return Err(reader.error(format!("duplicate member `{name}`")));
        }
        context.insert(&name, member);
        Ok(())
    });
    members.and_then(|()| reader.finish()).map_err(|error| Error::InvalidContext(error.describe()))?;
    Ok(context)
}

fn value(reader: &mut Reader<'_>) -> Result<Value, JsonError> {
    match reader.peek() {
        Some(b'{') => {
            let mut members = BTreeMap::new();
            reader.object(|reader, name| {
                let member = value(reader)?;
                match members.insert(Box::from(&*name), member) {
                    Some(_) => Err(reader.error(format!("duplicate member `{name}`"))),
                    None => Ok(()),
                }
            })?;
            Ok(Value::Object(members))
        }
        Some(b'[') => {
            let mut items = Vec::new();
            reader.array(|reader, _| value(reader).map(|item| items.push(item)))?;
            Ok(Value::List(items))
        }
        Some(b'"') => reader.string().map(|text| Value::String(text.into())),
        Some(b't' | b'f') => reader.bool().map(Value::Bool),
        Some(b'n') => reader.null().map(|_| Value::Null),
        Some(b'-' | b'0'..=b'9') => Ok(match reader.number()? {
            Num::Float(f) => Value::Float(f),
            number => number.as_i64().map_or(Value::Float(number.as_f64()), Value::Int),
        }),
        _ => Err(reader.error("expected a JSON value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both readers accept the same texts and read the same values from them.
    fn agree(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let ours = read_value(text);
        let theirs = serde_json::from_str::<Value>(text);
        match (&ours, &theirs) {
            (Ok(value), Ok(expected)) => {
                proptest::prop_assert!(same(value, expected), "{text:?}: read {value:?}, serde_json {expected:?}");
            }
            (Err(_), Err(_)) => {}
            _ => proptest::prop_assert!(false, "{text:?}: ours {ours:?}, serde_json {theirs:?}"),
        }
        Ok(())
    }

    /// Equality that tells `-0.0` from `0.0`, as a context's bucketing does.
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|((k, x), (l, y))| k == l && same(x, y))
            }
            _ => a == b,
        }
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let cases = [
            r#"{"targetingKey": "u", "plan": "pro", "n": [1, -2, 3.5, null, true]}"#,
            "-0",
            "0",
            "-0.0",
            "1E2",
            "1e400",
            "-1e400",
            "18446744073709551615",
            "18446744073709551616",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "01",
            "1.",
            r#""\ud83d\ude00 \u00e9 \n\t\"\\\/""#,
            r#""\ud83d""#,
            "\"a\u{1}b\"",
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": {"b": 1, "b": 1}}"#,
            r#"{"a" 1}"#,
            "[1,]",
            "{} x",
            " {} ",
            "",
            "nul",
            "true",
        ];
        for text in cases.iter().map(|t| (*t).to_owned()).chain([deep(127), deep(128), deep(129), deep(10_000)]) {
            agree(&text).unwrap();
        }
    }

    /// Reading a context directly gives what reading its value and then building the
    /// context gives: the same context, or the same error.
    fn same_context(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let direct = read_context(text).map_err(|e| e.to_string());
        let via_value = read_value(text).map_err(Error::InvalidContext).and_then(Context::from_value);
        proptest::prop_assert_eq!(direct, via_value.map_err(|e| e.to_string()), "{:?}", text);
        Ok(())
    }

    #[test]
    fn contexts_read_directly_as_through_a_value() {
        let cases = [
            r#"{"targetingKey": "u", "plan": "pro", "n": [1, -2, 3.5, null, true], "o": {"a": {"b": 1}}}"#,
            r#"{"targetingKey": 7}"#,
            r#"{"targetingKey": null, "a": 1}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"targetingKey": "u", "targetingKey": "v"}"#,
            r#"{"a": 1} x"#,
            r#"{"a" 1}"#,
            r#"{"a": {"b": 1, "b": 1}}"#,
            "[1]",
            "\"text\"",
            "",
            "{}",
        ];
        let many: String = (0..40).map(|i| format!(r#""k{i}": {i}"#)).collect::<Vec<_>>().join(",");
        for text in cases.iter().map(|t| (*t).to_owned()).chain([format!("{{{many}}}")]) {
            same_context(&text).unwrap();
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_serde_json(text in r#"[\[\]{}",:0-9.eE+\- \\u/abfnrtlsu\x01é]{0,24}"#) {
            agree(&text)?;
        }

        #[test]
        fn contexts_agree_with_their_values(text in r#"\{("[abk]{1,2}": ?(1|"x"|null|\[1\]|\{"a":1\})(, ?)?){0,12}\}"#) {
            same_context(&text)?;
        }
    }
}
