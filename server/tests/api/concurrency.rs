//! 20 editors change one flag at once, each with read-modify-write under `If-Match`:
//! no update is lost, every success is audited, and versions strictly increase. And
//! token names stay unique among live tokens when several creations race.

use std::collections::BTreeSet;

use serde_json::json;

use crate::common::{boolean_flag, Backend, Server};

const EDITORS: usize = 20;

async fn twenty_editors(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "contested", false).await;
    let start_version = admin.version("development").await;
    let mut editors = Vec::new();
    for i in 0..EDITORS {
        editors.push(server.api(&server.token(&format!("editor-{i:02}"), "editor", None).await));
    }
    let path = "/api/v1/environments/development/flags/contested";
    let tasks: Vec<_> = editors
        .into_iter()
        .enumerate()
        .map(|(i, api)| {
            tokio::spawn(async move {
                let mut conflicts = 0;
                loop {
                    let current = api.get(path).await;
                    assert_eq!(current.status, 200);
                    let mut config = current.body.clone();
                    if config["targets"].as_array().is_none() {
                        config["targets"] = json!([{ "variant": "on", "keys": [] }]);
                    }
                    config["targets"][0]["keys"].as_array_mut().unwrap().push(json!(format!("user-{i}")));
                    let reply = api.put(path, &config, current.etag.as_deref().unwrap()).await;
                    match reply.status {
                        200 => return (reply.version.unwrap(), conflicts),
                        412 => conflicts += 1,
                        other => panic!("editor {i}: unexpected {other}: {}", reply.body),
                    }
                }
            })
        })
        .collect();
    let mut versions = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        let (version, lost_races) = task.await.unwrap();
        versions.push(version);
        conflicts += lost_races;
    }
    // Every editor's key is there: no update was lost.
    let config = admin.get(path).await.body;
    let keys: BTreeSet<&str> =
        config["targets"][0]["keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(keys.len(), EDITORS, "{config}");
    // Each success published its own version, all distinct and consecutive.
    versions.sort_unstable();
    let expected: Vec<u64> = (start_version + 1..=start_version + EDITORS as u64).collect();
    assert_eq!(versions, expected, "({conflicts} conflicts were retried)");
    // Every success is audited, once, by its editor, with the version it produced;
    // in log order the versions strictly increase.
    let audit = admin.get("/api/v1/audit?resource=contested&action=config.update&limit=1000").await.body;
    let mut entries = audit["entries"].as_array().unwrap().clone();
    entries.reverse();
    assert_eq!(entries.len(), EDITORS);
    let actors: BTreeSet<&str> = entries.iter().map(|e| e["actor"].as_str().unwrap()).collect();
    assert_eq!(actors.len(), EDITORS);
    let logged: Vec<u64> = entries.iter().map(|e| e["snapshot_version"].as_u64().unwrap()).collect();
    assert!(logged.windows(2).all(|w| w[0] < w[1]), "{logged:?}");
    assert_eq!(logged, expected);
    // And every version is a published snapshot.
    let snapshots = admin.get("/api/v1/environments/development/snapshots?limit=1000").await.body;
    let published: BTreeSet<u64> =
        snapshots["snapshots"].as_array().unwrap().iter().map(|s| s["version"].as_u64().unwrap()).collect();
    assert!(expected.iter().all(|v| published.contains(v)));
    assert_eq!(published, (1..=start_version + EDITORS as u64).collect());
    server.stop().await;
}

/// Eight creations of one token name at once: one token, seven conflicts. (Names are
/// who the audit log says acted and what four-eyes approval compares; each creation
/// checks them under the catalog row's lock, so concurrent ones see each other.)
async fn racing_token_names(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let creations = (0..8).map(|_| {
        let admin = admin.clone();
        async move { admin.post("/api/v1/tokens", &json!({ "name": "deploy-bot", "role": "editor" })).await }
    });
    let mut statuses: Vec<u16> = futures_util::future::join_all(creations).await.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    let tokens = admin.get("/api/v1/tokens").await.body;
    let named = tokens["tokens"].as_array().unwrap().iter().filter(|t| t["name"] == "deploy-bot").count();
    assert_eq!(named, 1, "{tokens}");
    server.stop().await;
}

crate::on_both_backends!(twenty_editors, racing_token_names);
