//! Pennon's evaluation core: one pure engine for every runtime.
//!
//! A control plane publishes a signed snapshot of all flags of an environment. This
//! crate verifies it ([`TrustPolicy::load`]), compiles it into an immutable
//! [`Snapshot`], and evaluates flags against an evaluation [`Context`] at a `now` the
//! caller passes in ([`Snapshot::evaluate`]).
//!
//! Why it is built this way:
//!
//! - **No I/O, no clock, no randomness, no threads.** The same bytes in give the same
//!   result out, natively and in WebAssembly, so a user in a rollout in a Rust service
//!   is in it at the edge and in the browser too. Fetching, caching and timers belong
//!   to the providers around this crate.
//! - **Verify before parse.** Signatures are checked over the exact payload bytes
//!   (DSSE), so a tampered or foreign snapshot never reaches the JSON parser, and a
//!   refused snapshot never replaces a good one.
//! - **Compile once, evaluate cheaply.** Regexes, semvers, times and key lists are
//!   prepared at load time; evaluation reads borrowed data and allocates only to
//!   report an error.
//! - **Outcomes are data.** A missing flag or a type mismatch is an [`Evaluation`] with
//!   an [`ErrorCode`], as in OpenFeature; only malformed input is an `Err`.
//!
//! The format and the algorithms are specified in `docs/SPEC.md`; the conformance
//! vectors in `tests/vectors/` hold every runtime to it.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod attributes;
mod base64;
mod changes;
mod compile;
mod condition;
mod context;
mod context_json;
mod decimal;
mod envelope;
mod error;
mod eval;
mod json;
mod keys;
mod limits;
mod model;
mod number;
mod reads;
mod regex;
mod result;
mod semver;
mod sha256;
mod shown;
mod snapshot;
mod sort;
mod time;
mod verify;

pub use attributes::{AttributeValue, Attributes, ValueRef};
pub use compile::compile_payload;
pub use context::{Context, Value};
pub use envelope::{sign_envelope, PAYLOAD_TYPE};
pub use error::Error;
pub use eval::bucket::{bucket_hash, bucket_position};
pub use json::{write_hex, write_json_string, JsonText};
pub use keys::{PublicKey, SigningKey};
pub use limits::Limits;
pub use result::{Bucket, ErrorCode, EvalError, Evaluation, Explanation, Matched, Reason};
pub use snapshot::{FlagMetadata, FlagType, FlagValue, MetadataValue, Snapshot};
pub use time::{format_rfc3339, parse_rfc3339};
pub use verify::{Audience, Held, Loaded, TrustPolicy, DEFAULT_MAX_BYTES, MAX_VERSION};
