//! Arbitrary bytes to `compile_payload`, the publisher-side parse and compile; whatever
//! compiles is then evaluated with a few contexts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pennon_core::Limits;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(snapshot) = pennon_core::compile_payload(data, &Limits::default()) {
        for context in common::contexts() {
            common::evaluate_everything(&snapshot, &context, common::NOW);
        }
    }
});
