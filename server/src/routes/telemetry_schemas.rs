//! JSON Schemas of the telemetry report SDKs post and of what the telemetry reports
//! answer, for the OpenAPI document (the types are in `crate::telemetry::wire` and
//! `crate::model::usage`).

use serde_json::{json, Value as Json};

fn r(name: &str) -> Json {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A string of `min` to `max` bytes without control characters.
fn label(min: u32, max: u32, what: &str) -> Json {
    json!({ "type": "string", "minLength": min, "maxLength": max,
        "description": format!("{what}; no control characters (Cc) or bidirectional controls") })
}

fn ascii(what: &str) -> Json {
    json!({ "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[ -~]+$", "description": what })
}

fn count(min: u64) -> Json {
    json!({ "type": "integer", "minimum": min, "maximum": 9_007_199_254_740_991_u64 })
}

fn version() -> Json {
    json!({ "type": "integer", "minimum": 1, "maximum": 9_007_199_254_740_991_u64 })
}

pub(super) fn all() -> Vec<(&'static str, Json)> {
    let time = json!({ "type": "string", "format": "date-time" });
    let tally = json!({ "type": "integer", "minimum": 0 });
    let per_variant = json!({ "type": "object", "additionalProperties": { "type": "integer" }, "description": "evaluations per variant served" });
    vec![
        (
            "TelemetryReport",
            json!({
                "type": "object", "required": ["sdk", "window"],
                "description": "evaluations since the previous accepted report (deltas, never cumulative); members not named here are ignored; `counts`, `flag_not_found`, `exposures` and `exposures_dropped` may be left out when empty",
                "properties": {
                    "sdk": ascii("the SDK's name and version, such as pennon-rust/0.1.0"),
                    "instance": ascii("a random id per provider instance (not a user id)"),
                    "batch": ascii("a random id per report batch (128 bits in hex from the Pennon SDKs); a batch whose post failed is sent again unchanged, and a repeat of one stored in the last 48 hours is answered 202 with `duplicate` and adds nothing; without it, every post is added"),
                    "window": { "type": "object", "required": ["start_ms", "end_ms"],
                        "description": "the time the counts cover, Unix milliseconds; start_ms <= end_ms; end_ms at most 7 days before and 1 hour after the server's clock",
                        "properties": { "start_ms": { "type": "integer", "minimum": 0 }, "end_ms": { "type": "integer" } } },
                    "snapshot_version": version(),
                    "counts": { "type": "array", "maxItems": 10_000, "items": { "type": "object", "required": ["flag", "count"],
                        "properties": { "flag": label(1, 256, "the flag key"),
                            "variant": { "oneOf": [label(1, 256, "the variant served"), { "type": "null" }], "description": "null: evaluations that ended in an error" },
                            "count": count(1) } } },
                    "flag_not_found": { "type": "array", "maxItems": 1_001, "items": { "type": "object", "required": ["count"],
                        "properties": { "flag": { "oneOf": [label(1, 256, "a key the snapshot lacked"), { "type": "null" }], "description": "null: the keys past the SDK's 1,000, summed" },
                            "count": count(1) } } },
                    "exposures": { "type": "array", "maxItems": 1_000, "description": "an exposure the server cannot take (a member of the wrong type, out of range, too long, too old) is dropped alone and counted with `exposures_dropped`; the report's counts are kept", "items": { "type": "object",
                        "required": ["flag", "variant", "reason", "snapshot_version", "timestamp_ms"],
                        "properties": { "flag": label(1, 256, "the flag key"), "variant": label(1, 256, "the variant served"),
                            "reason": ascii("why, as OpenFeature names it: SPLIT, TARGETING_MATCH, ..."), "rule_id": label(0, 1024, "the rule that served it"),
                            "targeting_key": label(0, 1024, "the context's targeting key"), "bucket_attribute": label(1, 1024, "the attribute a rollout bucketed by"),
                            "bucket_value": label(0, 1024, "its value as hashed"), "snapshot_version": version(),
                            "timestamp_ms": { "type": "integer", "description": "Unix milliseconds; at most 7 days before and 1 hour after the server's clock" } } } },
                    "exposures_dropped": count(0)
                }
            }),
        ),
        (
            "TelemetryAccepted",
            json!({ "type": "object", "properties": { "accepted": { "type": "object", "properties": {
                "counts": { "type": "integer", "description": "`counts` entries stored against the environment's flags" },
                "exposures": { "type": "integer", "description": "exposures of the environment's flags, kept" } } },
                "exposures_refused": { "type": "integer", "description": "exposures dropped because the server could not take them (counted with the SDK's dropped ones); absent when none" },
                "exposure_refusal": { "type": "object", "description": "why the first of them was dropped: `field` names it by path (`exposures[3].timestamp_ms`)", "properties": { "field": { "type": "string" }, "message": { "type": "string" } } },
                "duplicate": { "type": "boolean", "description": "true: a batch of this `batch` id was stored already, and nothing was added (both counts are 0); absent otherwise" } } }),
        ),
        (
            "UsageReport",
            json!({ "type": "object", "required": ["generated_at", "since", "until", "granularity", "kept_since", "environments"],
            "properties": { "generated_at": time, "since": time, "until": time, "granularity": { "enum": ["hour", "day"] },
                "kept_since": { "type": "string", "format": "date-time", "description": "hourly counts from before this are no longer kept" },
                "environments": { "type": "array", "items": { "type": "object", "required": ["environment", "sdks", "flags"], "properties": {
                    "environment": { "type": "string" },
                    "sdks": { "type": "array", "items": r("SdkReporting") },
                    "flags": { "type": "array", "items": r("FlagUsage") } } } } } }),
        ),
        (
            "SdkReporting",
            json!({ "type": "object", "properties": {
                "sdk": { "type": ["string", "null"], "description": "null gathers names past the 64 kept" }, "kind": { "enum": ["server", "client"] },
                "first_report": time, "last_report": time, "reports": tally,
                "instances": { "type": "integer", "description": "instances that reported in the last 24 hours" },
                "exposures_dropped": tally } }),
        ),
        (
            "FlagUsage",
            json!({ "type": "object", "required": ["flag", "evaluations", "variants", "errors", "unknown_variants", "sdks", "series"], "properties": {
                "flag": { "type": "string" }, "evaluations": tally, "variants": per_variant, "errors": tally,
                "unknown_variants": { "type": "integer", "description": "served a variant the flag does not define now" },
                "last_seen": { "type": "string", "format": "date-time", "description": "absent: never evaluated, as far as reports tell" },
                "sdks": { "type": "array", "items": { "type": "object", "properties": { "sdk": { "type": ["string", "null"] }, "last_seen": time } } },
                "series": { "type": "array", "description": "oldest first; points without evaluations are left out", "items": r("UsagePoint") } } }),
        ),
        (
            "UsagePoint",
            json!({ "type": "object", "properties": {
                "start": time, "evaluations": tally, "variants": per_variant, "errors": tally, "unknown_variants": tally } }),
        ),
        (
            "NotFoundReport",
            json!({ "type": "object", "required": ["generated_at", "keys_kept", "environments"],
            "properties": { "generated_at": time, "keys_kept": { "type": "integer", "description": "distinct keys kept per environment" },
                "environments": { "type": "array", "items": { "type": "object", "properties": { "environment": { "type": "string" },
                    "keys": { "type": "array", "items": { "type": "object", "properties": {
                        "flag": { "type": ["string", "null"], "description": "null gathers keys past the bound and those SDKs summed" },
                        "evaluations": tally,
                        "client_evaluations": { "type": "integer", "minimum": 0, "description": "of them, those reported with a client key (browsers)" },
                        "first_seen": time, "last_seen": time,
                        "exists": { "type": "boolean", "description": "a flag of this key exists now: created since, SDKs on an older snapshot, or (for client keys) a flag that is not client-visible" },
                        "client_visible": { "type": "boolean", "description": "whether that flag is client-visible; absent when none exists. false with client_evaluations: client snapshots leave it out, so browsers cannot evaluate it" } } } } } } } } }),
        ),
        (
            "ExposureList",
            json!({ "type": "object", "properties": {
                "exposures": { "type": "array", "items": r("Exposure") },
                "next_before_id": { "type": "integer", "description": "pass as before_id for the next page; absent on the last" } } }),
        ),
        (
            "Exposure",
            json!({ "type": "object", "properties": { "id": { "type": "integer" }, "environment": { "type": "string" },
                "flag": { "type": "string" }, "variant": { "type": "string" }, "reason": { "type": "string" }, "rule_id": { "type": "string" },
                "targeting_key": { "type": "string" }, "bucket_attribute": { "type": "string" }, "bucket_value": { "type": "string" },
                "snapshot_version": { "type": "integer" }, "timestamp": time, "received_at": time,
                "sdk": { "type": ["string", "null"] }, "instance": { "type": "string" } } }),
        ),
    ]
}
