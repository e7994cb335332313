//! Arbitrary bytes as a payload, signed with the test key, then loaded: everything past
//! the signature check (header checks, the depth scan, parsing, limits, compilation), as
//! a client meets it, and then evaluation of whatever compiled.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pennon_core::{Loaded, SigningKey, TrustPolicy};
use std::sync::OnceLock;

#[path = "common.rs"]
mod common;

static KEYS: OnceLock<(SigningKey, TrustPolicy)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (key, policy) = KEYS.get_or_init(|| (common::signing_key(), common::policy()));
    let envelope = pennon_core::sign_envelope(data, &[key]).expect("signing never fails for one key");
    match policy.load(&envelope, None, common::NOW) {
        Ok(Loaded::Updated(snapshot)) => {
            for context in common::contexts() {
                common::evaluate_everything(&snapshot, &context, common::NOW);
            }
        }
        Ok(Loaded::Unchanged) => panic!("nothing was held, yet the load says unchanged"),
        Err(error) => {
            // A correctly signed envelope can only fail past the signature check.
            let kind = error.kind();
            assert!(
                !matches!(
                    kind,
                    "too_large" | "malformed_envelope" | "wrong_payload_type" | "unknown_key" | "bad_signature"
                ),
                "a validly signed envelope failed with {kind}: {error}"
            );
        }
    }
});
