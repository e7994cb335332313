//! [`PennonProvider`]: the `FeatureProvider` implementation and its hot path.

use std::sync::Arc;

use async_trait::async_trait;
use open_feature::provider::{FeatureProvider, ProviderMetadata, ProviderStatus, ResolutionDetails};
use open_feature::{EvaluationContext, EvaluationError, EvaluationErrorCode, EvaluationResult, StructValue};
use pennon_core::{FlagType, Matched};

use crate::config::Config;
use crate::state::Shared;
use crate::telemetry::Ctx;
use crate::value::{self, Extract};
use crate::{ContextAttributes, PennonProviderBuilder, ProviderHandle, Status};

/// The name in [`ProviderMetadata`] (spec 2.1.1).
pub const PROVIDER_NAME: &str = "pennon";

/// An OpenFeature provider serving signed Pennon snapshots.
///
/// Build it with [`PennonProvider::builder`], keep a [`ProviderHandle`] from
/// [`PennonProvider::handle`] for status, events and telemetry, then give the provider
/// to `OpenFeature::set_provider`, which calls `initialize`. It needs a tokio runtime
/// with time and I/O enabled, alive as long as the provider: its sync tasks run on the
/// runtime that ran `initialize`, and end with it. Then the provider keeps serving what
/// it holds but is `STALE` (an event says why) until `initialize` runs again.
///
/// Stop it with [`ProviderHandle::shutdown`]: evaluations after that answer
/// `PROVIDER_NOT_READY`. Background tasks also stop when the provider is dropped, but
/// open-feature 0.3's `OpenFeature::shutdown`, which drops it, leaves the SDK without a
/// provider, and its clients then panic on every evaluation.
pub struct PennonProvider {
    shared: Arc<Shared>,
    metadata: ProviderMetadata,
}

impl std::fmt::Debug for PennonProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PennonProvider")
            .field("environment", &self.shared.config.environment)
            .field("status", &self.shared.status())
            .field("version", &self.shared.served_version())
            .finish_non_exhaustive()
    }
}

impl PennonProvider {
    /// Starts a configuration: trusted keys, environment and a source are required.
    pub fn builder() -> PennonProviderBuilder {
        PennonProviderBuilder::default()
    }

    pub(crate) fn from_config(config: Config) -> PennonProvider {
        PennonProvider { shared: Arc::new(Shared::new(config)), metadata: ProviderMetadata::new(PROVIDER_NAME) }
    }

    /// A handle for status, events, telemetry and shutdown. It stays valid after the
    /// provider is handed to OpenFeature, and does not keep background tasks alive.
    pub fn handle(&self) -> ProviderHandle {
        ProviderHandle::new(self.shared.clone())
    }

