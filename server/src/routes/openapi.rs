//! The OpenAPI 3.1 document, generated from the documented route list.

use axum::http::Method;
use serde_json::{json, Map, Value as Json};

use super::{Auth, Doc};
use crate::model::Role;

fn schema_ref(name: &str) -> Json {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn response(meaning: &str, schema: Option<&str>) -> Json {
    let mut response = json!({ "description": if meaning.is_empty() { "success" } else { meaning } });
    if let Some(schema) = schema {
        response["content"] = json!({ "application/json": { "schema": schema_ref(schema) } });
    }
    response
}

fn operation(doc: &Doc) -> Json {
    let mut parameters: Vec<Json> = doc
        .path
        .split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    for (name, meaning) in &doc.query {
        parameters.push(json!({ "name": name, "in": "query", "required": false, "description": meaning, "schema": { "type": "string" } }));
    }
    if doc.if_match {
        parameters.push(json!({
            "name": "If-Match", "in": "header", "required": true, "schema": { "type": "string" },
            "description": "the resource's ETag from a GET: 428 without it, 412 (with `current_etag`) if stale. `*` \
                (RFC 9110: any current version) skips the staleness check: the write overwrites whatever changed \
                since you read it, and a change request proposed with `*` is applied on approval over changes made \
                since; the resource must exist (404)"
        }));
    }
    let mut responses = Map::new();
    for (status, schema, meaning) in &doc.responses {
        responses.insert(status.to_string(), response(meaning, *schema));
    }
    let mut common = vec![(
        "400",
        "malformed request: not JSON, or an object in the body naming a member twice (`malformed_json`; \
         `field` is the second one's path), a bad path, or a query parameter it cannot use (`invalid_query`, \
         naming it)",
    )];
    if doc.body.is_some() {
        common.push((
            "408",
            "`body_timeout`: the request body did not all arrive within --body-timeout of the server starting \
             to read it; nothing was changed, and the connection is closed",
        ));
        common.push(("413", "`body_too_large`: the request body is over --max-body"));
        common.push((
            "422",
            "nothing was changed: `invalid_field` or `unknown_field` (`field` names it, `message` says why); \
             `invalid_snapshot` or `limit_exceeded` (the change would publish a snapshot clients refuse: \
             `field` names where, `path` the place in the payload); `too_large` (the signed snapshot would be \
             over the size clients accept by default)",
        ));
    }
    match doc.auth {
        Auth::Public => {}
        Auth::Token(_) | Auth::SdkKey => {
            common.push(("401", "no, unknown or revoked credential"));
            common.push(("403", "the credential may not do this (role or environment)"));
        }
    }
    if doc.path.contains('{') && !matches!(doc.auth, Auth::Public) {
        common.push(("404", "no such resource: the message names it"));
    }
    if doc.method != Method::GET && matches!(doc.auth, Auth::Token(_)) {
        common.push(("409", "conflicts with the current state: the message says how"));
    }
    if doc.if_match {
        common.push(("412", "If-Match is stale: `current_etag` holds the current one"));
        common.push(("428", "If-Match is missing"));
    }
    match doc.auth {
        Auth::Token(_) => common.push(("503", "`database_unavailable` or `busy`: retry later")),
        Auth::SdkKey => common.push((
            "503",
            "`database_unavailable`: the SDK key could not be checked (one this instance has not accepted \
             before, while the database does not answer within 2 s, or at once while it is known to be \
             unreachable); retry later",
        )),
        Auth::Public => {}
    }
    for (status, meaning) in common {
        responses.entry(status.to_owned()).or_insert_with(|| response(meaning, Some("Error")));
    }
    let mut op = json!({
        "summary": doc.summary,
        "operationId": format!("{}_{}", doc.method.as_str().to_lowercase(), doc.path.trim_start_matches('/').replace(['/', '{', '}', '-'], "_")),
        "parameters": parameters,
        "responses": responses,
    });
    match doc.auth {
        Auth::Public => op["security"] = json!([]),
        Auth::Token(role) => {
            op["security"] = json!([{ "apiToken": [] }]);
            op["x-pennon-role"] = json!(match role {
                Role::Viewer => "viewer",
                Role::Editor => "editor",
                Role::Admin => "admin",
            });
        }
        Auth::SdkKey => op["security"] = json!([{ "sdkKey": [] }]),
    }
    if let Some(body) = doc.body {
        op["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": schema_ref(body) } } });
    }
    op
}

/// The document for `docs`.
pub(super) fn document(docs: &[Doc]) -> Json {
    let mut paths = Map::new();
    for doc in docs {
        let item = paths.entry(doc.path.to_owned()).or_insert_with(|| json!({}));
        item[doc.method.as_str().to_lowercase()] = operation(doc);
    }
    paths.insert(
        "/openapi.json".into(),
        json!({ "get": { "summary": "This document", "operationId": "get_openapi", "security": [], "responses": { "200": { "description": "OpenAPI 3.1" } } } }),
    );
    paths.insert(
        "/healthz".into(),
        json!({ "get": {
            "summary": "Liveness and readiness: an instance listens only once it holds every environment's latest snapshot, and answers `ok` while the database is unreachable",
            "operationId": "get_healthz", "security": [], "responses": { "200": { "description": "ok" } } } }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Pennon control plane",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Feature flags managed in a database, audited, and published as signed snapshots. \
                Every resource has an ETag; changes to flags, configurations, segments and \
                environments need If-Match: the current ETag, or `*` (on every such route) to write over \
                whatever is there now, skipping the staleness check (revoking a token or an SDK key needs \
                no If-Match). Errors are \
                {\"error\": {\"code\", \"message\", \"field\"?, \"path\"?, \"current_etag\"?}}."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiToken": { "type": "http", "scheme": "bearer", "description": "an API token (pnt_...) with a role" },
                "sdkKey": { "type": "http", "scheme": "bearer", "description": "an SDK key of the environment (pns_... server, pnc_... client)" }
            },
            "schemas": super::schemas::all()
        }
    })
}
