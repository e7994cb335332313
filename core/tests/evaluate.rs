//! Evaluation details the vectors do not show: explanations, metadata, JSON output,
//! and that no input can make evaluation panic.

#![allow(clippy::cast_possible_truncation)]

mod common;

use common::{boolean_flag, now, snapshot, time};
use pennon_core::{Context, ErrorCode, FlagType, Matched, Reason, Value};
use proptest::prelude::*;
use serde_json::json;

fn context(text: &str) -> Context {
    Context::from_json(text).expect("context JSON")
}

#[test]
fn a_rule_match_explains_rule_and_segment() {
    let flag = boolean_flag(json!({"rules": [
        {"id": "not-me", "conditions": [{"attribute": "plan", "op": "equals", "value": "free"}], "serve": {"variant": "off"}},
        {"id": "beta-users", "conditions": [{"op": "in_segment", "value": ["staff", "beta"]}], "serve": {"variant": "on"}}
    ]}));
    let segments = json!({"staff": {"included": ["ann"]}, "beta": {"included": ["bob"]}});
    let snapshot = snapshot(json!({"f": flag}), segments);
    let result = snapshot.evaluate("f", &context(r#"{"targetingKey": "bob", "plan": "pro"}"#), now());
    assert_eq!((result.variant, result.reason), (Some("on"), Reason::TargetingMatch));
    assert_eq!(result.explanation.matched, Matched::Rule { id: "beta-users", index: 1 });
    assert_eq!(result.explanation.segment, Some("beta"));
    assert_eq!(result.explanation.snapshot_version, 1);
}

#[test]
fn a_split_explains_the_bucket() {
    let rollout = json!({"rollout": {"variants": [{"variant": "on", "weight": 30}, {"variant": "off", "weight": 70}]}});
    let snapshot = snapshot(json!({"new-checkout": boolean_flag(json!({"fallthrough": rollout}))}), json!({}));
    let result = snapshot.evaluate("new-checkout", &Context::new(Some("user-42")), now());
    // The worked example of docs/SPEC.md section 5.6: position 29 of 100.
    assert_eq!((result.variant, result.reason), (Some("on"), Reason::Split));
    let bucket = result.explanation.bucket.expect("a bucket");
    assert_eq!(
        (bucket.value, bucket.total_weight, bucket.salt(), bucket.attribute()),
        (29, 100, "new-checkout", "targetingKey")
    );
    let anonymous = snapshot.evaluate("new-checkout", &Context::new(None), now());
    assert_eq!(anonymous.error.map(|e| e.code), Some(ErrorCode::TargetingKeyMissing));
}

#[test]
fn json_output_uses_ofrep_names() {
    let flag = boolean_flag(json!({"description": "New checkout", "owner": "payments", "tags": ["web", "q4"],
        "temporary": true, "expires_at": "2026-12-31T00:00:00Z", "metadata": {"jira": "PAY-1", "cost": 3}}));
    let snapshot = snapshot(json!({"f": flag}), json!({}));
    let out = snapshot.evaluate("f", &Context::default(), now()).to_json("f");
    assert_eq!(
        out,
        json!({"key": "f", "value": false, "variant": "off", "reason": "STATIC",
            "metadata": {"description": "New checkout", "owner": "payments", "tags": "web,q4", "temporary": true,
                "expiresAt": "2026-12-31T00:00:00Z", "jira": "PAY-1", "cost": 3},
            "explanation": {"snapshotVersion": 1, "matched": "fallthrough"}})
    );
    let missing = snapshot.evaluate("nope", &Context::default(), now()).to_json("nope");
    assert_eq!(missing["errorCode"], "FLAG_NOT_FOUND");
    assert!(missing["errorDetails"].as_str().is_some_and(|m| m.contains("`nope`")));
    assert!(missing.get("value").is_none());
}

#[test]
fn typed_evaluation_reports_mismatches() {
    let snapshot = snapshot(json!({"f": boolean_flag(json!({}))}), json!({}));
    let result = snapshot.evaluate_as("f", FlagType::String, &Context::default(), now());
    assert_eq!(result.reason, Reason::Error);
    assert_eq!(result.error.expect("error").message, "flag `f` is boolean, not string");
    assert_eq!(snapshot.evaluate_as("f", FlagType::Boolean, &Context::default(), now()).variant, Some("off"));
}

#[test]
fn evaluate_all_walks_flags_in_key_order() {
    let flags = json!({"b": boolean_flag(json!({})), "a": boolean_flag(json!({"enabled": false})), "c": boolean_flag(json!({}))});
    let snapshot = snapshot(flags, json!({}));
    let ctx = Context::default();
    let all: Vec<_> = snapshot.evaluate_all(&ctx, now()).map(|(key, result)| (key, result.reason)).collect();
    assert_eq!(all, [("a", Reason::Disabled), ("b", Reason::Static), ("c", Reason::Static)]);
}

#[test]
fn a_ramp_moves_users_in_over_time_and_never_out() {
    let rollout = json!({"rollout": {
        "variants": [{"variant": "on", "weight": 0}, {"variant": "off", "weight": 1000}],
        "schedule": {"ramp": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-11T00:00:00Z", "weights": [1000, 0]}}
    }});
    let snapshot = snapshot(json!({"f": boolean_flag(json!({"fallthrough": rollout}))}), json!({}));
    let users: Vec<Context> = (0..500).map(|i| Context::new(Some(&format!("user-{i}")))).collect();
    let mut previously_on = vec![false; users.len()];
    for day in 0..=11 {
        let at = time("2026-01-01T00:00:00Z") + day * 86_400_000;
        let mut on = 0;
        for (i, user) in users.iter().enumerate() {
            let is_on = snapshot.evaluate("f", user, at).variant == Some("on");
            assert!(is_on || !previously_on[i], "user-{i} left the ramp on day {day}");
            previously_on[i] = is_on;
            on += usize::from(is_on);
        }
        let expected = users.len() * day.min(10) as usize / 10;
        assert!(on.abs_diff(expected) <= 40, "day {day}: {on} of 500 on, expected about {expected}");
    }
}

#[test]
fn only_flags_with_a_schedule_or_requiring_one_use_time() {
    let steps = json!({"rollout": {
        "variants": [{"variant": "on", "weight": 0}, {"variant": "off", "weight": 1}],
        "schedule": {"steps": [{"at": "2026-03-01T00:00:00Z", "weights": [1, 0]}]}
    }});
    let requires =
        |flag: &str| json!({"prerequisites": [{"flag": flag, "variant": "on"}], "fallthrough": {"variant": "on"}});
    let in_rule = json!({"rules": [{"id": "r", "conditions": [], "serve": steps}]});
    let flags = json!({
        "scheduled": boolean_flag(json!({"fallthrough": steps})),
        "scheduled-rule": boolean_flag(in_rule),
        "requires-scheduled": boolean_flag(requires("scheduled")),
        "requires-requires": boolean_flag(requires("requires-scheduled")),
        "plain": boolean_flag(json!({})),
        "requires-plain": boolean_flag(requires("plain")),
    });
    let snapshot = snapshot(flags, json!({}));
    let uses_time: Vec<_> = snapshot.flag_keys().filter(|key| snapshot.uses_time(key)).collect();
    assert_eq!(uses_time, ["requires-requires", "requires-scheduled", "scheduled", "scheduled-rule"]);
    assert!(!snapshot.uses_time("no-such-flag"));
    // What the answer promises: a flag that does not use time evaluates the same at any `now`.
    let user = Context::new(Some("u"));
    let at = |key: &str, when: &str| snapshot.evaluate(key, &user, time(when)).variant;
    assert_eq!(at("requires-requires", "2026-02-01T00:00:00Z"), Some("off"));
    assert_eq!(at("requires-requires", "2026-04-01T00:00:00Z"), Some("on"));
    assert_eq!(at("requires-plain", "2026-02-01T00:00:00Z"), at("requires-plain", "2026-04-01T00:00:00Z"));
}

#[test]
fn evaluating_at_a_position_is_evaluating_that_key() {
    let flags = json!({
        "b-rule": boolean_flag(json!({"rules": [{"id": "pro", "conditions": [{"attribute": "plan", "op": "equals", "value": "pro"}], "serve": {"variant": "on"}}]})),
        "a-rollout": boolean_flag(json!({"fallthrough": {"rollout": {"variants": [{"variant": "on", "weight": 1}, {"variant": "off", "weight": 1}]}}})),
        "c-string": {"type": "string", "enabled": true, "variants": {"x": "1"}, "off_variant": "x", "fallthrough": {"variant": "x"}},
    });
    let snapshot = snapshot(flags, json!({}));
    let user = context(r#"{"targetingKey": "u-7", "plan": "pro"}"#);
    let keys: Vec<&str> = snapshot.flag_keys().collect();
    assert_eq!(keys, ["a-rollout", "b-rule", "c-string"]);
    for (position, key) in keys.iter().enumerate() {
        assert_eq!(snapshot.position(key), Some(position));
        for expected in [None, Some(FlagType::Boolean), Some(FlagType::String)] {
            let by_key = match expected {
                Some(kind) => snapshot.evaluate_as(key, kind, &user, now()),
                None => snapshot.evaluate(key, &user, now()),
            };
            let at = snapshot.evaluate_at(position, expected, &user, now()).expect("in range");
            assert_eq!(at.to_json(key), by_key.to_json(key), "{key} as {expected:?}");
        }
    }
    assert_eq!(snapshot.position("no-such-flag"), None);
    assert!(snapshot.evaluate_at(keys.len(), None, &user, now()).is_none());
}

#[test]
fn contexts_built_in_code_match_parsed_ones() {
    let built = Context::new(Some("u"))
        .with("user", Value::Object([("tier".into(), Value::Int(3))].into_iter().collect()))
        .with("tags", Value::List(vec![Value::String("a".into())]));
    assert_eq!(built, context(r#"{"targetingKey": "u", "user": {"tier": 3}, "tags": ["a"]}"#));
    let malformed = context(r#"{"targetingKey": 42}"#);
    assert!(malformed.problem().is_some_and(|p| p.contains("must be a string")));
    assert!(Context::from_json("[1, 2]").is_err());
    assert!(Context::from_json(&format!("{}{}", "[".repeat(10_000), "]".repeat(10_000))).is_err());
}

#[test]
fn rollouts_hash_salts_and_values_of_every_length_as_bucket_hash_does() {
    // Evaluation hashes through a per-rollout precomputed block when salt and value fit
    // one SHA-256 block (55 bytes with the length prefixes), and through the general
    // path otherwise: both must place users exactly where `bucket_hash` says.
    let text = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789";
    let salts: Vec<&str> = [0, 1, 7, 23, 24, 31, 39, 40, 60].iter().map(|&n| &text[..n]).collect();
    let flags: serde_json::Map<String, serde_json::Value> = salts
        .iter()
        .enumerate()
        .map(|(i, salt)| {
            let rollout = json!({"rollout": {"salt": salt, "variants": [
                {"variant": "on", "weight": 49_999}, {"variant": "off", "weight": 50_001}
            ]}});
            (format!("f{i}"), boolean_flag(json!({"fallthrough": rollout})))
        })
        .collect();
    let snapshot = snapshot(serde_json::Value::Object(flags), json!({}));
    for (i, salt) in salts.iter().enumerate() {
        for length in [0, 1, 3, 4, 8, 9, 16, 17, 23, 32, 33, 39, 40, 70] {
            let key = &text[text.len() - length..];
            let result = snapshot.evaluate(&format!("f{i}"), &Context::new(Some(key)), now());
            let bucket = result.explanation.bucket.expect("a bucket");
            let expected = pennon_core::bucket_position(pennon_core::bucket_hash(salt, key.as_bytes()), 100_000);
            assert_eq!((bucket.value, bucket.salt()), (expected, *salt), "salt {salt:?}, key {key:?}");
        }
    }
}

#[test]
fn contexts_compare_as_maps_small_and_large() {
    for count in [3, 16, 17, 40] {
        let names: Vec<String> = (0..count).map(|i| format!("attr{i}")).collect();
        let forward = names.iter().fold(Context::new(Some("u")), |ctx, name| ctx.with(name, Value::Int(1)));
        let backward = names.iter().rev().fold(Context::new(Some("u")), |ctx, name| ctx.with(name, Value::Int(1)));
        assert_eq!(forward, backward, "{count} attributes");
        for name in &names {
            assert_eq!(forward.attribute(name), Some(&Value::Int(1)), "{name} of {count}");
        }
        assert_eq!(forward.attribute("attr"), None);
        let replaced = forward.clone().with(&names[count / 2], Value::Int(2));
        assert_ne!(replaced, forward, "{count} attributes");
        assert_eq!(replaced.attribute(&names[count / 2]), Some(&Value::Int(2)));
        assert_ne!(forward.clone().with("extra", Value::Null), forward);
    }
}

fn arbitrary_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(Into::into),
        any::<i64>().prop_map(Into::into),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Into::into),
        ".{0,12}".prop_map(Into::into),
        Just("1.2.3-beta".into()),
        Just("2026-05-01T00:00:00Z".into()),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Into::into),
            proptest::collection::btree_map("[a-z.]{1,6}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Whatever the context holds, every flag evaluates to a result, never a panic.
    #[test]
    fn any_context_evaluates_without_panicking(
        attributes in proptest::collection::btree_map(
            prop_oneof![Just("targetingKey".to_string()), Just("email".to_string()), Just("user".to_string()),
                        Just("version".to_string()), Just("user.tier".to_string()), "[a-z]{1,5}"],
            arbitrary_value(), 0..6),
        now in any::<i64>(),
    ) {
        let snapshot = rich_snapshot();
        let text = serde_json::to_string(&attributes).expect("serialises");
        let ctx = Context::from_json(&text).expect("objects parse");
        for (_, result) in snapshot.evaluate_all(&ctx, now) {
            prop_assert_eq!(result.error.is_some(), result.reason == Reason::Error);
            prop_assert_eq!(result.value.is_some(), result.variant.is_some());
        }
    }
}

fn rich_snapshot() -> &'static pennon_core::Snapshot {
    static SNAPSHOT: std::sync::OnceLock<pennon_core::Snapshot> = std::sync::OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let condition = |attribute: &str, op: &str, value: serde_json::Value| json!({"attribute": attribute, "op": op, "value": value});
        let rules = json!([
            {"id": "a", "conditions": [condition("email", "ends_with", json!("@acme.com")), condition("user.tier", "gte", json!(2))], "serve": {"variant": "on"}},
            {"id": "b", "conditions": [condition("version", "semver_gte", json!("1.2.0"))], "serve": {"rollout": {"variants": [{"variant": "on", "weight": 1}, {"variant": "off", "weight": 1}], "bucket_by": "user.id"}}},
            {"id": "c", "conditions": [condition("user", "before", json!("2026-01-01T00:00:00Z")), {"op": "in_segment", "value": "s"}], "serve": {"variant": "on"}},
            {"id": "d", "conditions": [condition("email", "matches", json!("^[a-z]+$")), condition("x", "in", json!(["a", 1, true, 2.5]))], "serve": {"variant": "on"}},
        ]);
        let ramp = json!({"rollout": {"variants": [{"variant": "on", "weight": 5}, {"variant": "off", "weight": 5}],
            "schedule": {"ramp": {"start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z", "weights": [10, 0]}}}});
        let flags = json!({
            "rich": boolean_flag(json!({"rules": rules, "fallthrough": ramp, "targets": [{"variant": "on", "keys": ["vip"]}]})),
            "dependent": boolean_flag(json!({"prerequisites": [{"flag": "rich", "variant": "on"}], "fallthrough": {"variant": "on"}})),
        });
        let segments = json!({"s": {"excluded": ["x"], "rules": [{"id": "r", "conditions": [condition("email", "contains", json!("@"))]}]}});
        snapshot(flags, segments)
    })
}
