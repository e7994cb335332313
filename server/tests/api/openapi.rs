//! The OpenAPI document is true to the routes: every documented operation exists, and
//! every schema it references is defined.

use reqwest::Method;
use serde_json::Value as Json;

use crate::common::{Backend, Server};

fn refs(value: &Json, out: &mut Vec<String>) {
    match value {
        Json::Object(map) => {
            for (key, item) in map {
                match (key.as_str(), item.as_str()) {
                    ("$ref", Some(target)) => out.push(target.to_owned()),
                    _ => refs(item, out),
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|item| refs(item, out)),
        _ => {}
    }
}

async fn every_route_documented(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let document = admin.get("/openapi.json").await;
    assert_eq!(document.status, 200);
    let document = document.body;
    assert_eq!(document, pennon_server::openapi_document());
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let mut targets = Vec::new();
    refs(&document["paths"], &mut targets);
    refs(&document["components"], &mut targets);
    for target in &targets {
        let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("odd $ref {target}"));
        assert!(schemas.contains_key(name), "{target} is not defined");
    }
    // Every documented operation is routed: it answers something other than "no such
    // route" (404 `no_route`) or "method not allowed" (405).
    let paths = document["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .split('/')
                .map(|part| match part {
                    "{env}" => "development",
                    "{key}" | "{id}" | "{version}" => "1",
                    other => other,
                })
                .collect::<Vec<_>>()
                .join("/");
            let responses = &item[method]["responses"];
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply = admin.raw(method.clone(), &concrete, None, &[]).await;
            assert_ne!(reply.status, 405, "{method} {path} is documented but not routed");
            assert_ne!(reply.code(), "no_route", "{method} {path} is documented but not routed");
            // And what it answered (no body, no If-Match, made-up keys) is declared.
            let status = reply.status.to_string();
            assert!(responses.get(&status).is_some(), "{method} {path} answered undeclared {status}: {}", reply.body);
            operations += 1;
        }
    }
    assert!(operations >= 35, "only {operations} operations documented");
    // And an undocumented path is not routed.
    assert_eq!(admin.get("/api/v1/undocumented").await.code(), "no_route");
    server.stop().await;
}

/// Routes can only be added through `Routes::add`, which requires their documentation:
/// the only other `.route(` calls are the two extra paths the document lists by hand.
#[test]
fn no_route_bypasses_the_documented_registry() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut stack = vec![dir];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for line in
                    text.lines().filter(|l| l.contains(".route(") || l.contains(".nest(") || l.contains(".merge("))
                {
                    found.push(format!("{}: {}", path.file_name().unwrap().to_string_lossy(), line.trim()));
                }
            }
        }
    }
    found.sort();
    let expected = [
        "mod.rs: .route(\"/healthz\", axum::routing::get(|| async { \"ok\\n\" }))",
        "mod.rs: .route(\"/openapi.json\", axum::routing::get(move || async move { axum::Json(document) }))",
        "mod.rs: sdk.merge(admin)",
        "mod.rs: self.router = self.router.route(doc.path, on(filter, handler));",
        "mod.rs: self.sdk = self.sdk.route(doc.path, on(filter, handler));",
    ];
    assert_eq!(found, expected);
    let document = pennon_server::openapi_document();
    for path in ["/healthz", "/openapi.json"] {
        assert!(document["paths"][path]["get"].is_object(), "{path} is not documented");
    }
}

crate::on_both_backends!(every_route_documented);
