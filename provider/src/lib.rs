//! Pennon's OpenFeature provider for Rust services.
//!
//! [`PennonProvider`] implements [`open_feature::provider::FeatureProvider`] over
//! signed Pennon snapshots. It fetches them (inline bytes, a polled file, HTTP(S) with
//! ETags or `Last-Modified`, an optional server-sent-events stream that says when to
//! fetch), verifies
//! every one with [`pennon_core::TrustPolicy`], keeps the last good one on disk, and
//! evaluates flags with [`pennon_core::Snapshot::evaluate_with`].
//!
//! Why it is built this way:
//!
//! - **The core stays pure.** All I/O, timers and clocks live here; `pennon-core` only
//!   verifies bytes and evaluates. The provider passes `now` in, so a test (or a host
//!   with its own time source) can set it with [`PennonProviderBuilder::clock`].
//! - **Signed or nothing.** Trusted keys and the environment are required by the
//!   builder. A refused snapshot (tampered, foreign key, rollback, other environment,
//!   expired) never replaces what is served, and never reaches the cache.
//! - **Lock-free reads.** The compiled snapshot sits behind an [`arc_swap`] pointer:
//!   an evaluation loads it without a lock, and a new version is swapped in whole, so an
//!   evaluation never sees half of one version and half of another.
//! - **No conversion on the hot path.** The core evaluates the SDK's
//!   `EvaluationContext` in place through [`ContextAttributes`] (an implementation of
//!   [`pennon_core::Attributes`]); metadata is prepared per served snapshot and cloned,
//!   because the SDK's `FlagMetadata` is an owned map.
//! - **Degrade, don't fail.** When sources fail, the last good snapshot keeps serving and
//!   the status turns `STALE` after a configured time; a cold start with every source
//!   down serves the verified last-known-good cache. Its file is named by environment
//!   and trust policy, so any providers may share a directory, and a start during a key
//!   rotation reads the file written under the earlier keys. (Unleash's SDKs name their
//!   backup file by app name alone, and ConfigCat's cache key derives from the SDK key,
//!   so a key change starts without a cache.)
//!   Syncing that stops without a shutdown (the tokio runtime that ran `initialize`
//!   shut down, as a `#[tokio::test]` runtime does under a provider kept in a static)
//!   turns the status `STALE` with the cause, where a silent poller would read `READY`
//!   forever; `initialize` on a lasting runtime syncs again.
//! - **Observable.** A [`ProviderHandle`] reports the status, streams
//!   [`ProviderEvent`]s (the Rust SDK has no event API yet), and exposes lock-free
//!   evaluation counters, not-found keys and a bounded exposure queue. Exposures are
//!   the evaluations a rollout decided ([`ExposureScope`]), so a kill switch checked on
//!   every request does not crowd an experiment's out; a listener
//!   ([`PennonProviderBuilder::on_exposure`]) gets each one as the queue does, for a
//!   warehouse, while the reports still send them to the control plane.
//! - **Telemetry off the hot path.** With [`PennonProviderBuilder::telemetry`], a
//!   background task posts those to the control plane every minute: the deltas since the
//!   last accepted report, taken by swapping the atomics, so an evaluation never waits
//!   on a report, and none is lost or counted twice. A failed post is sent again under
//!   its batch id, which the control plane counts once even if the first was stored;
//!   shutdown sends a last report. (Unleash's SDKs also post every minute;
//!   LaunchDarkly's flush every few seconds and drop a batch that fails twice.)
//!
//! What OpenFeature's Rust types cannot carry (open-feature 0.3), and what the provider
//! does about it, so nothing is lost silently:
//!
//! - **Object flags.** `StructValue` holds objects only and `Value` has no null. A
//!   variant that is a JSON array is `TYPE_MISMATCH`, a `null` inside an array is
//!   `GENERAL`, and an object member that is `null` is left out (reading it gives `None`).
//!   The npm providers return all three as JSON; read them in Rust through
//!   [`ProviderHandle::snapshot`] and `pennon_core`.
//! - **Numbers.** `get_float` reads integer flags too, as JavaScript's `getNumber` does,
//!   when a float holds the value exactly (within ±2^53; beyond, `TYPE_MISMATCH`).
//!   `get_int` on a float flag stays `TYPE_MISMATCH`: `2.5` has no integer to serve.
//! - **Contexts.** Which field types are read, and how, is tabled at
//!   [`convert_context`]. A `Struct` of another type fails only the flags that read the
//!   field, with `INVALID_CONTEXT` naming it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use open_feature::OpenFeature;
//! use pennon_provider::{PennonProvider, PublicKey};
//!
//! let key = PublicKey::parse("ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")?;
//! let sdk_key = std::env::var("PENNON_SDK_KEY")?;
//! let provider = PennonProvider::builder()
//!     .trusted_key(key)
//!     .environment("production")
//!     .url("https://flags.example.com/v1/snapshots/production")
//!     .notification_url("https://flags.example.com/v1/stream/production")
//!     // `pennon serve` answers 401 without the environment's SDK key.
//!     .http_header("Authorization", format!("Bearer {sdk_key}"))
//!     .cache_dir("/var/cache/pennon")
//!     // Evaluation counts every minute to POST /v1/telemetry/production (off by default).
//!     .telemetry("https://flags.example.com", sdk_key)
//!     .build()?;
//! let handle = provider.handle();
//! let mut api = OpenFeature::singleton_mut().await;
//! api.set_provider(provider).await; // waits for the first snapshot, up to the init timeout
//! let client = api.create_client();
//! let dark_mode = client.get_bool_value("dark-mode", None, None).await.unwrap_or(false);
//! # let _ = dark_mode;
//! // On the way out: stops syncing and sends the last telemetry report. Not
//! // `OpenFeature::shutdown`, after which open-feature 0.3's clients panic.
//! handle.shutdown().await;
//! # Ok(()) }
//! ```

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod attributes;
mod builder;
mod cache;
mod config;
mod context;
mod error;
mod events;
mod handle;
mod provider;
mod report;
mod served;
mod state;
mod sync;
mod telemetry;
mod value;

/// The trusted key type of [`PennonProviderBuilder::trusted_key`], and the core the
/// provider evaluates with (for [`ProviderHandle::snapshot`]), so that a service needs
/// no second dependency kept at the same version.
pub use pennon_core::{self, PublicKey};

pub use attributes::ContextAttributes;
pub use builder::PennonProviderBuilder;
pub use context::convert_context;
pub use error::BuildError;
pub use events::{ProviderEvent, ProviderState, Status};
pub use handle::{Offered, ProviderHandle};
pub use provider::{PennonProvider, PROVIDER_NAME};
pub use report::ReportOutcome;
pub use telemetry::{EvaluationCount, EvaluationCounts, Exposure, ExposureScope, NotFoundCount};
