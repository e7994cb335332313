//! JSON Schemas of the API's bodies, for the OpenAPI document. They follow the types
//! in `crate::model`; the OpenAPI test checks that every reference resolves.

use serde_json::{json, Value as Json};

fn r(name: &str) -> Json {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn list(key: &str, item: Json) -> Json {
    json!({ "type": "object", "properties": { key: { "type": "array", "items": item } } })
}

fn strings() -> Json {
    json!({ "type": "array", "items": { "type": "string" } })
}

/// What names and labels may not hold (`crate::model::check_label`).
const NO_CONTROLS: &str = "no control characters (Cc) or bidirectional controls (U+202A-U+202E, U+2066-U+2069)";

/// What token and variant names may not hold besides (`crate::model::check_name`).
const PLAIN_NAME: &str = "no invisible characters (default-ignorable, Cf), no white space at either end, no \
    combining mark at the start or on an ASCII character (write accented letters precomposed, NFC)";

/// A name or label: a string with [`NO_CONTROLS`] said.
fn label(what: &str) -> Json {
    json!({ "type": "string", "description": format!("{what}; {NO_CONTROLS}") })
}

/// A description: free text, but for the controls other than line feed and tab.
fn prose() -> Json {
    json!({ "type": "string", "description": format!("free text: line feeds and tabs allowed, otherwise {NO_CONTROLS}") })
}

/// `Flag` with what only a creation takes: the off variant every environment starts on.
fn new_flag(flag: &Json) -> Json {
    let mut schema = flag.clone();
    schema["properties"]["off_variant"] = json!({
        "type": "string",
        "description": "the variant every environment serves while the flag is disabled (and once enabled, \
            when there is no `on` variant); one of `variants`. Default: `off`, else the first by name"
    });
    schema
}

fn flag_schemas() -> Vec<(&'static str, Json)> {
    let flag = flag_schema();
    vec![("NewFlag", new_flag(&flag)), ("Flag", flag), ("FlagList", list("flags", r("Flag")))]
        .into_iter()
        .chain(config_schemas())
        .collect()
}

fn flag_schema() -> Json {
    json!({
        "type": "object", "additionalProperties": false, "required": ["type"],
        "properties": {
            "key": { "type": "string", "pattern": "^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$" },
            "type": { "enum": ["boolean", "string", "integer", "float", "object"] },
            "variants": { "type": "object", "description": format!("name to value; default for boolean flags {{\"on\": true, \"off\": false}}; names are 1 to 256 bytes, {NO_CONTROLS}, {PLAIN_NAME}") },
            "description": prose(), "owner": label("a person or team"),
            "tags": { "type": "array", "items": label("1 to 128 bytes, no comma") },
            "temporary": { "type": "boolean" }, "expires_at": { "type": "string", "format": "date-time" },
            "client_visible": { "type": "boolean", "description": "included in snapshots for client SDK keys" }
        }
    })
}

fn config_schemas() -> Vec<(&'static str, Json)> {
    vec![
        (
            "FlagConfig",
            json!({
                "type": "object", "additionalProperties": false, "required": ["enabled", "off_variant", "fallthrough"],
                "properties": {
                    "enabled": { "type": "boolean" }, "off_variant": { "type": "string" }, "fallthrough": r("Serve"),
                    "targets": { "type": "array", "items": r("Target") },
                    "rules": { "type": "array", "items": r("Rule") },
                    "prerequisites": { "type": "array", "items": r("Prerequisite") },
                    "metadata": { "type": "object", "description": format!("names: {NO_CONTROLS}"), "additionalProperties": { "type": ["string", "number", "boolean"] } }
                }
            }),
        ),
        (
            "ConfigList",
            list(
                "flags",
                json!({ "type": "object", "properties": { "key": { "type": "string" }, "etag": { "type": "string" }, "config": r("FlagConfig") } }),
            ),
        ),
        (
            "Serve",
            json!({
                "type": "object", "additionalProperties": false, "description": "exactly one of variant or rollout",
                "properties": { "variant": { "type": "string" }, "rollout": r("Rollout") }
            }),
        ),
        (
            "Rollout",
            json!({
                "type": "object", "additionalProperties": false, "required": ["variants"],
                "properties": {
                    "variants": { "type": "array", "items": { "type": "object", "additionalProperties": false, "required": ["variant", "weight"],
                        "properties": { "variant": { "type": "string" }, "weight": { "type": "integer", "minimum": 0, "maximum": 4294967295u64, "description": "a proportion, not a percentage: the variant's share is its weight over the sum of the weights (30 and 30 serve half each; the rollout shortcut writes them out of 100,000)" } } } },
                    "bucket_by": { "type": "string", "minLength": 1, "maxLength": 1024, "description": "the attribute to bucket by, at most 1,024 bytes (SDKs send it back with exposures); default the targeting key" }, "salt": { "type": "string" },
                    "schedule": { "type": "object", "description": "exactly one of steps [{at, weights}] or ramp {start, end, weights}" }
                }
            }),
        ),
        (
            "Target",
            json!({ "type": "object", "additionalProperties": false, "required": ["variant", "keys"],
            "properties": { "variant": { "type": "string" }, "keys": strings() } }),
        ),
        (
            "Rule",
            json!({ "type": "object", "additionalProperties": false, "required": ["id", "serve"],
            "properties": { "id": { "type": "string", "maxLength": 1024, "description": format!("unique within the flag, at most 1,024 bytes (SDKs send it back with exposures; may be empty); {NO_CONTROLS}") }, "conditions": { "type": "array", "items": r("Condition") }, "serve": r("Serve") } }),
        ),
        (
            "Condition",
            json!({
                "type": "object", "additionalProperties": false, "required": ["op"],
                "properties": {
                    "attribute": { "type": "string" },
                    "op": { "enum": ["equals", "not_equals", "in", "not_in", "contains", "starts_with", "ends_with", "matches",
                        "lt", "lte", "gt", "gte", "semver_eq", "semver_lt", "semver_lte", "semver_gt", "semver_gte",
                        "before", "after", "exists", "missing", "in_segment", "not_in_segment"] },
                    "value": {}, "case_insensitive": { "type": "boolean" }, "negate": { "type": "boolean" }
                }
            }),
        ),
        (
            "Prerequisite",
            json!({ "type": "object", "additionalProperties": false, "required": ["flag", "variant"],
            "properties": { "flag": { "type": "string" }, "variant": { "type": "string" } } }),
        ),
        (
            "Toggle",
            json!({ "type": "object", "additionalProperties": false, "required": ["enabled"], "properties": { "enabled": { "type": "boolean" } } }),
        ),
        (
            "RolloutRequest",
            json!({
                "type": "object", "additionalProperties": false, "required": ["percent"],
                "properties": { "percent": { "type": "number", "minimum": 0, "maximum": 100 }, "variant": { "type": "string" }, "otherwise": { "type": "string" } }
            }),
        ),
        (
            "Segment",
            json!({
                "type": "object", "additionalProperties": false,
                "properties": { "key": { "type": "string" }, "description": prose(), "included": strings(), "excluded": strings(),
                    "rules": { "type": "array", "items": { "type": "object", "additionalProperties": false, "required": ["id"],
                        "properties": { "id": label("unique within the segment"), "conditions": { "type": "array", "items": r("Condition") } } } } }
            }),
        ),
        (
            "SegmentList",
            list(
                "segments",
                json!({ "type": "object", "properties": { "key": { "type": "string" }, "etag": { "type": "string" }, "segment": r("Segment") } }),
            ),
        ),
    ]
}

fn other_schemas() -> Vec<(&'static str, Json)> {
    let time = json!({ "type": "string", "format": "date-time" });
    vec![
        (
            "Environment",
            json!({ "type": "object", "properties": { "name": { "type": "string" }, "protected": { "type": "boolean" },
            "version": { "type": "integer" }, "created_at": time } }),
        ),
        ("EnvironmentList", list("environments", r("Environment"))),
        (
            "NewEnvironment",
            json!({ "type": "object", "additionalProperties": false, "required": ["name"],
            "properties": { "name": { "type": "string" }, "protected": { "type": "boolean" } } }),
        ),
        (
            "EnvPatch",
            json!({ "type": "object", "additionalProperties": false, "required": ["protected"], "properties": { "protected": { "type": "boolean" } } }),
        ),
        (
            "Snapshot",
            json!({ "type": "object", "properties": { "environment": { "type": "string" }, "kind": { "enum": ["server", "client"] },
            "version": { "type": "integer" }, "sha256": { "type": "string" }, "key_ids": strings(), "issued_at": time, "expires_at": time,
            "payload": { "type": "object" }, "envelope": r("Envelope") } }),
        ),
        ("SnapshotList", list("snapshots", r("Snapshot"))),
        (
            "RollbackRequest",
            json!({ "type": "object", "additionalProperties": false, "required": ["to_version"], "properties": { "to_version": { "type": "integer", "minimum": 1 } } }),
        ),
        (
            "RollbackResult",
            json!({ "type": "object", "properties": { "environment": { "type": "string" }, "restored_version": { "type": "integer" }, "version": { "type": "integer" },
                "kept_segments": { "type": "array", "items": { "type": "string" }, "description": "segments the restored version did not have, kept as they are because flags created since (disabled, their rules kept) name them" } } }),
        ),
        (
            "Envelope",
            json!({ "type": "object", "description": "a DSSE envelope (docs/SPEC.md section 2)", "required": ["payloadType", "payload", "signatures"],
            "properties": { "payloadType": { "const": "application/vnd.pennon.snapshot+json" }, "payload": { "type": "string", "contentEncoding": "base64" },
                "signatures": { "type": "array", "items": { "type": "object", "properties": { "keyid": { "type": "string" }, "sig": { "type": "string" } } } } } }),
        ),
        (
            "Keys",
            list(
                "keys",
                json!({ "type": "object", "properties": { "key_id": { "type": "string" }, "public_key": { "type": "string" }, "status": { "enum": ["signing", "published"] } } }),
            ),
        ),
        (
            "SdkKey",
            json!({ "type": "object", "properties": { "id": { "type": "integer" }, "environment": { "type": "string" }, "kind": { "enum": ["server", "client"] },
            "name": { "type": "string" }, "prefix": { "type": "string" }, "created_at": time, "created_by": { "type": "string" }, "revoked_at": time,
            "key": { "type": "string", "description": "the secret; only when created" } } }),
        ),
        ("SdkKeyList", list("sdk_keys", r("SdkKey"))),
        (
            "NewSdkKey",
            json!({ "type": "object", "additionalProperties": false, "required": ["kind"], "properties": { "kind": { "enum": ["server", "client"] }, "name": label("1 to 128 bytes; default the kind") } }),
        ),
        (
            "Token",
            json!({ "type": "object", "properties": { "id": { "type": "integer" }, "name": { "type": "string" }, "role": { "enum": ["admin", "editor", "viewer"] },
            "environments": strings(), "prefix": { "type": "string" }, "created_at": time, "created_by": { "type": "string" }, "revoked_at": time,
            "token": { "type": "string", "description": "the secret; only when created" } } }),
        ),
        ("TokenList", list("tokens", r("Token"))),
        (
            "NewToken",
            json!({ "type": "object", "additionalProperties": false, "required": ["name", "role"],
            "properties": { "name": label(&format!("1 to 128 bytes, unique among live tokens compared lowercased (`ED` is `ed`), not `pennon`; {PLAIN_NAME}")), "role": { "enum": ["admin", "editor", "viewer"] }, "environments": strings() } }),
        ),
        (
            "WhoAmI",
            json!({ "type": "object", "properties": { "name": { "type": "string" }, "role": { "type": "string" }, "environments": strings() } }),
        ),
        (
            "AuditEntry",
            json!({ "type": "object", "properties": { "id": { "type": "integer" }, "at": time, "actor": { "type": "string" },
            "approved_by": { "type": "string" }, "action": { "type": "string" }, "resource_type": { "type": "string" }, "resource": { "type": "string" },
            "environment": { "type": "string" },
            "before": { "description": "the resource before the change; in a compact entry without the lists named in `changes`" },
            "after": { "description": "the resource after the change; in a compact entry without the lists named in `changes`" },
            "changes": { "type": "array", "items": r("ListChange"), "description": "only in a compact entry (its before and after would pass 16 KiB of JSON): each large list left out of `before` and `after`, with the members added and removed" },
            "request_id": { "type": "string" },
            "snapshot_version": { "type": "integer" }, "change_request": { "type": "integer" } } }),
        ),
        (
            "ListChange",
            json!({ "type": "object", "required": ["path", "added", "removed", "before_count", "after_count"], "properties": {
                "path": { "type": "string", "description": "JSON Pointer (RFC 6901) of the list in `before` and `after`, such as `/included`" },
                "added": { "type": "array", "description": "members in the list after and not before (a multiset difference)" },
                "removed": { "type": "array", "description": "members in the list before and not after" },
                "before_count": { "type": "integer" }, "after_count": { "type": "integer" } } }),
        ),
        ("AuditList", list("entries", r("AuditEntry"))),
        (
            "ChangeRequest",
            json!({ "type": "object", "properties": { "id": { "type": "integer" }, "environment": { "type": "string" },
            "status": { "enum": ["open", "applied", "rejected"] }, "operation": { "type": "object", "description": "{\"action\": ..., ...}: config.update, config.toggle, config.rollout, segment.create, segment.update, segment.delete or rollback" },
            "if_match": { "type": "string" }, "proposed_by": { "type": "string" }, "proposed_at": time, "decided_by": { "type": "string" },
            "decided_at": time, "snapshot_version": { "type": "integer" },
            "already_open": { "type": "boolean", "description": "only in the 202 answer of a write: true when the write repeated the change of a request its token already had open, which is that request (nothing was stored or audited); false when the write opened this one" } } }),
        ),
        ("ChangeRequestList", list("change_requests", r("ChangeRequest"))),
        (
            "StaleReport",
            json!({ "type": "object", "required": ["generated_at", "settled_days", "lifetime_days", "unused_days", "environments", "flags"],
            "properties": { "generated_at": time, "settled_days": { "type": "integer" }, "lifetime_days": { "type": "integer" },
                "unused_days": { "type": "integer" },
                "environments": strings(), "flags": { "type": "array", "items": r("StaleFlag") } } }),
        ),
        (
            "StaleFlag",
            json!({ "type": "object", "required": ["key", "type", "created_at", "stale_since", "reasons", "environments", "action"],
            "properties": { "key": { "type": "string" }, "owner": { "type": "string" },
                "type": { "enum": ["boolean", "string", "integer", "float", "object"] }, "created_at": time, "expires_at": time,
                "stale_since": { "type": "string", "format": "date-time", "description": "the earliest `since` of its reasons" },
                "reasons": { "type": "array", "items": { "type": "object", "required": ["reason", "since", "message"], "properties": {
                    "reason": { "enum": ["expired", "past_lifetime", "settled", "diverged", "never_configured", "unused"] },
                    "since": time, "message": { "type": "string" } } } },
                "environments": { "type": "array", "items": { "type": "object", "required": ["environment"],
                    "description": "what it serves there: `variant`, `value` and `since`, or `varies` saying why not one variant; `last_evaluated` when SDKs that report telemetry evaluated it there",
                    "properties": { "environment": { "type": "string" }, "variant": { "type": "string" }, "value": {},
                        "since": time, "varies": { "type": "string" }, "last_evaluated": time } } },
                "action": { "type": "string", "description": "what to do about it" } } }),
        ),
        (
            "Error",
            json!({ "type": "object", "properties": { "error": { "type": "object", "required": ["code", "message"],
            "properties": { "code": { "type": "string" }, "message": { "type": "string" }, "field": { "type": "string" },
                "path": { "type": "string" }, "current_etag": { "type": "string" } } } } }),
        ),
    ]
}

/// Every schema, by name.
pub(super) fn all() -> Json {
    let map: serde_json::Map<String, Json> = flag_schemas()
        .into_iter()
        .chain(other_schemas())
        .chain(super::telemetry_schemas::all())
        .map(|(name, schema)| (name.to_owned(), schema))
        .collect();
    Json::Object(map)
}
