//! Cases (a) to (e) for Pennon, Unleash Yggdrasil and flagd's evaluation engine, plus the
//! two floors, in one run. Groups are named `<case>/<engine>`, e.g. `b_rollout50/flagd`.
//!
//! ```text
//! cargo bench -p pennon-bench
//! cargo bench -p pennon-bench -- b_rollout50      # one case
//! PENNON_BENCH_CLOCK=cpu cargo bench -p pennon-bench   # thread CPU time, for busy machines
//! ```
//!
//! Before timing anything, the run checks on 1,000 users that the engines agree on what
//! they are asked (`pennon_bench::equivalence`), and prints each engine's retained heap
//! after loading 10,000 flags.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::Measurement;
use criterion::{BenchmarkGroup, Criterion};
use pennon_bench::equivalence::{self, Engines};
use pennon_bench::{fixtures, flagd, yggdrasil};
use pennon_bench_support::alloc::{self, CountingAlloc};
use sha2::{Digest, Sha256};

// Counts heap bytes for the retained-memory figures of case (e).
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// How many users the equivalence check runs over, and how far a rollout share may be
/// from its weight (at least three standard deviations at 1,000 users).
const EQUIVALENCE_USERS: usize = 1_000;
const SHARE_TOLERANCE: f64 = 0.07;

fn evaluation<M: Measurement>(c: &mut Criterion<M>) {
    let engines = Engines::load();
    let report = equivalence::check(&engines, &fixtures::users(EQUIVALENCE_USERS), SHARE_TOLERANCE)
        .unwrap_or_else(|e| panic!("the engines disagree: {e}"));
    println!("equivalence over {EQUIVALENCE_USERS} users:\n{report}");

    let user = fixtures::user();
    let (pennon_ctx, unleash_ctx, flagd_ctx) =
        (fixtures::context(&user), yggdrasil::context(&user), flagd::context(&user));
    let now = fixtures::now();
    let Engines { pennon, yggdrasil: unleash, flagd } = &engines;

    let booleans = [
        ("a_simple", fixtures::SIMPLE),
        ("b_rollout50", fixtures::ROLLOUT50),
        ("c_conditions_rollout25", fixtures::CONDITIONS),
    ];
    for (group, key) in booleans {
        let mut group = c.benchmark_group(group);
        group.bench_function("pennon", |b| b.iter(|| pennon.evaluate(black_box(key), black_box(&pennon_ctx), now)));
        group.bench_function("yggdrasil", |b| {
            b.iter(|| yggdrasil::is_enabled(unleash, black_box(key), black_box(&unleash_ctx)));
        });
        group.bench_function("flagd", |b| b.iter(|| flagd.evaluate(black_box(key), black_box(&flagd_ctx))));
        group.finish();
    }

    let key = fixtures::VARIANTS;
    let mut group = c.benchmark_group("d_variants4");
    group.bench_function("pennon", |b| b.iter(|| pennon.evaluate(black_box(key), black_box(&pennon_ctx), now)));
    group.bench_function("yggdrasil", |b| {
        b.iter(|| yggdrasil::variant(unleash, black_box(key), black_box(&unleash_ctx)));
    });
    group.bench_function("flagd", |b| b.iter(|| flagd.evaluate(black_box(key), black_box(&flagd_ctx))));
    group.finish();
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

/// Loads once to report the heap the loaded state keeps alive, then times loading.
/// The loaded state is dropped outside the timing: a drop is not part of a load. The
/// timed loads run uncounted ([`alloc::measure`] counts only the first).
fn bench_load<M: Measurement, T>(
    group: &mut BenchmarkGroup<'_, M>,
    engine: &str,
    input_bytes: usize,
    load: impl Fn() -> T,
) {
    let (loaded, usage) = alloc::measure(&load);
    drop(loaded);
    println!(
        "e_load_10k/{engine}: input {:.2} MB; retained heap {:.2} MB; peak extra heap during load {:.2} MB",
        input_bytes as f64 / 1e6,
        usage.retained as f64 / 1e6,
        usage.peak as f64 / 1e6,
    );
    group.bench_function(engine, |b| b.iter_with_large_drop(&load));
}

fn load<M: Measurement>(c: &mut Criterion<M>) {
    let envelope = fixtures::envelope(&fixtures::load_payload());
    let policy = fixtures::policy();
    let now = fixtures::now();
    let unleash_json = yggdrasil::load_json();
    let flagd_json = flagd::load_json();

    let mut group = c.benchmark_group("e_load_10k");
    group.sample_size(10);
    bench_load(&mut group, "pennon", envelope.len(), || policy.load(black_box(&envelope), None, now));
    bench_load(&mut group, "yggdrasil", unleash_json.len(), || yggdrasil::load(black_box(&unleash_json)));
    bench_load(&mut group, "flagd", flagd_json.len(), || flagd::Flagd::load(black_box(&flagd_json)));
    group.finish();
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
