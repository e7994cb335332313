//! Bad input gets a precise 4xx (which field, and why) and changes nothing: no new
//! snapshot version, no audit entry.

use reqwest::Method;
use serde_json::{json, Value as Json};

use crate::common::{boolean_flag, Api, Backend, Resp, Server};

const CONFIG: &str = "/api/v1/environments/development/flags/checkout";

/// A config with one rule whose single condition is `condition`.
fn with_condition(condition: Json) -> Json {
    json!({
        "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
        "rules": [{ "id": "r", "conditions": [condition], "serve": { "variant": "on" } }]
    })
}

struct Case {
    name: &'static str,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

async fn expect(api: &Api, reply: Resp, case: Case) {
    let _ = api;
    assert_eq!(reply.status, case.status, "{}: {}", case.name, reply.body);
    assert_eq!(reply.code(), case.code, "{}: {}", case.name, reply.body);
    if let Some(field) = case.field {
        assert_eq!(reply.field(), field, "{}: {}", case.name, reply.body);
    }
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.len() > 10, "{}: the message says little: {message:?}", case.name);
}

async fn refused_without_change(backend: Backend) {
    let server = Server::start(&backend).await;
    let api = server.admin();
    let etag = boolean_flag(&api, "checkout", false).await;
    boolean_flag(&api, "other", false).await;
    let version = api.version("development").await;
    let audited = api.audit_count().await;
    let raw = |body: &str| {
        let api = api.clone();
        let etag = etag.clone();
        let body = body.as_bytes().to_vec();
        async move { api.raw(Method::PUT, CONFIG, Some(body), &[("if-match", &etag)]).await }
    };
    let put = |body: Json| {
        let api = api.clone();
        let etag = etag.clone();
        async move { api.put(CONFIG, &body, &etag).await }
    };

    let case = |name, status, code, field| Case { name, status, code, field };
    expect(&api, raw("{\"enabled\": true,").await, case("malformed JSON", 400, "malformed_json", None)).await;
    expect(&api, raw("").await, case("empty body", 400, "malformed_json", None)).await;
    expect(
        &api,
        raw(r#"{"enabled": true, "off_variant": "off", "fallthrough": {"variant": "off"}} []"#).await,
        case("trailing data", 400, "malformed_json", None),
    )
    .await;
    let unknown =
        json!({ "enabled": true, "enabeld": true, "off_variant": "off", "fallthrough": { "variant": "off" } });
    expect(&api, put(unknown).await, case("unknown field", 422, "unknown_field", Some("enabeld"))).await;
    let nested = with_condition(json!({ "attribute": "email", "op": "equals", "value": "a", "colour": "red" }));
    expect(
        &api,
        put(nested).await,
        case("nested unknown field", 422, "unknown_field", Some("rules[0].conditions[0].colour")),
    )
    .await;
    let wrong_type = json!({ "enabled": "yes", "off_variant": "off", "fallthrough": { "variant": "off" } });
    expect(&api, put(wrong_type).await, case("wrong type", 422, "invalid_field", Some("enabled"))).await;
    let bad_op = with_condition(json!({ "attribute": "email", "op": "resembles", "value": "a" }));
    let reply = put(bad_op).await;
    // serde's "unknown variant" would read as a flag variant.
    let message = reply.body["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.starts_with("unknown value `resembles`, expected one of `equals`"), "{message}");
    expect(&api, reply, case("unknown operator", 422, "invalid_field", Some("rules[0].conditions[0].op"))).await;
    let regex = with_condition(json!({ "attribute": "email", "op": "matches", "value": "(unclosed" }));
    expect(
        &api,
        put(regex).await,
        case("invalid regex", 422, "invalid_snapshot", Some("rules[0].conditions[0].value")),
    )
    .await;
    let semver = with_condition(json!({ "attribute": "version", "op": "semver_gte", "value": "1.x" }));
    expect(
        &api,
        put(semver).await,
        case("invalid semver", 422, "invalid_snapshot", Some("rules[0].conditions[0].value")),
    )
    .await;
    let number = with_condition(json!({ "attribute": "age", "op": "gt", "value": "eighteen" }));
    expect(
        &api,
        put(number).await,
        case("operand of the wrong type", 422, "invalid_snapshot", Some("rules[0].conditions[0].value")),
    )
    .await;
    let variant = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "maybe" } });
    expect(&api, put(variant).await, case("unknown variant", 422, "invalid_snapshot", Some("fallthrough.variant")))
        .await;
    let weights = json!({ "enabled": true, "off_variant": "off",
        "fallthrough": { "rollout": { "variants": [{ "variant": "on", "weight": -1 }] } } });
    expect(
        &api,
        put(weights).await,
        case("negative weight", 422, "invalid_field", Some("fallthrough.rollout.variants[0].weight")),
    )
    .await;
    let metadata = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" }, "metadata": { "team": ["a"] } });
    expect(
        &api,
        put(metadata).await,
        case("metadata of the wrong type", 422, "invalid_field", Some("metadata[\"team\"]")),
    )
    .await;
    assert_eq!(api.version("development").await, version, "a refused write published a snapshot");
    assert_eq!(api.audit_count().await, audited, "a refused write was audited");
    // Prerequisite cycle: other requires checkout, then checkout requires other.
    let other = "/api/v1/environments/development/flags/other";
    let other_etag = api.get(other).await.etag.unwrap();
    let needs_checkout = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "on" },
        "prerequisites": [{ "flag": "checkout", "variant": "on" }] });
    let reply = api.put(other, &needs_checkout, &other_etag).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (version, audited) = (api.version("development").await, api.audit_count().await);
    let cycle = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "on" },
        "prerequisites": [{ "flag": "other", "variant": "on" }] });
    let reply = put(cycle).await;
    assert_eq!((reply.status, reply.code()), (422, "invalid_snapshot"), "{}", reply.body);
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("cycle"), "{}", reply.body);
    // Bodies over the limit (64 KiB in the tests).
    let huge = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
        "targets": [{ "variant": "on", "keys": vec!["k".repeat(100); 1000] }] });
    expect(&api, put(huge).await, case("oversized body", 413, "body_too_large", None)).await;
    // Flag definitions.
    let bad_key = api.post("/api/v1/flags", &json!({ "key": "bad key!", "type": "boolean" })).await;
    expect(&api, bad_key, case("invalid key", 422, "invalid_field", Some("key"))).await;
    let bad_type = api.post("/api/v1/flags", &json!({ "key": "k", "type": "bool" })).await;
    expect(&api, bad_type, case("unknown flag type", 422, "invalid_field", Some("type"))).await;
    let bad_value =
        api.post("/api/v1/flags", &json!({ "key": "k", "type": "boolean", "variants": { "on": "yes" } })).await;
    expect(&api, bad_value, case("variant of the wrong type", 422, "invalid_snapshot", Some("variants[\"on\"]"))).await;
    let enum_type = api.post("/api/v1/flags", &json!({ "key": "k", "type": 7 })).await;
    expect(&api, enum_type, case("a number for an enum", 422, "invalid_field", Some("type"))).await;
    let op_type = put(with_condition(json!({ "attribute": "a", "op": 1, "value": "x" }))).await;
    expect(&api, op_type, case("a number for an operator", 422, "invalid_field", Some("rules[0].conditions[0].op")))
        .await;
    let array = api.raw(Method::POST, "/api/v1/flags", Some(br#"["b", "boolean"]"#.to_vec()), &[]).await;
    expect(&api, array, case("an array for an object", 422, "invalid_field", Some(""))).await;
    let comma = api.post("/api/v1/flags", &json!({ "key": "k", "type": "boolean", "tags": ["ok", "a,b"] })).await;
    expect(&api, comma, case("a comma in a tag", 422, "invalid_field", Some("tags[1]"))).await;
    let no_variants = api.post("/api/v1/flags", &json!({ "key": "k", "type": "string" })).await;
    expect(&api, no_variants, case("missing variants", 422, "invalid_field", Some("variants"))).await;
    let percent = api.post_if(&format!("{CONFIG}/rollout"), &json!({ "percent": 150 }), &etag).await;
    expect(&api, percent, case("percentage out of range", 422, "invalid_field", Some("percent"))).await;
    // Preconditions.
    let current = api.get(CONFIG).await.body;
    let missing = api.raw(Method::PUT, CONFIG, Some(current.to_string().into_bytes()), &[]).await;
    expect(&api, missing, case("no If-Match", 428, "precondition_required", None)).await;
    let stale = api.put(CONFIG, &current, "\"r999\"").await;
    expect(&api, stale, case("stale If-Match", 412, "precondition_failed", None)).await;
    // Unknown resources and routes.
    let flagless = api.get("/api/v1/environments/development/flags/nope").await;
    expect(&api, flagless, case("unknown flag", 404, "not_found", None)).await;
    let routeless = api.get("/api/v1/nothing-here").await;
    expect(&api, routeless, case("unknown route", 404, "no_route", None)).await;
    let method = api.raw(Method::PATCH, "/api/v1/flags", None, &[]).await;
    assert_eq!(method.headers.get("allow").map(|v| v.to_str().unwrap()), Some("GET,HEAD,POST"), "{}", method.body);
    expect(&api, method, case("unknown method", 405, "method_not_allowed", None)).await;

    // Nothing changed.
    assert_eq!(api.version("development").await, version, "a refused write published a snapshot");
    assert_eq!(api.audit_count().await, audited, "a refused write was audited");
    assert_eq!(api.get(CONFIG).await.body["enabled"], false);
    server.stop().await;
}

/// A write whose signed snapshot would exceed what clients accept (16 MiB by default)
/// is refused: publishing it would leave every client on its last version while the
/// write reported success.
async fn a_snapshot_clients_would_refuse_is_not_published(backend: Backend) {
    let server = Server::start_with(&backend, |c| c.max_body_bytes = 32 << 20).await;
    let api = server.admin();
    let (version, audited) = (api.version("development").await, api.audit_count().await);
    // 600,000 members of 22 bytes in JSON: ~13 MB of payload, ~18 MB once base64 signed.
    let members: Vec<String> = (0..600_000).map(|i| format!("member-{i:012}")).collect();
    let base = "/api/v1/environments/development/segments";
    let reply = api.post(base, &json!({ "key": "everyone", "included": members })).await;
    assert_eq!((reply.status, reply.code()), (422, "too_large"), "{}", reply.body);
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("16777216 bytes clients accept"), "{message}");
    assert_eq!(api.version("development").await, version, "nothing was published");
    assert_eq!(api.audit_count().await, audited, "nothing was audited");
    assert_eq!(api.get(&format!("{base}/everyone")).await.status, 404, "nothing was stored");
    let small = api.post(base, &json!({ "key": "few", "included": &members[..1000] })).await;
    assert_eq!(small.status, 201, "{}", small.body);
    server.stop().await;
}

