//! Mapping to `ResolutionDetails` and `EvaluationError` (OpenFeature spec section 2.2).

use open_feature::provider::FeatureProvider;
use open_feature::{
    EvaluationContext, EvaluationContextFieldValue, EvaluationErrorCode, EvaluationReason, FlagMetadataValue,
    StructValue, Value,
};
use pennon_provider::{PennonProvider, PROVIDER_NAME};
use serde_json::json;

use crate::common::{builder, key, open_feature, payload, sign};

fn snapshot() -> Vec<u8> {
    let flags = json!({
        "checkout": {"type": "boolean", "enabled": true, "variants": {"on": true, "off": false},
                     "off_variant": "off", "fallthrough": {"variant": "off"},
                     "rules": [{"id": "staff", "serve": {"variant": "on"},
                                "conditions": [{"attribute": "email", "op": "ends_with", "value": "@acme.com"}]}],
                     "description": "New checkout", "owner": "payments", "tags": ["web", "beta"],
                     "metadata": {"jira": "PAY-12", "weight": 3, "ratio": 0.5, "public": true}},
        "split": {"type": "string", "enabled": true, "variants": {"a": "A", "b": "B"}, "off_variant": "a",
                  "fallthrough": {"rollout": {"variants": [{"variant": "a", "weight": 1}, {"variant": "b", "weight": 1}]}}},
        "by-plan": {"type": "string", "enabled": true, "variants": {"a": "A", "b": "B"}, "off_variant": "a",
                    "fallthrough": {"rollout": {"bucket_by": "plan",
                                                "variants": [{"variant": "a", "weight": 1}, {"variant": "b", "weight": 1}]}}},
        "limit": {"type": "integer", "enabled": true, "variants": {"default": 42}, "off_variant": "default",
                  "fallthrough": {"variant": "default"}},
        "huge": {"type": "integer", "enabled": true, "variants": {"v": 9007199254740993_i64}, "off_variant": "v",
                 "fallthrough": {"variant": "v"}},
        "ratio": {"type": "float", "enabled": false, "variants": {"quarter": 0.25}, "off_variant": "quarter",
                  "fallthrough": {"variant": "quarter"}},
        "config": {"type": "object", "enabled": true, "off_variant": "v", "fallthrough": {"variant": "v"},
                   "variants": {"v": {"color": "blue", "nested": {"gone": null, "list": [1, "two", 2.5]}}}},
        "list-config": {"type": "object", "enabled": true, "variants": {"v": [1, 2]}, "off_variant": "v",
                        "fallthrough": {"variant": "v"}},
        "null-in-list": {"type": "object", "enabled": true, "variants": {"v": {"items": [1, null]}},
                         "off_variant": "v", "fallthrough": {"variant": "v"}},
    });
    sign(&payload("test", 3, "2099-01-01T00:00:00Z", flags), &[&key(1)])
}

async fn ready() -> PennonProvider {
    let mut provider = builder().inline(snapshot()).build().unwrap();
    provider.initialize(&EvaluationContext::default()).await;
    provider
}

/// Spec 2.1.1: the provider's metadata names it.
#[tokio::test]
async fn provider_metadata_names_pennon() {
    let provider = ready().await;
    assert_eq!(provider.metadata().name, PROVIDER_NAME);
    let (api, _client) = open_feature(ready().await).await;
    assert_eq!(api.provider_metadata().await.name, "pennon");
}

