//! Why a snapshot, key, policy or context was refused.

use thiserror::Error;

/// A refusal. Each variant names the check that failed and what to do about it.
///
/// [`Error::kind`] gives the stable name used by `docs/SPEC.md` section 2.3 and by the
/// conformance vectors, so every runtime reports refusals the same way.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The envelope is longer than the trust policy's size cap.
    #[error("size check failed: the envelope is {size} bytes, over the cap of {max} bytes")]
    TooLarge {
        /// Bytes offered.
        size: usize,
        /// The cap in force.
        max: usize,
    },
    /// The envelope is not a DSSE envelope Pennon can read.
    #[error("envelope check failed: {0}")]
    MalformedEnvelope(String),
    /// The envelope carries something other than a Pennon snapshot.
    #[error("payload type check failed: expected `{expected}`, found `{found}`")]
    WrongPayloadType {
        /// The payload type Pennon signs.
        expected: &'static str,
        /// The payload type in the envelope.
        found: String,
    },
    /// No signature was made by a trusted key.
    #[error("signature check failed: no signature is by a trusted key (key ids in the envelope: [{}]; trusted: [{}]); add the signer's public key to the trusted keys if it is yours", .key_ids.join(", "), .trusted.join(", "))]
    UnknownKey {
        /// The key ids the envelope names.
        key_ids: Vec<String>,
        /// The key ids the policy trusts, so that the two lists can be compared at a glance.
        trusted: Vec<String>,
    },
    /// A trusted key's signature does not match the payload: tampering or corruption.
    #[error("signature check failed: the signature by trusted key {key_id} does not verify; the envelope was altered after signing")]
    BadSignature {
        /// The key whose signature failed.
        key_id: String,
    },
    /// Fewer distinct trusted keys signed than the threshold asks for.
    #[error("signature threshold check failed: {valid} valid signature(s) by trusted keys, {required} required")]
    BelowThreshold {
        /// Distinct trusted keys with a valid signature.
        valid: usize,
        /// The threshold.
        required: usize,
    },
    /// The signed payload is not a well-formed schema-1 snapshot.
    #[error("payload check failed: {0}")]
    MalformedPayload(String),
    /// The payload uses a schema version this build does not know.
    #[error("schema check failed: schema {found} is not supported (this build reads schema 1); upgrade Pennon")]
    UnsupportedSchema {
        /// The schema in the payload.
        found: u64,
    },
    /// The snapshot is for another environment.
    #[error("environment check failed: expected `{expected}`, the snapshot is for `{found}`")]
    WrongEnvironment {
        /// The environment of the trust policy.
        expected: String,
        /// The environment in the snapshot.
        found: String,
    },
    /// The snapshot is for another audience: a browser payload offered to a server.
    #[error("audience check failed: this client accepts {expected} snapshots, this one is for {found}")]
    WrongAudience {
        /// What the trust policy accepts: `server` or `client`.
        expected: &'static str,
        /// The snapshot's audience.
        found: &'static str,
    },
    /// The snapshot is older than the one held: a replay or a rollback attack.
    #[error("rollback check failed: offered version {offered} is older than held version {held}")]
    Rollback {
        /// The version held.
        held: u64,
        /// The version offered.
        offered: u64,
    },
    /// Same version as held, different content: the publisher equivocated.
    #[error("version check failed: version {version} is already held with different content")]
    VersionConflict {
        /// The version in question.
        version: u64,
    },
    /// The snapshot is past `expires_at` plus the grace period: it is stale.
    #[error("expiry check failed: the snapshot is stale, it expired at {expires_at} (grace {grace_seconds}s) and now is {now}")]
    Expired {
        /// `expires_at` of the snapshot, RFC 3339.
        expires_at: String,
        /// Grace period in force, seconds.
        grace_seconds: i64,
        /// The caller's `now`, RFC 3339.
        now: String,
    },
    /// A structural limit is exceeded.
    #[error("limit check failed at {path}: {what} is {found}, over the limit of {limit}")]
    LimitExceeded {
        /// What was counted.
        what: &'static str,
        /// Where, as a JSON path.
        path: String,
        /// The limit.
        limit: usize,
        /// The count found.
        found: usize,
    },
    /// The snapshot is well-formed JSON but does not compile.
    #[error("compile check failed at {path}: {message}")]
    InvalidSnapshot {
        /// Where, as a JSON path.
        path: String,
        /// What is wrong there.
        message: String,
    },
    /// A key in text form could not be read.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The trust policy itself is inconsistent.
    #[error("invalid trust policy: {0}")]
    InvalidPolicy(String),
    /// An evaluation context is not a JSON object.
    #[error("invalid evaluation context: {0}")]
    InvalidContext(String),
    /// A time is not RFC 3339.
    #[error("invalid time `{text}`: {reason}")]
    InvalidTime {
        /// The text offered.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl Error {
    /// The stable name of the check that failed (`docs/SPEC.md` section 2.3).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::TooLarge { .. } => "too_large",
            Error::MalformedEnvelope(_) => "malformed_envelope",
            Error::WrongPayloadType { .. } => "wrong_payload_type",
            Error::UnknownKey { .. } => "unknown_key",
            Error::BadSignature { .. } => "bad_signature",
            Error::BelowThreshold { .. } => "below_threshold",
            Error::MalformedPayload(_) => "malformed_payload",
            Error::UnsupportedSchema { .. } => "unsupported_schema",
            Error::WrongEnvironment { .. } => "wrong_environment",
            Error::WrongAudience { .. } => "wrong_audience",
            Error::Rollback { .. } => "rollback",
            Error::VersionConflict { .. } => "version_conflict",
            Error::Expired { .. } => "expired",
            Error::LimitExceeded { .. } => "limit_exceeded",
            Error::InvalidSnapshot { .. } => "invalid_snapshot",
            Error::InvalidKey(_) => "invalid_key",
            Error::InvalidPolicy(_) => "invalid_policy",
            Error::InvalidContext(_) => "invalid_context",
            Error::InvalidTime { .. } => "invalid_time",
        }
    }
}
