//! Telemetry hook points and change events.

use std::sync::Arc;

use open_feature::provider::FeatureProvider;
use open_feature::EvaluationContext;
use pennon_core::Reason;
use pennon_provider::{EvaluationCount, ExposureScope::All, ProviderEvent};
use serde_json::json;

use crate::common::{builder, envelope, key, payload, sign};

fn count(flag: &str, variant: Option<&str>, count: u64) -> EvaluationCount {
    EvaluationCount { flag: Arc::from(flag), variant: variant.map(Arc::from), count }
}

#[tokio::test]
async fn counters_count_per_flag_and_variant_and_reset_on_take() {
    let mut provider = builder().inline(envelope(1)).build().unwrap();
    provider.initialize(&EvaluationContext::default()).await;
    let handle = provider.handle();
    let staff = EvaluationContext::default().with_custom_field("email", "ann@acme.com");
    let guest = EvaluationContext::default();
    for _ in 0..3 {
        provider.resolve_bool_value("new-checkout", &staff).await.unwrap();
    }
    provider.resolve_bool_value("new-checkout", &guest).await.unwrap();
    provider.resolve_int_value("new-checkout", &guest).await.unwrap_err(); // TYPE_MISMATCH
    provider.resolve_bool_value("nope", &guest).await.unwrap_err(); // FLAG_NOT_FOUND

    let expected = vec![
        count("new-checkout", Some("off"), 1),
        count("new-checkout", Some("on"), 3),
        count("new-checkout", None, 1),
    ];
    let read = handle.evaluation_counts();
    assert_eq!((read.counts, read.flag_not_found), (expected.clone(), 1));
    let taken = handle.take_evaluation_counts();
    assert_eq!((taken.counts, taken.flag_not_found), (expected, 1), "take returns what was counted");
    let after = handle.evaluation_counts();
    assert!(after.counts.is_empty() && after.flag_not_found == 0, "and resets it");

    // Counters outlive swaps: the same flag and variant count on in version 2.
    handle.offer(&envelope(2)).unwrap();
    provider.resolve_bool_value("new-checkout", &staff).await.unwrap();
    assert_eq!(handle.evaluation_counts().counts, vec![count("new-checkout", Some("on"), 1)]);
}

#[tokio::test]
async fn the_exposure_queue_is_bounded_and_counts_drops() {
    let mut provider = builder().inline(envelope(1)).exposure_queue(2).exposures(All).clock(|| 1_000).build().unwrap();
    provider.initialize(&EvaluationContext::default()).await;
    let handle = provider.handle();
    let ctx = EvaluationContext::default().with_targeting_key("user-7").with_custom_field("email", "ann@acme.com");
    for _ in 0..5 {
        provider.resolve_bool_value("new-checkout", &ctx).await.unwrap();
    }
    provider.resolve_bool_value("nope", &ctx).await.unwrap_err(); // errors are not exposures

    let exposures = handle.drain_exposures(10);
    assert_eq!(exposures.len(), 2);
    let first = &exposures[0];
    assert_eq!((&*first.flag, &*first.variant, first.reason), ("new-checkout", "on", Reason::TargetingMatch));
    assert_eq!(first.rule_id.as_deref(), Some("staff"));
    assert_eq!(
        (first.targeting_key.as_deref(), first.snapshot_version, first.timestamp_ms),
        (Some("user-7"), 1, 1_000)
    );
    assert_eq!(handle.exposures_dropped(), 3);
    assert!(handle.drain_exposures(10).is_empty());

    // No rule decided the fallthrough: no rule id.
    provider.resolve_bool_value("new-checkout", &EvaluationContext::default()).await.unwrap();
    let fallthrough = handle.drain_exposures(10);
    assert_eq!(fallthrough.len(), 1);
    assert_eq!(
        (&*fallthrough[0].variant, fallthrough[0].reason, &fallthrough[0].rule_id),
        ("off", Reason::Default, &None)
    );
}

