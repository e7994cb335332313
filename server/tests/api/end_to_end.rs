//! Create a flag, change it, and see the change arrive: over the stream within a
//! second, and in a fetched envelope that pennon-core verifies and evaluates.

use std::time::Duration;

use pennon_core::{Context, Value};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::common::sse::Stream;
use crate::common::{boolean_flag, load, payload_of, Api, Backend, Server};

async fn change_reaches_clients(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let etag = boolean_flag(&admin, "new-checkout", false).await;
    let sdk = Api::new(&server.url, &server.sdk_dev);
    let mut stream = Stream::open(&server.url, "development", &server.sdk_dev).await;
    let first = stream.next_version(Duration::from_secs(2)).await.expect("the current version at connect");
    assert_eq!(first, admin.version("development").await);

    // Enable it for staff only.
    let config = json!({
        "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
        "rules": [{ "id": "staff", "conditions": [{ "attribute": "email", "op": "ends_with", "value": "@acme.com" }],
                    "serve": { "variant": "on" } }]
    });
    let path = "/api/v1/environments/development/flags/new-checkout";
    let reply = admin.put(path, &config, &etag).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let version = reply.version.unwrap();
    assert!(stream.wait_for(version, Duration::from_secs(1)).await, "version {version} not announced within 1 s");

    // Fetch, verify and evaluate as a client would.
    let fetched = sdk.raw(reqwest::Method::GET, "/v1/snapshots/development", None, &[]).await;
    assert_eq!(fetched.status, 200);
    let envelope = reqwest::Client::new()
        .get(format!("{}/v1/snapshots/development", server.url))
        .bearer_auth(&server.sdk_dev)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let keys = Api::new(&server.url, "").get("/v1/keys").await.body;
    let trusted: Vec<_> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| pennon_core::PublicKey::parse(k["public_key"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(trusted, server.public_keys);
    let snapshot = load(&envelope, &trusted, "development").unwrap();
    assert_eq!(snapshot.version(), version);
    let staff = Context::new(Some("u1")).with("email", Value::String("ann@acme.com".into()));
    let guest = Context::new(Some("u2")).with("email", Value::String("bob@example.com".into()));
    let now = crate::common::now_ms();
    assert_eq!(snapshot.evaluate("new-checkout", &staff, now).variant, Some("on"));
    assert_eq!(snapshot.evaluate("new-checkout", &guest, now).variant, Some("off"));

    // The ETag is the payload hash; If-None-Match gives 304 without a body.
    let payload = payload_of(&envelope);
    assert_eq!(payload["version"], version);
    let envelope_json: serde_json::Value = serde_json::from_slice(&envelope).unwrap();
    use base64::Engine as _;
    let payload_bytes =
        base64::engine::general_purpose::STANDARD.decode(envelope_json["payload"].as_str().unwrap()).unwrap();
    let hash: String = Sha256::digest(&payload_bytes).iter().map(|b| format!("{b:02x}")).collect();
    let etag = fetched.etag.unwrap();
    assert_eq!(etag, format!("\"{hash}\""));
    let again = sdk.raw(reqwest::Method::GET, "/v1/snapshots/development", None, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert_eq!(again.body, serde_json::Value::String(String::new()));
    // By version: immutable.
    let pinned = sdk.get(&format!("/v1/snapshots/development/{version}")).await;
    assert_eq!(pinned.status, 200);
    assert_eq!(pinned.headers["cache-control"], "max-age=31536000, immutable");
    assert_eq!(sdk.get(&format!("/v1/snapshots/development/{}", version + 100)).await.status, 404);

    // `pennon eval` on the fetched envelope agrees.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("envelope.json"), &envelope).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pennon"))
        .current_dir(dir.path())
        .args(["eval", "--envelope", "envelope.json", "--env", "development", "--flag", "new-checkout"])
        .args([
            "--trusted-key",
            &trusted[0].to_text(),
            "--context",
            r#"{"targetingKey": "u1", "email": "ann@acme.com"}"#,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["variant"], "on");

    // A second change (the kill switch) also arrives, and heartbeats flow in between.
    let reply = admin.toggle("development", "new-checkout", false).await;
    assert!(stream.wait_for(reply.version.unwrap(), Duration::from_secs(1)).await);
    let text = stream.read_for(Duration::from_millis(1200)).await;
    assert!(text.lines().any(|l| l.starts_with(':') && l.contains("heartbeat")), "no heartbeat in {text:?}");
    server.stop().await;
}

crate::on_both_backends!(change_reaches_clients);
