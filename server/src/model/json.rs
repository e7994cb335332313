//! JSON read as the snapshot format reads it (`docs/SPEC.md` section 3): an object
//! that names a member twice is refused, at any depth.
//!
//! serde_json keeps the last of two `"role"` members; a reviewer, a proxy or a log
//! reader may take the first, so the server would apply a value nobody read. Every
//! JSON document the API takes in (request bodies) and the CLI reads (`--file`,
//! `--variants`) goes through [`parse_json`]. It is serde_json's own parser, with its
//! nesting limit (128 levels), building a `serde_json::Value` as serde_json would.

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};

/// Why [`parse_json`] refused a document.
#[derive(Debug)]
pub enum JsonInputError {
    /// Not JSON, or data after the value; serde_json's error says where.
    Malformed(serde_json::Error),
    /// An object names a member twice.
    Duplicate(Duplicate),
}

/// A member an object names twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The member's name.
    pub member: String,
    /// Where the second one is, as API errors name fields: `rules[0].conditions[0].op`,
    /// `variants.on`, `["two words"]`.
    pub path: String,
    /// The line (from 1) of its name's end.
    pub line: usize,
    /// The column (from 1) of its name's end.
    pub column: usize,
}

impl fmt::Display for JsonInputError {
    /// Reads after the document's name: "the request body {this}".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonInputError::Malformed(e) => write!(f, "is not valid JSON: {e}"),
            JsonInputError::Duplicate(d) => write!(
                f,
                "names member `{}` twice in one object (at `{}`, line {} column {}): JSON here names each member \
                 once, as snapshots do, so that nobody reads one value while another is applied; remove one",
                super::escaped(&d.member),
                super::escaped(&d.path),
                d.line,
                d.column
            ),
        }
    }
}

/// Parses `bytes` as one JSON value (whitespace around it allowed), refusing an object
/// that names a member twice.
pub fn parse_json(bytes: &[u8]) -> Result<Json, JsonInputError> {
    let found = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let read = Unique { place: Place::Root, found: &found }.deserialize(&mut deserializer);
    match read.and_then(|json| deserializer.end().map(|()| json)) {
        Ok(json) => Ok(json),
        Err(e) => match found.into_inner() {
            Some((member, path)) => {
                Err(JsonInputError::Duplicate(Duplicate { member, path, line: e.line(), column: e.column() }))
            }
            None => Err(JsonInputError::Malformed(e)),
        },
    }
}

/// Where a value is in the document, as a chain back to the root.
#[derive(Clone, Copy)]
enum Place<'a> {
    Root,
    Member(&'a Place<'a>, &'a str),
    Item(&'a Place<'a>, usize),
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Root => Ok(()),
            Place::Item(parent, index) => write!(f, "{parent}[{index}]"),
            Place::Member(parent, name) if plain(name) => match parent {
                Place::Root => f.write_str(name),
                _ => write!(f, "{parent}.{name}"),
            },
            Place::Member(parent, name) => {
                write!(f, "{parent}[{}]", serde_json::to_string(name).map_err(|_| fmt::Error)?)
            }
        }
    }
}

