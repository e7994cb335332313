//! Arbitrary bytes as an envelope: size check, DSSE parsing, base64, signatures, then
//! (for envelopes signed by the test key, from the seed corpus) header checks, payload
//! parsing and compilation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pennon_core::{Loaded, TrustPolicy};
use std::sync::OnceLock;

#[path = "common.rs"]
mod common;

static POLICY: OnceLock<TrustPolicy> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let policy = POLICY.get_or_init(common::policy);
    let _ = policy.verify(data);
    if let Ok(Loaded::Updated(snapshot)) = policy.load(data, None, common::NOW) {
        // The same envelope offered again, against what it produced, changes nothing.
        let again = policy.load(data, Some(snapshot.held()), common::NOW);
        assert!(matches!(again, Ok(Loaded::Unchanged)), "a reload was {again:?}");
        for context in common::contexts() {
            common::evaluate_everything(&snapshot, &context, common::NOW);
        }
    }
});
