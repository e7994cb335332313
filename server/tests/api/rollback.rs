//! Rollback republishes an earlier version's content as a new, higher version.

use reqwest::Method;
use serde_json::json;

use crate::common::{boolean_flag, payload_of, Backend, Server};

async fn republishes_as_new_version(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let etag = boolean_flag(&admin, "search", false).await;
    let path = "/api/v1/environments/development/flags/search";
    let good = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "on" },
        "targets": [{ "variant": "off", "keys": ["grumpy"] }] });
    let good_version = admin.put(path, &good, &etag).await.version.unwrap();
    let segment =
        admin.post("/api/v1/environments/development/segments", &json!({ "key": "beta", "included": ["a"] })).await;
    assert_eq!(segment.status, 201, "{}", segment.body);
    let bad = admin.toggle("development", "search", false).await.version.unwrap();
    assert!(bad > good_version);

    let env = admin.get("/api/v1/environments/development").await;
    let rollback = "/api/v1/environments/development/rollback";
    let body = json!({ "to_version": good_version });
    // Preconditions and validation.
    let missing = admin.raw(Method::POST, rollback, Some(body.to_string().into_bytes()), &[]).await;
    assert_eq!(missing.status, 428);
    assert_eq!(admin.post_if(rollback, &body, "\"v1.r1\"").await.status, 412);
    let future = admin.post_if(rollback, &json!({ "to_version": bad + 5 }), env.etag.as_deref().unwrap()).await;
    assert_eq!((future.status, future.field()), (422, "to_version"));

    let reply = admin.post_if(rollback, &body, env.etag.as_deref().unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let new_version = reply.version.unwrap();
    assert_eq!(new_version, bad + 1, "a rollback publishes the next version");
    assert_eq!(reply.body["restored_version"], good_version);
    // Same flags and segments as the good version, under the new version number.
    let fetch = |version: u64| {
        let admin = admin.clone();
        async move { admin.get(&format!("/api/v1/environments/development/snapshots/{version}")).await.body }
    };
    let (old, new) = (fetch(good_version).await, fetch(new_version).await);
    assert_eq!(old["payload"]["flags"], new["payload"]["flags"]);
    assert_eq!(old["payload"]["segments"], new["payload"]["segments"]);
    assert_eq!(new["payload"]["version"], new_version);
    // The state is restored too: the next edit starts from it.
    assert_eq!(admin.get(path).await.body["enabled"], true);
    let sdk = server.api(&server.sdk_dev);
    let envelope = sdk.raw(Method::GET, "/v1/snapshots/development", None, &[]).await;
    assert_eq!(envelope.version, Some(new_version));
    let _ = payload_of;
    let audit = admin.get("/api/v1/audit?action=rollback").await.body;
    assert_eq!(audit["entries"][0]["snapshot_version"], new_version);
    server.stop().await;
}

