//! Runs the shared conformance vectors in `tests/vectors/` (`docs/SPEC.md` section 7).
//! The WASM and JavaScript runners read the same files by path.

#![allow(clippy::cast_possible_truncation)]

use std::fs;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::cell::RefCell;

use pennon_core::{
    bucket_hash, bucket_position, parse_rfc3339, Attributes, Audience, Context, FlagType, Held, Loaded, PublicKey,
    Snapshot, TrustPolicy, Value,
};
use serde_json::{json, Value as Json};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn read_json(path: &Path) -> Json {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn test_key(n: u32) -> PublicKey {
    let path = vectors_dir().join(format!("keys/test-key-{n}.public"));
    PublicKey::parse(&fs::read_to_string(&path).expect("test key readable")).expect("test key valid")
}

fn str_field<'a>(value: &'a Json, name: &str) -> &'a str {
    value[name].as_str().unwrap_or_else(|| panic!("`{name}` missing in {value}"))
}

fn load_vector_snapshot(file: &Json, path: &Path) -> Snapshot {
    let envelope = serde_json::to_vec(&file["envelope"]).expect("envelope serialises");
    let payload_b64 = str_field(&file["envelope"], "payload");
    let payload = STANDARD.decode(payload_b64).expect("vector payloads are standard base64");
    let signed: Json = serde_json::from_slice(&payload).expect("signed payload is JSON");
    assert_eq!(signed, file["payload"], "{}: `payload` differs from what the envelope signs", path.display());
    let policy = TrustPolicy::new("test", vec![test_key(1)]).expect("policy");
    let now = parse_rfc3339("2026-01-01T00:00:00Z").expect("time");
    match policy.load(&envelope, None, now) {
        Ok(Loaded::Updated(snapshot)) => snapshot,
        other => panic!("{}: envelope refused: {other:?}", path.display()),
    }
}

/// One case's outcome in the vectors' shape.
fn outcome(snapshot: &Snapshot, case: &Json) -> Json {
    let context_text = serde_json::to_string(&case["context"]).expect("context serialises");
    let context = Context::from_json(&context_text).expect("vector contexts are JSON objects");
    let now = parse_rfc3339(str_field(case, "now")).expect("vector `now` is RFC 3339");
    let flag = str_field(case, "flag");
    let result = match case.get("type").and_then(Json::as_str) {
        Some(name) => snapshot.evaluate_as(flag, FlagType::parse(name).expect("known type"), &context, now),
        None => snapshot.evaluate(flag, &context, now),
    };
    json!({
        "value": result.value.map(|v| v.to_json()),
        "variant": result.variant,
        "reason": result.reason.as_str(),
        "errorCode": result.error.as_ref().map(|e| e.code.as_str()),
    })
}

