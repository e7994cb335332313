//! Lock-free reads under swaps: every result comes from one whole snapshot version.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use open_feature::provider::FeatureProvider;
use open_feature::{EvaluationContext, FlagMetadataValue};
use serde_json::json;

use crate::common::{builder, key, payload, sign};

const READERS: usize = 8;
const SWAPS: u64 = 1_000;

/// Version `v`: flag `version` serves variant `v<v>` with value `v`, flag `label`
/// serves `label-<v>`, and both sit in a snapshot whose metadata says `v`.
fn versioned(v: u64) -> Vec<u8> {
    let flags = json!({
        "version": {"type": "integer", "enabled": true, "variants": {format!("v{v}"): v},
                    "off_variant": format!("v{v}"), "fallthrough": {"variant": format!("v{v}")}},
        "label": {"type": "string", "enabled": true, "variants": {"only": format!("label-{v}")},
                  "off_variant": "only", "fallthrough": {"variant": "only"}},
    });
    sign(&payload("test", v, "2099-01-01T00:00:00Z", flags), &[&key(1)])
}

#[test]
fn eight_threads_never_see_a_torn_snapshot_across_1000_swaps() {
    let envelopes: Vec<Vec<u8>> = (1..=SWAPS + 1).map(versioned).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut provider = builder().inline(envelopes[0].clone()).build().unwrap();
    runtime.block_on(provider.initialize(&EvaluationContext::default()));
    let handle = provider.handle();
    let provider = Arc::new(provider);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(Barrier::new(READERS + 1));
    let evaluations = Arc::new(AtomicUsize::new(0));

    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (provider, stop, started, evaluations) =
                (provider.clone(), stop.clone(), started.clone(), evaluations.clone());
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
                let ctx = EvaluationContext::default().with_targeting_key("user-1");
                let (mut last, mut seen) = (0i64, std::collections::BTreeSet::new());
                let mut check = || {
                    let version = runtime.block_on(provider.resolve_int_value("version", &ctx)).unwrap();
                    let label = runtime.block_on(provider.resolve_string_value("label", &ctx)).unwrap();
                    let v = version.value;
                    // Value, variant and metadata of one result come from one version.
                    assert_eq!(version.variant.as_deref(), Some(format!("v{v}").as_str()));
                    let metadata = version.flag_metadata.unwrap();
                    assert_eq!(metadata.values["snapshotVersion"], FlagMetadataValue::Int(v));
                    // Versions only move forward, and a later read is never older.
                    assert!(v >= last, "version went back from {last} to {v}");
                    let label_version: i64 = label.value.strip_prefix("label-").unwrap().parse().unwrap();
                    assert!(label_version >= v, "label {label_version} older than version {v} read before it");
                    let label_metadata = label.flag_metadata.unwrap();
                    assert_eq!(label_metadata.values["snapshotVersion"], FlagMetadataValue::Int(label_version));
                    last = label_version;
                    seen.insert(v);
                    evaluations.fetch_add(2, Ordering::Relaxed);
                };
                check();
                started.wait();
                while !stop.load(Ordering::Relaxed) {
                    check();
                }
                check();
                seen
            })
        })
        .collect();

    started.wait();
    for envelope in &envelopes[1..] {
        handle.offer(envelope).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let seen: Vec<_> = readers.into_iter().map(|reader| reader.join().expect("no reader saw a torn read")).collect();

    assert_eq!(handle.version(), Some(SWAPS + 1));
    for versions in &seen {
        assert_eq!(versions.last(), Some(&((SWAPS + 1) as i64)), "each reader ends on the last version");
    }
    // Every reader saw version 1 before the swaps and the last after them; versions in
    // between prove the readers ran while swaps happened.
    let between: std::collections::BTreeSet<_> =
        seen.iter().flatten().filter(|&&v| v > 1 && v < (SWAPS + 1) as i64).collect();
    assert!(!between.is_empty(), "readers overlapped the swaps");
    println!("{} evaluations; {} intermediate versions observed", evaluations.load(Ordering::Relaxed), between.len());
}
