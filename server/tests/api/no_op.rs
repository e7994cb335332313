//! Writes that find everything already so: answered like any write, but nothing is
//! stored, published or audited, and no change request is opened.

use serde_json::json;

use crate::common::{boolean_flag, Backend, Server};

async fn changes_nothing(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "checkout", false).await;
    let enabled = admin.toggle("development", "checkout", true).await;
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    assert!(enabled.version.is_some(), "the first enable publishes");
    let (version, audits) = (admin.version("development").await, admin.audit_count().await);

    let again = admin.toggle("development", "checkout", true).await;
    assert_eq!((again.status, again.version), (200, None), "{}", again.body);
    assert_eq!(again.etag, enabled.etag, "the configuration keeps its revision");
    assert_eq!(again.body["enabled"], true);

    let path = "/api/v1/environments/development/flags/checkout";
    let config = admin.get(path).await;
    let same = admin.put(path, &config.body, config.etag.as_deref().unwrap()).await;
    assert_eq!((same.status, same.version, &same.etag), (200, None, &config.etag), "{}", same.body);

    let flag = admin.get("/api/v1/flags/checkout").await;
    let same = admin.put("/api/v1/flags/checkout", &flag.body, flag.etag.as_deref().unwrap()).await;
    assert_eq!((same.status, &same.etag), (200, &flag.etag), "{}", same.body);

    let segments = "/api/v1/environments/development/segments";
    assert_eq!(admin.post(segments, &json!({ "key": "beta", "included": ["u1"] })).await.status, 201);
    let (version_with_segment, audits_with_segment) = (admin.version("development").await, admin.audit_count().await);
    assert_eq!((version_with_segment, audits_with_segment), (version + 1, audits + 1));
    let segment = admin.get(&format!("{segments}/beta")).await;
    let same = admin.put(&format!("{segments}/beta"), &segment.body, segment.etag.as_deref().unwrap()).await;
    assert_eq!((same.status, same.version, &same.etag), (200, None, &segment.etag), "{}", same.body);

    let production = admin.get("/api/v1/environments/production").await;
    let patch = json!({ "protected": true });
    let same = admin.patch("/api/v1/environments/production", &patch, production.etag.as_deref().unwrap()).await;
    assert_eq!((same.status, &same.etag), (200, &production.etag), "{}", same.body);

    assert_eq!(admin.version("development").await, version_with_segment, "nothing published");
    assert_eq!(admin.audit_count().await, audits_with_segment, "nothing audited");
    server.stop().await;
}

/// In a protected environment a change that changes nothing opens no change request
/// for someone to approve.
async fn opens_no_change_request(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "checkout", false).await;
    let version = admin.version("production").await;
    let disabled = admin.toggle("production", "checkout", false).await;
    assert_eq!((disabled.status, disabled.version), (200, None), "{}", disabled.body);
    assert_eq!(disabled.body["enabled"], false);
    let open = admin.get("/api/v1/change-requests?status=open").await;
    assert_eq!(open.body["change_requests"], json!([]));
    assert_eq!(admin.version("production").await, version);
    server.stop().await;
}

crate::on_both_backends!(changes_nothing, opens_no_change_request);
