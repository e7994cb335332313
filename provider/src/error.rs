//! Why a provider could not be built.

use thiserror::Error;

/// A configuration the builder refuses. Each message says what to change.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No environment was configured.
    #[error("no environment: call `environment(..)` with the environment the snapshots are signed for")]
    MissingEnvironment,
    /// No trusted key was configured.
    #[error("no trusted key: add the publisher's public key with `trusted_key(..)`; there is no unsigned mode")]
    MissingKeys,
    /// The keys, threshold or environment do not make a valid trust policy. (The core's
    /// error names itself: "invalid trust policy: …", "invalid key: …".)
    #[error("{0}")]
    Policy(#[source] pennon_core::Error),
    /// No snapshot source was configured.
    #[error("no snapshot source: add one with `inline(..)`, `file(..)` or `url(..)`")]
    NoSource,
    /// A URL does not parse, or is not `http` or `https`.
    #[error("invalid URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An HTTP header name or value is not valid.
    #[error("invalid HTTP header `{name}`: {reason}")]
    InvalidHeader {
        /// The header name given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A duration, fraction or size is out of range.
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// The HTTP client could not be created (for example, no TLS roots).
    #[error("cannot build the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}
