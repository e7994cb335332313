//! The three engines agree on the benchmark cases wherever their semantics allow: the
//! same check `benches/peers.rs` runs before timing, as a test.

use pennon_bench::equivalence::{self, Engines};
use pennon_bench::fixtures;

#[test]
fn engines_agree_on_conditions_and_rollout_shares() {
    let engines = Engines::load();
    let report = equivalence::check(&engines, &fixtures::users(1_000), 0.07).unwrap_or_else(|e| panic!("{e}"));
    println!("{report}");
    // The population is built so that every branch of (c) is exercised.
    assert!(report.pennon.matched > 50 && report.pennon.matched < 950, "{report}");
}

#[test]
fn the_timing_user_takes_the_longest_path_of_case_c() {
    let snapshot = fixtures::load(&fixtures::envelope(&fixtures::cases_payload()));
    let context = fixtures::context(&fixtures::user());
    let result = snapshot.evaluate(fixtures::CONDITIONS, &context, fixtures::now());
    assert!(matches!(result.explanation.matched, pennon_core::Matched::Rule { .. }), "{result:?}");
    assert!(result.explanation.bucket.is_some(), "the rollout must hash: {result:?}");
}
