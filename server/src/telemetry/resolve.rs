//! A checked report resolved against the flags its environment has: what the store
//! adds (a [`Batch`]). Pure, so the sorting-out is tested without a database.
//!
//! - Counts of a flag the snapshot has are usage: per variant it defines, errors
//!   (`variant: null`) apart, and variants it does not define (an SDK still on a
//!   snapshot from before the flag changed) together as `unknown`. Entries repeated in
//!   one report are summed.
//! - Counts of a flag it lacks are not stored as a flag (client keys are public, so
//!   anyone can post any key): they join the not-found tally with `flag_not_found`.
//! - Exposures of a flag it lacks are dropped.

use std::collections::BTreeMap;

use super::catalog::Catalog;
use super::wire::{Exposures, Report};
use crate::model::SdkKind;
use crate::store::telemetry::{Batch, NewExposure, Outcome, MAX_TALLY};
use crate::store::to_i64;

/// What was accepted of a report: counts entries stored against flags, and exposures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accepted {
    pub(crate) counts: usize,
    pub(crate) exposures: usize,
}

fn add(sum: &mut i64, count: u64) {
    *sum = sum.saturating_add(to_i64(count)).min(MAX_TALLY);
}

/// Resolves `report` for `env` and an SDK key of `kind`, at server time `now`, with
/// `exposures` what its check kept of its exposures (those it dropped count as dropped).
pub(crate) fn resolve(
    report: &Report,
    exposures: &Exposures,
    catalog: &Catalog,
    env: &str,
    kind: SdkKind,
    now: i64,
) -> (Batch, Accepted) {
    let mut usage: BTreeMap<(String, Outcome), i64> = BTreeMap::new();
    let mut not_found: BTreeMap<Option<String>, i64> = BTreeMap::new();
    let mut counted = 0;
    for count in &report.counts {
        let Some(variants) = catalog.variants(&count.flag) else {
            add(not_found.entry(Some(count.flag.clone())).or_default(), count.count);
            continue;
        };
        let outcome = match &count.variant {
            Some(variant) if variants.contains(variant) => Outcome::Variant(variant.clone()),
            Some(_) => Outcome::Unknown,
            None => Outcome::Error,
        };
        add(usage.entry((count.flag.clone(), outcome)).or_default(), count.count);
        counted += 1;
    }
    for entry in &report.flag_not_found {
        add(not_found.entry(entry.flag.clone()).or_default(), entry.count);
    }
    let dropped = to_i64(report.exposures_dropped).saturating_add(to_i64(exposures.refused as u64));
    let exposures: Vec<NewExposure> = exposures
        .kept
        .iter()
        .filter(|e| catalog.variants(&e.flag).is_some())
        .map(|e| NewExposure {
            flag: e.flag.clone(),
            variant: e.variant.clone(),
            reason: e.reason.clone(),
            rule_id: e.rule_id.clone(),
            targeting_key: e.targeting_key.clone(),
            bucket_attribute: e.bucket_attribute.clone(),
            bucket_value: e.bucket_value.clone(),
            snapshot_version: to_i64(e.snapshot_version),
            timestamp_ms: e.timestamp_ms,
        })
        .collect();
    let accepted = Accepted { counts: counted, exposures: exposures.len() };
    let batch = Batch {
        env: env.to_owned(),
        kind: kind.as_str(),
        sdk: report.sdk.clone(),
        instance: report.instance.clone(),
        id: report.batch.clone(),
        snapshot_version: report.snapshot_version.map(to_i64),
        now,
        seen_at: report.window.end_ms.min(now),
        usage,
        not_found,
        exposures,
        exposures_dropped: dropped.min(MAX_TALLY),
    };
    (batch, accepted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(json: serde_json::Value) -> Report {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn sorts_counts_into_usage_and_the_not_found_tally() {
        let catalog = Catalog::of(&[("new-checkout", &["on", "off"]), ("banner", &["red", "blue"])]);
        let now = 1_763_800_100_000;
        let report = report(serde_json::json!({
            "sdk": "pennon-rust/0.1.0", "instance": "i-1",
            "window": { "start_ms": now - 60_000, "end_ms": now + 5_000 },
            "counts": [
                { "flag": "new-checkout", "variant": "on", "count": 1200 },
                { "flag": "new-checkout", "variant": "on", "count": 5 },
                { "flag": "new-checkout", "variant": null, "count": 3 },
                { "flag": "new-checkout", "variant": "beta", "count": 2 },
                { "flag": "old-banner", "variant": "on", "count": 7 }
            ],
            "flag_not_found": [ { "flag": "old-banner", "count": 1 }, { "flag": null, "count": 4 } ],
            "exposures": [
                { "flag": "banner", "variant": "red", "reason": "SPLIT", "snapshot_version": 3, "timestamp_ms": now },
                { "flag": "gone", "variant": "on", "reason": "STATIC", "snapshot_version": 3, "timestamp_ms": now },
                { "flag": "banner", "variant": "red", "reason": "SPLIT", "snapshot_version": 3, "timestamp_ms": "now" }
            ],
            "exposures_dropped": 9
        }));
        let exposures = report.check(now).unwrap();
        assert_eq!(exposures.refused, 1);
        let (batch, accepted) = resolve(&report, &exposures, &catalog, "production", SdkKind::Client, now);
        assert_eq!(accepted, Accepted { counts: 4, exposures: 1 });
        let usage: Vec<(&str, &Outcome, i64)> = batch.usage.iter().map(|((f, o), n)| (f.as_str(), o, *n)).collect();
        assert_eq!(
            usage,
            [
                ("new-checkout", &Outcome::Variant("on".into()), 1205),
                ("new-checkout", &Outcome::Error, 3),
                ("new-checkout", &Outcome::Unknown, 2),
            ]
        );
        assert_eq!(batch.not_found, BTreeMap::from([(None, 4), (Some("old-banner".to_owned()), 8)]));
        assert_eq!(batch.exposures.len(), 1);
        assert_eq!(batch.exposures[0].flag, "banner");
        assert_eq!((batch.kind, batch.exposures_dropped), ("client", 9 + 1), "with the one refused");
        assert_eq!(batch.seen_at, now, "a window ending ahead of the server's clock counts as now");
    }

    #[test]
    fn sums_saturate() {
        let catalog = Catalog::of(&[("f", &["on"])]);
        let max = (1u64 << 53) - 1;
        let report = report(serde_json::json!({
            "sdk": "s", "window": { "start_ms": 0, "end_ms": 10 },
            "counts": [ { "flag": "f", "variant": "on", "count": max }, { "flag": "f", "variant": "on", "count": max } ]
        }));
        let (batch, _) = resolve(&report, &Exposures::default(), &catalog, "e", SdkKind::Server, 20);
        assert_eq!(batch.usage.values().copied().collect::<Vec<_>>(), [MAX_TALLY]);
        assert_eq!(batch.seen_at, 10);
    }
}