/// An exposure of a rollout says what it bucketed by and the value hashed, so a split by
/// company is analysed per company; the value hashes to the position served.
#[tokio::test]
async fn exposures_of_rollouts_carry_the_value_hashed() {
    let split = |bucket_by: Option<&str>| {
        let mut rollout = json!({"variants": [{"variant": "a", "weight": 1}, {"variant": "b", "weight": 1}]});
        if let Some(path) = bucket_by {
            rollout["bucket_by"] = json!(path);
        }
        json!({"type": "string", "enabled": true, "variants": {"a": "A", "b": "B"}, "off_variant": "a",
               "fallthrough": {"rollout": rollout}})
    };
    let flags = json!({"by-company": split(Some("company.id")), "by-user": split(None), "fixed": {
        "type": "string", "enabled": true, "variants": {"a": "A"}, "off_variant": "a", "fallthrough": {"variant": "a"}}});
    let envelope = sign(&payload("test", 1, "2099-01-01T00:00:00Z", flags), &[&key(1)]);
    let mut provider = builder().inline(envelope.clone()).exposure_queue(8).exposures(All).build().unwrap();
    provider.initialize(&EvaluationContext::default()).await;
    let handle = provider.handle();
    let company = open_feature::StructValue { fields: [("id".to_owned(), open_feature::Value::Int(4_200))].into() };
    let ctx = EvaluationContext::default()
        .with_targeting_key("user-7")
        .with_custom_field("company", open_feature::EvaluationContextFieldValue::new_struct(company));
    for flag in ["by-company", "by-user", "fixed"] {
        provider.resolve_string_value(flag, &ctx).await.unwrap();
    }

    let exposures = handle.drain_exposures(10);
    let units: Vec<_> =
        exposures.iter().map(|e| (&*e.flag, e.bucket_attribute.as_deref(), e.bucket_value.as_deref())).collect();
    assert_eq!(
        units,
        [
            ("by-company", Some("company.id"), Some("4200")),
            ("by-user", Some("targetingKey"), Some("user-7")),
            ("fixed", None, None)
        ]
    );
    let policy = pennon_core::TrustPolicy::new("test", vec![key(1).public_key().clone()]).unwrap();
    let pennon_core::Loaded::Updated(snapshot) = policy.load(&envelope, None, 0).unwrap() else { unreachable!() };
    for exposure in &exposures[..2] {
        let position = pennon_core::bucket_position(
            pennon_core::bucket_hash(&exposure.flag, exposure.bucket_value.as_deref().unwrap().as_bytes()),
            2,
        );
        let served = snapshot.variant_names(&exposure.flag).unwrap().nth(usize::try_from(position).unwrap()).unwrap();
        assert_eq!(*exposure.variant, *served, "{}", exposure.flag);
    }
}

/// `ConfigurationChanged` lists added, removed, re-described and re-targeted flags, and
/// leaves out the flag that did not change.
#[tokio::test]
async fn configuration_changed_lists_the_changed_flags() {
    let flag = |description: &str, email: &str| {
        json!({"type": "boolean", "enabled": true, "variants": {"on": true, "off": false}, "off_variant": "off",
               "fallthrough": {"variant": "off"}, "description": description,
               "rules": [{"id": "r", "serve": {"variant": "on"},
                          "conditions": [{"attribute": "email", "op": "ends_with", "value": email}]}]})
    };
    let v1 = json!({"same": flag("s", "@a.com"), "described": flag("old", "@a.com"), "removed": flag("r", "@a.com"),
                    "rules-only": flag("x", "@a.com")});
    let v2 = json!({"same": flag("s", "@a.com"), "described": flag("new", "@a.com"), "added": flag("n", "@a.com"),
                    "rules-only": flag("x", "@b.com")});
    let mut provider =
        builder().inline(sign(&payload("test", 1, "2099-01-01T00:00:00Z", v1), &[&key(1)])).build().unwrap();
    provider.initialize(&EvaluationContext::default()).await;
    let handle = provider.handle();
    let mut events = handle.subscribe();

    handle.offer(&sign(&payload("test", 2, "2099-01-01T00:00:00Z", v2), &[&key(1)])).unwrap();

    let event = events.try_recv().unwrap();
    let expected = ProviderEvent::ConfigurationChanged {
        changed_flags: vec!["added".into(), "described".into(), "removed".into(), "rules-only".into()],
        old_version: Some(1),
        new_version: 2,
    };
    assert_eq!(event, expected);
}

/// A value the caller's type cannot hold is an error to the caller: counted as one,
/// and no exposure, which would put the user in an experiment arm they never saw.
#[tokio::test]
async fn a_value_the_callers_type_cannot_hold_is_an_error_not_an_exposure() {
    let flags = json!({ "layout": {
        "type": "object", "enabled": true, "variants": { "grid": [1, 2, 3] },
        "off_variant": "grid", "fallthrough": { "variant": "grid" } } });
    let envelope = sign(&payload("test", 1, "2099-01-01T00:00:00Z", flags), &[&key(1)]);
    let mut provider = builder().inline(envelope).exposure_queue(4).exposures(All).clock(|| 1_000).build().unwrap();
    provider.initialize(&EvaluationContext::default()).await;
    let handle = provider.handle();
    let ctx = EvaluationContext::default().with_targeting_key("user-7");
    let error = provider.resolve_struct_value("layout", &ctx).await.unwrap_err();
    assert_eq!(error.code, open_feature::EvaluationErrorCode::TypeMismatch);
    assert_eq!(handle.evaluation_counts().counts, vec![count("layout", None, 1)]);
    assert!(handle.drain_exposures(10).is_empty());
}

