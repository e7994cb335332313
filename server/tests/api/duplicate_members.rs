//! A JSON body naming a member twice, at any depth, is refused with 400
//! `malformed_json` naming the member and where it is, and nothing changes. serde_json
//! kept the last one: `{"role": "viewer", ..., "role": "admin"}` made an admin token
//! that a reviewer or a proxy reading the first value took for a viewer.

use reqwest::Method;
use serde_json::json;

use crate::common::{boolean_flag, Api, Backend, Resp, Server};

/// Asserts a 400 `malformed_json` whose `field` is `path` and whose message names
/// `member` and says it is there twice.
fn refused(case: &str, reply: &Resp, member: &str, path: &str) {
    assert_eq!((reply.status, reply.code(), reply.field()), (400, "malformed_json", path), "{case}: {}", reply.body);
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!("the request body names member `{member}` twice in one object (at `{path}`")),
        "{case}: {message}"
    );
}

/// `body` sent as it is, with `if_match` when given.
async fn send(api: &Api, method: Method, path: &str, body: &str, if_match: Option<&str>) -> Resp {
    let headers: Vec<(&str, &str)> = if_match.map(|etag| ("if-match", etag)).into_iter().collect();
    api.raw(method, path, Some(body.as_bytes().to_vec()), &headers).await
}

async fn bodies_naming_a_member_twice_are_refused(backend: Backend) {
    let server = Server::start(&backend).await;
    let api = server.admin();
    let etag = boolean_flag(&api, "checkout", false).await;
    let config = "/api/v1/environments/development/flags/checkout";
    let production = "/api/v1/environments/production/flags/checkout";
    let production_etag = api.get(production).await.etag.unwrap();
    let tokens = api.get("/api/v1/tokens").await.body;
    let flags = api.get("/api/v1/flags").await.body;
    let configs = (api.get(config).await.body, api.get(production).await.body);
    let versions = (api.version("development").await, api.version("production").await);
    let audited = api.audit_count().await;

    let token = r#"{"name":"dupt","role":"viewer","environments":["staging"],"role":"admin","environments":["*"]}"#;
    refused("token role", &send(&api, Method::POST, "/api/v1/tokens", token, None).await, "role", "role");

    let flag = r#"{"key": "dup", "type": "boolean", "variants": {"on": true, "off": false, "on": false}}"#;
    refused("variant", &send(&api, Method::POST, "/api/v1/flags", flag, None).await, "on", "variants.on");
    let flag_etag = api.get("/api/v1/flags/checkout").await.etag.unwrap();
    let definition = r#"{"type": "boolean", "client_visible": false, "client_visible": true}"#;
    let reply = send(&api, Method::PUT, "/api/v1/flags/checkout", definition, Some(&flag_etag)).await;
    refused("definition", &reply, "client_visible", "client_visible");

    let enabled = r#"{"enabled": true, "off_variant": "off", "fallthrough": {"variant": "on"}, "enabled": false}"#;
    refused("enabled", &send(&api, Method::PUT, config, enabled, Some(&etag)).await, "enabled", "enabled");
    let op = r#"{"enabled": true, "off_variant": "off", "fallthrough": {"variant": "off"},
        "rules": [{"id": "r", "conditions": [{"attribute": "email", "op": "equals", "op": "not_equals",
        "value": "a@example.com"}], "serve": {"variant": "on"}}]}"#;
    let path = "rules[0].conditions[0].op";
    refused("condition op", &send(&api, Method::PUT, config, op, Some(&etag)).await, "op", path);
    // In a protected environment: no change request is opened either.
    refused("proposed", &send(&api, Method::PUT, production, op, Some(&production_etag)).await, "op", path);
    let toggle = r#"{"enabled": false, "enabled": true}"#;
    let reply = send(&api, Method::POST, &format!("{production}/toggle"), toggle, Some(&production_etag)).await;
    refused("toggle", &reply, "enabled", "enabled");

    let segment = r#"{"key": "beta", "included": ["ann"], "key": "gamma"}"#;
    let reply = send(&api, Method::POST, "/api/v1/environments/development/segments", segment, None).await;
    refused("segment", &reply, "key", "key");
    // Names that are not identifiers are quoted in the path; escapes spell the same name.
    let metadata = r#"{"enabled": false, "off_variant": "off", "fallthrough": {"variant": "off"},
        "metadata": {"team name": {"a": 1}, "team\u0020name": 2}}"#;
    let reply = send(&api, Method::PUT, config, metadata, Some(&etag)).await;
    refused("metadata", &reply, "team name", r#"metadata["team name"]"#);

    // An SDK's telemetry report is a JSON body too.
    let report = r#"{"sdk": "pennon-rust/0.1.0", "sdk": "other/1", "instance": "i-1"}"#;
    let reply = send(&server.api(&server.sdk_dev), Method::POST, "/v1/telemetry/development", report, None).await;
    refused("telemetry", &reply, "sdk", "sdk");

    // Nothing was created, changed, proposed, published or audited.
    assert_eq!(api.get("/api/v1/tokens").await.body, tokens);
    assert_eq!(api.get("/api/v1/flags").await.body, flags);
    assert_eq!((api.get(config).await.body, api.get(production).await.body), configs);
    assert_eq!((api.version("development").await, api.version("production").await), versions);
    assert_eq!(api.audit_count().await, audited, "a refused write was audited");
    assert_eq!(api.get("/api/v1/change-requests").await.body["change_requests"], json!([]));
    assert_eq!(api.get("/api/v1/environments/development/segments").await.body["segments"], json!([]));

    // The same member in two objects is no duplicate; the body and nesting limits hold.
    let token = r#"{"name": "ci", "role": "viewer", "environments": ["staging"]}"#;
    assert_eq!(send(&api, Method::POST, "/api/v1/tokens", token, None).await.status, 201);
    let big = format!(r#"{{"name": "x", "role": "viewer", "role": "admin", "pad": "{}"}}"#, "x".repeat(70 * 1024));
    let reply = send(&api, Method::POST, "/api/v1/tokens", &big, None).await;
    assert_eq!((reply.status, reply.code()), (413, "body_too_large"), "{}", reply.body);
    let deep = format!(r#"{{"name": {}1{}}}"#, "[".repeat(200), "]".repeat(200));
    let reply = send(&api, Method::POST, "/api/v1/tokens", &deep, None).await;
    assert_eq!((reply.status, reply.code()), (400, "malformed_json"), "{}", reply.body);
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("recursion limit exceeded"), "{}", reply.body);
    server.stop().await;
}

crate::on_both_backends!(bodies_naming_a_member_twice_are_refused);
