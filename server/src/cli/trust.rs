//! The arguments every command that reads an envelope shares: what to trust, and when.

use std::path::PathBuf;

use pennon_core::{Audience, Snapshot, TrustPolicy};

use super::{inputs, Failure};

/// The envelope to load and the trust policy to load it with.
#[derive(Debug, clap::Args)]
pub(crate) struct TrustArgs {
    /// The signed envelope (JSON) to check.
    #[arg(long, value_name = "FILE")]
    pub(crate) envelope: PathBuf,
    /// A public key to trust: `ed25519:<base64>`, or a file holding it. Repeat to trust several.
    #[arg(long = "trusted-key", value_name = "PUBLIC_KEY_OR_FILE", required = true)]
    pub(crate) trusted_keys: Vec<String>,
    /// The environment the snapshot must be for.
    #[arg(long, value_name = "NAME")]
    pub(crate) env: String,
    /// Whom the snapshot must be for: `server` (every flag), `client` (browser snapshots)
    /// or `any`.
    #[arg(long, value_name = "AUDIENCE", default_value = "server", value_parser = ["server", "client", "any"])]
    pub(crate) audience: String,
    /// How many distinct trusted keys must have signed.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) threshold: usize,
    /// The time to check expiry (and evaluate) at, RFC 3339. Default: the system clock.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) now: Option<String>,
}

impl TrustArgs {
    /// Builds the trust policy from the arguments; a bad key or threshold is a usage error.
    pub(crate) fn policy(&self) -> Result<TrustPolicy, Failure> {
        let keys = self.trusted_keys.iter().map(|value| inputs::read_trusted_key(value)).collect::<Result<_, _>>()?;
        let audience = match self.audience.as_str() {
            "client" => Some(Audience::Client),
            "any" => None,
            _ => Some(Audience::Server),
        };
        TrustPolicy::new(self.env.as_str(), keys)
            .and_then(|policy| policy.with_threshold(self.threshold))
            .map(|policy| policy.with_audience(audience))
            .map_err(|e| Failure::Usage(e.to_string()))
    }

    /// Verifies, checks and compiles the envelope, refusing versions below
    /// `min_version`, and returns the snapshot and the `now` used. Arguments are checked
    /// before the envelope is read.
    pub(crate) fn load(&self, min_version: u64) -> Result<(Snapshot, i64), Failure> {
        let policy = self.policy()?;
        let now = inputs::now(self.now.as_deref())?;
        let envelope = inputs::read_file(&self.envelope, "envelope")?;
        let snapshot = policy
            .load_fresh(&envelope, min_version, now)
            .map_err(|error| Failure::Refused { subject: self.envelope.clone(), error })?;
        Ok((snapshot, now))
    }
}