/// A query parameter a route cannot use is named in `field` and at the start of the
/// message on every route, as docs/OPERATIONS.md says ("as everywhere in the API"), not
/// only on the routes that check their parameters themselves: a script that mistyped
/// one learns which.
async fn every_route_names_a_bad_query_parameter(backend: Backend) {
    let server = Server::start(&backend).await;
    let api = server.admin();
    api.assert_invalid_queries(
        "/api/v1/audit",
        &[("limit=abc", "limit"), ("limit=-1", "limit"), ("before_id=x", "before_id"), ("bogus=1", "bogus")],
    )
    .await;
    api.assert_invalid_queries("/api/v1/change-requests", &[("status=bogus", "status"), ("env=x", "env")]).await;
    api.assert_invalid_queries("/api/v1/flags", &[("tags=x", "tags")]).await;
    let snapshots = "/api/v1/environments/development/snapshots";
    api.assert_invalid_queries(snapshots, &[("limit=abc", "limit"), ("kind=bogus", "kind"), ("before=-2", "before")])
        .await;
    api.assert_invalid_queries(&format!("{snapshots}/1"), &[("kind=web", "kind")]).await;
    api.assert_invalid_queries("/api/v1/reports/not-found", &[("env=development", "env")]).await;
    api.assert_invalid_queries("/api/v1/reports/stale-flags", &[("settled=7", "settled")]).await;

    // The message says what was wrong with it: the value refused, or the names it takes.
    let status = api.get("/api/v1/change-requests?status=bogus").await;
    let message = status.body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("`status`: cannot use `bogus`: "), "{message}");
    let unknown = api.get("/api/v1/change-requests?env=x").await;
    let message = unknown.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("no such parameter") && message.contains("`environment`"), "{message}");
    server.stop().await;
}

