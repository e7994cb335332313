//! The authorization matrix: tokens by role and environment, SDK keys by environment
//! and kind.

use serde_json::json;

use crate::common::{boolean_flag, load, payload_of, Api, Backend, Server};

async fn matrix(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "seen", false).await;
    let viewer = server.api(&server.token("vera", "viewer", None).await);
    let editor = server.api(&server.token("eddie", "editor", None).await);
    let dev_editor = server.api(&server.token("devon", "editor", Some(&["development"])).await);
    let nobody = Api::new(&server.url, "");
    let forged = Api::new(&server.url, "pnt_not-a-real-token");
    let new_flag = json!({ "key": "x", "type": "boolean" });

    // Without a (valid) token: 401, for reads and writes.
    for api in [&nobody, &forged] {
        let reply = api.post("/api/v1/flags", &new_flag).await;
        assert_eq!((reply.status, reply.code()), (401, "unauthorized"), "{}", reply.body);
        assert_eq!(reply.headers.get("www-authenticate").unwrap(), "Bearer");
        assert_eq!(api.get("/api/v1/flags").await.status, 401);
    }
    // An SDK key in its place says what it is and what the call needs.
    let reply = Api::new(&server.url, &server.sdk_dev).get("/api/v1/flags").await;
    assert_eq!(reply.status, 401);
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("this is a server SDK key (`pns_…`)") && message.contains("pennon tokens create"),
        "{message}"
    );
    // Viewers read, and may not write anything.
    assert_eq!(viewer.get("/api/v1/flags").await.status, 200);
    assert_eq!(viewer.get("/api/v1/environments/production/flags/seen").await.status, 200);
    assert_eq!(viewer.get("/api/v1/audit?environment=development").await.status, 200);
    let reply = viewer.post("/api/v1/flags", &new_flag).await;
    assert_eq!((reply.status, reply.code()), (403, "forbidden"), "{}", reply.body);
    assert_eq!(viewer.toggle("development", "seen", true).await.status, 403);
    assert_eq!(viewer.post("/api/v1/tokens", &json!({ "name": "v2", "role": "admin" })).await.status, 403);
    // Editors change flags, not tokens or environments.
    assert_eq!(editor.post("/api/v1/flags", &new_flag).await.status, 201);
    assert_eq!(editor.toggle("development", "seen", true).await.status, 200);
    assert_eq!(editor.post("/api/v1/tokens", &json!({ "name": "e2", "role": "admin" })).await.status, 403);
    assert_eq!(editor.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 403);
    assert_eq!(editor.get("/api/v1/environments/development/sdk-keys").await.status, 403);
    // A token scoped to development cannot read or change staging.
    assert_eq!(dev_editor.toggle("development", "seen", false).await.status, 200);
    assert_eq!(dev_editor.toggle("staging", "seen", true).await.status, 403);
    assert_eq!(dev_editor.get("/api/v1/environments/staging/flags/seen").await.status, 403);
    let envs = dev_editor.get("/api/v1/environments").await.body;
    assert_eq!(envs["environments"].as_array().unwrap().len(), 1, "{envs}");
    // Creating a flag publishes it to every environment: not for a scoped token.
    let created = dev_editor
        .post("/api/v1/flags", &json!({ "key": "from-dev", "type": "boolean", "client_visible": true }))
        .await;
    assert_eq!(created.status, 403, "{}", created.body);
    assert_eq!(admin.get("/api/v1/flags/from-dev").await.status, 404, "nothing was created");
    // Each refusal says what reaches every environment, and which the token has.
    let message = |reply: &crate::common::Resp| reply.body["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message(&created).contains("scoped to `development`: a flag definition is published to every environment"));
    let audit = dev_editor.get("/api/v1/audit").await;
    assert_eq!(audit.status, 403);
    assert!(message(&audit).contains("filter with `environment=`"), "{}", audit.body);
    assert_eq!(dev_editor.get("/api/v1/audit?environment=development").await.status, 200);
    let none = admin.get("/api/v1/audit?limit=0").await;
    assert_eq!((none.status, none.code()), (400, "invalid_query"), "a page of none is refused: {}", none.body);
    // Admins manage tokens; a revoked token is refused.
    let created = admin.post("/api/v1/tokens", &json!({ "name": "temp", "role": "viewer" })).await;
    assert_eq!(created.status, 201);
    let temp = server.api(created.body["token"].as_str().unwrap());
    assert_eq!(temp.get("/api/v1/flags").await.status, 200);
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(admin.raw(reqwest::Method::DELETE, &format!("/api/v1/tokens/{id}"), None, &[]).await.status, 204);
    assert_eq!(temp.get("/api/v1/flags").await.status, 401);
    // Only hashes are stored: the listing has no secret.
    let listing = admin.get("/api/v1/tokens").await.body.to_string();
    assert!(!listing.contains(&server.admin), "a token secret leaked into the listing");
    server.stop().await;
}

