//! Environments and segments through the API, and the export directory.

use reqwest::Method;
use serde_json::json;

use crate::common::{boolean_flag, load_client, payload_of, Api, Backend, Server};

async fn environments(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "everywhere", false).await;
    let created = admin.post("/api/v1/environments", &json!({ "name": "qa" })).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["version"], 1);
    // Existing flags are in the new environment, disabled.
    assert_eq!(admin.get("/api/v1/environments/qa/flags/everywhere").await.body["enabled"], false);
    let key = server.sdk_key("qa", "server").await;
    let envelope = Api::new(&server.url, &key).raw(Method::GET, "/v1/snapshots/qa", None, &[]).await;
    assert_eq!(envelope.status, 200);
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 409);
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "q a" })).await.field(), "name");
    // Protect it (If-Match), and a protected environment cannot be deleted.
    let etag = admin.get("/api/v1/environments/qa").await.etag.unwrap();
    let patch = |body: serde_json::Value, etag: String| {
        let admin = admin.clone();
        async move { admin.patch("/api/v1/environments/qa", &body, &etag).await }
    };
    let protected = patch(json!({ "protected": true }), etag.clone()).await;
    assert_eq!((protected.status, protected.body["protected"].as_bool()), (200, Some(true)));
    assert_eq!(patch(json!({ "protected": false }), etag).await.status, 412);
    let etag = protected.etag.unwrap();
    assert_eq!(admin.delete("/api/v1/environments/qa", &etag).await.status, 409);
    let etag = patch(json!({ "protected": false }), etag).await.etag.unwrap();
    for _ in 0..3 {
        admin.toggle("qa", "everywhere", true).await;
    }
    let last = admin.version("qa").await;
    assert_eq!(admin.delete("/api/v1/environments/qa", "\"v1.r1\"").await.status, 412);
    let etag = admin.get("/api/v1/environments/qa").await.etag.unwrap_or(etag);
    assert_eq!(admin.delete("/api/v1/environments/qa", &etag).await.status, 204);
    assert_eq!(admin.get("/api/v1/environments/qa").await.status, 404);
    assert_eq!(Api::new(&server.url, &key).get("/v1/snapshots/qa").await.status, 401, "its SDK keys went with it");
    // Re-created, it continues after its old versions.
    let again = admin.post("/api/v1/environments", &json!({ "name": "qa" })).await;
    assert_eq!(again.body["version"], last + 1);
    server.stop().await;
}

async fn segments(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let etag = boolean_flag(&admin, "beta-banner", true).await;
    let base = "/api/v1/environments/development/segments";
    let beta = admin.post(base, &json!({ "key": "beta", "included": ["u1"], "description": "beta testers" })).await;
    assert_eq!(beta.status, 201, "{}", beta.body);
    let staff = admin
        .post(
            base,
            &json!({ "key": "staff", "rules": [{ "id": "email", "conditions": [
        { "attribute": "email", "op": "ends_with", "value": "@acme.com" }] }] }),
        )
        .await;
    assert_eq!(staff.status, 201);
    assert_eq!(admin.post(base, &json!({ "key": "beta" })).await.status, 409);
    let bad = admin.post(base, &json!({ "key": "loop", "rules": [{ "id": "r", "conditions": [{ "op": "in_segment", "value": "loop" }] }] })).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_snapshot"), "{}", bad.body);
    // A client-visible flag using `beta`: the client snapshot carries `beta`, not `staff`.
    let config = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
        "rules": [{ "id": "beta", "conditions": [{ "op": "in_segment", "value": "beta" }], "serve": { "variant": "on" } }] });
    let path = "/api/v1/environments/development/flags/beta-banner";
    assert_eq!(admin.put(path, &config, &etag).await.status, 200);
    let client_key = server.sdk_key("development", "client").await;
    let envelope = reqwest::Client::new()
        .get(format!("{}/v1/snapshots/development", server.url))
        .bearer_auth(&client_key)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let segments = payload_of(&envelope)["segments"].clone();
    assert_eq!(segments.as_object().unwrap().keys().collect::<Vec<_>>(), ["beta"]);
    let snapshot = load_client(&envelope, &server.public_keys, "development").unwrap();
    let now = crate::common::now_ms();
    assert_eq!(snapshot.evaluate("beta-banner", &pennon_core::Context::new(Some("u1")), now).variant, Some("on"));
    assert_eq!(snapshot.evaluate("beta-banner", &pennon_core::Context::new(Some("u2")), now).variant, Some("off"));
    // Update with If-Match; a segment in use cannot be deleted.
    let current = admin.get(&format!("{base}/beta")).await;
    assert_eq!(current.body["description"], "beta testers");
    let mut body = current.body.clone();
    body["excluded"] = json!(["u1"]);
    assert_eq!(admin.put(&format!("{base}/beta"), &body, current.etag.as_deref().unwrap()).await.status, 200);
    let etag = admin.get(&format!("{base}/beta")).await.etag.unwrap();
    let in_use = admin.delete(&format!("{base}/beta"), &etag).await;
    assert_eq!((in_use.status, in_use.code()), (409, "conflict"), "{}", in_use.body);
    let staff_etag = admin.get(&format!("{base}/staff")).await.etag.unwrap();
    assert_eq!(admin.delete(&format!("{base}/staff"), &staff_etag).await.status, 204);
    let list = admin.get(base).await.body;
    assert_eq!(list["segments"].as_array().unwrap().len(), 1);
    server.stop().await;
}

