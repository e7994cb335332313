//! Flag definitions: what a flag is, the same in every environment.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The type of a flag's values (`docs/SPEC.md` section 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlagType {
    /// `true` or `false`.
    Boolean,
    /// A string.
    String,
    /// A signed 64-bit integer.
    Integer,
    /// Any JSON number.
    Float,
    /// A JSON object or array.
    Object,
}

impl FlagType {
    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagType::Boolean => "boolean",
            FlagType::String => "string",
            FlagType::Integer => "integer",
            FlagType::Float => "float",
            FlagType::Object => "object",
        }
    }

    /// Reads [`FlagType::as_str`]'s names.
    pub fn parse(name: &str) -> Option<FlagType> {
        [FlagType::Boolean, FlagType::String, FlagType::Integer, FlagType::Float, FlagType::Object]
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// A flag definition: `POST /api/v1/flags` creates one, `PUT /api/v1/flags/{key}`
/// replaces one, and `GET` returns this shape, so a read-modify-write round-trips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    /// The key: 1 to 128 of `A-Z a-z 0-9 . _ -`. In a `PUT` it may be omitted; if
    /// given it must equal the key in the path.
    #[serde(default)]
    pub key: String,
    /// The type of every variant's value.
    #[serde(rename = "type")]
    pub kind: FlagType,
    /// Variant name to value. Optional for boolean flags (default `{"on": true, "off":
    /// false}`); required otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<BTreeMap<String, Json>>,
    /// What the flag is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who owns it: a person or a team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Free-form labels.
    #[serde(default)]
    pub tags: Vec<String>,
    /// A temporary flag (a release toggle or an experiment) is meant to be removed.
    #[serde(default)]
    pub temporary: bool,
    /// When a temporary flag should be gone, RFC 3339 (stale-flag reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Whether browser (client-key) snapshots include this flag.
    #[serde(default)]
    pub client_visible: bool,
}

impl Flag {
    /// The variants, with the boolean default filled in.
    pub fn variants_or_default(&self) -> Option<BTreeMap<String, Json>> {
        match (&self.variants, self.kind) {
            (Some(variants), _) => Some(variants.clone()),
            (None, FlagType::Boolean) => {
                Some(BTreeMap::from([("off".to_owned(), Json::Bool(false)), ("on".to_owned(), Json::Bool(true))]))
            }
            (None, _) => None,
        }
    }
}
