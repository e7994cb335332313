//! The conformance vectors of `tests/vectors/evaluation/`, evaluated through the
//! OpenFeature client API, must give what `pennon-core` gives (and what they expect).
//!
//! The one documented divergence is representational: OpenFeature's Rust `Value` has
//! no null and `StructValue` holds only objects. Object members that are `null` are
//! left out, a top-level array is `TYPE_MISMATCH`, and a `null` inside an array is
//! `GENERAL` (see `value.rs`). Every case is still compared with core, through the
//! same normalisation. And `get_float` reads integer flags (as JavaScript's `getNumber`
//! does): those cases are compared with core's integer result, widened.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use open_feature::{Client, EvaluationContext, EvaluationContextFieldValue, EvaluationErrorCode, StructValue};
use pennon_core::{parse_rfc3339, Context, FlagType, PublicKey};
use pennon_provider::PennonProvider;
use serde_json::{json, Value as Json};

use crate::common::open_feature;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_vectors_through_the_open_feature_client_match_core() {
    let key = PublicKey::parse(&std::fs::read_to_string(vectors().join("keys/test-key-1.public")).unwrap()).unwrap();
    let mut files: Vec<_> =
        std::fs::read_dir(vectors().join("evaluation")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 8, "the vector files are found");
    let (mut cases, mut unrepresentable, mut widened) = (0, 0, 0);
    for path in files {
        let file: Json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let now = Arc::new(AtomicI64::new(parse_rfc3339("2026-01-01T00:00:00Z").unwrap()));
        let clock = now.clone();
        let provider = PennonProvider::builder()
            .trusted_key(key.clone())
            .environment("test")
            .inline(serde_json::to_vec(&file["envelope"]).unwrap())
            .clock(move || clock.load(Ordering::SeqCst))
            .build()
            .unwrap();
        let handle = provider.handle();
        let (_api, client) = open_feature(provider).await;
        let snapshot = handle.snapshot().expect("the vector envelope loads");
        for case in file["cases"].as_array().unwrap() {
            let name = format!("{} / {}", path.file_name().unwrap().to_string_lossy(), case["name"]);
            let flag = case["flag"].as_str().unwrap();
            let at = parse_rfc3339(case["now"].as_str().unwrap()).unwrap();
            now.store(at, Ordering::SeqCst);
            let kind = match case["type"].as_str() {
                Some(name) => FlagType::parse(name).unwrap(),
                None => snapshot.flag_type(flag).unwrap_or(FlagType::Boolean),
            };
            let core_context = Context::from_json(&case["context"].to_string()).unwrap();
            let core = snapshot.evaluate_as(flag, kind, &core_context, at);
            let core = json!({
                "value": core.value.map(|v| v.to_json()), "variant": core.variant,
                "reason": core.reason.as_str(), "errorCode": core.error.map(|e| e.code.as_str()),
            });
            let expected = representable(&case["expect"]);
            assert_eq!(representable(&core), expected, "{name}: core agrees with the vector");
            unrepresentable += usize::from(expected != case["expect"]);
            // `get_float` reads an integer flag as `getNumber` does: the vector asks the
            // core for a float (TYPE_MISMATCH); the provider asks for an integer and widens.
            let expected = if kind == FlagType::Float && snapshot.flag_type(flag) == Some(FlagType::Integer) {
                widened += 1;
                let core = snapshot.evaluate_as(flag, FlagType::Integer, &core_context, at);
                let value = core.value.map(|v| v.to_json());
                match value.as_ref().and_then(Json::as_i64) {
                    Some(i) if core.error.is_none() && i.unsigned_abs() > 1 << 53 => {
                        json!({"value": null, "variant": null, "reason": "ERROR", "errorCode": "TYPE_MISMATCH"})
                    }
                    #[allow(clippy::cast_precision_loss)] // exact within ±2^53
                    Some(i) if core.error.is_none() => json!({
                        "value": i as f64, "variant": core.variant, "reason": core.reason.as_str(), "errorCode": null,
                    }),
                    _ => json!({
                        "value": null, "variant": null, "reason": core.reason.as_str(),
                        "errorCode": core.error.map(|e| e.code.as_str()),
                    }),
                }
            } else {
                expected
            };
            let got = through_client(&client, flag, kind, &context(&case["context"])).await;
            assert_eq!(got, expected, "{name}: through OpenFeature");
            cases += 1;
        }
    }
    println!(
        "{cases} vector cases through OpenFeature, {unrepresentable} normalised (null or array values), \
         {widened} integer flags read as floats"
    );
    assert!(widened > 0, "some cases read an integer flag as a float");
    assert!(cases > 700, "every case ran ({cases})");
}