/// A page size or a paging bound out of range is refused, with the range, on every list
/// that pages (as `/exposures` always did), rather than answered with nothing
/// (`limit=0`) or silently cut to 1,000 (`limit=5000`); a filter on an action or a
/// resource type the audit log never records is refused listing those it does.
async fn list_parameters_out_of_range_are_refused(backend: Backend) {
    let server = Server::start(&backend).await;
    let api = server.admin();
    let snapshots = "/api/v1/environments/development/snapshots";
    let cases = [
        ("/api/v1/audit", "limit=0", "`limit`: `0` is not a whole number from 1 to 1000"),
        ("/api/v1/audit", "limit=5000", "`limit`: `5000` is not a whole number from 1 to 1000"),
        ("/api/v1/audit", "before_id=0", "`before_id`: `0` is not a whole number of 1 or more"),
        (snapshots, "limit=0", "`limit`: `0` is not a whole number from 1 to 1000"),
        (snapshots, "limit=1001", "`limit`: `1001` is not a whole number from 1 to 1000"),
        (snapshots, "before=0", "`before`: `0` is not a whole number of 1 or more"),
        ("/api/v1/exposures", "limit=0", "`limit`: `0` is not a whole number from 1 to 1000"),
        ("/api/v1/audit", "action=bogus", "`action`: the audit log records no `bogus`; it records change_request."),
        ("/api/v1/audit", "resource_type=flags", "`resource_type`: the audit log records no `flags`; it records "),
    ];
    for (route, query, says) in cases {
        let reply = api.get(&format!("{route}?{query}")).await;
        assert_eq!((reply.status, reply.code()), (400, "invalid_query"), "{route}?{query}: {}", reply.body);
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(says), "{route}?{query}: {message}");
    }
    let created = api.get("/api/v1/audit?action=environment.create&resource_type=environment").await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["entries"].as_array().unwrap().len(), 3, "the first run's three environments");
    // The edges are in range: a whole page of 1,000, and the first version.
    assert_eq!(api.get("/api/v1/audit?limit=1000&before_id=1").await.status, 200);
    let first = api.get(&format!("{snapshots}?limit=1000&before=1")).await;
    assert_eq!((first.status, &first.body["snapshots"]), (200, &json!([])), "{}", first.body);
    server.stop().await;
}

crate::on_both_backends!(
    refused_without_change,
    a_snapshot_clients_would_refuse_is_not_published,
    every_route_names_a_bad_query_parameter,
    list_parameters_out_of_range_are_refused
);
