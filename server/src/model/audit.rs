//! Audit entries as the API returns them.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

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
    /// The resource before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Json>,
    /// The resource after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Json>,
    /// The request that made the change (`X-Request-Id`).
    pub request_id: String,
    /// The snapshot version the change produced in `environment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_version: Option<u64>,
    /// The change request it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_request: Option<i64>,
}