/// Whether a member name reads unquoted in a path: an ASCII identifier.
fn plain(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Reads a value at `place`; the first duplicate's member and path go to `found`, for
/// [`parse_json`] to report (a serde error carries only text).
struct Unique<'p, 'f> {
    place: Place<'p>,
    found: &'f RefCell<Option<(String, String)>>,
}

impl<'de> DeserializeSeed<'de> for Unique<'_, '_> {
    type Value = Json;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique<'_, '_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
        Ok(Json::from(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
        Ok(Json::from(n))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Json, E> {
        Ok(Json::from(n))
    }

    fn visit_str<E>(self, text: &str) -> Result<Json, E> {
        Ok(Json::String(text.to_owned()))
    }

    fn visit_string<E>(self, text: String) -> Result<Json, E> {
        Ok(Json::String(text))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Json, A::Error> {
        let mut values = Vec::new();
        while let Some(value) =
            items.next_element_seed(Unique { place: Place::Item(&self.place, values.len()), found: self.found })?
        {
            values.push(value);
        }
        Ok(Json::Array(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Json, A::Error> {
        let mut object = Map::new();
        while let Some(name) = members.next_key::<String>()? {
            let place = Place::Member(&self.place, &name);
            if object.contains_key(&name) {
                let path = place.to_string();
                let message = format!("duplicate member `{name}` at `{path}`");
                *self.found.borrow_mut() = Some((name, path));
                return Err(A::Error::custom(message));
            }
            let value = members.next_value_seed(Unique { place, found: self.found })?;
            object.insert(name, value);
        }
        Ok(Json::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{parse_json, Duplicate, JsonInputError};

    fn duplicate(text: &str) -> Duplicate {
        match parse_json(text.as_bytes()) {
            Err(JsonInputError::Duplicate(d)) => d,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"a": [1, -2, 3.5, 1e400000000, "x\u00e9", null, true, {"b": {}}], "c": {"a": 1}}"#,
            "[]",
            " 18446744073709551615 ",
        ] {
            let ours = parse_json(text.as_bytes()).map_err(|e| e.to_string());
            let theirs = serde_json::from_str::<serde_json::Value>(text).map_err(|e| e.to_string());
            match (ours, theirs) {
                (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs, "{text}"),
                (Err(ours), Err(theirs)) => assert!(ours.contains(&theirs), "{text}: {ours} / {theirs}"),
                (ours, theirs) => panic!("{text}: {ours:?} / {theirs:?}"),
            }
        }
        assert_eq!(parse_json(br#"{"a": 1, "b": {"a": 2}}"#).unwrap(), json!({ "a": 1, "b": { "a": 2 } }));
    }

    #[test]
    fn refuses_a_member_named_twice_at_any_depth_and_says_where() {
        let top = duplicate(r#"{"name":"dupt","role":"viewer","role":"admin"}"#);
        assert_eq!(top, Duplicate { member: "role".into(), path: "role".into(), line: 1, column: 37 });
        let deep = duplicate(
            r#"{"rules": [{"id": "r", "conditions": [{"attribute": "a", "op": "equals",
                "op": "not_equals", "value": "x"}]}]}"#,
        );
        assert_eq!((deep.path.as_str(), deep.line), ("rules[0].conditions[0].op", 2));
        assert_eq!(duplicate(r#"{"variants": {"on": true, "off": false, "on": false}}"#).path, "variants.on");
        assert_eq!(duplicate(r#"[{}, {"a b": {"x": 1, "x": 2}}]"#).path, r#"[1]["a b"].x"#);
        assert_eq!(duplicate(r#"{"": 1, "": 2}"#).path, r#"[""]"#);
        // Escapes that spell the same name are the same name.
        assert_eq!(duplicate(r#"{"on": 1, "\u006fn": 2}"#).member, "on");
        let message = JsonInputError::Duplicate(duplicate(r#"{"a\u001b": 1, "a\u001b": 2}"#)).to_string();
        assert!(message.starts_with(r#"names member `a\u{1b}` twice in one object (at `["a\u001b"]`, line 1"#));
    }

    #[test]
    fn keeps_serde_json_s_errors_and_nesting_limit() {
        for text in ["", "{", r#"{"a": 1} []"#, r#"{"a" 1}"#] {
            assert!(matches!(parse_json(text.as_bytes()), Err(JsonInputError::Malformed(_))), "{text:?}");
        }
        // 127 levels of arrays and objects (`docs/OPERATIONS.md`, "Limits"), as serde_json.
        let deep = |levels: usize| format!("{}1{}", "[".repeat(levels - 1), "]".repeat(levels - 1));
        let deep = |levels: usize| format!("{{\"a\":{}}}", deep(levels));
        assert!(serde_json::from_str::<serde_json::Value>(&deep(127)).is_ok());
        assert!(parse_json(deep(127).as_bytes()).is_ok());
        assert!(serde_json::from_str::<serde_json::Value>(&deep(128)).is_err());
        let too_deep = parse_json(deep(128).as_bytes()).unwrap_err().to_string();
        assert!(too_deep.contains("recursion limit exceeded"), "{too_deep}");
    }
}
