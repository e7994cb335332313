//! Arbitrary contexts, flag keys and clocks against fixed, rich snapshots: the payloads
//! of the conformance vectors (every operator, segments, prerequisites, rollouts and
//! schedules), compiled once.
//!
//! Input layout: 8 bytes of `now` (i64, little-endian), 1 byte of key length `n`, `n`
//! bytes of flag key, then the context as JSON text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pennon_core::{Context, Limits, Snapshot};
use std::sync::OnceLock;

#[path = "common.rs"]
mod common;

const VECTORS: [&str; 7] = [
    include_str!("../../tests/vectors/evaluation/basics.json"),
    include_str!("../../tests/vectors/evaluation/edge_cases.json"),
    include_str!("../../tests/vectors/evaluation/operators.json"),
    include_str!("../../tests/vectors/evaluation/prerequisites.json"),
    include_str!("../../tests/vectors/evaluation/rollouts.json"),
    include_str!("../../tests/vectors/evaluation/schedules.json"),
    include_str!("../../tests/vectors/evaluation/segments.json"),
];

static SNAPSHOTS: OnceLock<Vec<Snapshot>> = OnceLock::new();

fn snapshots() -> Vec<Snapshot> {
    VECTORS
        .iter()
        .map(|file| {
            let file: serde_json::Value = serde_json::from_str(file).expect("a vector file is JSON");
            let payload = serde_json::to_vec(&file["payload"]).expect("JSON serialises");
            pennon_core::compile_payload(&payload, &Limits::default()).expect("vector payloads compile")
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let snapshots = SNAPSHOTS.get_or_init(snapshots);
    let Some((now, rest)) = data.split_first_chunk::<8>() else { return };
    let now = i64::from_le_bytes(*now);
    let Some((&key_len, rest)) = rest.split_first() else { return };
    let Some((key, context)) = rest.split_at_checked(usize::from(key_len)) else { return };
    let key = String::from_utf8_lossy(key);
    let Ok(context) = std::str::from_utf8(context) else { return };
    let Ok(context) = Context::from_json(context) else { return };
    for snapshot in snapshots {
        let result = snapshot.evaluate(&key, &context, now);
        assert_eq!(result.value.is_some(), result.error.is_none(), "flag {key}: {result:?}");
        common::evaluate_everything(snapshot, &context, now);
    }
});
