//! Pennon alone: evaluation cases (a) to (d), the load of case (e), and the two floors
//! the cases are judged against, all in one run.
//!
//! ```text
//! cargo bench -p pennon-core --bench evaluate
//! cargo bench -p pennon-core --bench evaluate -- --warm-up-time 1 --measurement-time 3
//! PENNON_BENCH_CLOCK=cpu cargo bench -p pennon-core --bench evaluate   # thread CPU time
//! ```
//!
//! The cases are defined in `fixtures.rs`; `bench/` runs the same cases beside peers.
//! Group names (`b_rollout50/pennon`, `floor/sha256_bucket_input`) match that crate's.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::Measurement;
use criterion::Criterion;
use pennon_bench_support::alloc::{self, CountingAlloc};
use sha2::{Digest, Sha256};

mod fixtures;

// Counts heap bytes so case (e) can report what a loaded snapshot keeps alive. The
// wrapper adds two relaxed atomic adds per allocation; evaluation allocates nothing.
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn evaluation<M: Measurement>(c: &mut Criterion<M>) {
    let snapshot = fixtures::load(&fixtures::envelope(&fixtures::cases_payload()));
    let context = fixtures::context(&fixtures::user());
    let now = fixtures::now();
    let cases = [
        ("a_simple", fixtures::SIMPLE),
        ("b_rollout50", fixtures::ROLLOUT50),
        ("c_conditions_rollout25", fixtures::CONDITIONS),
        ("d_variants4", fixtures::VARIANTS),
    ];
    for (group, key) in cases {
        let probe = snapshot.evaluate(key, &context, now);
        assert!(probe.error.is_none(), "{key}: {:?}", probe.error);
        c.benchmark_group(group).bench_function("pennon", |b| {
            b.iter(|| snapshot.evaluate(black_box(key), black_box(&context), black_box(now)));
        });
    }
}

fn floors<M: Measurement>(c: &mut Criterion<M>) {
    let user = fixtures::user();
    let input = fixtures::bucketing_input(fixtures::ROLLOUT50, user.key.as_bytes());
    let mut group = c.benchmark_group("floor");
    group.bench_function("sha256_bucket_input", |b| b.iter(|| Sha256::digest(black_box(&input[..]))));
    let map: HashMap<String, u64> = (0..fixtures::FLAG_COUNT).map(|i| (fixtures::filler_key(i), i as u64)).collect();
    let key = fixtures::filler_key(4_217);
    group.bench_function("hashmap_lookup_10k", |b| b.iter(|| map.get(black_box(key.as_str())).copied()));
    group.finish();
}

fn load<M: Measurement>(c: &mut Criterion<M>) {
    let envelope = fixtures::envelope(&fixtures::load_payload());
    let policy = fixtures::policy();
    let now = fixtures::now();

    let (snapshot, usage) = alloc::measure(|| fixtures::load(&envelope));
    let (retained, peak) = (usage.retained, usage.peak);
    assert_eq!(snapshot.len(), fixtures::FLAG_COUNT);
    println!(
        "e_load_10k/pennon: envelope {:.2} MB; retained heap {:.2} MB while the snapshot lives; \
         peak extra heap during load {:.2} MB",
        mb(envelope.len() as f64),
        mb(retained as f64),
        mb(peak as f64),
    );
    drop(snapshot);

    let mut group = c.benchmark_group("e_load_10k");
    group.sample_size(10);
    // Dropping the snapshot is not part of a load: it happens when the next one replaces it.
    group.bench_function("pennon", |b| b.iter_with_large_drop(|| policy.load(black_box(&envelope), None, now)));
    group.finish();
}

fn mb(bytes: f64) -> f64 {
    bytes / 1_000_000.0
}

fn run<M: Measurement>(measurement: M) {
    let mut c = Criterion::default()
        .with_measurement(measurement)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    evaluation(&mut c);
    floors(&mut c);
    load(&mut c);
}

pennon_bench_support::main_with_clock!(run);
