//! Environments.

use serde::{Deserialize, Serialize};

/// An environment, as `GET /api/v1/environments/{env}` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// The name.
    pub name: String,
    /// Changes here need an approved change request.
    pub protected: bool,
    /// The latest published snapshot version.
    pub version: u64,
    /// When it was created, RFC 3339.
    pub created_at: String,
}

/// `POST /api/v1/environments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEnvironment {
    /// The name: 1 to 128 of `A-Z a-z 0-9 . _ -`.
    pub name: String,
    /// Whether changes need an approved change request.
    #[serde(default)]
    pub protected: bool,
}

/// `PATCH /api/v1/environments/{env}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvPatch {
    /// Whether changes need an approved change request.
    pub protected: bool,
}