/// An environment deleted and created again keeps its old versions in the snapshot
/// history, but a rollback cannot restore one: that would revive the deleted content.
async fn stays_within_the_current_environment(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 201);
    boolean_flag(&admin, "search", false).await;
    let old = admin.toggle("qa", "search", true).await.version.unwrap();
    let etag = admin.get("/api/v1/environments/qa").await.etag.unwrap();
    assert_eq!(admin.delete("/api/v1/environments/qa", &etag).await.status, 204);
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 201);
    let first = admin.version("qa").await;
    assert_eq!(first, old + 1, "the new `qa` continues the versions");
    let latest = admin.toggle("qa", "search", true).await.version.unwrap();

    let rollback = |to: u64| {
        let admin = admin.clone();
        async move {
            let etag = admin.get("/api/v1/environments/qa").await.etag.unwrap();
            admin.post_if("/api/v1/environments/qa/rollback", &json!({ "to_version": to }), &etag).await
        }
    };
    let refused = rollback(old).await;
    assert_eq!((refused.status, refused.field()), (422, "to_version"), "{}", refused.body);
    let message = refused.body["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(
        message.contains(&format!("version {old} was published before `qa` was created again"))
            && message.contains(&format!("{first} to {}", latest - 1)),
        "{message}"
    );
    assert_eq!(admin.version("qa").await, latest, "nothing published");
    assert_eq!(admin.get("/api/v1/environments/qa/flags/search").await.body["enabled"], true);

    // Nor can the new environment's keys and tokens read them.
    let sdk = server.api(&server.sdk_key("qa", "server").await);
    let old_path = format!("/v1/snapshots/qa/{old}");
    assert_eq!(sdk.raw(Method::GET, &old_path, None, &[]).await.status, 404);
    assert_eq!(sdk.raw(Method::GET, &format!("/v1/snapshots/qa/{first}"), None, &[]).await.status, 200);
    let viewer = server.api(&server.token("qa-viewer", "viewer", Some(&["qa"])).await);
    assert_eq!(viewer.get(&format!("/api/v1/environments/qa/snapshots/{old}")).await.status, 404);
    let listed = viewer.get("/api/v1/environments/qa/snapshots?limit=1000").await.body;
    let versions: Vec<u64> =
        listed["snapshots"].as_array().unwrap().iter().map(|s| s["version"].as_u64().unwrap()).collect();
    assert_eq!(versions, (first..=latest).rev().collect::<Vec<_>>());

    let restored = rollback(first).await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    assert_eq!(admin.get("/api/v1/environments/qa/flags/search").await.body["enabled"], false);
    server.stop().await;
}

/// A flag created since the version restored keeps its rules, disabled, and the
/// segments created since that they name (directly or through another segment) are
/// kept as they are: deleting them left rules naming nothing, a snapshot that could
/// not publish (422 `no segment vip`). Other segments created since are deleted.
async fn keeps_the_segments_newer_flags_name(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "rb" })).await.status, 201);
    let created = admin.version("rb").await;
    let segments = "/api/v1/environments/rb/segments";
    let in_segment = |key: &str| json!([{ "id": "in", "conditions": [{ "op": "in_segment", "value": key }] }]);
    for segment in [
        json!({ "key": "vip", "included": ["ann"] }),
        json!({ "key": "staff", "included": ["bob"], "rules": in_segment("vip") }),
        json!({ "key": "unused", "included": ["cat"] }),
    ] {
        assert_eq!(admin.post(segments, &segment).await.status, 201);
    }
    boolean_flag(&admin, "fx", false).await;
    let path = "/api/v1/environments/rb/flags/fx";
    let etag = admin.get(path).await.etag.unwrap();
    let config = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
        "rules": [{ "id": "staff", "conditions": [{ "op": "in_segment", "value": "staff" }],
                    "serve": { "variant": "on" } }] });
    assert_eq!(admin.put(path, &config, &etag).await.status, 200);

    let env = admin.get("/api/v1/environments/rb").await.etag.unwrap();
    let reply = admin.post_if("/api/v1/environments/rb/rollback", &json!({ "to_version": created }), &env).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["kept_segments"], json!(["staff", "vip"]));
    let restored = admin.get(path).await.body;
    assert_eq!((&restored["enabled"], &restored["rules"]), (&json!(false), &config["rules"]));
    assert_eq!(admin.get(&format!("{segments}/unused")).await.status, 404);
    assert_eq!(admin.get(&format!("{segments}/vip")).await.body["included"], json!(["ann"]));
    let audit = admin.get("/api/v1/audit?action=rollback&environment=rb").await.body;
    assert_eq!(audit["entries"][0]["after"]["kept_segments"], json!(["staff", "vip"]));
    // Enabled again, it serves its rules.
    assert_eq!(admin.toggle("rb", "fx", true).await.status, 200);
    server.stop().await;
}

crate::on_both_backends!(
    republishes_as_new_version,
    stays_within_the_current_environment,
    keeps_the_segments_newer_flags_name
);
