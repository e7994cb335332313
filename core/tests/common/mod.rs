//! Helpers shared by the integration tests: a test key and signed payloads.

#![allow(dead_code, unreachable_pub)]

use pennon_core::{parse_rfc3339, sign_envelope, Loaded, SigningKey, Snapshot, TrustPolicy};
use serde_json::{json, Value};

pub fn key(n: u8) -> SigningKey {
    SigningKey::from_seed([n; 32])
}

pub fn time(text: &str) -> i64 {
    parse_rfc3339(text).expect("valid time")
}

pub fn now() -> i64 {
    time("2026-06-01T00:00:00Z")
}

/// A schema-1 payload for environment `production` with these flags and segments.
pub fn payload(version: u64, flags: Value, segments: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schema": 1,
        "environment": "production",
        "version": version,
        "issued_at": "2026-01-01T00:00:00Z",
        "expires_at": "2027-01-01T00:00:00Z",
        "flags": flags,
        "segments": segments,
    }))
    .expect("payload serialises")
}

pub fn policy() -> TrustPolicy {
    TrustPolicy::new("production", vec![key(1).public_key().clone()]).expect("policy")
}

/// Signs with key 1 and loads: the happy path most tests start from.
pub fn snapshot(flags: Value, segments: Value) -> Snapshot {
    let envelope = sign_envelope(&payload(1, flags, segments), &[&key(1)]).expect("signs");
    match policy().load(&envelope, None, now()) {
        Ok(Loaded::Updated(snapshot)) => snapshot,
        other => panic!("refused: {other:?}"),
    }
}

pub fn boolean_flag(extra: Value) -> Value {
    let mut flag = json!({
        "type": "boolean",
        "enabled": true,
        "variants": {"on": true, "off": false},
        "off_variant": "off",
        "fallthrough": {"variant": "off"},
    });
    if let (Some(flag), Some(extra)) = (flag.as_object_mut(), extra.as_object()) {
        flag.extend(extra.clone());
    }
    flag
}
