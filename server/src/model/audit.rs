//! Audit entries as the API returns them.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Every action the audit log records, in order: what `action=` (`pennon audit
/// --action`) may name. An action not in this list is refused rather than matching
/// nothing, which would read as "no such change was made".
pub const AUDIT_ACTIONS: &[&str] = &[
    "change_request.approve",
    "change_request.open",
    "change_request.reject",
    "config.rollout",
    "config.toggle",
    "config.update",
    "environment.create",
    "environment.delete",
    "environment.update",
    "flag.create",
    "flag.delete",
    "flag.update",
    "rollback",
    "sdk_key.create",
    "sdk_key.revoke",
    "segment.create",
    "segment.delete",
    "segment.update",
    "snapshot.overtake",
    "snapshot.resign",
    "token.create",
    "token.revoke",
    "token.update",
];

/// Every `resource_type` of the audit log, likewise.
pub const AUDIT_RESOURCE_TYPES: &[&str] =
    &["change_request", "environment", "flag", "sdk_key", "segment", "snapshot", "token"];

/// One entry of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Increasing id.
    pub id: i64,
    /// When, RFC 3339.
    pub at: String,
    /// Who made the change (for a change request: who proposed it).
    pub actor: String,
    /// Who approved it, for changes made through a change request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// What was done, such as `flag.create` or `config.toggle`.
    pub action: String,
    /// `flag`, `segment`, `environment`, `token`, `sdk_key`, `change_request` or `snapshot`.
    pub resource_type: String,
    /// The key or id of the resource.
    pub resource: String,
    /// The environment, when the change is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The resource before the change (in a compact entry, without the lists named in
    /// `changes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Json>,
    /// The resource after the change (likewise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Json>,
    /// Only in a compact entry: the large lists left out of `before` and `after`, each
    /// with the members added and removed. An entry whose before and after would pass
    /// 16 KiB of JSON is stored so, so that replacing a large segment again and again
    /// costs what changed rather than two copies of the segment each time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<ListChange>>,
    /// The request that made the change (`X-Request-Id`).
    pub request_id: String,
    /// The snapshot version the change produced in `environment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_version: Option<u64>,
    /// The change request it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_request: Option<i64>,
}

/// How one list changed, in a compact audit entry: the list at `path` is in neither
/// `before` nor `after`; these are the members it gained and lost (as a multiset: order
/// is not compared) and how many it held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListChange {
    /// Where the list is in `before` and `after`: a JSON Pointer (RFC 6901), such as
    /// `/included` or `/targets/0/values`.
    pub path: String,
    /// Members in the list after the change and not before, in their order there.
    pub added: Vec<Json>,
    /// Members in the list before the change and not after, in their order there.
    pub removed: Vec<Json>,
    /// How many members it held before (0 where there was none).
    pub before_count: usize,
    /// How many members it holds after (0 where there is none).
    pub after_count: usize,
}
