//! Segments: reusable groups of users, kept per environment.

use serde::{Deserialize, Serialize};

use super::Condition;

/// `GET`/`PUT /api/v1/environments/{env}/segments/{key}`. A user is in the segment
/// when not excluded, and included or matching a rule (`docs/SPEC.md` section 5.5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// The key: in a `POST` required; in a `PUT` optional, and equal to the path's.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// What the segment is for (not published).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Targeting keys always in.
    #[serde(default)]
    pub included: Vec<String>,
    /// Targeting keys never in (exclusion wins).
    #[serde(default)]
    pub excluded: Vec<String>,
    /// Rules that put users in.
    #[serde(default)]
    pub rules: Vec<SegmentRule>,
}

/// A segment rule: its conditions must all hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentRule {
    /// Unique within the segment.
    pub id: String,
    /// The conditions.
    #[serde(default)]
    pub conditions: Vec<Condition>,
}
