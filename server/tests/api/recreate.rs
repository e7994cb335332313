//! Deleting a resource and creating it again under the same key starts no revision
//! over: an ETag read from the old one, or a change request made against it, cannot
//! touch the new one.

use serde_json::json;

use crate::common::{boolean_flag, Backend, Server};

async fn etags_do_not_outlive_what_they_named(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let editor = server.api(&server.token("ed", "editor", None).await);

    // A stale writer's ETag of a flag that was deleted and created again.
    boolean_flag(&admin, "aba", false).await;
    let stale = admin.get("/api/v1/flags/aba").await.etag.unwrap();
    assert_eq!(admin.delete("/api/v1/flags/aba", &stale).await.status, 204);
    let again =
        editor.post("/api/v1/flags", &json!({ "key": "aba", "type": "string", "variants": { "x": "x" } })).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_ne!(again.etag.as_deref(), Some(stale.as_str()));
    let overwrite = json!({ "key": "aba", "type": "boolean", "variants": { "off": false, "on": true } });
    assert_eq!(admin.put("/api/v1/flags/aba", &overwrite, &stale).await.status, 412);

    // A change request opened in an environment that was deleted and created again.
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa", "protected": true })).await.status, 201);
    boolean_flag(&admin, "payments", false).await;
    let proposed = editor.toggle("qa", "payments", true).await;
    assert_eq!(proposed.status, 202, "{}", proposed.body);
    let id = proposed.body["id"].as_i64().unwrap();
    let env_etag = admin.get("/api/v1/environments/qa").await.etag.unwrap();
    let unprotect = admin
        .raw(
            reqwest::Method::PATCH,
            "/api/v1/environments/qa",
            Some(br#"{"protected": false}"#.to_vec()),
            &[("if-match", &env_etag)],
        )
        .await;
    assert_eq!(unprotect.status, 200, "{}", unprotect.body);
    let env_etag = admin.get("/api/v1/environments/qa").await.etag.unwrap();
    assert_eq!(admin.delete("/api/v1/environments/qa", &env_etag).await.status, 204);
    // Deleting the environment rejected its open requests, in the audit log too.
    let request = admin.get(&format!("/api/v1/change-requests/{id}")).await.body;
    assert_eq!(
        (request["status"].as_str(), request["decided_by"].as_str()),
        (Some("rejected"), Some("admin")),
        "{request}"
    );
    let audit = admin.get("/api/v1/audit?environment=qa&limit=5").await.body;
    assert!(audit["entries"].as_array().unwrap().iter().any(|e| e["action"] == "change_request.reject"), "{audit}");
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa", "protected": true })).await.status, 201);
    let approve = admin.post(&format!("/api/v1/change-requests/{id}/approve"), &json!({})).await;
    assert_eq!((approve.status, approve.code()), (409, "conflict"), "{}", approve.body);
    assert_eq!(admin.get("/api/v1/environments/qa/flags/payments").await.body["enabled"], false);
    server.stop().await;
}

/// A token scoped to an environment loses it when it is deleted, so it gains nothing
/// when another is created under the same name; one scoped to nothing else is revoked.
async fn token_scopes_do_not_outlive_environments(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    for name in ["qa", "qa2"] {
        assert_eq!(admin.post("/api/v1/environments", &json!({ "name": name })).await.status, 201);
    }
    boolean_flag(&admin, "payments", false).await;
    let only_qa = server.api(&server.token("only-qa", "editor", Some(&["qa"])).await);
    let both = server.api(&server.token("both", "editor", Some(&["qa", "qa2"])).await);
    let all = server.api(&server.token("all", "editor", None).await);
    let flag_in = |env: &str| format!("/api/v1/environments/{env}/flags/payments");
    assert_eq!(only_qa.get(&flag_in("qa")).await.status, 200);

    let env_etag = admin.get("/api/v1/environments/qa").await.etag.unwrap();
    assert_eq!(admin.delete("/api/v1/environments/qa", &env_etag).await.status, 204);
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 201);

    assert_eq!(only_qa.get(&flag_in("qa")).await.status, 401, "scoped to nothing else: revoked");
    assert_eq!(both.get(&flag_in("qa")).await.status, 403, "the new `qa` is not in its scope");
    assert_eq!(both.get(&flag_in("qa2")).await.status, 200);
    assert_eq!(all.get(&flag_in("qa")).await.status, 200, "`*` still means every environment");

    let tokens = admin.get("/api/v1/tokens").await.body["tokens"].clone();
    let token = |name: &str| tokens.as_array().unwrap().iter().find(|t| t["name"] == name).unwrap().clone();
    assert!(token("only-qa")["revoked_at"].is_string());
    assert_eq!(token("both")["environments"], json!(["qa2"]));
    assert_eq!(token("all")["environments"], json!(["*"]));
    let audit = admin.get("/api/v1/audit?limit=1000").await.body;
    let actions: Vec<&str> = audit["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"token.revoke") && actions.contains(&"token.update"), "{actions:?}");
    server.stop().await;
}

/// A token scoped to an environment reads its audit entries, not those of an earlier
/// environment of the same name; an unscoped one reads both.
async fn scoped_audit_starts_with_the_environment(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 201);
    boolean_flag(&admin, "payments", false).await;
    assert_eq!(admin.toggle("qa", "payments", true).await.status, 200);
    let env_etag = admin.get("/api/v1/environments/qa").await.etag.unwrap();
    assert_eq!(admin.delete("/api/v1/environments/qa", &env_etag).await.status, 204);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await; // a later millisecond
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 201);

    let viewer = server.api(&server.token("qa-viewer", "viewer", Some(&["qa"])).await);
    let actions = |body: serde_json::Value| -> Vec<String> {
        body["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
    };
    let scoped = viewer.get("/api/v1/audit?environment=qa").await;
    assert_eq!(scoped.status, 200, "{}", scoped.body);
    assert_eq!(actions(scoped.body), ["environment.create"], "only the new environment's entries");
    let whole = actions(admin.get("/api/v1/audit?environment=qa").await.body);
    assert!(whole.iter().any(|a| a == "config.toggle") && whole.iter().any(|a| a == "environment.delete"), "{whole:?}");
    server.stop().await;
}

crate::on_both_backends!(
    etags_do_not_outlive_what_they_named,
    token_scopes_do_not_outlive_environments,
    scoped_audit_starts_with_the_environment
);