/// Taking the counts while snapshots swap in new flags loses none: the registry keeps
/// whatever a served snapshot still counts into.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taking_counts_during_swaps_loses_none() {
    const VERSIONS: u64 = 400;
    let one_flag = |version: u64| {
        let flags = json!({ format!("f{version}"): {
            "type": "boolean", "enabled": true, "variants": { "on": true }, "off_variant": "on",
            "fallthrough": { "variant": "on" } } });
        sign(&payload("test", version, "2099-01-01T00:00:00Z", flags), &[&key(1)])
    };
    let envelopes: Vec<Vec<u8>> = (1..=VERSIONS).map(one_flag).collect();
    let mut provider = builder().inline(envelopes[0].clone()).build().unwrap();
    provider.initialize(&EvaluationContext::default()).await;
    let handle = provider.handle();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let taker = {
        let (handle, stop) = (handle.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut taken = std::collections::HashMap::<String, u64>::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for c in handle.take_evaluation_counts().counts {
                    *taken.entry(c.flag.to_string()).or_default() += c.count;
                }
            }
            taken
        })
    };
    let ctx = EvaluationContext::default();
    for (version, envelope) in (1..=VERSIONS).zip(&envelopes) {
        if version > 1 {
            handle.offer(envelope).unwrap();
        }
        provider.resolve_bool_value(&format!("f{version}"), &ctx).await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut taken = taker.join().unwrap();
    for c in handle.take_evaluation_counts().counts {
        *taken.entry(c.flag.to_string()).or_default() += c.count;
    }
    let lost: Vec<u64> = (1..=VERSIONS).filter(|v| taken.get(&format!("f{v}")).copied() != Some(1)).collect();
    assert!(
        lost.is_empty(),
        "{} of {VERSIONS} evaluations never reported, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
}

/// A context the provider cannot read (`INVALID_CONTEXT`) counts as an error of the
/// flag asked for, as every other failed evaluation does.
#[tokio::test]
async fn an_unreadable_context_counts_as_an_error() {
    use open_feature::{EvaluationContextFieldValue as Field, EvaluationErrorCode};
    let mut provider = builder().inline(envelope(1)).build().unwrap();
    provider.initialize(&EvaluationContext::default()).await;
    let handle = provider.handle();
    let unreadable = EvaluationContext::default().with_custom_field("email", Field::new_struct(3u8));
    let error = provider.resolve_bool_value("new-checkout", &unreadable).await.unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::InvalidContext);
    assert!(error.message.as_deref().unwrap().contains("context field `email`"), "{error:?}");
    // A flag that never reads the field is unaffected, as in the npm providers.
    let banner = provider.resolve_string_value("banner", &unreadable).await.unwrap();
    assert_eq!(banner.value, "v1");
    // A flag the snapshot lacks is FLAG_NOT_FOUND whatever the context, as in the npm providers.
    let missing = provider.resolve_bool_value("nope", &unreadable).await.unwrap_err();
    assert_eq!(missing.code, EvaluationErrorCode::FlagNotFound);
    let read = handle.evaluation_counts();
    let counts = vec![count("banner", Some("current"), 1), count("new-checkout", None, 1)];
    assert_eq!((read.counts, read.flag_not_found), (counts, 1));
}

/// Taking the counts while other threads evaluate flags and keys the snapshot lacks
/// loses and repeats none: counters are swapped, not read then zeroed, and a not-found
/// key counted into a window just taken is counted in the next.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn taking_counts_during_evaluations_loses_none() {
    const PER_TASK: u64 = 100_000;
    let mut provider = builder().inline(envelope(1)).build().unwrap();
    provider.initialize(&EvaluationContext::default()).await;
    let handle = provider.handle();
    let provider = Arc::new(provider);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let taker = {
        let (handle, stop) = (handle.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut found, mut not_found, mut takes) = (0u64, 0u64, 0u64);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let taken = handle.take_evaluation_counts();
                found += taken.counts.iter().map(|c| c.count).sum::<u64>();
                not_found += taken.not_found.iter().map(|c| c.count).sum::<u64>();
                takes += 1;
            }
            (found, not_found, takes)
        })
    };
    let tasks: Vec<_> = (0..3)
        .map(|t| {
            let provider = provider.clone();
            tokio::spawn(async move {
                let ctx = EvaluationContext::default();
                for i in 0..PER_TASK {
                    provider.resolve_bool_value("new-checkout", &ctx).await.unwrap();
                    provider
                        .resolve_bool_value(["gone-a", "gone-b"][usize::from((i + t) % 2 == 0)], &ctx)
                        .await
                        .unwrap_err();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut found, mut not_found, takes) = taker.join().unwrap();
    let last = handle.take_evaluation_counts();
    found += last.counts.iter().map(|c| c.count).sum::<u64>();
    not_found += last.not_found.iter().map(|c| c.count).sum::<u64>();
    assert!(takes > 100, "the counts were taken while evaluating ({takes} times)");
    assert_eq!((found, not_found), (3 * PER_TASK, 3 * PER_TASK));
}