/// Evaluates through the client's typed detail methods, as an application would.
async fn through_client(client: &Client, flag: &str, kind: FlagType, ctx: &EvaluationContext) -> Json {
    let outcome = |value: Json, variant: Option<String>, reason: Option<open_feature::EvaluationReason>| json!({"value": value, "variant": variant, "reason": reason.map(|r| r.to_string()), "errorCode": null});
    let result = match kind {
        FlagType::Boolean => {
            client.get_bool_details(flag, Some(ctx), None).await.map(|d| outcome(d.value.into(), d.variant, d.reason))
        }
        FlagType::String => {
            client.get_string_details(flag, Some(ctx), None).await.map(|d| outcome(d.value.into(), d.variant, d.reason))
        }
        FlagType::Integer => {
            client.get_int_details(flag, Some(ctx), None).await.map(|d| outcome(d.value.into(), d.variant, d.reason))
        }
        FlagType::Float => {
            client.get_float_details(flag, Some(ctx), None).await.map(|d| outcome(d.value.into(), d.variant, d.reason))
        }
        FlagType::Object => client
            .get_struct_details::<StructValue>(flag, Some(ctx), None)
            .await
            .map(|d| outcome(struct_json(&d.value), d.variant, d.reason)),
    };
    result.unwrap_or_else(|error| {
        let code = match error.code {
            EvaluationErrorCode::General(_) => "GENERAL".to_owned(),
            other => other.to_string(),
        };
        json!({"value": null, "variant": null, "reason": "ERROR", "errorCode": code})
    })
}

/// The vector context as an application would build it: scalars as scalars, nested
/// values as `open_feature::Value`, or as `serde_json::Value` where they hold a null.
fn context(json: &Json) -> EvaluationContext {
    let mut ctx = EvaluationContext::default();
    for (name, value) in json.as_object().unwrap() {
        match (name.as_str(), value) {
            ("targetingKey", Json::String(key)) => ctx.targeting_key = Some(key.clone()),
            _ => ctx.add_custom_field(name.clone(), field(value)),
        }
    }
    ctx
}

fn field(value: &Json) -> EvaluationContextFieldValue {
    match value {
        Json::Bool(b) => EvaluationContextFieldValue::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map_or_else(|| EvaluationContextFieldValue::Float(n.as_f64().unwrap()), EvaluationContextFieldValue::Int),
        Json::String(s) => EvaluationContextFieldValue::String(s.clone()),
        nested if has_null(nested) => EvaluationContextFieldValue::new_struct(nested.clone()),
        nested => EvaluationContextFieldValue::new_struct(of_value(nested)),
    }
}

fn of_value(json: &Json) -> open_feature::Value {
    match json {
        Json::Bool(b) => open_feature::Value::Bool(*b),
        Json::Number(n) => {
            n.as_i64().map_or_else(|| open_feature::Value::Float(n.as_f64().unwrap()), open_feature::Value::Int)
        }
        Json::String(s) => open_feature::Value::String(s.clone()),
        Json::Array(items) => open_feature::Value::Array(items.iter().map(of_value).collect()),
        Json::Object(map) => open_feature::Value::Struct(StructValue {
            fields: map.iter().map(|(k, v)| (k.clone(), of_value(v))).collect(),
        }),
        Json::Null => unreachable!("nulls take the serde_json path"),
    }
}

fn has_null(json: &Json) -> bool {
    match json {
        Json::Null => true,
        Json::Array(items) => items.iter().any(has_null),
        Json::Object(map) => map.values().any(has_null),
        _ => false,
    }
}

fn struct_json(value: &StructValue) -> Json {
    Json::Object(value.fields.iter().map(|(k, v)| (k.clone(), value_json(v))).collect())
}

fn value_json(value: &open_feature::Value) -> Json {
    match value {
        open_feature::Value::Bool(b) => (*b).into(),
        open_feature::Value::Int(i) => (*i).into(),
        open_feature::Value::Float(f) => (*f).into(),
        open_feature::Value::String(s) => s.as_str().into(),
        open_feature::Value::Array(items) => Json::Array(items.iter().map(value_json).collect()),
        open_feature::Value::Struct(value) => struct_json(value),
    }
}

/// An expected outcome as OpenFeature's Rust types can carry it (see the module docs).
fn representable(expect: &Json) -> Json {
    let value = &expect["value"];
    let error = |code: &str| json!({"value": null, "variant": null, "reason": "ERROR", "errorCode": code});
    match value {
        Json::Array(_) => error("TYPE_MISMATCH"),
        Json::Object(_) if null_in_array(value) => error("GENERAL"),
        Json::Object(_) => {
            let mut out = expect.clone();
            out["value"] = without_null_members(value);
            out
        }
        _ => expect.clone(),
    }
}

fn null_in_array(json: &Json) -> bool {
    match json {
        Json::Array(items) => items.iter().any(|item| item.is_null() || null_in_array(item)),
        Json::Object(map) => map.values().any(null_in_array),
        _ => false,
    }
}

fn without_null_members(json: &Json) -> Json {
    match json {
        Json::Object(map) => Json::Object(
            map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_null_members(v))).collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(without_null_members).collect()),
        other => other.clone(),
    }
}
