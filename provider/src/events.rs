//! Provider status and the events a [`crate::ProviderHandle`] streams.

use open_feature::provider::ProviderStatus;

/// Where the provider stands (OpenFeature's provider states, without `FATAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// No snapshot yet: initialization has not finished, or the provider was shut down.
    NotReady,
    /// Serving a snapshot that is in date, from sources that sync.
    Ready,
    /// Serving a snapshot that is past `expires_at` plus grace, or whose sources have
    /// failed for longer than the configured `stale_after`.
    Stale,
    /// Nothing could be loaded within the initialization timeout. Syncing goes on; the
    /// first good snapshot makes the provider `Ready`.
    Error,
}

impl Status {
    /// The OpenFeature SDK's equivalent.
    pub fn to_open_feature(self) -> ProviderStatus {
        match self {
            Status::NotReady => ProviderStatus::NotReady,
            Status::Ready => ProviderStatus::Ready,
            Status::Stale => ProviderStatus::STALE,
            Status::Error => ProviderStatus::Error,
        }
    }

    pub(crate) fn to_u8(self) -> u8 {
        match self {
            Status::NotReady => 0,
            Status::Ready => 1,
            Status::Stale => 2,
            Status::Error => 3,
        }
    }

    pub(crate) fn from_u8(value: u8) -> Status {
        match value {
            1 => Status::Ready,
            2 => Status::Stale,
            3 => Status::Error,
            _ => Status::NotReady,
        }
    }
}

/// The status, the served version and why, as one consistent value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderState {
    /// The status.
    pub status: Status,
    /// The version served, if any.
    pub version: Option<u64>,
    /// Why the status is `Stale` or `Error`; `None` otherwise.
    pub message: Option<String>,
}

/// What a subscriber hears (OpenFeature's provider events, spec section 5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProviderEvent {
    /// A new snapshot version is served (`PROVIDER_CONFIGURATION_CHANGED`).
    ///
    /// `changed_flags` lists the flags added, removed or edited, and the flags whose
    /// segments or prerequisites changed (`pennon_core::Snapshot::changed_flags`).
    ConfigurationChanged {
        /// Flag keys known to differ, ascending.
        changed_flags: Vec<String>,
        /// The version served before, if any.
        old_version: Option<u64>,
        /// The version served now.
        new_version: u64,
    },
    /// The provider turned `STALE` (`PROVIDER_STALE`); it keeps serving what it has.
    Stale {
        /// Why: expiry, or how long syncing has failed and the last failure.
        reason: String,
    },
    /// The provider turned `ERROR` (`PROVIDER_ERROR`): nothing could be loaded.
    Error {
        /// What every source and the cache said.
        message: String,
    },
    /// The provider left `STALE` or `ERROR` and is `READY` again (`PROVIDER_READY`).
    Recovered {
        /// The version served.
        version: u64,
    },
}
