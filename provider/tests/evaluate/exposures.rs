//! Which evaluations are exposures (`exposures`), and the host's listener
//! (`on_exposure`): it gets what the queue gets, with or without a queue, and a panic
//! in it neither fails an evaluation nor is logged more than once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use open_feature::provider::FeatureProvider;
use open_feature::EvaluationContext;
use pennon_core::Reason;
use pennon_provider::{Exposure, ExposureScope, PennonProviderBuilder};
use serde_json::json;

use crate::common::{builder, capture_logs, key, logs, payload, sign};

/// A kill switch (one variant, no rules), a flag a rule decides, one switched off, a
/// 50/50 experiment, and a rollout now at 100%.
fn flags() -> Vec<u8> {
    let boolean = |extra: serde_json::Value| {
        let mut flag = json!({"type": "boolean", "enabled": true, "variants": {"on": true, "off": false},
                              "off_variant": "off", "fallthrough": {"variant": "on"}});
        flag.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        flag
    };
    let flags = json!({
        "kill-switch": boolean(json!({})),
        "staff-only": boolean(json!({"rules": [{"id": "staff", "serve": {"variant": "on"}}]})),
        "switched-off": boolean(json!({"enabled": false})),
        "experiment": boolean(json!({"fallthrough": {"rollout": {"variants": [
            {"variant": "on", "weight": 1}, {"variant": "off", "weight": 1}]}}})),
        "launched": boolean(json!({"fallthrough": {"rollout": {"variants": [
            {"variant": "on", "weight": 1}, {"variant": "off", "weight": 0}]}}})),
    });
    sign(&payload("test", 1, "2099-01-01T00:00:00Z", flags), &[&key(1)])
}

const FLAGS: [&str; 5] = ["kill-switch", "staff-only", "switched-off", "experiment", "launched"];

/// A listener that keeps what it is given.
fn kept() -> (Arc<Mutex<Vec<Exposure>>>, impl Fn(&Exposure) + Send + Sync + 'static) {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let into = kept.clone();
    (kept, move |exposure: &Exposure| into.lock().unwrap().push(exposure.clone()))
}

/// Evaluates every flag of [`flags`] for `users`, and returns the values served.
async fn evaluate_all(builder: PennonProviderBuilder, users: usize) -> (pennon_provider::ProviderHandle, Vec<bool>) {
    let mut provider = builder.build().unwrap();
    provider.initialize(&EvaluationContext::default()).await;
    let mut values = Vec::new();
    for user in 0..users {
        let ctx = EvaluationContext::default().with_targeting_key(format!("user-{user}"));
        for flag in FLAGS {
            values.push(provider.resolve_bool_value(flag, &ctx).await.unwrap().value);
        }
    }
    (provider.handle(), values)
}

fn flag_reasons(exposures: &[Exposure]) -> Vec<(&str, Reason)> {
    exposures.iter().map(|e| (&*e.flag, e.reason)).collect()
}

#[tokio::test]
async fn by_default_only_rollouts_make_exposures_for_the_queue_and_the_listener() {
    let (heard, listener) = kept();
    let (handle, _) = evaluate_all(builder().inline(flags()).exposure_queue(10).on_exposure(listener), 1).await;
    let queued = handle.drain_exposures(10);
    let splits = [("experiment", Reason::Split), ("launched", Reason::Split)];
    assert_eq!(flag_reasons(&queued), splits, "a rollout at 100% is a split still");
    assert_eq!(*heard.lock().unwrap(), queued, "the listener gets the record the queue holds");
    assert_eq!(handle.evaluation_counts().counts.len(), FLAGS.len(), "every flag is counted");

    let (heard, listener) = kept();
    let all = builder().inline(flags()).exposure_queue(10).exposures(ExposureScope::All).on_exposure(listener);
    let (handle, _) = evaluate_all(all, 1).await;
    let queued = handle.drain_exposures(10);
    let every = [
        ("kill-switch", Reason::Static),
        ("staff-only", Reason::TargetingMatch),
        ("switched-off", Reason::Disabled),
        ("experiment", Reason::Split),
        ("launched", Reason::Split),
    ];
    assert_eq!(flag_reasons(&queued), every);
    assert_eq!(*heard.lock().unwrap(), queued);
}

#[tokio::test]
async fn the_listener_gets_every_exposure_without_a_queue_and_past_a_full_one() {
    let (heard, listener) = kept();
    let (handle, _) = evaluate_all(builder().inline(flags()).on_exposure(listener), 50).await;
    assert_eq!(heard.lock().unwrap().len(), 2 * 50);
    assert_eq!((handle.drain_exposures(1_000).len(), handle.exposures_dropped()), (0, 0), "no queue, none dropped");

    let (heard, listener) = kept();
    let (handle, _) = evaluate_all(builder().inline(flags()).exposure_queue(30).on_exposure(listener), 50).await;
    let heard = heard.lock().unwrap();
    assert_eq!((heard.len(), handle.exposures_dropped()), (2 * 50, 2 * 50 - 30));
    assert_eq!(handle.drain_exposures(1_000), heard[..30], "the queue holds the first 30 the listener got");
}

/// The clock is read for an exposure, not for every evaluation: a kill switch evaluated
/// on every request costs no clock read with a listener on.
#[tokio::test]
async fn exposures_read_the_clock_and_evaluations_outside_the_scope_do_not() {
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = reads.clone();
    let clock = move || {
        counted.fetch_add(1, Ordering::SeqCst);
        1_763_800_000_000
    };
    let (heard, listener) = kept();
    let mut provider = builder().inline(flags()).clock(clock).on_exposure(listener).build().unwrap();
    provider.initialize(&EvaluationContext::default()).await;
    let ctx = EvaluationContext::default().with_targeting_key("user-1");
    let before = reads.load(Ordering::SeqCst);
    for _ in 0..100 {
        assert!(provider.resolve_bool_value("kill-switch", &ctx).await.unwrap().value);
    }
    assert_eq!(reads.load(Ordering::SeqCst), before, "no read for a kill switch");
    provider.resolve_bool_value("experiment", &ctx).await.unwrap();
    assert_eq!(reads.load(Ordering::SeqCst), before + 1, "one read for an exposure");
    assert_eq!(heard.lock().unwrap()[0].timestamp_ms, 1_763_800_000_000);
}

#[tokio::test]
async fn a_panicking_listener_is_logged_once_and_evaluations_return_their_values() {
    capture_logs();
    let (_, expected) = evaluate_all(builder().inline(flags()), 20).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let panicking = move |exposure: &Exposure| {
        counted.fetch_add(1, Ordering::SeqCst);
        panic!("no route to the warehouse for {} (test 7c1e)", exposure.flag);
    };
    let (handle, values) = evaluate_all(builder().inline(flags()).exposure_queue(100).on_exposure(panicking), 20).await;
    assert_eq!(values, expected, "every evaluation returned the value it would have");
    assert_eq!(calls.load(Ordering::SeqCst), 2 * 20, "called with every exposure, after panicking too");
    assert_eq!(handle.drain_exposures(100).len(), 2 * 20, "and the queue still got each");
    let logged = logs();
    let said = "the exposure listener (on_exposure) panicked: no route to the warehouse for experiment (test 7c1e)";
    assert_eq!(logged.matches("(test 7c1e)").count(), 1, "logged once:\n{logged}");
    assert!(logged.contains(said), "{logged}");
}