/// Spec 2.2.3 (value), 2.2.4 (variant), 2.2.5 (reason), 2.2.6 (no error on success),
/// 2.2.9 and 2.2.10 (flag metadata: string keys, bool/string/number values).
#[tokio::test]
async fn resolution_details_carry_value_variant_reason_and_metadata() {
    let (_api, client) = open_feature(ready().await).await;
    let staff = EvaluationContext::default().with_targeting_key("u1").with_custom_field("email", "ann@acme.com");

    let details = client.get_bool_details("checkout", Some(&staff), None).await.unwrap();
    assert!(details.value);
    assert_eq!(details.variant.as_deref(), Some("on"));
    assert_eq!(details.reason, Some(EvaluationReason::TargetingMatch));
    let expected = [
        ("snapshotVersion", FlagMetadataValue::Int(3)),
        ("environment", FlagMetadataValue::String("test".into())),
        ("flagSetId", FlagMetadataValue::String("test".into())),
        ("version", FlagMetadataValue::String("3".into())),
        ("ruleId", FlagMetadataValue::String("staff".into())),
        ("description", FlagMetadataValue::String("New checkout".into())),
        ("owner", FlagMetadataValue::String("payments".into())),
        ("tags", FlagMetadataValue::String("web,beta".into())),
        ("jira", FlagMetadataValue::String("PAY-12".into())),
        ("weight", FlagMetadataValue::Int(3)),
        ("ratio", FlagMetadataValue::Float(0.5)),
        ("public", FlagMetadataValue::Bool(true)),
    ];
    assert_eq!(details.flag_metadata.values, expected.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());

    let guest = EvaluationContext::default().with_targeting_key("u2").with_custom_field("email", "bob@example.com");
    let details = client.get_bool_details("checkout", Some(&guest), None).await.unwrap();
    assert_eq!((details.value, details.variant.as_deref()), (false, Some("off")));
    assert_eq!(details.reason, Some(EvaluationReason::Default), "a flag with rules falls through as DEFAULT");
    assert!(!details.flag_metadata.values.contains_key("ruleId"), "no rule matched");

    let details = client.get_string_details("split", Some(&guest), None).await.unwrap();
    assert_eq!(details.reason, Some(EvaluationReason::Split));
}

/// Spec 2.2.2.1: typed resolution for booleans, numbers, strings and structures.
#[tokio::test]
async fn every_type_resolves_with_its_rust_type() {
    let provider = ready().await;
    let ctx = EvaluationContext::default();
    assert_eq!(provider.resolve_int_value("limit", &ctx).await.unwrap().value, 42);
    let ratio = provider.resolve_float_value("ratio", &ctx).await.unwrap();
    assert_eq!((ratio.value, ratio.reason), (0.25, Some(EvaluationReason::Disabled)));
    let config = provider.resolve_struct_value("config", &ctx).await.unwrap().value;
    let nested = StructValue {
        fields: [(
            "list".to_owned(),
            Value::Array(vec![Value::Int(1), Value::String("two".into()), Value::Float(2.5)]),
        )]
        .into_iter()
        .collect(),
    };
    let expected = StructValue {
        fields: [("color".to_owned(), Value::String("blue".into())), ("nested".to_owned(), Value::Struct(nested))]
            .into_iter()
            .collect(),
    };
    assert_eq!(config, expected, "a null member is left out: OpenFeature's Rust Value has no null");
    // The struct is built once per variant and kept: later reads give the same value.
    for _ in 0..3 {
        assert_eq!(provider.resolve_struct_value("config", &ctx).await.unwrap().value, expected);
    }
}

/// Spec 2.2.7: abnormal execution is an error with a code and a message.
#[tokio::test]
async fn errors_carry_open_feature_codes_and_messages() {
    let provider = ready().await;
    let keyed = EvaluationContext::default().with_targeting_key("u1");
    let no_key = EvaluationContext::default();
    let bool_plan = EvaluationContext::default().with_custom_field("plan", true);
    let bad_key = EvaluationContext::default().with_custom_field("targetingKey", 7);
    let opaque = EvaluationContext::default().with_custom_field("email", EvaluationContextFieldValue::new_struct(3u8));
    let cases = [
        (
            provider.resolve_bool_value("missing", &keyed).await.err(),
            EvaluationErrorCode::FlagNotFound,
            "not in snapshot version 3",
        ),
        (
            provider.resolve_int_value("checkout", &keyed).await.err(),
            EvaluationErrorCode::TypeMismatch,
            "is boolean, not integer",
        ),
        (
            provider.resolve_string_value("split", &no_key).await.err(),
            EvaluationErrorCode::TargetingKeyMissing,
            "splits by `targetingKey`",
        ),
        (
            provider.resolve_bool_value("checkout", &bad_key).await.err(),
            EvaluationErrorCode::ParseError,
            "must be a string",
        ),
        (
            provider.resolve_bool_value("checkout", &opaque).await.err(),
            EvaluationErrorCode::InvalidContext,
            "context field `email`",
        ),
        (
            provider.resolve_struct_value("list-config", &keyed).await.err(),
            EvaluationErrorCode::TypeMismatch,
            "serves a JSON array",
        ),
    ];
    for (error, code, text) in cases {
        let error = error.expect("an error");
        assert_eq!(error.code, code);
        let message = error.message.unwrap();
        assert!(message.contains(text), "{code:?}: {message}");
    }
    // Only flags that read the field fail: `limit` reads no attribute.
    assert_eq!(provider.resolve_int_value("limit", &opaque).await.unwrap().value, 42);
    let general = provider.resolve_string_value("by-plan", &bool_plan).await.unwrap_err();
    assert!(
        matches!(&general.code, EvaluationErrorCode::General(text) if text.contains("must be a string or an integer"))
    );
    // Read twice: a value that cannot be a struct is refused the same way when kept.
    for _ in 0..2 {
        let null_in_list = provider.resolve_struct_value("null-in-list", &keyed).await.unwrap_err();
        assert!(
            matches!(&null_in_list.code, EvaluationErrorCode::General(text) if text.contains("array holding null"))
        );
        let list = provider.resolve_struct_value("list-config", &keyed).await.unwrap_err();
        assert_eq!(list.code, EvaluationErrorCode::TypeMismatch);
    }
}

