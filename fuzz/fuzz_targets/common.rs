//! What the fuzz targets share: the test key, the policy, a clock, and the checks run on
//! every snapshot that compiles.
#![allow(dead_code)]

use pennon_core::{Context, FlagType, SigningKey, Snapshot, TrustPolicy, Value};

/// The environment of the conformance vectors, so their envelopes pass as seeds.
pub const ENVIRONMENT: &str = "test";

/// `tests/vectors/keys/test-key-1`: a published test key, never for production.
pub fn signing_key() -> SigningKey {
    SigningKey::parse(include_str!("../../tests/vectors/keys/test-key-1.private")).expect("the test key parses")
}

/// Trusts test-key-1 for [`ENVIRONMENT`], with default limits.
pub fn policy() -> TrustPolicy {
    TrustPolicy::new(ENVIRONMENT, vec![signing_key().public_key().clone()]).expect("a valid policy")
}

/// 2026-06-01T00:00:00Z: inside the vectors' validity window.
pub const NOW: i64 = 1_780_272_000_000;

/// Contexts every compiled snapshot is evaluated with: none, a typical one, and one with
/// values of unexpected types where strings are usual.
pub fn contexts() -> Vec<Context> {
    let text = |s: &str| Value::String(s.into());
    vec![
        Context::default(),
        Context::new(Some("user-1"))
            .with("email", text("ann@example.com"))
            .with("country", text("DE"))
            .with("app_version", text("1.2.3"))
            .with("age", Value::Int(42))
            .with("plan", text("pro")),
        Context::new(Some(""))
            .with("email", Value::Int(-1))
            .with("country", Value::List(vec![Value::Null, Value::Bool(true), text("DE")]))
            .with("app_version", Value::Float(f64::NAN))
            .with("age", text("2026-01-01T00:00:00Z")),
    ]
}

/// Evaluates every flag of `snapshot` and checks what must hold for any snapshot that
/// compiled: evaluation never panics, an outcome has a value exactly when it has no
/// error, it is deterministic, and it serialises.
pub fn evaluate_everything(snapshot: &Snapshot, context: &Context, now: i64) {
    for (key, result) in snapshot.evaluate_all(context, now) {
        assert_eq!(result.value.is_some(), result.error.is_none(), "flag {key}: {result:?}");
        assert_eq!(result.variant.is_some(), result.value.is_some(), "flag {key}: {result:?}");
        assert_eq!(snapshot.evaluate(key, context, now), result, "flag {key} is not deterministic");
        let _ = result.to_json(key);
        for kind in [FlagType::Boolean, FlagType::String, FlagType::Integer, FlagType::Float, FlagType::Object] {
            let typed = snapshot.evaluate_as(key, kind, context, now);
            assert_eq!(typed.value.is_some(), typed.error.is_none(), "flag {key} as {kind:?}: {typed:?}");
        }
    }
}