    /// Evaluates `key` as `kind`: one lock-free load of the served snapshot, the core's
    /// evaluation reading the context in place, an atomic counter update, and a clock
    /// read only when the result or an exposure needs the time.
    fn resolve<T>(
        &self,
        key: &str,
        context: &EvaluationContext,
        kind: FlagType,
        extract: Extract<T>,
    ) -> EvaluationResult<ResolutionDetails<T>> {
        let guard = self.shared.served.load();
        let Some(served) = guard.as_deref() else { return Err(self.not_ready()) };
        let entry = served.flags.get(key);
        // JavaScript's `getNumber` reads integer and float flags alike, and so does
        // `get_float` here: an integer flag evaluates as one, and `float_of` widens its
        // value when a float holds it exactly.
        let kind = match kind {
            FlagType::Float if served.snapshot.flag_type(key) == Some(FlagType::Integer) => FlagType::Integer,
            kind => kind,
        };
        // Only fields the flag reads are checked, as in the npm providers: a flag the
        // snapshot lacks reads none, so it is FLAG_NOT_FOUND whatever the context (SPEC
        // 5.3 step 1).
        let reads = |name: &str| entry.is_some_and(|entry| entry.reads(&served.snapshot, key, name));
        let attributes = match ContextAttributes::reading(context, reads) {
            Ok(attributes) => attributes,
            Err(error) => {
                // INVALID_CONTEXT: an error of this flag like any other.
                let ctx = Ctx { targeting_key: None, rule_id: None, bucket: None, now: None };
                self.shared.telemetry.record(key, served, entry, None, pennon_core::Reason::Error, ctx);
                return Err(error);
            }
        };
        // Reading the wall clock costs about as much as evaluating a simple flag (~35 ns
        // measured): read it only for a flag whose result depends on it. Any other flag
        // evaluates the same at any time, and its exposure, if it makes one, reads the
        // clock then: a kill switch evaluated on every request reads it never.
        let now = entry.is_some_and(|entry| entry.uses_time).then(|| self.shared.config.now());
        let evaluation = served.snapshot.evaluate_with(key, Some(kind), &attributes, now.unwrap_or(0));
        let rule_id = match evaluation.explanation.matched {
            Matched::Rule { id, .. } => Some(id),
            _ => None,
        };
        let bucket = evaluation.explanation.bucket.map(|bucket| (bucket, &attributes));
        let ctx = Ctx { targeting_key: attributes.targeting_key_str(), rule_id, bucket, now };
        let (variant, reason) = (evaluation.variant.filter(|_| evaluation.error.is_none()), evaluation.reason);
        // Recorded after the value is converted: a value the caller's type cannot hold
        // (an array asked for as a struct) is an error to the caller, so no exposure.
        let resolved = value::resolution(key, entry, evaluation, extract);
        let variant = variant.filter(|_| resolved.is_ok());
        self.shared.telemetry.record(key, served, entry, variant, reason, ctx);
        resolved
    }

    /// Spec 2.4 / 1.7.6: resolving before a snapshot is loaded is `PROVIDER_NOT_READY`.
    fn not_ready(&self) -> EvaluationError {
        let why = match self.shared.status() {
            Status::Error => "nothing could be loaded; see the provider's ERROR event or logs",
            // Every shutdown (or drop) begins a new run: nothing is served until the next start.
            _ if self.shared.epoch() > 0 => "it was shut down, and serves nothing until it is initialized again",
            _ => "no snapshot is loaded yet; wait for initialize",
        };
        EvaluationError {
            code: EvaluationErrorCode::ProviderNotReady,
            message: Some(format!("the Pennon provider is not ready: {why}")),
        }
    }
}

/// Dropping is shutting down without waiting (`OpenFeature::shutdown` drops its
/// providers): the tasks are told to stop, and the status is `NOT_READY` at once, as
/// after `shutdown`, for whoever still holds a handle. Work of the dropped run that is
/// still under way changes nothing (its epoch is over).
impl Drop for PennonProvider {
    fn drop(&mut self) {
        crate::sync::stop(&self.shared);
        self.shared.reset();
    }
}

#[async_trait]
impl FeatureProvider for PennonProvider {
    /// Starts syncing and waits for the first snapshot, up to the init timeout (spec
    /// 2.4.1). Afterwards the status is `READY` (or `STALE`), or `ERROR` when nothing
    /// could be loaded; syncing goes on either way.
    async fn initialize(&mut self, _context: &EvaluationContext) {
        crate::sync::initialize(&self.shared).await;
    }

    fn status(&self) -> ProviderStatus {
        self.shared.status().to_open_feature()
    }

    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    async fn resolve_bool_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<bool>> {
        self.resolve(flag_key, evaluation_context, FlagType::Boolean, value::bool_of)
    }

    async fn resolve_int_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<i64>> {
        self.resolve(flag_key, evaluation_context, FlagType::Integer, value::int_of)
    }

    async fn resolve_float_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<f64>> {
        self.resolve(flag_key, evaluation_context, FlagType::Float, value::float_of)
    }

    async fn resolve_string_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<String>> {
        self.resolve(flag_key, evaluation_context, FlagType::String, value::string_of)
    }

    async fn resolve_struct_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<StructValue>> {
        self.resolve(flag_key, evaluation_context, FlagType::Object, value::struct_of)
    }
}
