//! `If-Match: *` as `docs/OPERATIONS.md` describes it: every route that takes `If-Match`
//! takes `*` for "whatever is there now" (RFC 9110), skipping the staleness check but
//! not the 428 for a missing header nor the 404 for a missing resource; and a change
//! request proposed with `*` is applied on approval over changes made since.

use reqwest::Method;
use serde_json::{json, Value as Json};

use crate::common::{boolean_flag, Api, Backend, Resp, Server};

/// `method path` with `body` and `If-Match: if_match` (none when `None`).
async fn send(api: &Api, method: Method, path: &str, body: Option<&Json>, if_match: Option<&str>) -> Resp {
    let headers: Vec<(&str, &str)> = if_match.map(|tag| ("if-match", tag)).into_iter().collect();
    api.raw(method, path, body.map(|b| b.to_string().into_bytes()), &headers).await
}

async fn star_matches_whatever_is_there(backend: Backend) {
    let server = Server::start(&backend).await;
    let api = server.admin();
    boolean_flag(&api, "checkout", false).await;
    let segments = "/api/v1/environments/development/segments";
    assert_eq!(api.post(segments, &json!({ "key": "beta", "included": ["ann"] })).await.status, 201);
    assert_eq!(api.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 201);
    let config = "/api/v1/environments/development/flags/checkout";
    let enabled = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "on" } });
    let version = api.version("development").await;
    let routes: [(Method, String, Option<Json>, u16); 10] = [
        (Method::PUT, "/api/v1/flags/checkout".into(), Some(json!({ "type": "boolean", "owner": "pay" })), 200),
        (Method::PUT, config.into(), Some(enabled), 200),
        (Method::POST, format!("{config}/toggle"), Some(json!({ "enabled": false })), 200),
        (Method::POST, format!("{config}/rollout"), Some(json!({ "percent": 30 })), 200),
        (Method::PUT, format!("{segments}/beta"), Some(json!({ "included": ["bob"] })), 200),
        (Method::DELETE, format!("{segments}/beta"), None, 204),
        (Method::PATCH, "/api/v1/environments/qa".into(), Some(json!({ "protected": false })), 200),
        (Method::POST, "/api/v1/environments/development/rollback".into(), Some(json!({ "to_version": version })), 200),
        (Method::DELETE, "/api/v1/environments/qa".into(), None, 204),
        (Method::DELETE, "/api/v1/flags/checkout".into(), None, 204),
    ];
    for (method, path, body, status) in routes {
        let case = format!("{method} {path}");
        let missing = send(&api, method.clone(), &path, body.as_ref(), None).await;
        assert_eq!((missing.status, missing.code()), (428, "precondition_required"), "{case}: {}", missing.body);
        let stale = send(&api, method.clone(), &path, body.as_ref(), Some("\"r1\"")).await;
        assert_eq!((stale.status, stale.code()), (412, "precondition_failed"), "{case}: {}", stale.body);
        // `*` anywhere in the list is `*`.
        let star = send(&api, method, &path, body.as_ref(), Some("\"r1\", *")).await;
        assert_eq!(star.status, status, "{case}: {}", star.body);
    }
    // The resource must exist.
    let gone = send(&api, Method::PUT, "/api/v1/flags/checkout", Some(&json!({ "type": "boolean" })), Some("*")).await;
    assert_eq!(gone.status, 404, "{}", gone.body);

    // In a protected environment the request keeps `*`: approved after another change,
    // it is applied over it, where one proposed with the ETag would be refused (412).
    boolean_flag(&api, "payments", false).await;
    let alice = server.api(&server.token("alice", "editor", None).await);
    let bob = server.api(&server.token("bob", "editor", None).await);
    let production = "/api/v1/environments/production/flags/payments";
    let rollout = json!({ "percent": 10 });
    let proposed = send(&alice, Method::POST, &format!("{production}/rollout"), Some(&rollout), Some("*")).await;
    assert_eq!((proposed.status, &proposed.body["if_match"]), (202, &json!("*")), "{}", proposed.body);
    let toggled = alice.toggle("production", "payments", true).await;
    let approved = bob.post(&format!("/api/v1/change-requests/{}/approve", toggled.body["id"]), &json!({})).await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    let approved = bob.post(&format!("/api/v1/change-requests/{}/approve", proposed.body["id"]), &json!({})).await;
    assert_eq!((approved.status, &approved.body["status"]), (200, &json!("applied")), "{}", approved.body);
    let now = api.get(production).await.body;
    assert_eq!((&now["enabled"], now["fallthrough"].get("rollout").is_some()), (&json!(true), true), "{now}");
    server.stop().await;
}

crate::on_both_backends!(star_matches_whatever_is_there);
