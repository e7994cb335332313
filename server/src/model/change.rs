//! Change requests: how protected environments change.

use serde::{Deserialize, Serialize};

use super::{FlagConfig, RolloutRequest, Segment};

/// A change waiting for (or past) a second person's approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRequest {
    /// Its id.
    pub id: i64,
    /// The protected environment.
    pub environment: String,
    /// Open, applied or rejected.
    pub status: ChangeStatus,
    /// The change.
    pub operation: Operation,
    /// The `If-Match` it was proposed with: approval fails if the resource changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_match: Option<String>,
    /// Who proposed it.
    pub proposed_by: String,
    /// When, RFC 3339.
    pub proposed_at: String,
    /// Who approved or rejected it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// When, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// The snapshot version its approval published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_version: Option<u64>,
}

/// Where a change request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeStatus {
    /// Waiting for approval.
    Open,
    /// Approved and published.
    Applied,
    /// Rejected; nothing changed.
    Rejected,
}

impl ChangeStatus {
    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeStatus::Open => "open",
            ChangeStatus::Applied => "applied",
            ChangeStatus::Rejected => "rejected",
        }
    }

    /// Reads [`ChangeStatus::as_str`]'s names.
    pub fn parse(name: &str) -> Option<ChangeStatus> {
        [ChangeStatus::Open, ChangeStatus::Applied, ChangeStatus::Rejected].into_iter().find(|s| s.as_str() == name)
    }
}

/// A change to one environment: what a direct write does, or what a change request
/// holds until it is approved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", deny_unknown_fields)]
pub enum Operation {
    /// Replace a flag's configuration.
    #[serde(rename = "config.update")]
    UpdateConfig {
        /// The flag.
        flag: String,
        /// The new configuration.
        config: Box<FlagConfig>,
    },
    /// Set the kill switch.
    #[serde(rename = "config.toggle")]
    Toggle {
        /// The flag.
        flag: String,
        /// On or off.
        enabled: bool,
    },
    /// Set the fallthrough rollout percentage.
    #[serde(rename = "config.rollout")]
    Rollout {
        /// The flag.
        flag: String,
        /// The split.
        rollout: RolloutRequest,
    },
    /// Create a segment.
    #[serde(rename = "segment.create")]
    CreateSegment {
        /// The segment, with its key.
        segment: Box<Segment>,
    },
    /// Replace a segment.
    #[serde(rename = "segment.update")]
    UpdateSegment {
        /// The segment, with its key.
        segment: Box<Segment>,
    },
    /// Delete a segment.
    #[serde(rename = "segment.delete")]
    DeleteSegment {
        /// Its key.
        key: String,
    },
    /// Republish an earlier snapshot's content as a new version.
    #[serde(rename = "rollback")]
    Rollback {
        /// The version whose content to restore.
        to_version: u64,
    },
}

impl Operation {
    /// The flag whose configuration it changes, if it changes one.
    pub fn flag(&self) -> Option<&str> {
        match self {
            Operation::UpdateConfig { flag, .. } | Operation::Toggle { flag, .. } | Operation::Rollout { flag, .. } => {
                Some(flag)
            }
            _ => None,
        }
    }

    /// The audit action name.
    pub fn action(&self) -> &'static str {
        match self {
            Operation::UpdateConfig { .. } => "config.update",
            Operation::Toggle { .. } => "config.toggle",
            Operation::Rollout { .. } => "config.rollout",
            Operation::CreateSegment { .. } => "segment.create",
            Operation::UpdateSegment { .. } => "segment.update",
            Operation::DeleteSegment { .. } => "segment.delete",
            Operation::Rollback { .. } => "rollback",
        }
    }
}
