//! Who may do what: API tokens with roles, and SDK keys for fetching snapshots.

use serde::{Deserialize, Serialize};

/// What an API token may do. Each role includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads flags, segments, environments, snapshots and the audit log.
    Viewer,
    /// Also changes flags and segments, and proposes and approves change requests.
    Editor,
    /// Also manages environments, API tokens and SDK keys.
    Admin,
}

impl Role {
    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// Reads [`Role::as_str`]'s names.
    pub fn parse(name: &str) -> Option<Role> {
        [Role::Viewer, Role::Editor, Role::Admin].into_iter().find(|role| role.as_str() == name)
    }
}

/// API token secrets start with this.
pub const API_TOKEN_PREFIX: &str = "pnt_";

/// An API token. The secret is in `token` only in the response that creates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    /// Its id.
    pub id: i64,
    /// Who uses it; audit entries name this actor.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The environments it may read and change; `["*"]` for all.
    pub environments: Vec<String>,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
    /// When it was revoked, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// The secret, shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Who will use it (a person or a pipeline); audit entries name it.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The environments it may read and change; default `["*"]`, all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environments: Option<Vec<String>>,
}

/// Which snapshot an SDK key fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdkKind {
    /// For services: every flag.
    Server,
    /// For browsers and apps: only client-visible flags.
    Client,
}

impl SdkKind {
    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            SdkKind::Server => "server",
            SdkKind::Client => "client",
        }
    }

    /// Reads [`SdkKind::as_str`]'s names.
    pub fn parse(name: &str) -> Option<SdkKind> {
        [SdkKind::Server, SdkKind::Client].into_iter().find(|kind| kind.as_str() == name)
    }

    /// What the secrets of this kind of key start with.
    pub fn secret_prefix(self) -> &'static str {
        match self {
            SdkKind::Server => "pns_",
            SdkKind::Client => "pnc_",
        }
    }

    /// The kind of key `secret` is, by its prefix.
    pub fn of_secret(secret: &str) -> Option<SdkKind> {
        [SdkKind::Server, SdkKind::Client].into_iter().find(|kind| secret.starts_with(kind.secret_prefix()))
    }
}

/// An SDK key of one environment. The secret is in `key` only when it is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SdkKey {
    /// Its id.
    pub id: i64,
    /// The environment whose snapshots it fetches.
    pub environment: String,
    /// Server or client.
    pub kind: SdkKind,
    /// What it is for.
    pub name: String,
    /// The first characters of the secret.
    pub prefix: String,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
    /// When it was revoked, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// The secret, shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// `POST /api/v1/environments/{env}/sdk-keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSdkKey {
    /// Server or client.
    pub kind: SdkKind,
    /// What it is for; default the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
