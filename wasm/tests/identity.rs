//! Native side of the cross-runtime identity check.
//!
//! Runs every evaluation vector through the shim's result writer, natively, and
//! checks it against the vectors' expectations. It then writes every result text to
//! `target/pennon-vectors/native.json` (or `$PENNON_NATIVE_RESULTS`); the Node,
//! Chromium and workerd runners (`bindings/test/`) compare their wasm results to it
//! byte for byte.
//!
//! Each case is written twice: `text` evaluates the context exactly as its JSON reads,
//! and `jsText` as a JavaScript object of it would read: JavaScript numbers cannot
//! tell `42.0` from `42`, so integral floats inside ±2^63 become integers there (the
//! rule `JSON.stringify` and the shim's BigInt walk both follow).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::fs;
use std::path::{Path, PathBuf};

use pennon_core::{parse_rfc3339, Context, FlagType, Loaded, PublicKey, Snapshot, TrustPolicy};
use serde_json::{json, Map, Value as Json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn output_path() -> PathBuf {
    std::env::var_os("PENNON_NATIVE_RESULTS")
        .map_or_else(|| repo().join("target/pennon-vectors/native.json"), PathBuf::from)
}

fn load(file: &Json) -> Snapshot {
    let key_text = fs::read_to_string(repo().join("tests/vectors/keys/test-key-1.public")).unwrap();
    let policy = TrustPolicy::new("test", vec![PublicKey::parse(&key_text).unwrap()]).unwrap();
    let envelope = serde_json::to_vec(&file["envelope"]).unwrap();
    match policy.load(&envelope, None, parse_rfc3339("2026-01-01T00:00:00Z").unwrap()).unwrap() {
        Loaded::Updated(snapshot) => snapshot,
        Loaded::Unchanged => panic!("nothing was held"),
    }
}

/// What a JavaScript object of this JSON holds: integral floats inside ±2^63 are integers.
fn as_javascript(value: &Json) -> Json {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    match value {
        Json::Number(n) if n.is_f64() => match n.as_f64() {
            #[allow(clippy::cast_possible_truncation)]
            Some(f) if f.fract() == 0.0 && f.abs() < LIMIT => json!(f as i64),
            _ => value.clone(),
        },
        Json::Array(items) => Json::Array(items.iter().map(as_javascript).collect()),
        Json::Object(members) => Json::Object(members.iter().map(|(k, v)| (k.clone(), as_javascript(v))).collect()),
        _ => value.clone(),
    }
}

/// Evaluates one case with the shim's writer.
fn result_text(snapshot: &Snapshot, case: &Json, context: &Json) -> String {
    let context = Context::from_json(&context.to_string()).unwrap();
    let now = parse_rfc3339(case["now"].as_str().unwrap()).unwrap();
    let flag = case["flag"].as_str().unwrap();
    let evaluation = match case.get("type").and_then(Json::as_str) {
        Some(name) => snapshot.evaluate_as(flag, FlagType::parse(name).unwrap(), &context, now),
        None => snapshot.evaluate(flag, &context, now),
    };
    let text = pennon_wasm::resolution_text(flag, &evaluation);
    // The shim writes by hand what the core's serde_json form prints.
    assert_eq!(text, evaluation.to_json(flag).to_string(), "{flag}: the shim's writer differs from to_json");
    text
}

#[test]
fn native_results_match_vectors() {
    let mut paths: Vec<PathBuf> = fs::read_dir(repo().join("tests/vectors/evaluation"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    let (mut out, mut total, mut failures) = (Map::new(), 0, Vec::new());
    for path in &paths {
        let file: Json = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let snapshot = load(&file);
        let mut results = Vec::new();
        for case in file["cases"].as_array().unwrap() {
            total += 1;
            let text = result_text(&snapshot, case, &case["context"]);
            let js_text = result_text(&snapshot, case, &as_javascript(&case["context"]));
            let result: Json = serde_json::from_str(&text).unwrap();
            let got = json!({
                "value": result.get("value"), "variant": result.get("variant"),
                "reason": result["reason"], "errorCode": result.get("errorCode"),
            });
            if got != case["expect"] {
                failures.push(format!("{} / {}: expected {}, got {got}", path.display(), case["name"], case["expect"]));
            }
            results.push(json!({ "name": case["name"], "text": text, "jsText": js_text }));
        }
        // The evaluate-all writer is the one-flag writer joined.
        let context = Context::from_json(r#"{"targetingKey":"user-1"}"#).unwrap();
        let now = parse_rfc3339("2026-06-01T00:00:00Z").unwrap();
        let joined: Vec<String> =
            snapshot.evaluate_all(&context, now).map(|(key, e)| pennon_wasm::resolution_text(key, &e)).collect();
        let expected: Vec<String> =
            snapshot.evaluate_all(&context, now).map(|(key, e)| e.to_json(key).to_string()).collect();
        assert_eq!(joined, expected, "the shim's writer differs from to_json");
        assert_eq!(pennon_wasm::resolutions_text(&snapshot, &context, now), format!("[{}]", joined.join(",")));
        out.insert(path.file_name().unwrap().to_string_lossy().into_owned(), Json::Array(results));
    }
    assert!(failures.is_empty(), "{} of {total} cases failed:\n{}", failures.len(), failures.join("\n"));
    let target = output_path();
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    fs::write(&target, serde_json::to_string(&json!({ "evaluation": out })).unwrap()).unwrap();
    println!("native: {total} evaluation vectors passed; results written to {}", target.display());
}