async fn export(backend: Backend) {
    let export = tempfile::tempdir().unwrap();
    let dir = export.path().to_path_buf();
    let server = Server::start_with(&backend, move |c| c.export_dir = Some(dir)).await;
    let admin = server.admin();
    boolean_flag(&admin, "exported", true).await;
    let version = admin.toggle("development", "exported", true).await.version.unwrap();
    let served = reqwest::Client::new()
        .get(format!("{}/v1/snapshots/development", server.url))
        .bearer_auth(&server.sdk_dev)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let root = export.path();
    // Export runs after the commit, off the request, server files first: wait until the
    // client's latest.json, written last, has caught up.
    let client_version = || {
        let latest = std::fs::read(root.join("development/client/latest.json")).ok()?;
        payload_of(&latest)["version"].as_u64()
    };
    for _ in 0..500 {
        if client_version() == Some(version) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let keys: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("keys.json")).unwrap()).unwrap();
    assert_eq!(keys["keys"][0]["public_key"], server.public_keys[0].to_text());
    for v in 1..=version {
        assert!(root.join(format!("development/server/{v}.json")).exists(), "version {v} not exported");
        assert!(root.join(format!("development/client/{v}.json")).exists());
    }
    assert_eq!(std::fs::read(root.join(format!("development/server/{version}.json"))).unwrap(), served);
    assert_eq!(std::fs::read(root.join("development/server/latest.json")).unwrap(), served);
    let client_latest = std::fs::read(root.join("development/client/latest.json")).unwrap();
    assert_eq!(payload_of(&client_latest)["version"], version);
    server.stop().await;
}

/// A database behind its export directory (restored from a backup; here, one that sat
/// idle while another database published to its export directory) publishes its
/// state after the export's newest version at start, and an environment it creates
/// continues after that environment's exported versions: no version number is ever
/// published twice.
async fn a_restored_database_overtakes_its_export(backend: Backend) {
    let export = tempfile::tempdir().unwrap();
    let with_export = |dir: std::path::PathBuf| move |c: &mut pennon_server::Config| c.export_dir = Some(dir);
    let behind = Server::start_with(&backend, with_export(export.path().to_path_buf())).await;
    let behind_version = behind.admin().version("development").await;

    // The database `behind` would be restored into: another, ahead of it, signing with
    // the same key (a start with another key is refused the export directory).
    let key = behind.dir.path().join("signing.key");
    let ahead = Server::start_with(&backend, |config| {
        config.export_dir = Some(export.path().to_path_buf());
        config.signing_key_files = vec![key];
    })
    .await;
    assert!(ahead.admin().version("development").await > behind_version, "a new database continues the export");
    assert_eq!(ahead.admin().post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 201);
    boolean_flag(&ahead.admin(), "while-restored", true).await;
    let qa_exported = ahead.admin().version("qa").await;
    let exported = ahead.admin().toggle("development", "while-restored", true).await.version.unwrap();
    let newest = export.path().join(format!("development/server/{exported}.json"));
    for _ in 0..500 {
        if newest.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let old_file = std::fs::read(&newest).unwrap();
    ahead.stop().await;

    let behind = behind.restart_with(with_export(export.path().to_path_buf())).await;
    let admin = behind.admin();
    assert_eq!(admin.version("development").await, exported + 1, "the export's versions are not published again");
    assert_eq!(std::fs::read(&newest).unwrap(), old_file, "an exported version is never rewritten");
    let latest = std::fs::read(export.path().join("development/server/latest.json")).unwrap();
    assert_eq!(payload_of(&latest)["version"], exported + 1);
    assert_eq!(admin.get("/api/v1/flags/while-restored").await.status, 404, "the state served is the database's");
    let audit = admin.get("/api/v1/audit?action=snapshot.overtake&environment=development").await.body;
    assert_eq!(audit["entries"][0]["snapshot_version"], exported + 1, "{audit}");
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 201);
    assert_eq!(admin.version("qa").await, qa_exported + 1, "a created environment continues its export");
    behind.stop().await;
}

crate::on_both_backends!(environments, segments, export, a_restored_database_overtakes_its_export);
