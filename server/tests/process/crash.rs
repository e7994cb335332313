//! Crash safety: `kill -9` the server in the middle of a burst of writes, restart it,
//! and find every acknowledged change in the database, in the audit log and in a
//! published snapshot, with no gap and no duplicate in the versions.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::common::{Api, Backend};
use crate::proc::spawn;

const WRITERS: usize = 4;

/// One acknowledged write.
#[derive(Debug, Clone)]
struct Ack {
    writer: usize,
    step: usize,
    version: u64,
    request_id: String,
}

fn key(writer: usize, step: usize) -> String {
    format!("w{writer}-k{step}")
}

async fn kill_mid_burst(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database_url = backend.fresh_url(dir.path()).await;
    let args = ["--database-url", database_url.as_str()];
    let server = spawn(dir.path(), &args, &[]);
    let admin = Api::new(&server.url, &server.admin());
    for writer in 0..WRITERS {
        let reply = admin.post("/api/v1/flags", &json!({ "key": format!("flag-{writer}"), "type": "boolean" })).await;
        assert_eq!(reply.status, 201);
    }

    // Each writer grows the target list of its own flag, one key per acknowledged write.
    let acked = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (api, acked) = (admin.clone(), Arc::clone(&acked));
            tokio::spawn(async move {
                let path = format!("/api/v1/environments/development/flags/flag-{writer}");
                let mut etag = api.get(&path).await.etag.unwrap();
                let mut acks = Vec::new();
                for step in 0.. {
                    let keys: Vec<String> = (0..=step).map(|s| key(writer, s)).collect();
                    let config = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
                        "targets": [{ "variant": "on", "keys": keys }] });
                    let request_id = format!("crash-{writer}-{step}");
                    let body = config.to_string().into_bytes();
                    let headers = [("if-match", etag.as_str()), ("x-request-id", request_id.as_str())];
                    let sent = api.http.request(Method::PUT, format!("{}{path}", api.base)).bearer_auth(&api.token);
                    let sent = headers.iter().fold(sent, |r, (n, v)| r.header(*n, *v)).body(body).send().await;
                    let Ok(response) = sent else { break };
                    if response.status() != 200 {
                        break;
                    }
                    let header =
                        |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
                    let version = header("pennon-snapshot-version").and_then(|v| v.parse().ok());
                    let (Some(version), Some(next)) = (version, header("etag")) else { break };
                    etag = next;
                    acks.push(Ack { writer, step, version, request_id });
                    acked.fetch_add(1, Ordering::SeqCst);
                }
                acks
            })
        })
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while acked.load(Ordering::SeqCst) < 60 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    let mut acks: Vec<Ack> = Vec::new();
    for task in tasks {
        acks.extend(task.await.unwrap());
    }
    assert!(acks.len() >= 60, "only {} writes were acknowledged before the kill", acks.len());

    let server = spawn(dir.path(), &args, &[]);
    assert!(server.banner_value("admin token:").is_none(), "a restart is not a first run");
    let api = Api::new(&server.url, &admin.token);
    for writer in 0..WRITERS {
        let last = acks.iter().filter(|a| a.writer == writer).map(|a| a.step).max();
        let Some(last) = last else { continue };
        // In the database: the latest acknowledged key list is there (a write whose
        // acknowledgement the kill swallowed may have landed too).
        let config = api.get(&format!("/api/v1/environments/development/flags/flag-{writer}")).await.body;
        let keys: BTreeSet<String> =
            config["targets"][0]["keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_owned()).collect();
        assert!((0..=last).all(|s| keys.contains(&key(writer, s))), "writer {writer} lost a write: {keys:?}");
    }
    let audit = api.get("/api/v1/audit?action=config.update&limit=1000").await.body;
    let entries = audit["entries"].as_array().unwrap();
    for ack in &acks {
        // In the audit log, with the version it produced.
        let entry = entries.iter().find(|e| e["request_id"] == ack.request_id.as_str());
        let entry = entry.unwrap_or_else(|| panic!("{ack:?} is not audited"));
        assert_eq!(entry["snapshot_version"], ack.version, "{ack:?}");
        // In the published snapshot of that version.
        let snapshot = api.get(&format!("/api/v1/environments/development/snapshots/{}", ack.version)).await.body;
        let keys = &snapshot["payload"]["flags"][format!("flag-{}", ack.writer)]["targets"][0]["keys"];
        assert!(
            keys.as_array().unwrap().iter().any(|k| k == key(ack.writer, ack.step).as_str()),
            "{ack:?} not in its snapshot"
        );
    }
    // No gap and no duplicate: versions 1..=N, each once, for server and client keys.
    for kind in ["server", "client"] {
        let list = api.get(&format!("/api/v1/environments/development/snapshots?kind={kind}&limit=1000")).await.body;
        let versions: Vec<u64> =
            list["snapshots"].as_array().unwrap().iter().map(|s| s["version"].as_u64().unwrap()).collect();
        let max = versions[0];
        let mut sorted = versions.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=max).collect::<Vec<_>>(), "{kind} versions have gaps or duplicates");
    }
    let versions: Vec<u64> = entries
        .iter()
        .filter(|e| e["environment"] == "development")
        .map(|e| e["snapshot_version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions.iter().collect::<BTreeSet<_>>().len(), versions.len(), "two changes claim one version");
    // And the restarted server serves the latest version.
    let latest = api.version("development").await;
    let fetched = Api::new(&server.url, &spawn_sdk(&api).await).get("/v1/snapshots/development").await;
    assert_eq!(fetched.version, Some(latest));
    server.stop();
}

async fn spawn_sdk(admin: &Api) -> String {
    let reply = admin.post("/api/v1/environments/development/sdk-keys", &json!({ "kind": "server" })).await;
    reply.body["key"].as_str().unwrap().to_owned()
}

crate::on_both_backends!(kill_mid_burst);