/// `get_float` reads an integer flag as JavaScript's `getNumber` does, when a float holds
/// its value exactly; `get_int` on a float flag stays a mismatch.
#[tokio::test]
async fn floats_read_integer_flags_that_they_hold_exactly() {
    let provider = ready().await;
    let ctx = EvaluationContext::default();
    let limit = provider.resolve_float_value("limit", &ctx).await.unwrap();
    assert_eq!((limit.value, limit.variant.as_deref()), (42.0, Some("default")));
    let huge = provider.resolve_float_value("huge", &ctx).await.unwrap_err();
    assert_eq!(huge.code, EvaluationErrorCode::TypeMismatch);
    assert!(huge.message.unwrap().contains("served 9007199254740993, an integer a float cannot hold exactly"));
    let ratio = provider.resolve_int_value("ratio", &ctx).await.unwrap_err();
    assert_eq!(ratio.code, EvaluationErrorCode::TypeMismatch);
    let checkout = provider.resolve_float_value("checkout", &ctx).await.unwrap_err();
    assert!(checkout.message.unwrap().contains("is boolean, not float"));
}

/// Spec 1.7.6 and 2.4: resolving before initialization is `PROVIDER_NOT_READY`.
#[tokio::test]
async fn resolving_before_initialize_is_provider_not_ready() {
    let provider = builder().inline(snapshot()).build().unwrap();
    let error = provider.resolve_bool_value("checkout", &EvaluationContext::default()).await.unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::ProviderNotReady);
    assert_eq!(provider.status(), open_feature::provider::ProviderStatus::NotReady);
}

/// The provider reads the clock only for flags whose result depends on it: a scheduled
/// rollout, directly or through a prerequisite, still follows the clock.
#[tokio::test]
async fn scheduled_flags_follow_the_clock_through_prerequisites() {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;

    let on_at = "2026-03-01T00:00:00Z";
    let flags = json!({
        "ramp": {"type": "boolean", "enabled": true, "variants": {"on": true, "off": false}, "off_variant": "off",
                 "fallthrough": {"rollout": {"variants": [{"variant": "on", "weight": 0}, {"variant": "off", "weight": 1}],
                                             "schedule": {"steps": [{"at": on_at, "weights": [1, 0]}]}}}},
        "needs-ramp": {"type": "boolean", "enabled": true, "variants": {"on": true, "off": false}, "off_variant": "off",
                       "prerequisites": [{"flag": "ramp", "variant": "on"}], "fallthrough": {"variant": "on"}},
        "plain": {"type": "boolean", "enabled": true, "variants": {"on": true, "off": false}, "off_variant": "off",
                  "fallthrough": {"variant": "on"}},
    });
    let envelope = sign(&payload("test", 1, "2099-01-01T00:00:00Z", flags), &[&key(1)]);
    let time = Arc::new(AtomicI64::new(pennon_core::parse_rfc3339("2026-02-01T00:00:00Z").unwrap()));
    let clock = Arc::clone(&time);
    let mut provider = builder().inline(envelope).clock(move || clock.load(Ordering::SeqCst)).build().unwrap();
    provider.initialize(&EvaluationContext::default()).await;
    let ctx = EvaluationContext::default().with_targeting_key("user-1");
    let values = async |provider: &PennonProvider| {
        let mut values = Vec::new();
        for key in ["ramp", "needs-ramp", "plain"] {
            values.push(provider.resolve_bool_value(key, &ctx).await.unwrap().value);
        }
        values
    };
    assert_eq!(values(&provider).await, [false, false, true]);
    time.store(pennon_core::parse_rfc3339(on_at).unwrap(), Ordering::SeqCst);
    assert_eq!(values(&provider).await, [true, true, true]);
}