/// The evaluation vector files, in name order.
fn evaluation_files() -> Vec<PathBuf> {
    let dir = vectors_dir().join("evaluation");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn evaluation_vectors() {
    let paths = evaluation_files();
    let (mut total, mut failures) = (0, Vec::new());
    for path in &paths {
        let file = read_json(path);
        let snapshot = load_vector_snapshot(&file, path);
        for case in file["cases"].as_array().expect("`cases` array") {
            total += 1;
            let actual = outcome(&snapshot, case);
            if actual != case["expect"] {
                failures.push(format!(
                    "{} / {}: expected {}, got {}",
                    path.file_name().unwrap_or_default().to_string_lossy(),
                    str_field(case, "name"),
                    case["expect"],
                    actual
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {total} evaluation vectors failed:\n{}", failures.len(), failures.join("\n"));
    assert!(total >= 150, "only {total} evaluation vectors; the suite promises at least 150");
    println!("{total} evaluation vectors passed across {} files", paths.len());
}

/// `Bucket::unit` gives the value a rollout hashed: for every vector case that hashed,
/// hashing the unit again lands on the position served. The npm providers' exposures
/// check the same on the same vectors.
#[test]
fn bucket_units_are_the_values_hashed() {
    let (mut hashed, mut by_attribute, mut numeric) = (0, 0, 0);
    for path in evaluation_files() {
        let file = read_json(&path);
        let snapshot = load_vector_snapshot(&file, &path);
        for case in file["cases"].as_array().expect("`cases` array") {
            let context = Context::from_json(&case["context"].to_string()).expect("vector context");
            let now = parse_rfc3339(str_field(case, "now")).expect("time");
            let result = snapshot.evaluate(str_field(case, "flag"), &context, now);
            let Some(bucket) = result.explanation.bucket else { continue };
            let name = str_field(case, "name");
            let unit = bucket.unit(&context).unwrap_or_else(|| panic!("{name}: no unit for `{}`", bucket.attribute()));
            let position = bucket_position(bucket_hash(bucket.salt(), unit.as_bytes()), bucket.total_weight);
            assert_eq!(position, bucket.value, "{name}: unit {unit:?} of `{}`", bucket.attribute());
            hashed += 1;
            by_attribute += usize::from(bucket.attribute() != "targetingKey");
            numeric += usize::from(unit.parse::<i64>().is_ok());
        }
    }
    assert!(
        hashed >= 100 && by_attribute >= 10 && numeric >= 1,
        "{hashed} hashed, {by_attribute} by attribute, {numeric} numeric"
    );
    println!("{hashed} bucket units hash to their positions ({by_attribute} by attribute, {numeric} numeric)");
}

/// A context that notes every name evaluation asks it for.
struct Recording<'c> {
    context: &'c Context,
    asked: RefCell<Vec<String>>,
}

impl Attributes for Recording<'_> {
    type Value<'v>
        = &'v Value
    where
        Self: 'v;

    fn targeting_key(&self) -> Option<&Value> {
        self.asked.borrow_mut().push("targetingKey".into());
        Attributes::targeting_key(self.context)
    }

    fn attribute(&self, name: &str) -> Option<&Value> {
        self.asked.borrow_mut().push(name.into());
        Attributes::attribute(self.context, name)
    }

    fn problem(&self) -> Option<&str> {
        self.context.problem()
    }
}

/// `Snapshot::attributes_read` lists every name evaluation reads (the JavaScript
/// package writes only those into the module): for every case, evaluation asks for
/// nothing else, and the context stripped to those names (and `targetingKey`, whose
/// type is checked for every flag) gives the same outcome.
#[test]
fn evaluation_reads_only_the_listed_attributes() {
    let (mut cases, mut stripped_some) = (0, 0);
    for path in evaluation_files() {
        let file = read_json(&path);
        let snapshot = load_vector_snapshot(&file, &path);
        for case in file["cases"].as_array().expect("`cases` array") {
            let (flag, name) = (str_field(case, "flag"), str_field(case, "name"));
            let Some(position) = snapshot.position(flag) else { continue };
            let read = snapshot.attributes_read(position).expect("a position in range");
            let context = Context::from_json(&case["context"].to_string()).expect("vector context");
            let now = parse_rfc3339(str_field(case, "now")).expect("time");
            let recording = Recording { context: &context, asked: RefCell::new(Vec::new()) };
            let full = snapshot.evaluate_at(position, None, &recording, now).expect("in range");
            for asked in recording.asked.borrow().iter() {
                assert!(read.contains(&asked.as_str()), "{name}: `{flag}` read `{asked}`, not in {read:?}");
            }
            let mut kept = case["context"].as_object().cloned().unwrap_or_default();
            let before = kept.len();
            kept.retain(|key, _| key == "targetingKey" || read.contains(&key.as_str()));
            stripped_some += usize::from(kept.len() < before);
            let stripped = Context::from_json(&Json::Object(kept).to_string()).expect("stripped context");
            let lean = snapshot.evaluate_at(position, None, &stripped, now).expect("in range");
            assert_eq!(format!("{lean:?}"), format!("{full:?}"), "{name}: stripped to {read:?}");
            cases += 1;
        }
    }
    assert!(cases >= 150 && stripped_some >= 20, "{cases} cases, {stripped_some} with attributes stripped");
}

#[test]
fn bucketing_vectors() {
    let file = read_json(&vectors_dir().join("bucketing.json"));
    let entries = file["entries"].as_array().expect("`entries` array");
    assert!(entries.len() >= 10_000, "only {} bucketing vectors", entries.len());
    for entry in entries {
        let (salt, value) = (str_field(entry, "salt"), str_field(entry, "value"));
        let hash = bucket_hash(salt, value.as_bytes());
        assert_eq!(hash.to_string(), str_field(entry, "hash"), "hash of ({salt:?}, {value:?})");
        assert_eq!(Some(bucket_position(hash, 100_000)), entry["bucket"].as_u64(), "bucket of ({salt:?}, {value:?})");
    }
    println!("{} bucketing vectors passed", entries.len());
}

/// The trust policy of an envelope case; configuring it may itself be refused.
fn policy_of(trust: &Json) -> Result<TrustPolicy, pennon_core::Error> {
    let keys = trust["keys"]
        .as_array()
        .expect("`keys` array")
        .iter()
        .map(|k| PublicKey::parse(k.as_str().expect("key text")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut policy = TrustPolicy::new(str_field(trust, "environment"), keys)?;
    if let Some(threshold) = trust.get("threshold").and_then(Json::as_u64) {
        policy = policy.with_threshold(threshold as usize)?;
    }
    if let Some(max) = trust.get("max_bytes").and_then(Json::as_u64) {
        policy = policy.with_max_bytes(max as usize);
    }
    if let Some(grace) = trust.get("grace_seconds").and_then(Json::as_i64) {
        policy = policy.with_grace_ms(grace * 1_000);
    }
    match trust.get("audience").and_then(Json::as_str) {
        None | Some("server") => {}
        Some("client") => policy = policy.with_audience(Some(Audience::Client)),
        Some("any") => policy = policy.with_audience(None),
        Some(other) => panic!("unknown audience `{other}` in a trust policy"),
    }
    Ok(policy)
}

fn held_of(trust: &Json) -> Option<Held> {
    let held = trust.get("held")?;
    let hex = str_field(held, "payload_sha256");
    let mut sha = [0u8; 32];
    for (i, byte) in sha.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).expect("hex");
    }
    Some(Held { version: held["version"].as_u64().expect("held version"), payload_sha256: sha })
}

#[test]
fn envelope_vectors() {
    let file = read_json(&vectors_dir().join("envelopes.json"));
    let cases = file["cases"].as_array().expect("`cases` array");
    let mut failures = Vec::new();
    for case in cases {
        let now = parse_rfc3339(str_field(case, "now")).expect("time");
        let loaded = policy_of(&case["trust"])
            .and_then(|policy| policy.load(str_field(case, "envelope").as_bytes(), held_of(&case["trust"]), now));
        let outcome = match loaded {
            Ok(Loaded::Updated(snapshot)) => json!({ "ok": snapshot.version() }),
            Ok(Loaded::Unchanged) => json!({ "unchanged": true }),
            Err(error) => json!({ "error": error.kind() }),
        };
        if outcome != case["expect"] {
            failures.push(format!("{}: expected {}, got {}", str_field(case, "name"), case["expect"], outcome));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} envelope vectors failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    println!("{} envelope vectors passed", cases.len());
}
