//! Exposures: which evaluations make one ([`ExposureScope`]), the record, and the host's
//! listener, called with each beside the queue.
//!
//! The listener is called inline, on the evaluating thread, with the record the queue
//! then takes: the host's analytics pipeline and the control plane's reports both get
//! every exposure, where draining the queue would split them. A panic in it is caught
//! (`catch_unwind`), logged once, and the evaluation returns as if it had not been
//! called: a broken analytics hook must not break a flag.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pennon_core::Reason;
use tracing::warn;

/// One successful evaluation, as an experiment analysis needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// The flag key.
    pub flag: Arc<str>,
    /// The variant served.
    pub variant: Arc<str>,
    /// Why it was served.
    pub reason: Reason,
    /// The rule that served it, when one did: an experiment's arms are often rules of
    /// one flag, and without it their exposures would look alike.
    pub rule_id: Option<Arc<str>>,
    /// The context's targeting key, if it had one.
    pub targeting_key: Option<String>,
    /// The attribute a rollout bucketed by, when one hashed (`targetingKey` by default):
    /// an experiment split by `company.id` is analysed per company.
    pub bucket_attribute: Option<Arc<str>>,
    /// That attribute's value as it was hashed: a string, or an integer's decimal form.
    pub bucket_value: Option<String>,
    /// The snapshot version evaluated.
    pub snapshot_version: u64,
    /// When, Unix milliseconds (the provider's clock).
    pub timestamp_ms: i64,
}

/// Which evaluations are exposures, for the queue and the listener alike.
///
/// An exposure says that a user saw an arm of an experiment, and only a rollout puts a
/// user in an arm by chance: a kill switch or a targeted rule serves what it was told
/// to, and evaluated on every request it would crowd the experiments' exposures out of
/// the bounded queue and out of what the control plane keeps. So, as GrowthBook's
/// `trackingCallback` fires for experiment rules only and LaunchDarkly sends full
/// events only for flags in experiments, the default is [`ExposureScope::Split`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExposureScope {
    /// Evaluations a rollout decided (reason `SPLIT`), in a rule or the fallthrough.
    #[default]
    Split,
    /// Every evaluation that served a variant (`STATIC`, `TARGETING_MATCH`, `DEFAULT`,
    /// `DISABLED` and `SPLIT`).
    All,
}

impl ExposureScope {
    /// Whether an evaluation served for `reason` is an exposure.
    pub(crate) fn takes(self, reason: Reason) -> bool {
        match self {
            ExposureScope::Split => reason == Reason::Split,
            ExposureScope::All => true,
        }
    }
}

/// The host's exposure listener ([`crate::PennonProviderBuilder::on_exposure`]).
pub(crate) type ExposureListener = Arc<dyn Fn(&Exposure) + Send + Sync>;

/// A listener and whether it has panicked yet (only the first panic is logged).
pub(crate) struct Listener {
    call: ExposureListener,
    panicked: AtomicBool,
}

impl Listener {
    pub(crate) fn new(call: ExposureListener) -> Listener {
        Listener { call, panicked: AtomicBool::new(false) }
    }

    /// Calls the listener with `exposure`; a panic is caught and logged the first time.
    pub(crate) fn notify(&self, exposure: &Exposure) {
        // Unwind safety: `exposure` is only read, and nothing of the provider is half
        // updated around the call; what the listener leaves broken in its own state is
        // its own, and it is called again with the next exposure.
        let Err(payload) = catch_unwind(AssertUnwindSafe(|| (self.call)(exposure))) else { return };
        if self.panicked.swap(true, Ordering::Relaxed) {
            return;
        }
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a panic without a message");
        warn!(
            flag = %exposure.flag,
            "the exposure listener (on_exposure) panicked: {message}; the evaluation returned as usual, and the \
             exposure still went to the queue, if one is set. The listener is still called; later panics are not \
             logged"
        );
    }
}