async fn sdk_keys(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "server-only", false).await;
    boolean_flag(&admin, "banner", true).await;
    let dev_client = server.sdk_key("development", "client").await;
    let staging_server = server.sdk_key("staging", "server").await;
    let fetch = |key: &str, env: &str| {
        let api = Api::new(&server.url, key);
        let path = format!("/v1/snapshots/{env}");
        async move { api.get(&path).await }
    };
    // No key, an unknown key: 401. A key of another environment: 403.
    assert_eq!(fetch("", "development").await.status, 401);
    assert_eq!(fetch("pns_unknown", "development").await.status, 401);
    let reply = fetch(&staging_server, "development").await;
    assert_eq!((reply.status, reply.code()), (403, "forbidden"));
    assert_eq!(fetch(&server.sdk_dev, "staging").await.status, 403);
    // Every response carries a request id, SDK endpoints' too.
    for reply in [fetch(&server.sdk_dev, "development").await, reply, fetch("", "development").await] {
        assert!(reply.headers.contains_key("x-request-id"), "{} without X-Request-Id", reply.status);
    }
    let stream = reqwest::Client::new()
        .get(format!("{}/v1/stream/staging", server.url))
        .bearer_auth(&server.sdk_dev)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 403);
    // Admin tokens are not SDK keys.
    assert_eq!(fetch(&server.admin, "development").await.status, 401);
    // A server key sees every flag; a client key only client-visible ones.
    let server_view = reqwest::Client::new()
        .get(format!("{}/v1/snapshots/development", server.url))
        .bearer_auth(&server.sdk_dev)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let client_view = reqwest::Client::new()
        .get(format!("{}/v1/snapshots/development", server.url))
        .bearer_auth(&dev_client)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let server_snapshot = load(&server_view, &server.public_keys, "development").unwrap();
    // The two payloads of a version name their audience: a server (the default policy)
    // refuses the browser one, which would hide every server-only flag.
    let refused = load(&client_view, &server.public_keys, "development").unwrap_err();
    assert_eq!(refused.kind(), "wrong_audience", "{refused}");
    assert_eq!(payload_of(&server_view)["audience"], "server");
    let client_snapshot = crate::common::load_client(&client_view, &server.public_keys, "development").unwrap();
    assert_eq!(server_snapshot.flag_keys().collect::<Vec<_>>(), ["banner", "server-only"]);
    assert_eq!(client_snapshot.flag_keys().collect::<Vec<_>>(), ["banner"]);
    assert_eq!(server_snapshot.version(), client_snapshot.version());
    assert!(payload_of(&client_view)["flags"].get("server-only").is_none());
    // A client-visible flag may not depend on a server-only one.
    let path = "/api/v1/environments/development/flags/banner";
    let current = admin.get(path).await;
    let mut config = current.body.clone();
    config["prerequisites"] = json!([{ "flag": "server-only", "variant": "on" }]);
    let reply = admin.put(path, &config, current.etag.as_deref().unwrap()).await;
    assert_eq!((reply.status, reply.field()), (422, "prerequisites[0].flag"), "{}", reply.body);
    // A revoked SDK key stops working at once.
    let keys = admin.get("/api/v1/environments/development/sdk-keys").await.body;
    let id =
        keys["sdk_keys"].as_array().unwrap().iter().find(|k| k["kind"] == "client").unwrap()["id"].as_i64().unwrap();
    let revoked =
        admin.raw(reqwest::Method::DELETE, &format!("/api/v1/environments/development/sdk-keys/{id}"), None, &[]).await;
    assert_eq!(revoked.status, 204);
    assert_eq!(fetch(&dev_client, "development").await.status, 401);
    server.stop().await;
}

/// Token names are who the audit log says acted and what four-eyes approval compares,
/// and the last admin token for every environment cannot be revoked: a restart does not
/// make another.
async fn token_names_and_the_last_admin(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    for (name, status, wanted) in [
        ("pennon", 422, "the server's own name"),
        ("eve\n2026-11-22 admin token.revoke", 422, "control characters"),
        ("admin", 409, "a live token is already named `admin`"),
    ] {
        let reply = admin.post("/api/v1/tokens", &json!({ "name": name, "role": "editor" })).await;
        assert_eq!(reply.status, status, "{name:?}: {}", reply.body);
        assert!(reply.body.to_string().contains(wanted), "{name:?}: {}", reply.body);
    }
    let tokens = admin.get("/api/v1/tokens").await.body;
    let root =
        tokens["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "admin").unwrap()["id"].as_i64().unwrap();
    let revoke = |api: Api, id: i64| async move {
        api.raw(reqwest::Method::DELETE, &format!("/api/v1/tokens/{id}"), None, &[]).await
    };
    let last = revoke(admin.clone(), root).await;
    assert_eq!((last.status, last.code()), (409, "conflict"), "{}", last.body);
    assert!(last.body.to_string().contains("last admin token for every environment"), "{}", last.body);
    // A scoped admin does not count: it cannot manage tokens.
    server.token("qa-admin", "admin", Some(&["development"])).await;
    assert_eq!(revoke(admin.clone(), root).await.status, 409);
    // With a second admin for everything, the first can go, and the second then stays.
    let second = server.api(&server.token("second-admin", "admin", None).await);
    assert_eq!(revoke(second.clone(), root).await.status, 204);
    let listed = second.get("/api/v1/tokens").await.body;
    let second_id = listed["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "second-admin").unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(revoke(second.clone(), second_id).await.status, 409);
    assert_eq!(second.get("/api/v1/tokens").await.status, 200, "still an admin");
    // A revoked token's name may be taken again.
    assert_eq!(second.post("/api/v1/tokens", &json!({ "name": "admin", "role": "viewer" })).await.status, 201);
    server.stop().await;
}

crate::on_both_backends!(matrix, sdk_keys, token_names_and_the_last_admin);
